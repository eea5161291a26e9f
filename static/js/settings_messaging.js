// Settings > Messaging: the account's opt-out / opt-in keywords and quiet hours, read and saved
// over /api/settings/messaging. Keywords are typed as words separated by spaces or commas.

import { get } from "./api.js";
import { setText } from "./dom.js";
import { settingsForm } from "./settings_form.js";

const PATH = "/api/settings/messaging";
const form = document.getElementById("messaging-form");
const enabled = document.getElementById("quiet_hours_enabled");
const state = { defaults: null };

const words = (text) => text.split(/[\s,;]+/).map((w) => w.trim()).filter(Boolean);

function syncHours() {
  for (const name of ["quiet_hours_start", "quiet_hours_end"]) form.elements[name].disabled = !enabled.checked;
}

function render(settings) {
  state.defaults = settings.defaults;
  form.elements.opt_out_keywords.value = settings.opt_out_keywords.join(" ");
  form.elements.opt_in_keywords.value = settings.opt_in_keywords.join(" ");
  enabled.checked = settings.quiet_hours_enabled;
  form.elements.quiet_hours_start.value = settings.quiet_hours_start;
  form.elements.quiet_hours_end.value = settings.quiet_hours_end;
  setText("keyword-defaults", `Defaults: opt out with ${settings.defaults.opt_out_keywords.join(", ")}; `
    + `opt in with ${settings.defaults.opt_in_keywords.join(", ")}.`);
  syncHours();
}

// The server names fields like "opt_out_keywords.2" (the third word): show it under its list.
function fieldText(path, messages) {
  const [name, index] = path.split(".");
  const list = index !== undefined ? words(form.elements[name]?.value ?? "") : [];
  const prefix = list[Number(index)] ? `${list[Number(index)]}: ` : "";
  return [name, prefix + messages.join(" ")];
}

function formBody() {
  return {
    opt_out_keywords: words(form.elements.opt_out_keywords.value),
    opt_in_keywords: words(form.elements.opt_in_keywords.value),
    quiet_hours_enabled: enabled.checked,
    quiet_hours_start: form.elements.quiet_hours_start.value,
    quiet_hours_end: form.elements.quiet_hours_end.value,
  };
}

const { showError } = settingsForm(form, {
  path: PATH, ids: { error: "messaging-error", saved: "messaging-saved", save: "messaging-save" },
  body: formBody, render, fieldText,
});

enabled.addEventListener("change", syncHours);
document.getElementById("keywords-reset").addEventListener("click", () => {
  if (!state.defaults) return;
  form.elements.opt_out_keywords.value = state.defaults.opt_out_keywords.join(" ");
  form.elements.opt_in_keywords.value = state.defaults.opt_in_keywords.join(" ");
});

try {
  render(await get(PATH));
  document.body.dataset.settingsLoaded = "true";
} catch (error) {
  showError(error);
}
