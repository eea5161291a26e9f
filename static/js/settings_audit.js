// Settings > Audit log (admins): one page of /api/audit at a time, newest first. Names and labels are
// user-written: they go in as text only.

import { get } from "./api.js";
import { cell, formatTime, h, show, showMessage } from "./dom.js";
import { renderPager, wirePager } from "./filters.js";

const PER_PAGE = 50;
const PAGER = { summary: "audit-summary", prev: "audit-prev", next: "audit-next" };
const state = { filters: { page: 1 } };

const WHAT = {
  "user.created": (e) => `added ${e.target_label} as ${e.details.role}`,
  "user.role_changed": (e) => `changed the role of ${e.target_label} from ${e.details.before} to ${e.details.after}`,
  "user.deactivated": (e) => `deactivated ${e.target_label}`,
  "user.reactivated": (e) => `reactivated ${e.target_label}`,
  "user.password_reset": (e) => `reset the password of ${e.target_label}`,
  "user.actions_reassigned": (e) => `reassigned ${e.details.count} queued action(s) of ${e.target_label}`,
  "settings.twilio_saved": () => "saved the Twilio settings",
  "settings.twilio_removed": () => "removed the Twilio settings",
  "settings.messaging_saved": () => "saved the messaging settings",
  "settings.signing_secret_rotated": () => "rotated the webhook signing secret",
  "settings.slack_saved": () => "saved the Slack webhook URL",
  "settings.slack_removed": () => "removed the Slack webhook URL",
  "settings.email_saved": () => "saved the email (SMTP) settings",
  "settings.email_removed": () => "removed the email (SMTP) settings",
  "settings.custom_value_created": (e) => `added the custom value ${e.target_label}`,
  "settings.custom_value_updated": (e) => `changed the custom value ${e.target_label}`,
  "settings.custom_value_deleted": (e) => `deleted the custom value ${e.target_label}`,
  "workflow.published": (e) => `published version ${e.details.version} of “${e.target_label}”`,
  "workflow.deleted": (e) => `deleted the workflow “${e.target_label}”`,
};

function what(event) {
  return (WHAT[event.action] ?? ((e) => `${e.action} ${e.target_label}`))(event);
}

function details(event) {
  const d = event.details ?? {};
  if (event.action === "settings.messaging_saved") {
    const hours = d.quiet_hours_enabled ? `quiet hours ${d.quiet_hours_start}–${d.quiet_hours_end}` : "no quiet hours";
    return `opt out: ${(d.opt_out_keywords ?? []).join(", ")}; opt in: ${(d.opt_in_keywords ?? []).join(", ")}; ${hours}`;
  }
  if (event.action === "settings.twilio_saved") return `${d.account_sid}${d.token_changed ? ", new auth token" : ""}`;
  if (event.action === "workflow.deleted" && d.contacts_in_it) return `${d.contacts_in_it} contact(s) in it: ${d.choice}`;
  return "";
}

function render(data) {
  document.getElementById("audit-body").replaceChildren(...data.items.map((event) => h("tr", {},
    cell("When", h("time", { datetime: event.created_at }, formatTime(event.created_at))),
    cell("Who", event.actor ? (event.actor.name || event.actor.email) : "(outside the app)"),
    cell("What", what(event)),
    cell("Details", details(event)),
  )));
  show("audit-loading", false);
  show("audit-table", data.items.length > 0);
  show("audit-empty", data.total === 0);
  renderPager(PAGER, { page: data.page, count: data.items.length, total: data.total, perPage: PER_PAGE });
}

async function refresh() {
  try {
    render(await get(`/api/audit?page=${state.filters.page}&per_page=${PER_PAGE}`));
    showMessage("list-error", null);
  } catch (error) {
    show("audit-loading", false);
    showMessage("list-error", error.message);
  }
  document.body.dataset.listLoaded = "true";
}

wirePager(PAGER, state, refresh);
await refresh();
