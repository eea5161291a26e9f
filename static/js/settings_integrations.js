// Settings > Integrations: the webhook signing secret (shown on request, rotated with a confirmation)
// and the Slack incoming-webhook URL, which is write-only: the page shows only a masked hint of it.

import { api, get, post } from "./api.js";
import { setText, show } from "./dom.js";
import { settingsForm } from "./settings_form.js";

const PATH = "/api/settings/integrations";
const secretInput = document.getElementById("signing_secret");
const showButton = document.getElementById("secret-show");
const slackForm = document.getElementById("slack-form");
const slackInput = document.getElementById("slack_url");
const removeButton = document.getElementById("slack-remove");

function render(settings) {
  secretInput.value = settings.signing_secret ?? "";
  slackInput.value = "";
  setText("slack-state", settings.slack_webhook_url_set
    ? `Slack messages go to ${settings.slack_webhook_url_hint}. Enter a new URL to replace it.`
    : "No Slack URL is set: Send Slack Message steps are skipped (the log says why).");
  show(removeButton, settings.slack_webhook_url_set);
  document.body.dataset.settingsLoaded = "true";
}

function failed(id, error) {
  setText(show(id), error.message);
}

async function load() {
  try {
    render(await get(PATH));
  } catch (error) {
    failed("integrations-error", error);
  }
}

showButton.addEventListener("click", () => {
  const hidden = secretInput.type === "password";
  secretInput.type = hidden ? "text" : "password";
  showButton.textContent = hidden ? "Hide" : "Show";
  showButton.setAttribute("aria-pressed", String(hidden));
});

document.getElementById("secret-rotate").addEventListener("click", async () => {
  if (!window.confirm("Rotate the signing secret? Receivers must use the new one from now on.")) return;
  show("integrations-error", false);
  try {
    render(await post(`${PATH}/signing-secret`));
    setText(show("secret-rotated"), "Rotated: requests are now signed with the new secret.");
  } catch (error) {
    failed("integrations-error", error);
  }
});

const { clearErrors, showError } = settingsForm(slackForm, {
  path: `${PATH}/slack`,
  ids: { error: "slack-error", saved: "slack-saved", save: "slack-save" },
  body: () => ({ url: slackInput.value.trim() }),
  render,
});

removeButton.addEventListener("click", async () => {
  if (!window.confirm("Remove the Slack URL? Send Slack Message steps will be skipped.")) return;
  clearErrors();
  try {
    render(await api("DELETE", `${PATH}/slack`));
    setText(show("slack-saved"), "Removed.");
  } catch (error) {
    showError(error);
  }
});

load();
