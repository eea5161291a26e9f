// A contact's timeline on their page: messages, calls (outcome, duration, notes), notes, manual actions and
// workflow runs (which step, and for admins and managers the run's log), newest first, paged with "Show
// older"; and the form that adds a note. Everything users wrote goes in as text (dom.js).

import { get, post } from "./api.js";
import { TYPE_LABELS, formatTime, h, show, showMessage } from "./dom.js";

const PAGE = 30;
const CALL_OUTCOMES = {
  answered: "Answered", interested: "Interested", not_interested: "Not interested", left_voicemail: "Left voicemail",
  no_answer: "No answer", busy: "Busy", wrong_number: "Wrong number", call_back_later: "Call back later",
  voicemail: "Voicemail", failed: "Failed",
};
const RUN_STATUSES = { active: "Running", waiting: "Waiting", parked: "Waiting for a person", completed: "Finished",
  cancelled: "Cancelled", failed: "Failed", exited: "Exited" };
const LOG_OUTCOMES = { ok: "Ran", ended: "Ended", skipped: "Skipped", waiting: "Waiting", parked: "Waiting for a person",
  failed: "Failed" };

const label = (labels, value) => labels[value] ?? String(value ?? "").replaceAll("_", " ");

function duration(seconds) {
  if (seconds === null || seconds === undefined) return null;
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

const line = (...parts) => parts.filter(Boolean).join(" · ");

// What each kind says: a heading, the detail lines and the text someone wrote (shown as a quote).
const RENDER = {
  message: (i) => ({
    title: i.direction === "inbound" ? "SMS received" : "SMS sent",
    meta: line(i.author && `by ${i.author}`, i.status, i.workflow_id && "from a workflow"),
    text: i.body,
  }),
  call: (i) => ({
    title: i.workflow_id ? "Automated call" : "Call",
    meta: line(i.outcome ? label(CALL_OUTCOMES, i.outcome) : label({}, i.status), duration(i.duration_seconds),
      i.author && `by ${i.author}`, i.workflow_id && "from a workflow", i.error),
    text: i.notes,
  }),
  note: (i) => ({
    title: "Note",
    meta: line(i.author && `by ${i.author}`, i.workflow_name && `from ${i.workflow_name}`),
    text: i.body,
  }),
  manual_action: (i) => ({
    title: line(TYPE_LABELS[i.type] ?? i.type, i.name),
    meta: line(i.status, i.outcome && label(CALL_OUTCOMES, i.outcome), i.author && `for ${i.author}`,
      i.workflow_name && `in ${i.workflow_name}`),
    text: i.notes,
  }),
  email: (i) => ({
    title: `Email${i.simulated ? " (console, not sent)" : ""}: ${i.subject}`,
    meta: line(`to ${i.to}`, i.status, i.workflow_id && "from a workflow", i.error),
    text: i.body,
  }),
  run: (i) => ({
    title: `Workflow: ${i.workflow_name}`,
    meta: line(label(RUN_STATUSES, i.status), i.current_step && `at ${i.step_name || i.current_step}`, i.error),
    text: null,
  }),
};

export class Timeline {
  constructor({ list = "timeline", empty = "timeline-empty", more = "timeline-more", error = "timeline-error" } = {},
    contactId) {
    this.list = document.getElementById(list);
    this.empty = empty;
    this.more = document.getElementById(more);
    this.error = error;
    this.contactId = contactId;
    this.next = null;
    this.seen = new Set();
    this.more.addEventListener("click", () => this.load());
  }

  /** The first page (again), or the next one. */
  async load({ reset = false } = {}) {
    if (reset) {
      this.next = null;
      this.seen.clear();
      this.list.replaceChildren();
    }
    const query = new URLSearchParams({ limit: PAGE });
    if (this.next) query.set("before", this.next);
    this.more.disabled = true;
    try {
      const page = await get(`/api/contacts/${this.contactId}/timeline?${query}`);
      this.list.append(...page.items.filter((item) => !this.seen.has(key(item))).map((item) => this.row(item)));
      this.next = page.next;
      showMessage(this.error, null);
    } catch (error) {
      showMessage(this.error, error.message);
    } finally {
      this.more.disabled = false;
      this.refreshChrome();
    }
  }

  /** A new item (a note just added) on top. */
  prepend(item) {
    if (this.seen.has(key(item))) return;
    this.list.prepend(this.row(item));
    this.refreshChrome();
  }

  refreshChrome() {
    show(this.empty, this.list.children.length === 0);
    show(this.more, Boolean(this.next));
  }

  row(item) {
    this.seen.add(key(item));
    const { title, meta, text } = (RENDER[item.kind] ?? (() => ({ title: item.kind })))(item);
    return h("li", { class: `timeline-item timeline-${item.kind}`, dataset: { kind: item.kind, id: item.id } },
      h("div", { class: "timeline-head" }, h("strong", {}, title),
        item.is_test ? h("span", { class: "hint" }, " · test") : null,
        h("time", { datetime: item.at, class: "hint" }, formatTime(item.at))),
      meta ? h("p", { class: "timeline-meta hint" }, meta) : null,
      text ? h("blockquote", { class: "timeline-text" }, text) : null,
      item.kind === "run" && item.log_url ? runLog(item) : null);
  }
}

const key = (item) => `${item.kind}:${item.id}`;

// The run's execution log, read when opened: each step it ran and how it went.
function runLog(item) {
  const steps = h("ol", { class: "run-log" });
  const details = h("details", { class: "run-log-box" }, h("summary", {}, "Run log"), steps);
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "true";
    try {
      const rows = await get(`${item.log_url}&limit=200`);
      steps.replaceChildren(...(rows.length ? rows.map((row) => h("li", { dataset: { step: row.step_id } },
        line(row.step_id, row.step_type, label(LOG_OUTCOMES, row.outcome), row.error), " ",
        h("time", { class: "hint", datetime: row.started_at }, formatTime(row.started_at))))
        : [h("li", { class: "hint" }, "No steps logged yet.")]));
    } catch (error) {
      delete details.dataset.loaded;
      steps.replaceChildren(h("li", { class: "hint" }, error.message));
    }
  });
  return h("div", {}, details,
    h("a", { href: `/workflows/${item.workflow_id}/edit`, class: "hint" }, "Open the workflow"));
}

/** Wire the note form (#note-form, #note-body, #note-error): a note added shows on top of the timeline. */
export function wireNoteForm(timeline, contactId) {
  const form = document.getElementById("note-form");
  const body = document.getElementById("note-body");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!body.value.trim()) return showMessage("note-error", "Write the note first.");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      timeline.prepend(await post(`/api/contacts/${contactId}/notes`, { body: body.value }));
      body.value = "";
      showMessage("note-error", null);
    } catch (error) {
      showMessage("note-error", error.fields?.body?.join(" ") ?? error.message);
    } finally {
      button.disabled = false;
    }
  });
}
