// Settings > Custom fields: the account's custom contact fields, listed, added, edited and deleted over
// /api/settings/custom-fields. One form adds a field or edits the one chosen (its key stays as it is).

import { api, get } from "./api.js";
import { cell, h, setText, show, showMessage } from "./dom.js";
import { clearFieldErrors, placeFieldErrors } from "./formerrors.js";

const PATH = "/api/settings/custom-fields";
const TYPE_LABELS = { text: "Text", number: "Number", date: "Date", choice: "Choice", phone: "Phone", email: "Email" };
const form = document.getElementById("field-form");
const state = { editing: null };

const choiceLines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);

function syncChoices() {
  show("choices-label", form.elements.type.value === "choice");
}

function clearErrors() {
  clearFieldErrors(form);
  showMessage("fields-error", "");
  showMessage("fields-saved", "");
}

// Field errors go under their input ("choices.2" under the choices); anything else in the banner.
function showError(error) {
  if (!placeFieldErrors(form, error)) showMessage("fields-error", error.message);
}

function startEditing(field) {
  clearErrors();
  state.editing = field?.key ?? null;
  form.elements.label.value = field?.label ?? "";
  form.elements.key.value = field?.key ?? "";
  form.elements.key.disabled = Boolean(field);
  form.elements.type.value = field?.type ?? "text";
  form.elements.choices.value = (field?.choices ?? []).join("\n");
  setText("field-form-title", field ? `Edit ${field.label}` : "Add a field");
  setText("field-save", field ? "Save field" : "Add field");
  show("field-cancel", Boolean(field));
  syncChoices();
  if (field) form.elements.label.focus();
}

function row(field) {
  return h("tr", { dataset: { key: field.key } },
    cell("Label", field.label),
    cell("Key", h("code", {}, field.key)),
    cell("Type", TYPE_LABELS[field.type] ?? field.type),
    cell("Choices", (field.choices ?? []).join(", ")),
    cell("Actions",
      h("button", { type: "button", class: "link-button", "aria-label": `Edit ${field.label}`,
        onclick: () => startEditing(field) }, "Edit"),
      h("button", { type: "button", class: "link-button danger", "aria-label": `Delete ${field.label}`,
        onclick: () => remove(field) }, "Delete")));
}

function render(list) {
  const rows = document.getElementById("fields-rows");
  rows.replaceChildren(...list.fields.map(row));
  show("fields-table", list.fields.length > 0);
  show("fields-empty", list.fields.length === 0);
}

const reload = async () => render(await get(PATH));

async function remove(field) {
  if (!window.confirm(`Delete the custom field ${field.label}? Contacts keep the values they hold.`)) return;
  clearErrors();
  try {
    await api("DELETE", `${PATH}/${encodeURIComponent(field.key)}`);
    if (state.editing === field.key) startEditing(null);
    await reload();
    showMessage("fields-saved", `Deleted ${field.label}.`);
  } catch (error) {
    showError(error);
  }
}

function formBody() {
  const type = form.elements.type.value;
  const body = { label: form.elements.label.value, type, choices: type === "choice"
    ? choiceLines(form.elements.choices.value) : null };
  return state.editing ? body : { key: form.elements.key.value.trim(), ...body };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const button = document.getElementById("field-save");
  button.disabled = true;
  try {
    const saved = state.editing
      ? await api("PATCH", `${PATH}/${encodeURIComponent(state.editing)}`, formBody())
      : await api("POST", PATH, formBody());
    startEditing(null);
    await reload();
    showMessage("fields-saved", `Saved ${saved.label}.`);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});
form.elements.type.addEventListener("change", syncChoices);
document.getElementById("field-cancel").addEventListener("click", () => startEditing(null));

try {
  await reload();
  document.body.dataset.settingsLoaded = "true";
} catch (error) {
  showError(error);
}
