// One contact: details (with the engagement score), tags, SMS / call / email do-not-disturb switches, the
// conversation thread with a composer, the edit form (and Delete for admins and managers) and the timeline with notes. The thread follows the live
// message events; everything else is read and written over REST.

import { api, del, get, post } from "./api.js";
import { ContactForm } from "./contact_form.js";
import { Timeline, wireNoteForm } from "./contact_timeline.js";
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
const timeline = new Timeline({}, contactId);
const userNames = new Map((config.assignees ?? []).map((u) => [u.id, u.name]));
if (config.assignee) userNames.set(config.assignee.id, config.assignee.name);
if (config.me) userNames.set(config.me.id, config.me.name);
const contactForm = new ContactForm({ assignees: config.assignees ?? [], onSaved: (contact) => renderContact(contact) });

// --- details -----------------------------------------------------------------------------

function renderContact(contact) {
  state.contact = contact;
  setText("contact-title", contactName(contact));
  const zone = renderContactFacts(contact);
  setText("composer-zone", `(${zoneLabel(zone)})`);
  const assignee = contact.assigned_user_id;
  setText("contact-assignee", assignee ? (userNames.get(assignee) ?? `User ${assignee}`) : "Unassigned");
  renderCustomFields(contact.custom_fields ?? {});
  renderTags(contact.tags ?? []);
  document.getElementById("dnd-sms").checked = Boolean(contact.dnd_sms);
  document.getElementById("dnd-call").checked = Boolean(contact.dnd_call);
  document.getElementById("dnd-email").checked = Boolean(contact.dnd_email);
  setText("contact-score", String(contact.engagement_score ?? 0));
  show("composer-dnd", Boolean(contact.dnd_sms));
  show("composer-no-phone", !contact.phone);
  document.getElementById("composer-send").disabled = Boolean(contact.dnd_sms) || !contact.phone;
  document.getElementById("composer-schedule").disabled = Boolean(contact.dnd_sms) || !contact.phone;
}

function renderCustomFields(values) {
  const keys = Object.keys(values).sort();
  show("contact-custom-title", keys.length > 0);
  document.getElementById("contact-custom").replaceChildren(...keys.flatMap((key) =>
    [h("dt", {}, key), h("dd", {}, String(values[key]))]));
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
document.getElementById("dnd-email").addEventListener("change", onDnd("dnd_email", "email"));
document.getElementById("tag-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("new-tag");
  const tag = input.value.trim();
  // Tags ignore case: "VIP" on a contact with "vip" is already there.
  if (!tag || state.contact.tags.some((t) => t.toLowerCase() === tag.toLowerCase())) {
    input.value = "";
    return;
  }
  if (await saveTags([...state.contact.tags, tag])) input.value = "";
});

// --- edit and delete -----------------------------------------------------------------------

// #edit opens the form; #edit-phone starts in the phone field (the "add one before sending" links).
function openFromHash() {
  const match = /^#edit(?:-(\w+))?$/.exec(window.location.hash);
  if (!match || !state.contact) return;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  contactForm.open(state.contact, { focus: match[1] ?? "first_name" });
}

document.getElementById("edit-contact").addEventListener("click", () => contactForm.open(state.contact));
window.addEventListener("hashchange", openFromHash);

const deleteDialog = document.getElementById("delete-dialog"); // admins and managers only
document.getElementById("delete-contact")?.addEventListener("click", () => {
  showMessage("delete-error", null);
  deleteDialog.showModal();
});
document.getElementById("delete-form")?.addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "confirm") return;
  event.preventDefault();
  const button = document.getElementById("delete-confirm");
  button.disabled = true;
  try {
    await del(`/api/contacts/${contactId}`);
    window.location.assign(`/contacts?deleted=${encodeURIComponent(contactName(state.contact, ""))}`);
  } catch (error) {
    showMessage("delete-error", error.message);
    button.disabled = false;
  }
});

wireNoteForm(timeline, contactId);

// Events missed while disconnected: read the details again (the thread reloads itself).
on("connect", async ({ reconnected }) => {
  if (reconnected && !state.saving) renderContact(await get(`/api/contacts/${contactId}`));
});

try {
  renderContact(await get(`/api/contacts/${contactId}`));
  updateCounter();
  openFromHash();
  await Promise.all([thread.open(contactId), timeline.load()]);
  document.body.dataset.threadLoaded = "true";
} catch (error) {
  showMessage("contact-error", error.message);
}
