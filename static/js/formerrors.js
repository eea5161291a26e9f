// A form's field errors from the API: each goes under its field (the form's [data-error-for] slot, the
// field marked aria-invalid). `fieldText(path, messages)` gives the slot's name and text for an error
// (default: the path's first part names the field, so "choices.2" goes under the choices).

import { ApiError } from "./api.js";

const firstPart = (path, messages) => [path.split(".")[0], messages.join(" ")];

export function clearFieldErrors(form) {
  for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// Whether any error found its slot: the caller shows the rest (a 409, say) in its banner.
export function placeFieldErrors(form, error, fieldText = firstPart) {
  let placed = false;
  for (const [path, messages] of Object.entries(error instanceof ApiError ? error.fields : {})) {
    const [name, text] = fieldText(path, messages);
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = [slot.textContent, text].filter(Boolean).join(" ");
    form.elements[name]?.setAttribute("aria-invalid", "true");
    placed = true;
  }
  return placed;
}
