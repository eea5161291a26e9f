// Test workflow: pick or create a test contact, run the latest draft for them, and
// watch the run step by step. Rows of the execution log arrive as
// `workflow.execution` events; a fetch of /executions catches up on anything sent
// before the page was listening (or while it was disconnected).

import { ApiError, get, post } from "../api.js";
import { contactName as displayName, formatTime, h } from "../dom.js";
import { OUTCOME_LABELS, runDetails } from "./runlog.js";

const STATES = { ok: "ran", ended: "ran", waiting: "waiting", parked: "waiting", failed: "failed", cancelled: "failed",
  skipped: "skipped" };
const PAGE = 1000;

export const runState = (outcome) => STATES[outcome] ?? "ran";

const contactName = (c) => displayName(c, `Contact ${c.id}`);

export class TestRun {
  /**
   * @param {HTMLElement} root the test panel
   * @param {object} options {workflowId, catalog, ensureSaved: async () => boolean, onStates(Map), nameOf(id), users}
   */
  constructor(root, { workflowId, catalog, ensureSaved, onStates, nameOf, users = [] }) {
    this.root = root;
    this.base = `/api/workflows/${workflowId}`;
    this.catalog = catalog;
    this.ensureSaved = ensureSaved;
    this.onStates = onStates;
    this.nameOf = nameOf;
    this.users = users;
    // The run being watched outlives a reload of the page (this tab only): the log is fetched again.
    this.storageKey = `flowdesk.test-run.${workflowId}`;
    this.rows = new Map(); // id -> row, this run only
    this.run = this.saved(); // {contactId, after, enrollmentId}
    this.select = root.querySelector("#test-contact");
    this.log = root.querySelector("#test-log");
    this.status = root.querySelector("#test-status");
    this.details = root.querySelector("#test-details");
    this.form = root.querySelector("#test-contact-form");
    root.querySelector("#run-test").addEventListener("click", () => this.start());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.createContact();
    });
    this.log.addEventListener("click", (event) => {
      const item = event.target.closest("[data-row-id]");
      if (item) this.showRow(this.rows.get(Number(item.dataset.rowId)));
    });
  }

  saved() {
    try {
      const run = JSON.parse(sessionStorage.getItem(this.storageKey) ?? "null");
      return run && Number.isInteger(run.contactId) && Number.isInteger(run.after) ? run : null;
    } catch {
      return null;
    }
  }

  remember() {
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify(this.run));
    } catch {
      // storage full or disabled: a reload just forgets the run
    }
  }

  async loadContacts(selectId = this.run?.contactId ?? null) {
    const page = await get("/api/contacts?is_test=true&per_page=200");
    const tests = page.items;
    this.select.replaceChildren(
      h("option", { value: "" }, tests.length ? "Choose a test contact…" : "No test contacts yet: create one below"),
      ...tests.map((contact) => h("option", { value: String(contact.id), selected: contact.id === selectId },
        [contactName(contact), contact.phone].filter(Boolean).join(" · "))));
  }

  async createContact() {
    const data = Object.fromEntries(new FormData(this.form));
    const body = { first_name: data.first_name, is_test: true };
    if (data.phone) body.phone = data.phone;
    if (data.email) body.email = data.email;
    const errors = this.form.querySelector("[data-form-errors]");
    errors.replaceChildren();
    try {
      const contact = await post("/api/contacts", body);
      this.form.reset();
      this.form.closest("details").open = false;
      await this.loadContacts(contact.id);
      this.setStatus(`Test contact ${contactName(contact)} created.`);
    } catch (error) {
      const fields = error instanceof ApiError ? Object.entries(error.fields) : [];
      errors.replaceChildren(...(fields.length ? fields.map(([field, messages]) => h("li", {}, `${field}: ${messages.join(" ")}`))
        : [h("li", {}, error.message)]));
    }
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  /** Save if needed, enroll the contact as a test, then follow the log. */
  async start() {
    const contactId = Number(this.select.value);
    if (!contactId) {
      this.setStatus("Choose or create a test contact first.");
      this.select.focus();
      return;
    }
    if (!(await this.ensureSaved())) {
      this.setStatus("Fix the errors on the canvas, then run the test again.");
      return;
    }
    this.setStatus("Starting…");
    try {
      const after = await this.lastRowId(contactId);
      this.run = { contactId, after, enrollmentId: null };
      this.remember();
      this.rows.clear();
      this.render();
      await post(`${this.base}/enroll`, { contact_ids: [contactId], test: true });
      this.setStatus("Running: steps light up as they run.");
      await this.catchUp();
    } catch (error) {
      this.setStatus(error.message);
    }
  }

  /** The newest log row of this contact's earlier test runs: this run's rows come after it. */
  async lastRowId(contactId) {
    let after = 0;
    for (;;) {
      const rows = await get(`${this.base}/executions?test=true&contact_id=${contactId}&after_id=${after}&limit=${PAGE}`);
      if (rows.length) after = rows[rows.length - 1].id;
      if (rows.length < PAGE) return after;
    }
  }

  /** Fetch rows the events may have missed. */
  async catchUp() {
    const run = this.run;
    if (!run) return;
    const filter = run.enrollmentId ? `enrollment_id=${run.enrollmentId}` : `contact_id=${run.contactId}`;
    let after = Math.max(run.after, ...this.rows.keys());
    for (;;) {
      const rows = await get(`${this.base}/executions?test=true&${filter}&after_id=${after}&limit=${PAGE}`);
      for (const row of rows) this.accept(row);
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1].id;
    }
  }

  /** A `workflow.execution` event (or a fetched row): keep it if it belongs to this run. */
  accept(row) {
    const run = this.run;
    if (!run || !row?.is_test || row.contact_id !== run.contactId || row.id <= run.after) return;
    if (run.enrollmentId === null) {
      run.enrollmentId = row.enrollment_id;
      this.remember();
    }
    if (row.enrollment_id !== run.enrollmentId || this.rows.has(row.id)) return;
    this.rows.set(row.id, row);
    this.render();
  }

  /** Each step's latest state in this run. */
  states() {
    const out = new Map();
    for (const row of [...this.rows.values()].sort((a, b) => a.id - b.id)) out.set(row.step_id, runState(row.outcome));
    return out;
  }

  rowFor(stepId) {
    const rows = [...this.rows.values()].filter((row) => row.step_id === stepId).sort((a, b) => b.id - a.id);
    return rows[0] ?? null;
  }

  render() {
    const rows = [...this.rows.values()].sort((a, b) => a.id - b.id);
    this.log.replaceChildren(...rows.map((row) => h("li", { "data-row-id": String(row.id), "data-step": row.step_id,
      "data-outcome": row.outcome, class: `log-row state-${runState(row.outcome)}` },
    h("button", { type: "button", class: "link-button" }, this.nameOf(row.step_id)),
    h("span", { class: "log-outcome" }, OUTCOME_LABELS[row.outcome] ?? row.outcome),
    h("time", { datetime: row.finished_at ?? "" }, formatTime(row.finished_at)))));
    const last = rows[rows.length - 1];
    if (last) this.setStatus(`${this.nameOf(last.step_id)}: ${OUTCOME_LABELS[last.outcome] ?? last.outcome}.`);
    this.onStates(this.states());
  }

  /** Retry the run from its failed step, on the latest version (save first: the fix is usually in the draft). */
  async retry(row) {
    if (!(await this.ensureSaved())) {
      this.setStatus("Fix the errors on the canvas, then retry.");
      return;
    }
    try {
      await post(`${this.base}/runs/${row.enrollment_id}/retry`, { version: "latest" });
      this.setStatus(`Retrying from ${this.nameOf(row.step_id)}…`);
      await this.catchUp();
    } catch (error) {
      this.setStatus(error.message);
    }
  }

  showRow(row) {
    this.details.replaceChildren(row ? runDetails(row, this.catalog, { users: this.users, nameOf: this.nameOf,
      onRetry: (failed) => this.retry(failed) })
      : h("p", { class: "hint" },
      "This step has not run in the test."));
  }
}
