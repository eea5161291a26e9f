// Conversations > Tasks: the tasks the viewer sees (an agent's own and their contacts'; everyone's in the
// account for admins and managers), filtered by assignee, due (in the viewer's time zone) and status, paged,
// worked in place (complete, reopen, edit, delete, add) and kept current by the live task events.

import { del, get } from "./api.js";
import { ICONS, cell, debounce, formatTime, h, icon, pageConfig, setText, show } from "./dom.js";
import { pagedRefresh, renderPager, toSearch, wirePager } from "./filters.js";
import { connect, on } from "./live.js";
import { TaskDialog, toggleDone, viewerZone } from "./task_form.js";

const PER_PAGE = 25;
const PAGE_URL = "/tasks";
const PAGER = { summary: "list-summary", prev: "prev-page", next: "next-page" };
const DUE = ["overdue", "today", "upcoming"];
const STATUS = ["open", "completed", "all"];
const EDIT_ICON = "M4 17.2V20h2.8l8.3-8.3-2.8-2.8zM19.7 7.3a1 1 0 0 0 0-1.4l-1.6-1.6a1 1 0 0 0-1.4 0l-1.3 1.3 2.8 2.8z";
const config = pageConfig();
const me = config.me;
const form = document.getElementById("task-filters");
const body = document.getElementById("tasks-body");

const positiveInt = (value) => (/^\d+$/.test(value ?? "") && Number(value) > 0 ? Number(value) : null);

function readFilters() {
  const params = new URLSearchParams(window.location.search);
  const filters = { page: positiveInt(params.get("page")) ?? 1 };
  for (const key of ["assignee_id", "contact_id"]) {
    const id = positiveInt(params.get(key));
    if (id) filters[key] = id;
  }
  if (DUE.includes(params.get("due"))) filters.due = params.get("due");
  filters.status = STATUS.includes(params.get("status")) ? params.get("status") : "open";
  return filters;
}

const state = { filters: readFilters(), rows: [], total: 0, seq: 0, contactName: null };

// --- filters <-> URL <-> form ------------------------------------------------------------------

function syncUrl() {
  const { status, page, ...rest } = state.filters;
  const params = { ...rest, status: status === "open" ? null : status, page: page > 1 ? page : null };
  history.replaceState(null, "", PAGE_URL + toSearch(params));
  const active = ["assignee_id", "contact_id", "due"].filter((key) => state.filters[key]).length
    + (status !== "open" ? 1 : 0);
  setText("filters-count", active ? `(${active})` : "");
}

function fillForm() {
  const options = (config.assignees ?? []).map((u) => h("option", { value: u.id }, u.id === me.id ? `${u.name} (me)` : u.name));
  form.assignee_id.append(...options);
  form.assignee_id.value = state.filters.assignee_id ? String(state.filters.assignee_id) : "";
  form.due.value = state.filters.due ?? "";
  form.status.value = state.filters.status;
  renderContactFilter();
}

function renderContactFilter() {
  const id = state.filters.contact_id;
  show("contact-filter", Boolean(id));
  setText("contact-filter-name", id ? `Tasks of ${state.contactName ?? `contact ${id}`}` : "");
}

function setFilter(key, value) {
  const filters = { ...state.filters, page: 1 };
  if (value) filters[key] = value;
  else delete filters[key];
  state.filters = filters;
  renderContactFilter();
  refresh();
}

// --- rendering -----------------------------------------------------------------------------------

function statusBadge(task) {
  const label = task.status === "open" ? "Open" : "Completed";
  return h("span", { class: `status-badge status-${task.status === "open" ? "open-task" : "completed"}` }, label);
}

function rowFor(task) {
  const title = h("div", { class: "task-title" }, h("strong", {}, task.title),
    task.is_test ? h("span", { class: "status-badge status-test", title: "Added by a test run" }, "Test") : null);
  const detail = [task.body ? h("p", { class: "task-body" }, task.body) : null,
    task.workflow_name ? h("p", { class: "hint task-source" }, `From the workflow ${task.workflow_name}`) : null];
  const due = [h("time", { datetime: task.due_at }, formatTime(task.due_at)),
    task.overdue ? h("span", { class: "status-badge status-overdue" }, "Overdue") : null];
  const done = h("button", {
    type: "button", class: task.status === "open" ? "primary task-toggle" : "task-toggle",
    onclick: (event) => toggle(task, event.currentTarget),
  }, task.status === "open" ? "Complete" : "Reopen");
  const edit = h("button", {
    type: "button", class: "icon-button edit-button", "aria-label": "Edit", title: "Edit", onclick: () => dialog.open(task),
  }, icon(EDIT_ICON));
  const remove = h("button", {
    type: "button", class: "icon-button delete-button", "aria-label": "Delete", title: "Delete",
    onclick: () => confirmDelete(task),
  }, icon(ICONS.trash));
  return h("tr", { dataset: { taskId: task.id, status: task.status } },
    cell("Task", title, detail),
    cell("Contact", h("a", { href: `/contacts/${task.contact_id}`, class: "contact-link" }, task.contact_name || "(no name)")),
    cell("Assigned To", task.assignee_name || "Nobody"),
    cell("Due", due),
    cell("Status", statusBadge(task)),
    h("td", { class: "row-actions task-actions" }, done, edit, remove));
}

function emptyDetail() {
  const f = state.filters;
  if (f.due === "overdue") return "Nothing is overdue.";
  if (f.status === "open" && !f.due && !f.assignee_id && !f.contact_id) {
    return "No open tasks. New ones appear here as people and workflows add them.";
  }
  return "No tasks match these filters.";
}

function render() {
  body.replaceChildren(...state.rows.map(rowFor));
  const empty = state.rows.length === 0;
  show("tasks-table", !empty);
  show("empty-state", empty);
  setText("empty-detail", emptyDetail());
  renderPager(PAGER, { page: state.filters.page, count: state.rows.length, total: state.total, perPage: PER_PAGE });
}

function listUrl(filters) {
  const { status, page, ...rest } = filters;
  return `/api/tasks${toSearch({ ...rest, status: status === "all" ? null : status, tz: viewerZone(), page,
    per_page: PER_PAGE })}`;
}

const refresh = pagedRefresh(state, { perPage: PER_PAGE, url: listUrl, prepare: () => (syncUrl(), true), render });
const refreshSoon = debounce(refresh, 150);

// --- working a task ----------------------------------------------------------------------------------

async function toggle(task, button) {
  button.disabled = true;
  try {
    const saved = await toggleDone(task);
    state.rows = state.rows.map((row) => (row.id === saved.id ? saved : row));
    render();
  } catch (error) {
    setText("list-error", error.message);
    show("list-error", true);
  } finally {
    button.disabled = false;
    refreshSoon(); // it may have left the filtered list
  }
}

const dialog = new TaskDialog({ prefix: "task", me, assignees: config.assignees ?? [], onSaved: () => refreshSoon() });
document.getElementById("new-task").addEventListener("click", () => dialog.open());

const deleteDialog = document.getElementById("delete-dialog");
let pendingDelete = null;

function confirmDelete(task) {
  pendingDelete = task;
  setText("delete-what", `“${task.title}” for ${task.contact_name || "this contact"}`);
  show("delete-error", false);
  deleteDialog.showModal();
}

deleteDialog.querySelector("form").addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "confirm" || !pendingDelete) return;
  event.preventDefault();
  const button = document.getElementById("delete-confirm");
  button.disabled = true;
  try {
    await del(`/api/tasks/${pendingDelete.id}`);
    deleteDialog.close("deleted");
  } catch (error) {
    if (error.status === 404) deleteDialog.close("gone");
    else {
      setText("delete-error", error.message);
      show("delete-error", true);
    }
  } finally {
    button.disabled = false;
    refreshSoon();
  }
});

// --- wiring ---------------------------------------------------------------------------------------------

form.addEventListener("submit", (event) => event.preventDefault());
document.getElementById("filters-toggle").addEventListener("click", (event) => {
  const open = form.classList.toggle("is-open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
form.assignee_id.addEventListener("change", () => setFilter("assignee_id", Number(form.assignee_id.value) || null));
form.due.addEventListener("change", () => setFilter("due", form.due.value || null));
form.status.addEventListener("change", () => setFilter("status", form.status.value));
document.getElementById("contact-filter-clear").addEventListener("click", () => setFilter("contact_id", null));
document.getElementById("clear-filters").addEventListener("click", () => {
  state.filters = { status: "open", page: 1 };
  form.reset();
  form.status.value = "open";
  renderContactFilter();
  refresh();
});
wirePager(PAGER, state, refresh);

const socket = connect();
for (const name of ["task.created", "task.updated", "task.deleted"]) socket.on(name, refreshSoon);
on("connect", ({ reconnected }) => reconnected && refreshSoon());

if (state.filters.contact_id) {
  try {
    const contact = await get(`/api/contacts/${state.filters.contact_id}`);
    state.contactName = [contact.first_name, contact.last_name].filter(Boolean).join(" ") || contact.phone || null;
  } catch {
    state.contactName = null;
  }
}
fillForm();
await refresh();
