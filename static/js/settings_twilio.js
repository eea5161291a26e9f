// Settings > Twilio: show the account's settings and save them. The auth token is
// write-only: the field stays blank and the page only says whether one is stored.

import { api, get } from "./api.js";
import { setText, show } from "./dom.js";
import { settingsForm } from "./settings_form.js";

const PATH = "/api/settings/twilio";
const FIELDS = ["account_sid", "from_number", "messaging_service_sid"];
const form = document.getElementById("twilio-form");
const tokenInput = document.getElementById("auth_token");
const removeButton = document.getElementById("twilio-remove");

const SOURCES = {
  account: "SMS and Manual Calls go through Twilio with these settings.",
  environment: "This account has no settings of its own: the server's TWILIO_* settings apply. Saving here replaces them for this account.",
  none: "Twilio is not set up: messages are only recorded (console provider). Enter your Twilio details to send for real.",
};

function render(settings) {
  for (const name of FIELDS) form.elements[name].value = settings[name] ?? "";
  tokenInput.value = "";
  const own = settings.source === "account";
  tokenInput.placeholder = own ? "set (leave blank to keep it)" : "";
  setText("auth_token-state", own ? "Set: leave blank to keep the stored token." : "Not set.");
  setText("twilio-source", SOURCES[settings.source] ?? "");
  show(removeButton, own);
}

function formBody() {
  const value = (name) => form.elements[name].value.trim() || null;
  const body = Object.fromEntries(FIELDS.map((name) => [name, value(name)]));
  if (tokenInput.value.trim()) body.auth_token = tokenInput.value.trim();
  return body;
}

async function load() {
  try {
    render(await get(PATH));
  } catch (error) {
    showError(error);
  }
}

const { clearErrors, showError } = settingsForm(form, {
  path: PATH, ids: { error: "twilio-error", saved: "twilio-saved", save: "twilio-save" }, body: formBody, render,
});

removeButton.addEventListener("click", async () => {
  if (!window.confirm("Remove this account's Twilio settings?")) return;
  clearErrors();
  try {
    await api("DELETE", PATH);
    await load();
    setText(show("twilio-saved"), "Removed.");
  } catch (error) {
    showError(error);
  }
});

load();
