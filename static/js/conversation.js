// A contact's conversation thread: inbound and outbound, automated and manual, each message with
// who or which workflow sent it and its delivery status (the error code when it failed). Kept
// current by the live message.created / message.updated events; refetched after a reconnect.
// Used by the contact page and by Let's Start.

import { get } from "./api.js";
import { formatTime, h, parseTime, setText, show } from "./dom.js";
import { connect, on } from "./live.js";
import { localClock, safeZone, toLocalInput, zoneLabel } from "./tz.js";

export const STATUS_LABELS = {
  queued: "Queued", sending: "Sending", accepted: "Accepted", sent: "Sent", delivered: "Delivered",
  undelivered: "Undelivered", failed: "Failed", unknown: "Unknown", canceled: "Canceled", read: "Read",
  received: "Received",
};
const PROBLEMS = new Set(["failed", "undelivered", "unknown", "canceled"]);
const ERROR_LABELS = { dnd: "the contact opted out (DND)", not_configured: "messaging is not set up" };

export function senderLabel(row) {
  if (row.direction === "inbound") return "Contact";
  if (row.sent_by && row.workflow) return `${row.sent_by.name} · ${row.workflow.name}`;
  if (row.sent_by) return row.sent_by.name;
  if (row.workflow) return `Workflow: ${row.workflow.name}`;
  return "Automatic reply";
}

export function statusLabel(row) {
  if (row.direction === "inbound") return "";
  if (row.status === "queued" && row.send_at && parseTime(row.send_at) > new Date()) {
    return `Scheduled for ${formatTime(row.send_at)}`;
  }
  const label = STATUS_LABELS[row.status] ?? row.status;
  if (!row.error_code || (!PROBLEMS.has(row.status) && row.status !== "queued")) return label;
  const why = ERROR_LABELS[row.error_code] ?? `error ${row.error_code}`;
  return row.status === "queued" ? `${label}: retrying (${why})` : `${label}: ${why}`;
}

// "143 characters · 1 SMS": GSM-7 texts fit 160 characters a part (153 when split), others 70 (67).
export function smsCounter(text) {
  // eslint-disable-next-line no-control-regex
  const unicode = /[^\u0000-\u007f£¥èéùìòÇØøÅåÄÖÑÜ§¿äöñüà]/.test(text);
  const [single, multi] = unicode ? [70, 67] : [160, 153];
  const parts = text.length <= single ? 1 : Math.ceil(text.length / multi);
  return `${text.length} characters · ${parts} SMS`;
}

// When the row last changed: a late event never overwrites a newer state.
const changedAt = (row) => (parseTime(row.status_at) ?? parseTime(row.created_at) ?? new Date(0)).getTime();

export class Thread {
  // list: the <ol> to fill; options: {empty: node shown when there is nothing, more: "Load earlier" button,
  // onContact: called with the contact when its details change (e.g. a STOP reply turned SMS DND on)}.
  constructor(list, { empty = null, more = null, pageSize = 50, onContact = null } = {}) {
    Object.assign(this, { list, empty, more, pageSize, contactId: null, rows: new Map(), hasMore: false, seq: 0 });
    more?.addEventListener("click", () => this.loadEarlier());
    const socket = connect();
    this.socket = socket;
    socket.on("message.created", (row) => this.upsert(row));
    socket.on("message.updated", (row) => this.upsert(row));
    socket.on("contact.updated", (contact) => {
      if (contact.id === this.contactId) onContact?.(contact);
    });
    // Rooms do not survive a reconnect: follow the contact again, then catch up on what was missed.
    on("connect", async ({ reconnected }) => {
      if (!this.contactId) return;
      await this.watch(this.contactId);
      if (reconnected) this.load();
    });
  }

  // Events come only for contacts a page follows (the server checks who may see them). Resolves once
  // the server has let the page in (body[data-watching-contact] says so), or after 2 s without an answer
  // (live updates down: the page still shows what REST gives it).
  watch(contactId) {
    return new Promise((resolve) => {
      this.socket.timeout(2000).emit("contact.watch", { contact_id: contactId }, (error, ack) => {
        if (!error && ack?.ok && contactId === this.contactId) document.body.dataset.watchingContact = String(contactId);
        resolve();
      });
    });
  }

  // Show this contact's thread: from `rows` if the caller has the latest ones (any order), else from the API.
  async open(contactId, rows = null, { hasMore = false } = {}) {
    if (this.contactId && this.contactId !== contactId) {
      this.socket.emit("contact.unwatch", { contact_id: this.contactId });
    }
    delete document.body.dataset.watchingContact;
    const joined = contactId && contactId !== this.contactId ? this.watch(contactId) : null;
    this.contactId = contactId;
    this.seq += 1; // a load still on its way is for the previous contact
    this.rows = new Map();
    this.hasMore = hasMore;
    if (rows) {
      this.merge(rows);
      this.render({ scroll: true });
      return;
    }
    await joined; // read after joining: a message sent in between is in the read or in an event
    await this.load();
  }

  async load() {
    const seq = ++this.seq;
    const page = await get(`/api/contacts/${this.contactId}/messages?limit=${this.pageSize}`);
    if (seq !== this.seq) return;
    this.rows = new Map();
    this.merge(page.items);
    this.hasMore = page.has_more;
    this.render({ scroll: true });
  }

  async loadEarlier() {
    const oldest = Math.min(...this.rows.keys());
    if (!Number.isFinite(oldest)) return;
    this.more.disabled = true;
    try {
      const page = await get(`/api/contacts/${this.contactId}/messages?limit=${this.pageSize}&before_id=${oldest}`);
      this.merge(page.items);
      this.hasMore = page.has_more;
      this.render({ scroll: false });
    } catch (error) {
      this.more.textContent = error.status === 404 ? "Earlier messages are not available to you" : error.message;
      return;
    } finally {
      this.more.disabled = false;
    }
  }

  merge(rows) {
    for (const row of rows) {
      const known = this.rows.get(row.id);
      if (!known || changedAt(row) >= changedAt(known)) this.rows.set(row.id, row);
    }
  }

  upsert(row) {
    if (!row || row.contact_id !== this.contactId) return;
    this.merge([row]);
    this.render({ scroll: this.nearBottom() });
  }

  nearBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  render({ scroll }) {
    const ordered = [...this.rows.values()].sort((a, b) => a.id - b.id);
    this.list.replaceChildren(...ordered.map(messageItem));
    if (this.empty) show(this.empty, ordered.length === 0);
    if (this.more) show(this.more, this.hasMore);
    if (scroll) this.list.scrollTop = this.list.scrollHeight;
  }
}

function messageItem(row) {
  const inbound = row.direction === "inbound";
  const status = statusLabel(row);
  const problem = PROBLEMS.has(row.status) || row.error_code;
  return h("li", { class: `message message-${inbound ? "in" : "out"}`, dataset: { messageId: row.id, status: row.status } },
    h("p", { class: "message-body" }, row.body ?? ""),
    h("p", { class: "message-meta" },
      h("span", { class: "message-sender" }, senderLabel(row)), " · ",
      h("time", { datetime: row.created_at }, formatTime(row.created_at)),
      status ? " · " : null,
      status ? h("span", { class: `message-status${problem ? " is-problem" : ""}` }, status) : null,
      row.is_test ? h("span", { class: "message-test" }, " · test") : null));
}

// The contact's phone, email, time zone and local time (#contact-phone, #contact-email, #contact-timezone,
// #contact-clock), on their page and in Let's Start. Returns their time zone.
export function renderContactFacts(contact) {
  document.getElementById("contact-phone").replaceChildren(contact.phone
    ? h("a", { href: `tel:${contact.phone}` }, contact.phone) : h("span", { class: "hint" }, "No phone"));
  document.getElementById("contact-email").replaceChildren(contact.email
    ? h("a", { href: `mailto:${contact.email}` }, contact.email) : h("span", { class: "hint" }, "No email"));
  const zone = safeZone(contact.timezone);
  setText("contact-timezone", zoneLabel(zone));
  setText("contact-clock", `${localClock(zone)} there`);
  return zone;
}

// The SMS composer (templates/macros/conversation.html) on the contact page and in Let's Start: the character
// counter, the "Schedule" mode and the buttons. The form, the message and the Schedule fields (`box`) are
// named by id, the other parts `${prefix}-counter`, -send-at, -send, -schedule and -schedule-cancel, as the
// macro names them. `zone()` is the contact's time zone; `send(scheduled)` sends or schedules.
export function composer({ prefix, form, message, box }, { zone, send }) {
  const ids = {
    form, message, box, counter: `${prefix}-counter`, sendAt: `${prefix}-send-at`, send: `${prefix}-send`,
    schedule: `${prefix}-schedule`, cancel: `${prefix}-schedule-cancel`,
  };
  const input = document.getElementById(ids.message);
  const sendAt = document.getElementById(ids.sendAt);
  const scheduling = () => !document.getElementById(ids.box).hidden;
  const parts = {
    input, sendAt,
    updateCounter: () => setText(ids.counter, smsCounter(input.value)),
    setScheduling: (on) => setScheduling(ids, sendAt, on, zone()),
  };
  document.getElementById(ids.form).addEventListener("submit", (event) => {
    event.preventDefault();
    send(scheduling());
  });
  input.addEventListener("input", parts.updateCounter);
  document.getElementById(ids.schedule).addEventListener("click", () => {
    if (!scheduling()) parts.setScheduling(true);
    else send(true);
  });
  document.getElementById(ids.cancel).addEventListener("click", () => parts.setScheduling(false));
  return parts;
}

// The composer's "Schedule" mode. `ids` names the parts ({box, cancel, send, schedule}); `input` is the
// datetime-local field; `zone` the contact's time zone.
function setScheduling(ids, input, on, zone) {
  show(ids.box, on);
  show(ids.cancel, on);
  show(ids.send, !on);
  const button = document.getElementById(ids.schedule);
  button.textContent = on ? "Schedule send" : "Schedule";
  button.classList.toggle("primary", on);
  if (on) {
    const now = new Date();
    input.min = toLocalInput(zone, now);
    // Offer the first quarter hour at least an hour away.
    if (!input.value) input.value = toLocalInput(zone, new Date(Math.ceil((now.getTime() + 3600000) / 900000) * 900000));
    input.focus();
  } else {
    input.value = "";
  }
}

// Quiet hours: the server refuses a Manual SMS sent now (or scheduled into quiet hours) and a Manual
// Call outside the account's hours with 409 quiet_hours until the person confirms. `request(extra)`
// makes the request with `extra` merged into its body; it is made again with confirm_quiet_hours
// once they confirm. Resolves to the answer, or to DECLINED when they chose not to.
export const DECLINED = Symbol("declined");

export async function confirmingQuietHours(request, verb = "text") {
  try {
    return await request({});
  } catch (error) {
    if (error?.code !== "quiet_hours") throw error;
    if (!(await askQuietHours(error.message, verb))) return DECLINED;
    return request({ confirm_quiet_hours: true });
  }
}

function quietHoursDialog() {
  let dialog = document.getElementById("quiet-hours-dialog");
  if (dialog) return dialog;
  dialog = h("dialog", { id: "quiet-hours-dialog", class: "dialog", "aria-labelledby": "quiet-hours-title",
    "aria-describedby": "quiet-hours-text" },
  h("form", { method: "dialog" },
    h("h2", { id: "quiet-hours-title" }, "Quiet hours"),
    h("p", { id: "quiet-hours-text" }),
    h("div", { class: "dialog-buttons" },
      h("button", { value: "cancel", id: "quiet-hours-cancel" }, "Cancel"),
      h("button", { value: "confirm", class: "primary", id: "quiet-hours-confirm" }, "Send anyway"))));
  document.body.append(dialog);
  return dialog;
}

function askQuietHours(message, verb) {
  const dialog = quietHoursDialog();
  dialog.querySelector("#quiet-hours-text").textContent = message;
  dialog.querySelector("#quiet-hours-confirm").textContent = verb === "call" ? "Call anyway" : "Send anyway";
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
    dialog.querySelector("#quiet-hours-cancel").focus(); // the safe choice is the default
  });
}
