// Conversations > Manual Actions: the filtered, paged list, kept current by live events.

import { api, del, get } from "./api.js";
import {
  ICONS, STATUS_LABELS, TYPE_LABELS, cell, contactName, debounce, formatTime, h, icon, pageConfig, setText, show,
} from "./dom.js";
import {
  LIST_URL, SESSION_URL, pagedRefresh, queueFilters, readFilters, renderPager, toSearch, wirePager,
} from "./filters.js";
import { connect, on } from "./live.js";

const PER_PAGE = 25;
const PAGER = { summary: "list-summary", prev: "prev-page", next: "next-page" };
const config = pageConfig();
const form = document.getElementById("filters");
const body = document.getElementById("actions-body");
const state = { filters: readFilters(), total: 0, rows: [], unmatched: null, seq: 0 };

// --- searchable dropdowns (input + datalist) --------------------------------

function uniqueLabels(items, labelOf) {
  const seen = new Map();
  for (const item of items) seen.set(labelOf(item), (seen.get(labelOf(item)) ?? 0) + 1);
  const out = new Map();
  for (const item of items) {
    const label = seen.get(labelOf(item)) > 1 ? `${labelOf(item)} (#${item.id})` : labelOf(item);
    out.set(label, item.id);
  }
  return out;
}

function fillDatalist(list, labels) {
  list.replaceChildren(...[...labels.keys()].map((label) => h("option", { value: label })));
}

const workflowLabels = uniqueLabels(config.workflows ?? [], (w) => w.name || `Workflow ${w.id}`);
fillDatalist(document.getElementById("workflow-options"), workflowLabels);
const labelFor = (labels, id) => [...labels].find(([, value]) => value === id)?.[0] ?? "";

let contactLabels = new Map();

function pickFromText(labels, text) {
  if (labels.has(text)) return labels.get(text);
  const wanted = text.toLowerCase();
  const hits = [...labels].filter(([label]) => label.toLowerCase().includes(wanted));
  return hits.length === 1 ? hits[0][1] : null;
}

function onWorkflowInput(commit) {
  const text = form.workflow.value.trim();
  if (!text) return setFilter("workflow_id", null);
  if (!commit && !workflowLabels.has(text)) return applyTypedWorkflow();
  const id = commit ? pickFromText(workflowLabels, text) : workflowLabels.get(text);
  if (id) {
    form.workflow.value = labelFor(workflowLabels, id);
    setFilter("workflow_id", id);
  } else if (commit) {
    setFilter("workflow_id", null, `No workflow matches “${text}”.`);
  }
}

async function searchContacts(text) {
  try {
    const page = await get(`/api/contacts${toSearch({ q: text, per_page: 8 })}`);
    contactLabels = uniqueLabels(page.items, (c) => [contactName(c, `Contact ${c.id}`), c.phone].filter(Boolean).join(" · "));
  } catch {
    contactLabels = new Map();
  }
  fillDatalist(document.getElementById("contact-options"), contactLabels);
  return contactLabels;
}

// As you type (after a pause): the filter applies as soon as the text names one workflow or contact;
// Enter or leaving the field still settles it (and says when nothing matches).
const TYPING_PAUSE = 300;

const applyTypedWorkflow = debounce(() => {
  const text = form.workflow.value.trim();
  if (!text) return setFilter("workflow_id", null);
  const id = pickFromText(workflowLabels, text);
  if (id && id !== state.filters.workflow_id) setFilter("workflow_id", id);
}, TYPING_PAUSE);

const applyTypedContact = debounce(async () => {
  const text = form.contact.value.trim();
  if (!text) return setFilter("contact_id", null);
  const labels = contactLabels.has(text) ? contactLabels : await searchContacts(text);
  if (form.contact.value.trim() !== text) return; // typed on meanwhile: the next pause decides
  const id = pickFromText(labels, text);
  if (id && id !== state.filters.contact_id) setFilter("contact_id", id);
}, TYPING_PAUSE);

async function onContactInput(commit) {
  const text = form.contact.value.trim();
  if (!text) return setFilter("contact_id", null);
  if (contactLabels.has(text)) return setFilter("contact_id", contactLabels.get(text));
  if (!commit) return applyTypedContact();
  const labels = await searchContacts(text);
  const id = pickFromText(labels, text);
  if (id) {
    form.contact.value = labelFor(labels, id);
    setFilter("contact_id", id);
  } else {
    setFilter("contact_id", null, labels.size ? `Several contacts match “${text}”: pick one from the suggestions.`
      : `No contact matches “${text}”.`);
  }
}

// --- filters <-> URL <-> form -----------------------------------------------

function setFilter(key, value, unmatched = null) {
  const filters = { ...state.filters, page: 1 };
  if (value) filters[key] = value;
  else delete filters[key];
  state.unmatched = unmatched;
  if (filters[key] === state.filters[key] && !unmatched && state.filters.page === 1) return render();
  state.filters = filters;
  refresh();
}

function syncFilterCount() {
  const f = state.filters;
  const active = ["workflow_id", "assignee_id", "contact_id", "type"].filter((key) => f[key]).length
    + (f.status !== "queued" ? 1 : 0);
  setText("filters-count", active ? `(${active})` : "");
}

function syncUrl() {
  syncFilterCount();
  const { status, page, ...rest } = state.filters;
  delete rest.action_id;
  const params = { ...rest, status: status === "queued" ? null : status, page: page > 1 ? page : null };
  history.replaceState(null, "", LIST_URL + toSearch(params));
  const sessionHref = SESSION_URL + toSearch(queueFilters(state.filters));
  document.getElementById("lets-start").href = sessionHref;
  document.getElementById("play-button").href = sessionHref;
}

async function fillForm() {
  const f = state.filters;
  form.workflow.value = f.workflow_id ? labelFor(workflowLabels, f.workflow_id) : "";
  if (form.assignee_id) {
    const options = (config.assignees ?? []).map((u) => h("option", { value: u.id }, u.name));
    form.assignee_id.append(...options);
    form.assignee_id.value = f.assignee_id ? String(f.assignee_id) : "";
  }
  form.type.value = f.type ?? "";
  form.status.value = f.status;
  if (f.contact_id) {
    try {
      const contact = await get(`/api/contacts/${f.contact_id}`);
      const label = [contactName(contact, `Contact ${contact.id}`), contact.phone].filter(Boolean).join(" · ");
      contactLabels = new Map([[label, contact.id]]);
      form.contact.value = label;
    } catch {
      form.contact.value = `Contact ${f.contact_id}`;
    }
  }
}

// --- rendering ----------------------------------------------------------------

function rowFor(action) {
  const name = action.contact_name || "(no name)";
  const sessionHref = SESSION_URL + toSearch({ action_id: action.id, ...queueFilters(state.filters) });
  const contact = action.status === "queued"
    ? h("a", { href: sessionHref, class: "contact-link" }, name)
    : h("span", { class: "contact-link" }, name);
  const type = h("span", { class: `type-badge type-${action.type}` }, icon(action.type === "call" ? ICONS.phone : ICONS.sms),
    TYPE_LABELS[action.type] ?? action.type);
  const status = h("span", { class: `status-badge status-${action.status}` }, STATUS_LABELS[action.status] ?? action.status);
  // A test run's action is work for nobody: marked, and left out of the dashboard's counts.
  const test = action.is_test ? h("span", { class: "status-badge status-test", title: "Queued by a test run" }, "Test") : null;
  const remove = h("button", {
    type: "button", class: "icon-button delete-button", "aria-label": "Delete", title: "Delete",
    onclick: () => confirmDelete(action),
  }, icon(ICONS.trash));
  const canReassign = action.status === "queued" && (config.assignees ?? []).length > 0;
  const reassign = canReassign ? h("button", {
    type: "button", class: "icon-button reassign-button", "aria-label": "Reassign", title: "Reassign",
    onclick: () => askReassign(action),
  }, icon(ICONS.user)) : null;
  return h("tr", { dataset: { actionId: action.id } },
    cell("Contact", contact),
    cell("Workflow", action.workflow_name || "—"),
    cell("Assigned To", action.assignee_name || "Unassigned"),
    cell("Type", type),
    cell("Status", [status, test].filter(Boolean)),
    cell("Date Added", h("time", { datetime: action.created_at }, formatTime(action.created_at))),
    h("td", { class: "row-actions" }, [reassign, remove].filter(Boolean)));
}

function emptyDetail() {
  if (state.unmatched) return state.unmatched;
  const f = state.filters;
  const filtered = f.workflow_id || f.assignee_id || f.contact_id || f.type;
  if (f.status === "queued" && f.assignee_id) return "Every queued task of this person is complete.";
  if (f.status === "queued" && !filtered) return "All queued tasks are complete. New ones appear here as workflows queue them.";
  return "No manual actions match these filters.";
}

function render() {
  const rows = state.unmatched ? [] : state.rows;
  body.replaceChildren(...rows.map(rowFor));
  const empty = rows.length === 0;
  show("actions-table", !empty);
  show("empty-state", empty);
  setText("empty-detail", emptyDetail());
  const total = state.unmatched ? 0 : state.total;
  renderPager(PAGER, { page: state.filters.page, count: rows.length, total, perPage: PER_PAGE });
}

function listUrl(filters) {
  const { status, page, ...rest } = filters;
  delete rest.action_id;
  return `/api/manual-actions${toSearch({ ...rest, status: status === "all" ? null : status, page, per_page: PER_PAGE })}`;
}

const refresh = pagedRefresh(state, {
  perPage: PER_PAGE,
  url: listUrl,
  prepare: () => {
    syncUrl();
    if (!state.unmatched) return true;
    render();
    return false;
  },
  render,
});

const refreshSoon = debounce(refresh, 150);

// --- delete ---------------------------------------------------------------------

const dialog = document.getElementById("delete-dialog");
let pendingDelete = null;

function confirmDelete(action) {
  pendingDelete = action;
  setText("delete-what", `The ${TYPE_LABELS[action.type] ?? "manual action"} for ${action.contact_name || "this contact"}`);
  show("delete-error", false);
  dialog.showModal();
}

dialog.querySelector("form").addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "confirm" || !pendingDelete) return;
  event.preventDefault();
  const button = document.getElementById("delete-confirm");
  button.disabled = true;
  try {
    await del(`/api/manual-actions/${pendingDelete.id}`);
    dropRow(pendingDelete.id);
    dialog.close("deleted");
  } catch (error) {
    if (error.status === 404) {
      dialog.close("gone");
    } else {
      setText("delete-error", error.message);
      show("delete-error", true);
    }
  } finally {
    button.disabled = false;
    refreshSoon();
  }
});

// --- reassign (admins and managers) ---------------------------------------------------

const reassignDialog = document.getElementById("reassign-dialog");
const reassignTo = document.getElementById("reassign-to");
let pendingReassign = null;

function askReassign(action) {
  pendingReassign = action;
  setText("reassign-what", `The ${TYPE_LABELS[action.type] ?? "manual action"} for ${action.contact_name || "this contact"}, `
    + `now with ${action.assignee_name || "nobody (shared queue)"}.`);
  reassignTo.replaceChildren(
    h("option", { value: "" }, "Unassigned (shared queue)"),
    ...(config.assignees ?? []).map((u) => h("option", { value: u.id }, u.name)));
  reassignTo.value = action.assignee_id ? String(action.assignee_id) : "";
  show("reassign-error", false);
  reassignDialog.showModal();
}

reassignDialog.querySelector("form").addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "confirm" || !pendingReassign) return;
  event.preventDefault();
  const button = document.getElementById("reassign-confirm");
  button.disabled = true;
  try {
    await api("PATCH", `/api/manual-actions/${pendingReassign.id}`, { assignee_id: Number(reassignTo.value) || null });
    reassignDialog.close("reassigned");
  } catch (error) {
    setText("reassign-error", error.message);
    show("reassign-error", true);
  } finally {
    button.disabled = false;
    refreshSoon();
  }
});

function dropRow(id) {
  const before = state.rows.length;
  state.rows = state.rows.filter((row) => row.id !== id);
  if (state.rows.length !== before) {
    state.total = Math.max(0, state.total - 1);
    render();
  }
}

// --- wiring ---------------------------------------------------------------------

form.addEventListener("submit", (event) => event.preventDefault());
document.getElementById("filters-toggle").addEventListener("click", (event) => {
  const open = form.classList.toggle("is-open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
form.workflow.addEventListener("input", () => onWorkflowInput(false));
form.workflow.addEventListener("change", () => onWorkflowInput(true));
form.contact.addEventListener("input", () => onContactInput(false));
form.contact.addEventListener("change", () => onContactInput(true));
form.assignee_id?.addEventListener("change", () => setFilter("assignee_id", Number(form.assignee_id.value) || null));
form.type.addEventListener("change", () => setFilter("type", form.type.value || null));
form.status.addEventListener("change", () => {
  state.filters = { ...state.filters, status: form.status.value, page: 1 };
  refresh();
});
document.getElementById("clear-filters").addEventListener("click", () => {
  state.filters = { status: "queued", page: 1 };
  state.unmatched = null;
  form.reset();
  form.status.value = "queued";
  refresh();
});
wirePager(PAGER, state, refresh);

on("manual_action.created", refreshSoon);
on("manual_action.updated", refreshSoon);
on("manual_action.deleted", (payload) => {
  if (payload?.id) dropRow(payload.id);
  refreshSoon();
});
on("manual_actions.counts", refreshSoon); // e.g. a reassignment that sent this viewer no row event
on("connect", ({ reconnected }) => reconnected && refreshSoon());

await fillForm();
await refresh();
connect();
