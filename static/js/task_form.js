// The add / edit task dialog (templates/tasks/_task_dialog.html), shared by the Tasks page and the contact
// page, and the times a task is due: shown and typed in the viewer's own time zone, sent as UTC ISO times.

import { api, get, post } from "./api.js";
import { contactName, debounce, h, parseTime, setText, show, showMessage } from "./dom.js";
import { toSearch } from "./filters.js";

const FIELDS = ["contact_id", "title", "body", "due_at", "assignee_id"];

export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const pad = (n) => String(n).padStart(2, "0");

/** An API time as a datetime-local value in the viewer's zone ("2026-12-01T09:30"). */
export function toLocalInput(value) {
  const date = value instanceof Date ? value : parseTime(value);
  if (!date) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value, read in the viewer's zone, as an ISO time; null if it is not one. */
export function fromLocalInput(value) {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value ?? "")) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function tomorrowAtNine() {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  date.setHours(9, 0, 0, 0);
  return date;
}

export class TaskDialog {
  /**
   * prefix: the dialog's id prefix; me: {id, name}; assignees: [{id, name}] the menu offers;
   * contactId: the contact new tasks are about (none: the dialog searches for one); onSaved(task, created).
   */
  constructor({ prefix, me, assignees, contactId = null, onSaved }) {
    this.prefix = prefix;
    this.me = me;
    this.assignees = assignees.length ? assignees : [me];
    this.contactId = contactId;
    this.onSaved = onSaved;
    this.dialog = document.getElementById(`${prefix}-dialog`);
    this.form = document.getElementById(`${prefix}-form`);
    this.contactLabels = new Map();
    this.task = null;
    this.form.addEventListener("submit", (event) => this.submit(event));
    this.field("contact")?.addEventListener("input", debounce(() => this.searchContacts(), 250));
    setText(`${prefix}-due-zone`, `Your time (${viewerZone()})`);
  }

  /** A control of the form by name (named access on the form itself could meet its own properties). */
  field(name) {
    return this.form.elements.namedItem(name);
  }

  /** Open for a new task (task null) or to edit one. */
  open(task = null) {
    this.task = task;
    setText(`${this.prefix}-dialog-title`, task ? "Edit task" : "New task");
    this.form.reset();
    this.clearErrors();
    const people = [...this.assignees];
    if (task?.assignee_id && !people.some((u) => u.id === task.assignee_id)) {
      people.push({ id: task.assignee_id, name: task.assignee_name ?? `User ${task.assignee_id}` });
    }
    const select = this.field("assignee_id");
    select.replaceChildren(...people.map((u) => h("option", { value: u.id }, u.id === this.me.id ? `${u.name} (me)` : u.name)));
    if (task && !task.assignee_id) select.prepend(h("option", { value: "" }, "Nobody"));
    select.value = String(task ? task.assignee_id ?? "" : this.me.id);
    if (this.field("contact")) show(`${this.prefix}-contact-field`, !task);
    this.field("title").value = task?.title ?? "";
    this.field("body").value = task?.body ?? "";
    this.field("due_at").value = toLocalInput(task ? task.due_at : tomorrowAtNine());
    this.dialog.showModal();
    (task || !this.field("contact") ? this.field("title") : this.field("contact")).focus();
  }

  clearErrors() {
    for (const name of FIELDS) showMessage(`${this.prefix}-${name}-error`, null);
    showMessage(`${this.prefix}-form-error`, null);
  }

  async searchContacts() {
    const text = this.field("contact").value.trim();
    if (!text || this.contactLabels.has(text)) return;
    try {
      const page = await get(`/api/contacts${toSearch({ q: text, per_page: 8 })}`);
      this.contactLabels = new Map(page.items.map((c) => [
        [contactName(c, `Contact ${c.id}`), c.phone].filter(Boolean).join(" · ") + ` (#${c.id})`, c.id]));
    } catch {
      this.contactLabels = new Map();
    }
    document.getElementById(`${this.prefix}-contact-options`).replaceChildren(
      ...[...this.contactLabels.keys()].map((label) => h("option", { value: label })));
  }

  /** The body to send, or null after showing what is missing. */
  values() {
    const body = { title: this.field("title").value, body: this.field("body").value };
    const errors = {};
    if (!body.title.trim()) errors.title = "Give the task a title.";
    const due = fromLocalInput(this.field("due_at").value);
    if (!due) errors.due_at = "Choose when the task is due.";
    else body.due_at = due;
    const assignee = this.field("assignee_id").value ? Number(this.field("assignee_id").value) : null;
    if (!this.task || assignee !== (this.task.assignee_id ?? null)) body.assignee_id = assignee;
    if (!this.task) {
      const typed = this.field("contact") ? this.field("contact").value.trim() : "";
      const contactId = this.contactId ?? this.contactLabels.get(typed) ?? null;
      if (!contactId) errors.contact_id = typed ? "Pick a contact from the suggestions." : "Choose a contact.";
      else body.contact_id = contactId;
    }
    for (const [name, message] of Object.entries(errors)) showMessage(`${this.prefix}-${name}-error`, message);
    return Object.keys(errors).length ? null : body;
  }

  async submit(event) {
    if (event.submitter?.value !== "confirm") return;
    event.preventDefault();
    this.clearErrors();
    const body = this.values();
    if (!body) return;
    const button = document.getElementById(`${this.prefix}-save`);
    button.disabled = true;
    try {
      const saved = this.task ? await api("PATCH", `/api/tasks/${this.task.id}`, body) : await post("/api/tasks", body);
      this.dialog.close("saved");
      this.onSaved?.(saved, !this.task);
    } catch (error) {
      const fields = Object.entries(error.fields ?? {}).filter(([name]) => FIELDS.includes(name));
      for (const [name, messages] of fields) showMessage(`${this.prefix}-${name}-error`, messages[0]);
      if (!fields.length) showMessage(`${this.prefix}-form-error`, error.message);
    } finally {
      button.disabled = false;
    }
  }
}

/** Complete or reopen a task; returns the task as it now is. */
export function toggleDone(task) {
  return post(`/api/tasks/${task.id}/${task.status === "open" ? "complete" : "reopen"}`);
}
