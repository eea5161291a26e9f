// One contact: details, tags, SMS / call do-not-disturb switches, and the conversation thread with a
// composer. The thread follows the live message events; everything else is read and written over REST.

import { api, get, post } from "./api.js";
import { h, pageConfig, setText, show } from "./dom.js";
import { DECLINED, Thread, confirmingQuietHours, setScheduling as showScheduling, smsCounter } from "./conversation.js";
import { on } from "./live.js";
import { localClock, safeZone, wallTimeToIso, zoneLabel } from "./tz.js";

const config = pageConfig();
const contactId = config.contact_id;
const state = { contact: null, saving: false };
const composer = document.getElementById("composer");
const bodyInput = document.getElementById("composer-body");
const sendAt = document.getElementById("composer-send-at");
const thread = new Thread(document.getElementById("thread"), {
  empty: document.getElementById("thread-empty"), more: document.getElementById("thread-more"),
  onContact: (contact) => {
    if (state.saving) return; // this page's own save answers with the same row
    const was = state.contact?.dnd_sms;
    renderContact(contact);
    if (was !== undefined && was !== contact.dnd_sms) {
      setText("dnd-status", contact.dnd_sms ? "SMS do-not-disturb is now on: the contact opted out or a colleague set it."
        : "SMS do-not-disturb is now off.");
    }
  },
});

const patch = (changes) => api("PATCH", `/api/contacts/${contactId}`, changes);
const contactName = (c) => [c.first_name, c.last_name].filter(Boolean).join(" ") || c.email || c.phone || "(no name)";

function banner(id, text) {
  setText(id, text ?? "");
  show(id, Boolean(text));
}

// --- details -----------------------------------------------------------------------------

function renderContact(contact) {
  state.contact = contact;
  setText("contact-title", contactName(contact));
  document.getElementById("contact-phone").replaceChildren(contact.phone
    ? h("a", { href: `tel:${contact.phone}` }, contact.phone) : h("span", { class: "hint" }, "No phone"));
  document.getElementById("contact-email").replaceChildren(contact.email
    ? h("a", { href: `mailto:${contact.email}` }, contact.email) : h("span", { class: "hint" }, "No email"));
  const zone = safeZone(contact.timezone);
  setText("contact-timezone", zoneLabel(zone));
  setText("contact-clock", `${localClock(zone)} there`);
  setText("composer-zone", `(${zoneLabel(zone)})`);
  setText("contact-assignee", config.assignee?.name ?? "Unassigned");
  renderTags(contact.tags ?? []);
  document.getElementById("dnd-sms").checked = Boolean(contact.dnd_sms);
  document.getElementById("dnd-call").checked = Boolean(contact.dnd_call);
  show("composer-dnd", Boolean(contact.dnd_sms));
  document.getElementById("composer-send").disabled = Boolean(contact.dnd_sms) || !contact.phone;
  document.getElementById("composer-schedule").disabled = Boolean(contact.dnd_sms) || !contact.phone;
}

function renderTags(tags) {
  document.getElementById("contact-tags").replaceChildren(...(tags.length ? tags.map((tag) => h("li", { class: "tag" },
    tag, h("button", { type: "button", class: "tag-remove", "aria-label": `Remove tag ${tag}`, title: "Remove",
      onclick: () => saveTags(state.contact.tags.filter((t) => t !== tag)) }, "×")))
    : [h("li", { class: "hint" }, "No tags")]));
}

async function save(changes, statusText) {
  if (state.saving) return false;
  state.saving = true;
  banner("details-error", null);
  try {
    renderContact(await patch(changes));
    if (statusText) setText("dnd-status", statusText);
    return true;
  } catch (error) {
    banner("details-error", error.message);
    renderContact(state.contact); // put the switches back as they are on the server
    return false;
  } finally {
    state.saving = false;
  }
}

function saveTags(tags) {
  return save({ tags });
}

function onDnd(field, channel) {
  return (event) => {
    const on = event.target.checked;
    save({ [field]: on }, on ? `Saved: ${channel} do-not-disturb is on.` : `Saved: ${channel} do-not-disturb is off.`);
  };
}

// --- composer ------------------------------------------------------------------------------

const SCHEDULE_PARTS = {
  box: "composer-schedule-box", cancel: "composer-schedule-cancel", send: "composer-send", schedule: "composer-schedule",
};

function setScheduling(on) {
  showScheduling(SCHEDULE_PARTS, sendAt, on, safeZone(state.contact?.timezone));
}

async function send(scheduled) {
  const text = bodyInput.value;
  if (!text.trim()) return banner("composer-error", "Write a message before sending.");
  const payload = { body: text };
  if (scheduled) {
    const iso = wallTimeToIso(sendAt.value, safeZone(state.contact?.timezone));
    if (!iso) return banner("composer-error", "Pick the date and time to send at.");
    payload.send_at = iso;
  }
  banner("composer-error", null);
  const buttons = ["composer-send", "composer-schedule"].map((id) => document.getElementById(id));
  for (const button of buttons) button.disabled = true;
  try {
    const row = await confirmingQuietHours((extra) => post(`/api/contacts/${contactId}/messages`, { ...payload, ...extra }));
    if (row === DECLINED) return banner("composer-error", "Not sent: it is quiet hours for this contact.");
    thread.upsert(row);
    bodyInput.value = "";
    updateCounter();
    setScheduling(false);
  } catch (error) {
    banner("composer-error", error.message);
  } finally {
    renderContact(state.contact);
  }
}

function updateCounter() {
  setText("composer-counter", smsCounter(bodyInput.value));
}

// --- wiring ----------------------------------------------------------------------------------

document.getElementById("dnd-sms").addEventListener("change", onDnd("dnd_sms", "SMS"));
document.getElementById("dnd-call").addEventListener("change", onDnd("dnd_call", "call"));
document.getElementById("tag-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("new-tag");
  const tag = input.value.trim();
  if (!tag || state.contact.tags.includes(tag)) return;
  if (await saveTags([...state.contact.tags, tag])) input.value = "";
});
composer.addEventListener("submit", (event) => {
  event.preventDefault();
  send(!document.getElementById("composer-schedule-box").hidden);
});
bodyInput.addEventListener("input", updateCounter);
document.getElementById("composer-schedule").addEventListener("click", () => {
  if (document.getElementById("composer-schedule-box").hidden) setScheduling(true);
  else send(true);
});
document.getElementById("composer-schedule-cancel").addEventListener("click", () => setScheduling(false));

// Events missed while disconnected: read the details again (the thread reloads itself).
on("connect", async ({ reconnected }) => {
  if (reconnected && !state.saving) renderContact(await get(`/api/contacts/${contactId}`));
});

try {
  renderContact(await get(`/api/contacts/${contactId}`));
  updateCounter();
  await thread.open(contactId);
  document.body.dataset.threadLoaded = "true";
} catch (error) {
  banner("contact-error", error.message);
}
