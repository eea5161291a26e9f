// Settings > Email: the SMTP server and sender of Send Email steps. The password is write-only: the page
// only says whether one is stored, and an empty password field keeps it.

import { api, get } from "./api.js";
import { setText, show } from "./dom.js";
import { settingsForm } from "./settings_form.js";

const PATH = "/api/settings/email";
const form = document.getElementById("email-form");
const removeButton = document.getElementById("email-remove");
const FIELDS = ["host", "port", "security", "username", "from_address", "from_name", "reply_to"];

const SOURCES = {
  account: "Emails go out through this SMTP server.",
  environment: "Emails go out through the server set in the environment (SMTP_*); saving here overrides it.",
  none: "No SMTP server is set: emails are recorded in the contact's conversation as simulated and not sent.",
};

function render(settings) {
  for (const name of FIELDS) {
    if (settings[name] !== null && settings[name] !== undefined) form.elements[name].value = settings[name];
  }
  form.elements.password.value = "";
  const warning = settings.public_url_set ? "" :
    " PUBLIC_URL is not set: SMTP sends fail until it is, since the unsubscribe link needs it.";
  setText("email-state", `${SOURCES[settings.source] ?? ""}${settings.password_set ? " A password is stored." : ""}${warning}`);
  show(removeButton, settings.source === "account");
  document.body.dataset.settingsLoaded = "true";
}

const optional = (value) => (value.trim() ? value.trim() : null);

const { clearErrors, showError } = settingsForm(form, {
  path: PATH,
  ids: { error: "email-error", saved: "email-saved", save: "email-save" },
  body: () => ({
    host: form.elements.host.value.trim(),
    port: Number(form.elements.port.value),
    security: form.elements.security.value,
    username: optional(form.elements.username.value),
    password: form.elements.password.value || null,
    from_address: form.elements.from_address.value.trim(),
    from_name: optional(form.elements.from_name.value),
    reply_to: optional(form.elements.reply_to.value),
  }),
  render,
});

removeButton.addEventListener("click", async () => {
  if (!window.confirm("Remove the account's SMTP settings?")) return;
  clearErrors();
  try {
    await api("DELETE", PATH);
    render(await get(PATH));
    setText(show("email-saved"), "Removed.");
  } catch (error) {
    showError(error);
  }
});

get(PATH).then(render).catch((error) => setText(show("email-error"), error.message));
