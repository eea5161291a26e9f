// The form of a settings page (Settings > Twilio, Settings > Messaging), saved with PUT `path`: field
// errors go under their field (its [data-error-for] slot), anything else in the page's error banner.
// `ids` names the banner, the "Saved." notice and the Save button; `body()` reads the form, `render(settings)`
// fills it; `fieldText(path, messages)` gives the slot's name and text for a field error (default: the path
// is the field's name).

import { api } from "./api.js";
import { setText, show } from "./dom.js";
import { clearFieldErrors, placeFieldErrors } from "./formerrors.js";

const plainField = (path, messages) => [path, messages.join(" ")];

export function settingsForm(form, { path, ids, body, render, fieldText = plainField }) {
  function clearErrors() {
    clearFieldErrors(form);
    show(ids.error, false);
    show(ids.saved, false);
  }

  function showError(error) {
    if (!placeFieldErrors(form, error, fieldText)) setText(show(ids.error), error.message);
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
