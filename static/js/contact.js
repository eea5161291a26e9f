// One contact: details, tags, SMS / call do-not-disturb switches, and the conversation thread with a
// composer. The thread follows the live message events; everything else is read and written over REST.

import { api, get, post } from "./api.js";
import { contactName, h, pageConfig, setText, show, showMessage } from "./dom.js";
import { DECLINED, Thread, composer, confirmingQuietHours, renderContactFacts } from "./conversation.js";
import { on } from "./live.js";
import { safeZone, wallTimeToIso, zoneLabel } from "./tz.js";

const config = pageConfig();
const contactId = config.contact_id;
const state = { contact: null, saving: false };
const { input: bodyInput, sendAt, updateCounter, setScheduling } = composer(
  { prefix: "composer", form: "composer", message: "composer-body", box: "composer-schedule-box" },
  { zone: () => safeZone(state.contact?.timezone), send });
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

// --- details -----------------------------------------------------------------------------

function renderContact(contact) {
  state.contact = contact;
  setText("contact-title", contactName(contact));
  const zone = renderContactFacts(contact);
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
  showMessage("details-error", null);
  try {
    renderContact(await patch(changes));
    if (statusText) setText("dnd-status", statusText);
    return true;
  } catch (error) {
    showMessage("details-error", error.message);
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

async function send(scheduled) {
  const text = bodyInput.value;
  if (!text.trim()) return showMessage("composer-error", "Write a message before sending.");
  const payload = { body: text };
  if (scheduled) {
    const iso = wallTimeToIso(sendAt.value, safeZone(state.contact?.timezone));
    if (!iso) return showMessage("composer-error", "Pick the date and time to send at.");
    payload.send_at = iso;
  }
  showMessage("composer-error", null);
  const buttons = ["composer-send", "composer-schedule"].map((id) => document.getElementById(id));
  for (const button of buttons) button.disabled = true;
  try {
    const row = await confirmingQuietHours((extra) => post(`/api/contacts/${contactId}/messages`, { ...payload, ...extra }));
    if (row === DECLINED) return showMessage("composer-error", "Not sent: it is quiet hours for this contact.");
    thread.upsert(row);
    bodyInput.value = "";
    updateCounter();
    setScheduling(false);
  } catch (error) {
    showMessage("composer-error", error.message);
  } finally {
    renderContact(state.contact);
  }
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
  showMessage("contact-error", error.message);
}
