// A test run's log row for one step, as people read it: what the step did, in words and names
// (who a contact was assigned to, which branch was taken, when a wait wakes), with the raw
// input and output kept under "Raw data" for whoever needs the ids.

import { formatTime, h } from "../dom.js";

export const OUTCOME_LABELS = { ok: "Ran", ended: "Ended", skipped: "Skipped", waiting: "Waiting", parked: "Waiting for a person",
  failed: "Failed", cancelled: "Cancelled" };

const LABELS = {
  body: "Text", to: "Sent to", tag: "Tag", user_id: "Assigned to", user_ids: "Users", branch_name: "Branch taken",
  field: "Field", value: "New value", until: "Until", wake_at: "Wakes at", resumed_by: "Went on because", reason: "Why",
  outcome: "Call outcome", connect_to: "Then rings", answered_by: "Answered by", duration_seconds: "Duration (seconds)",
};
// A Call step's outcome, in words.
const CALL_OUTCOMES = { answered: "Answered", no_answer: "No answer", busy: "Busy", voicemail: "Voicemail",
  failed: "Failed" };
const RESUMED_BY = { reply: "the contact replied", timer: "the time ran out", completed: "the action was completed",
  deleted: "the action was deleted" };
const HIDDEN = new Set(["message_id", "manual_action_id", "enrollment_id", "branch", "request_id", "call_id", "email_id"]); // ids: in Raw data
// A step that made an outside request (webhook, Slack) outputs the response it got.
const RESPONSE_LABELS = { status: "Response status", headers: "Response headers", body: "Response body",
  truncated: "Response cut short", attempts: "Attempts" };

/**
 * @param {object} row the execution log row
 * @param {object} catalog the action catalog (labels)
 * @param {object} context {users: [{id, name}]}, nameOf(stepId) for step names, and onRetry(row) (a failed
 *   row then offers "Retry from this step")
 */
export function runDetails(row, catalog, { users = [], nameOf = (id) => id, onRetry = null } = {}) {
  const json = (value) => h("pre", { class: "json" }, JSON.stringify(value ?? {}, null, 2));
  const facts = readable(row.output ?? {}, new Map(users.map((u) => [u.id, u.name])), nameOf);
  return h("section", { class: "run-details", "data-run-details": row.step_id },
    h("h3", {}, "Last test run"),
    h("p", {}, h("strong", { "data-run-outcome": "" }, OUTCOME_LABELS[row.outcome] ?? row.outcome),
      ` · ${catalog.label(row.step_type)}`, row.duration_ms !== undefined ? ` · ${Math.round(row.duration_ms)} ms` : ""),
    row.error ? h("p", { class: "error-banner" }, row.error) : null,
    onRetry && row.outcome === "failed" ? h("p", { class: "retry-row" },
      h("button", { type: "button", "data-retry-step": row.step_id, onclick: () => onRetry(row),
        title: "Run this step again, then the rest of the workflow; the steps before it are not repeated" },
      "Retry from this step")) : null,
    facts.length ? h("dl", { class: "run-facts" }, ...facts.flatMap(([label, text]) => [h("dt", {}, label), h("dd", {}, text)]))
      : null,
    h("details", { class: "raw-data" }, h("summary", {}, "Raw data"),
      h("h4", {}, "Output"), json(row.output), h("h4", {}, "Input"), json(row.input)));
}

function readable(output, userNames, nameOf) {
  const facts = [];
  if (output.branch === "else") facts.push(["Branch taken", "Else"]);
  const response = typeof output.request_id === "number";
  for (const [key, value] of Object.entries(output)) {
    if (HIDDEN.has(key) || value === null || value === undefined) continue;
    const label = (response && RESPONSE_LABELS[key]) || LABELS[key] || humanize(key);
    facts.push([label, say(key, value, userNames, nameOf)]);
  }
  return facts;
}

function say(key, value, userNames, nameOf) {
  const user = (id) => userNames.get(id) ?? `User ${id}`;
  if (key === "user_id") return user(value);
  if (key === "user_ids" && Array.isArray(value)) return value.map(user).join(", ");
  if (key === "until" || key === "wake_at") return formatTime(value);
  if (key === "resumed_by") {
    if (String(value).startsWith("call:")) return "the call ended";
    return RESUMED_BY[value] ?? (String(value).startsWith("outbound:") ? "the request finished" : String(value));
  }
  if (key === "outcome") return CALL_OUTCOMES[value] ?? String(value);
  if (key.endsWith("_step") || key === "next") return nameOf(value);
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function humanize(key) {
  const words = key.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
