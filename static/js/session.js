// Let's Start: work the queue one manual action at a time. Claims the next action
// (POST /api/manual-actions/start with the list's filters), shows the contact, their
// conversation (live) and the action, completes or skips it, and moves on by itself. Live events move it on too
// when the current action is deleted, reassigned or completed elsewhere.

import { get, post } from "./api.js";
import { DECLINED, Thread, composer, confirmingQuietHours, renderContactFacts } from "./conversation.js";
import { TYPE_LABELS, contactName, formatTime, h, pageConfig, parseTime, setText, show, showMessage } from "./dom.js";
import { LIST_URL, queueFilters, readFilters, toSearch } from "./filters.js";
import { connect, on } from "./live.js";
import { formatInZone, safeZone, wallTimeToIso, zoneLabel } from "./tz.js";

const config = pageConfig();
const filters = readFilters();
const queue = queueFilters(filters);
const skipped = new Set();
const finished = new Set(); // completed or skipped here: their live echoes are ours
const state = { firstActionId: filters.action_id ?? null, current: null, busy: false, done: 0, renewTimer: null };

const smsForm = document.getElementById("sms-form");
const { input: message, sendAt, updateCounter, setScheduling } = composer(
  { prefix: "sms", form: "sms-form", message: "sms-message", box: "schedule-box" },
  { zone: () => safeZone(state.contact?.timezone), send: completeSms });
const outcomeDialog = document.getElementById("outcome-dialog");
const autoDial = document.getElementById("call-auto");
const AUTO_DIAL_KEY = "flowdesk.autoDial";
autoDial.checked = localStorage.getItem(AUTO_DIAL_KEY) !== "off";
autoDial.addEventListener("change", () => localStorage.setItem(AUTO_DIAL_KEY, autoDial.checked ? "on" : "off"));
const outcomeForm = document.getElementById("outcome-form");
const CONTEXT_MESSAGES = 20; // what /context sends: the newest ones
const thread = new Thread(document.getElementById("contact-messages"), {
  empty: document.getElementById("no-messages"), more: document.getElementById("thread-more"),
  onContact: (contact) => {
    if (!state.current || contact.id !== state.contact?.id) return;
    state.contact = { ...state.contact, ...contact };
    renderContact(state.contact, state.current); // e.g. the DND notice appears when they text STOP
  },
});

for (const link of document.querySelectorAll("[data-back-link]")) link.href = LIST_URL + toSearch(queue);

// --- views ----------------------------------------------------------------------

function view(name) {
  document.body.dataset.sessionState = name;
  show("session-loading", name === "loading");
  show("session-main", name === "ready");
  show("session-done", name === "done");
  show("session-error", name === "error");
}

const notice = (text) => showMessage("session-notice", text);

function progress() {
  setText("session-progress", state.done ? `${state.done} done this session` : "");
}

// --- the queue --------------------------------------------------------------------

async function next(message) {
  clearTimeout(state.renewTimer);
  state.current = null;
  notice(message);
  view("loading");
  const body = { ...queue };
  if (skipped.size) body.exclude_ids = [...skipped];
  if (state.firstActionId) body.action_id = state.firstActionId;
  let action;
  try {
    action = await post("/api/manual-actions/start", body);
  } catch (error) {
    if (state.firstActionId && [403, 404, 409].includes(error.status)) {
      state.firstActionId = null;
      return next("That manual action is no longer in your queue; here is the next one.");
    }
    if (error.status === 404) return view("done");
    return fatal(error.message);
  }
  state.firstActionId = null;
  await open(action);
}

async function open(action) {
  let context;
  try {
    context = await get(`/api/manual-actions/${action.id}/context`);
  } catch (error) {
    if (error.status === 404) {
      // Still queued for us but no longer ours to see (e.g. its contact moved): claiming it again would loop.
      skipped.add(action.id);
      return next("That manual action was removed; moving on.");
    }
    return fatal(error.message);
  }
  state.current = { ...action, ...(context.action ?? {}), claim_expires_at: action.claim_expires_at };
  state.contact = context.contact ?? {};
  renderContact(state.contact, state.current);
  const messages = context.messages ?? [];
  thread.open(state.contact.id, messages, { hasMore: messages.length >= CONTEXT_MESSAGES });
  renderNotes(context.notes ?? []);
  renderWaiting(context.waiting_for_reply ?? []);
  renderAction(state.current, state.contact);
  history.replaceState(null, "", window.location.pathname + toSearch(queue));
  document.body.dataset.actionId = String(state.current.id);
  view("ready");
  scheduleRenewal(state.current);
  (state.current.type === "sms" ? message : document.getElementById("call-dial")).focus({ preventScroll: true });
  // As the product promises: Let's Start dials each contact of a call queue by itself.
  // Once per action: the session may reopen the same one (after a live event), which must not ring twice.
  const { id, type } = state.current;
  if (type === "call" && autoDial.checked && state.contact.phone && !state.contact.dnd_call && state.autoDialed !== id) {
    state.autoDialed = id;
    dial();
  }
}

function fatal(text) {
  setText("session-error-text", text);
  view("error");
}

// A claim keeps others off the action for a while; renew it quietly while this page works it.
function scheduleRenewal(action) {
  const expires = parseTime(action.claim_expires_at);
  if (!expires) return;
  const delay = Math.max(5000, expires.getTime() - Date.now() - 30000);
  state.renewTimer = setTimeout(async () => {
    if (state.current?.id !== action.id) return;
    try {
      const renewed = await post("/api/manual-actions/start", { ...queue, action_id: action.id });
      if (renewed?.id === action.id && state.current?.id === action.id) {
        state.current.claim_expires_at = renewed.claim_expires_at;
        scheduleRenewal(state.current);
      }
    } catch {
      // the live events or the next completion will tell if it is gone
    }
  }, delay);
}

// --- rendering ----------------------------------------------------------------------

function renderContact(contact, action) {
  const name = contactName(contact) || action.contact_name;
  setText("contact-name", name);
  setText("contact-initials", name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join(""));
  renderContactFacts(contact);
  const tags = contact.tags ?? [];
  document.getElementById("contact-tags").replaceChildren(
    ...(tags.length ? tags.map((tag) => h("li", { class: "tag" }, tag)) : [h("li", { class: "hint" }, "No tags")]));
  const dnd = action.type === "sms" ? contact.dnd_sms : contact.dnd_call;
  setText("contact-dnd", dnd ? `This contact asked not to be ${action.type === "sms" ? "texted" : "called"} (DND).` : "");
  show("contact-dnd", Boolean(dnd));
}

function renderNotes(notes) {
  document.getElementById("contact-notes").replaceChildren(...notes.map((n) => h("li", { class: "note" },
    h("p", {}, n.body ?? ""),
    h("p", { class: "message-meta" }, [n.author_name, formatTime(n.created_at)].filter(Boolean).join(" · ")))));
  show("no-notes", notes.length === 0);
}

// The Manual SMS composer says when the contact is waiting for a reply in a workflow: their next
// reply moves it on, whichever message they answer, this one included.
function renderWaiting(waits) {
  const node = document.getElementById("sms-waiting");
  node.replaceChildren(...waits.map((w) => h("p", {},
    `Waiting for a reply in ${w.workflow_name} since ${formatTime(w.since)}.`)),
  waits.length ? h("p", { class: "hint" }, "Their next reply moves it on, whichever message they answer.") : null);
  show(node, waits.length > 0);
}

function renderAction(action, contact) {
  const type = document.getElementById("action-type");
  type.textContent = TYPE_LABELS[action.type] ?? action.type;
  type.className = `type-badge type-${action.type}`;
  setText("action-title", action.name || TYPE_LABELS[action.type] || "Manual action");
  setText("action-source", [action.workflow_name ? `Workflow: ${action.workflow_name}` : null,
    action.created_at ? `added ${formatTime(action.created_at)}` : null].filter(Boolean).join(" · "));
  const isSms = action.type === "sms";
  show(smsForm, isSms);
  show("call-panel", !isSms);
  if (isSms) {
    message.value = action.message ?? "";
    updateCounter();
    setScheduling(false);
    showMessage("sms-error", "");
    const zone = safeZone(contact.timezone);
    setText("sms-zone", `(${zoneLabel(zone)})`);
  } else {
    setText("call-number", contact.phone || "This contact has no phone number. ");
    if (!contact.phone && contact.id) document.getElementById("call-number").append(addPhoneLink(contact));
    setText("call-status", "");
    document.getElementById("call-dial").disabled = !contact.phone;
  }
}

// --- Manual SMS -------------------------------------------------------------------------

// Where "add one before sending" leads: the contact's edit form, at the phone field.
const addPhoneLink = (contact) => h("a", { href: `/contacts/${contact.id}#edit-phone` }, "Add a phone number");

async function completeSms(scheduled) {
  if (state.busy || !state.current) return;
  const text = message.value;
  if (!text.trim()) return showMessage("sms-error", "Write a message before sending.");
  const body = { message: text };
  const zone = safeZone(state.contact?.timezone);
  if (scheduled) {
    const iso = wallTimeToIso(sendAt.value, zone);
    if (!iso) return showMessage("sms-error", "Pick the date and time to send at.");
    body.send_at = iso;
  }
  showMessage("sms-error", "");
  const done = await complete(body, (error) => {
    const node = showMessage("sms-error", error.message);
    if (!state.contact?.phone && state.contact?.id) node.append(" ", addPhoneLink(state.contact));
  });
  if (done) {
    const name = contactName(state.contact);
    finish(scheduled ? `Message to ${name} scheduled for ${formatInZone(body.send_at, zone)}.`
      : `Message sent to ${name}.`);
  }
}

// --- Manual Call ------------------------------------------------------------------------

async function dial() {
  if (state.busy || !state.current) return;
  const id = state.current.id;
  const button = document.getElementById("call-dial");
  button.disabled = true;
  setText("call-status", "Calling…");
  try {
    const result = await confirmingQuietHours((extra) => post(`/api/manual-actions/${id}/dial`, extra), "call");
    if (state.current?.id !== id) return;
    if (result === DECLINED) return setText("call-status", "Not called: it is quiet hours for this contact.");
    setText("call-status", dialResult(result));
    openOutcome();
  } catch (error) {
    if (state.current?.id === id) setText("call-status", error.message);
  } finally {
    button.disabled = !state.contact?.phone;
  }
}

function dialResult(result) {
  const to = result?.to ?? state.contact?.phone ?? "";
  if (result?.status === "simulated") return `Call to ${to} simulated: no phone provider is configured.`;
  return `Calling ${to}: ${String(result?.status ?? "placed").replaceAll("_", " ")}. Log how it went when you hang up.`;
}

function openOutcome() {
  outcomeForm.reset();
  showMessage("outcome-error", "");
  if (!outcomeDialog.open) outcomeDialog.showModal();
}

outcomeForm.addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "save") return;
  event.preventDefault();
  const outcome = outcomeForm.querySelector('input[name="outcome"]:checked')?.value;
  if (!outcome) return showMessage("outcome-error", "Pick how the call went.");
  const notes = document.getElementById("outcome-notes").value.trim();
  const done = await complete({ outcome, notes: notes || null }, (error) => showMessage("outcome-error", error.message));
  if (done) {
    outcomeDialog.close("saved");
    finish(`Call with ${contactName(state.contact)} logged: ${config.outcomes?.[outcome] ?? outcome}.`);
  }
});

// --- completing and skipping ----------------------------------------------------------------

async function complete(body, onError) {
  const id = state.current.id;
  state.busy = true;
  setButtons(true);
  // Marked before the request: the server announces the completion (manual_action.updated)
  // before it answers, and this session must not take its own completion for someone else's.
  finished.add(id);
  try {
    const result = await confirmingQuietHours((extra) => post(`/api/manual-actions/${id}/complete`, { ...body, ...extra }));
    if (result === DECLINED) {
      finished.delete(id);
      onError({ message: "Not sent: it is quiet hours for this contact. Schedule it for later, or send and confirm." });
      return false;
    }
    return true;
  } catch (error) {
    if (error.status === 404) {
      if (outcomeDialog.open) outcomeDialog.close();
      next("That manual action was removed before it was completed; moving on.");
      return false;
    }
    finished.delete(id);
    onError(error);
    return false;
  } finally {
    state.busy = false;
    setButtons(false);
  }
}

function finish(text) {
  state.done += 1;
  progress();
  next(text);
}

async function skip() {
  if (state.busy || !state.current) return;
  const id = state.current.id;
  state.busy = true;
  setButtons(true);
  finished.add(id);  // as in complete(): events about our own skip are not news
  try {
    await post(`/api/manual-actions/${id}/skip`);
  } catch (error) {
    if (error.status !== 404) {
      finished.delete(id);
      state.busy = false;
      setButtons(false);
      return notice(error.message);
    }
  }
  skipped.add(id);
  state.busy = false;
  setButtons(false);
  next(`Skipped ${contactName(state.contact)}.`);
}

function setButtons(disabled) {
  for (const id of ["sms-send", "sms-schedule", "session-skip", "outcome-save", "call-log"]) {
    document.getElementById(id).disabled = disabled;
  }
}

// --- live: the current action deleted, reassigned or completed elsewhere -----------------------

function movedAway(payload, text) {
  if (!state.current || payload?.id !== state.current.id || finished.has(payload.id)) return;
  finished.add(payload.id);
  if (outcomeDialog.open) outcomeDialog.close();
  next(text);
}

on("manual_action.deleted", (payload) =>
  movedAway(payload, "This manual action was deleted or reassigned to someone else; moving on to the next one."));
on("manual_action.updated", (payload) => {
  if (!state.current || payload?.id !== state.current.id) return;
  if (payload.status && payload.status !== "queued") {
    movedAway(payload, "Someone else completed this manual action; moving on to the next one.");
  } else if (!config.me?.can_see_all && payload.assignee_id && payload.assignee_id !== config.me?.id) {
    movedAway(payload, "This manual action was reassigned to someone else; moving on to the next one.");
  }
});
on("connect", async ({ reconnected }) => {
  if (!reconnected || !state.current) return;
  const id = state.current.id;
  try {
    const row = await get(`/api/manual-actions/${id}`);
    if (row.status !== "queued") movedAway(row, "This manual action was completed elsewhere; moving on.");
  } catch (error) {
    if (error.status === 404) movedAway({ id }, "This manual action is gone; moving on to the next one.");
  }
});

// --- wiring ----------------------------------------------------------------------------------

document.getElementById("call-dial").addEventListener("click", dial);
document.getElementById("call-log").addEventListener("click", openOutcome);
document.getElementById("session-skip").addEventListener("click", skip);
document.getElementById("session-retry").addEventListener("click", () => next());
// Exit gives the claimed action back (like Skip) so a teammate can take it, then returns to the list.
document.getElementById("exit-session").addEventListener("click", async (event) => {
  if (!state.current || finished.has(state.current.id)) return;
  event.preventDefault();
  const href = event.currentTarget.href;
  const release = post(`/api/manual-actions/${state.current.id}/skip`).catch(() => null);
  await Promise.race([release, new Promise((resolve) => setTimeout(resolve, 1500))]);
  window.location.href = href;
});

connect();
next();
