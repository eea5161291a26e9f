// The form of a settings page (Settings > Twilio, Settings > Messaging), saved with PUT `path`: field
// errors go under their field (its [data-error-for] slot), anything else in the page's error banner.
// `ids` names the banner, the "Saved." notice and the Save button; `body()` reads the form, `render(settings)`
// fills it; `fieldText(path, messages)` gives the slot's name and text for a field error (default: the path
// is the field's name).

import { api, ApiError } from "./api.js";
import { setText, show } from "./dom.js";

const plainField = (path, messages) => [path, messages.join(" ")];

export function settingsForm(form, { path, ids, body, render, fieldText = plainField }) {
  function clearErrors() {
    for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    show(ids.error, false);
    show(ids.saved, false);
  }

  function showError(error) {
    const fields = error instanceof ApiError ? error.fields : {};
    let placed = false;
    for (const [field, messages] of Object.entries(fields)) {
      const [name, text] = fieldText(field, messages);
      const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      if (!slot) continue;
      slot.textContent = [slot.textContent, text].filter(Boolean).join(" ");
      form.elements[name]?.setAttribute("aria-invalid", "true");
      placed = true;
    }
    if (!placed) setText(show(ids.error), error.message);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const button = document.getElementById(ids.save);
    button.disabled = true;
    try {
      render(await api("PUT", path, body()));
      setText(show(ids.saved), "Saved.");
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });

  return { clearErrors, showError };
}
