// Settings > Custom values: the account's values that templates read as {{ custom_values.<key> }}, listed,
// added, edited and deleted over /api/settings/custom-values. One form adds a value or edits the one chosen
// (its key stays as it is). Keys and values are user-written: they go in as text only.

import { api, get } from "./api.js";
import { cell, h, setText, show, showMessage } from "./dom.js";
import { clearFieldErrors, placeFieldErrors } from "./formerrors.js";

const PATH = "/api/settings/custom-values";
const form = document.getElementById("value-form");
const state = { editing: null };

function clearErrors() {
  clearFieldErrors(form);
  showMessage("values-error", "");
  showMessage("values-saved", "");
}

// Field errors go under their input; anything else (a 409 naming the workflows) in the banner.
function showError(error) {
  if (!placeFieldErrors(form, error)) showMessage("values-error", error.message);
}

function startEditing(item) {
  clearErrors();
  state.editing = item?.key ?? null;
  form.elements.key.value = item?.key ?? "";
  form.elements.key.disabled = Boolean(item);
  form.elements.value.value = item?.value ?? "";
  setText("value-form-title", item ? `Edit ${item.key}` : "Add a value");
  setText("value-save", item ? "Save value" : "Add value");
  show("value-cancel", Boolean(item));
  if (item) form.elements.value.focus();
}

function row(item) {
  return h("tr", { dataset: { key: item.key } },
    cell("Key", h("code", {}, item.key)),
    cell("Value", item.value),
    cell("Merge field", h("code", {}, `{{ custom_values.${item.key} }}`)),
    cell("Actions",
      h("button", { type: "button", class: "link-button", "aria-label": `Edit ${item.key}`,
        onclick: () => startEditing(item) }, "Edit"),
      h("button", { type: "button", class: "link-button danger", "aria-label": `Delete ${item.key}`,
        onclick: () => remove(item) }, "Delete")));
}

function render(list) {
  document.getElementById("values-rows").replaceChildren(...list.values.map(row));
  show("values-table", list.values.length > 0);
  show("values-empty", list.values.length === 0);
}

const reload = async () => render(await get(PATH));

async function remove(item) {
  if (!window.confirm(`Delete the custom value ${item.key}?`)) return;
  clearErrors();
  try {
    await api("DELETE", `${PATH}/${encodeURIComponent(item.key)}`);
    if (state.editing === item.key) startEditing(null);
    await reload();
    showMessage("values-saved", `Deleted ${item.key}.`);
  } catch (error) {
    showError(error);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const button = document.getElementById("value-save");
  button.disabled = true;
  try {
    const value = form.elements.value.value;
    const saved = state.editing
      ? await api("PATCH", `${PATH}/${encodeURIComponent(state.editing)}`, { value })
      : await api("POST", PATH, { key: form.elements.key.value.trim(), value });
    startEditing(null);
    await reload();
    showMessage("values-saved", `Saved ${saved.key}.`);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});
document.getElementById("value-cancel").addEventListener("click", () => startEditing(null));

try {
  await reload();
  document.body.dataset.settingsLoaded = "true";
} catch (error) {
  showError(error);
}
