// Conversations > Contacts: the filtered, paged list, with selection and Add to Automation
// (a published workflow, all at once or dripped, then a progress bar until the request is done).
// Admins and managers enroll; everyone sees the contacts they may see.

import { get, post } from "./api.js";
import { ContactForm } from "./contact_form.js";
import { cell, contactName, debounce, formatTime, h, pageConfig, setText, show, showMessage } from "./dom.js";
import { pagedRefresh, renderPager, toSearch, wirePager } from "./filters.js";

const PER_PAGE = 25;
const POLL_MS = 1000;
const PAGER = { summary: "contacts-summary", prev: "contacts-prev", next: "contacts-next" };
const config = pageConfig();
const canEnroll = Boolean(config.can_enroll);
const form = document.getElementById("contact-filters");
const body = document.getElementById("contacts-body");
const assigneeNames = new Map((config.assignees ?? []).map((u) => [u.id, u.name]));
if (config.me) assigneeNames.set(config.me.id, config.me.name);

const state = {
  filters: readFilters(),
  rows: [],
  total: 0,
  seq: 0,
  // "ids": the ticked rows; "all": every contact matching the filters, on every page.
  selection: { mode: "ids", ids: new Set() },
};

// --- filters <-> URL ----------------------------------------------------------------

function readFilters() {
  const params = new URLSearchParams(window.location.search);
  const filters = { page: Math.max(1, Number(params.get("page")) || 1) };
  for (const key of ["q", "tag"]) if (params.get(key)) filters[key] = params.get(key);
  const assignee = Number(params.get("assigned_user_id"));
  if (Number.isInteger(assignee) && assignee > 0) filters.assigned_user_id = assignee;
  return filters;
}

// The filters as the API takes them (the enroll request's `filter` too): no page.
function listFilter() {
  const { page, ...rest } = state.filters;
  return rest;
}

function syncUrl() {
  const { page, ...rest } = state.filters;
  history.replaceState(null, "", window.location.pathname + toSearch({ ...rest, page: page > 1 ? page : null }));
  // Export CSV takes the list's current filter.
  document.getElementById("export-csv")?.setAttribute("href", `/api/contacts/export.csv${toSearch(rest)}`);
}

function setFilter(key, value) {
  const filters = { ...state.filters, page: 1 };
  if (value) filters[key] = value;
  else delete filters[key];
  state.filters = filters;
  clearSelection(); // "all matching" meant the old filter
  refresh();
}

function fillForm() {
  form.q.value = state.filters.q ?? "";
  form.tag.value = state.filters.tag ?? "";
  document.getElementById("tag-options").replaceChildren(...(config.tags ?? []).map((tag) => h("option", { value: tag })));
  if (form.assigned_user_id) {
    form.assigned_user_id.append(...(config.assignees ?? []).map((u) => h("option", { value: u.id }, u.name)));
    form.assigned_user_id.value = state.filters.assigned_user_id ? String(state.filters.assigned_user_id) : "";
  }
}

// --- the list ---------------------------------------------------------------------------

function rowFor(contact) {
  const cells = [];
  if (canEnroll) {
    const selected = state.selection.mode === "all" || state.selection.ids.has(contact.id);
    cells.push(h("td", { class: "select-cell" }, h("input", {
      type: "checkbox", class: "row-select", checked: selected, disabled: state.selection.mode === "all",
      "aria-label": `Select ${contactName(contact)}`, onchange: (event) => toggle(contact.id, event.target.checked),
    })));
  }
  const dnd = [contact.dnd_sms && "SMS", contact.dnd_call && "calls", contact.dnd_email && "email"].filter(Boolean);
  cells.push(
    cell("Name", h("a", { href: `/contacts/${contact.id}`, class: "contact-link" }, contactName(contact)),
      dnd.length ? h("span", { class: "status-badge dnd-badge", title: "Do not disturb" }, `DND: ${dnd.join(", ")}`) : null),
    cell("Phone", contact.phone ?? h("span", { class: "hint" }, "—")),
    cell("Email", contact.email ?? h("span", { class: "hint" }, "—")),
    cell("Tags", contact.tags.length ? h("ul", { class: "tags" }, ...contact.tags.map((t) => h("li", { class: "tag" }, t)))
      : h("span", { class: "hint" }, "—")),
    cell("Assigned To", contact.assigned_user_id ? (assigneeNames.get(contact.assigned_user_id) ?? `User ${contact.assigned_user_id}`)
      : h("span", { class: "hint" }, "Unassigned")),
    cell("Added", h("time", { datetime: contact.created_at }, formatTime(contact.created_at))),
  );
  return h("tr", { dataset: { contactId: contact.id } }, ...cells);
}

function render() {
  body.replaceChildren(...state.rows.map(rowFor));
  const empty = state.rows.length === 0;
  show("contacts-loading", false);
  show("contacts-table", !empty);
  show("contacts-empty", empty);
  const filtered = Object.keys(listFilter()).length > 0;
  setText("contacts-empty-detail", filtered ? "No contacts match these filters." : "No contacts yet.");
  renderPager(PAGER, { page: state.filters.page, count: state.rows.length, total: state.total, perPage: PER_PAGE });
  renderSelection();
}

const refresh = pagedRefresh(state, {
  perPage: PER_PAGE,
  url: (filters) => `/api/contacts${toSearch({ ...filters, per_page: PER_PAGE })}`,
  prepare: () => {
    syncUrl();
    return true;
  },
  render,
});

// --- selection ------------------------------------------------------------------------

function toggle(id, on) {
  if (on) state.selection.ids.add(id);
  else state.selection.ids.delete(id);
  renderSelection();
}

function clearSelection() {
  state.selection = { mode: "ids", ids: new Set() };
}

function selectedCount() {
  return state.selection.mode === "all" ? state.total : state.selection.ids.size;
}

function renderSelection() {
  if (!canEnroll) return;
  const count = selectedCount();
  const all = state.selection.mode === "all";
  const pageBox = document.getElementById("select-page");
  const onPage = state.rows.filter((row) => state.selection.ids.has(row.id)).length;
  pageBox.checked = all || (state.rows.length > 0 && onPage === state.rows.length);
  pageBox.indeterminate = !all && onPage > 0 && onPage < state.rows.length;
  pageBox.disabled = all;
  show("selection-bar", count > 0);
  setText("selection-text", all ? `All ${count} contacts matching this filter are selected.`
    : `${count} contact${count === 1 ? "" : "s"} selected.`);
  const wholePage = !all && onPage === state.rows.length && state.total > state.rows.length;
  const selectAll = document.getElementById("select-all-matching");
  selectAll.textContent = `Select all ${state.total} contacts matching this filter`;
  show(selectAll, wholePage);
  document.getElementById("add-to-automation").disabled = count === 0;
}

function selectPage(on) {
  for (const row of state.rows) {
    if (on) state.selection.ids.add(row.id);
    else state.selection.ids.delete(row.id);
  }
  render();
}

// --- Add to Automation ---------------------------------------------------------------------

const dialog = document.getElementById("enroll-dialog");
const enrollForm = document.getElementById("enroll-form");
const enrolling = { bulk: null, timer: null, workflowName: "" };

const enrollError = (message) => showMessage("enroll-error", message);

function openEnroll() {
  const workflows = config.workflows ?? [];
  const select = document.getElementById("enroll-workflow");
  select.replaceChildren(h("option", { value: "" }, workflows.length ? "Choose a published workflow"
    : "No published workflows yet"), ...workflows.map((wf) => h("option", { value: wf.id }, wf.name)));
  const count = selectedCount();
  setText("enroll-who", state.selection.mode === "all"
    ? `All ${count} contacts matching this filter.` : `${count} selected contact${count === 1 ? "" : "s"}.`);
  enrollForm.delivery.value = "all";
  show("drip-fields", false);
  show("enroll-setup", true);
  show("enroll-progress-box", false);
  show("enroll-confirm", true);
  setText("enroll-cancel", "Cancel");
  enrollError(null);
  dialog.showModal();
}

function enrollBody() {
  const body = state.selection.mode === "all" ? { filter: listFilter() } : { contact_ids: [...state.selection.ids] };
  if (enrollForm.delivery.value === "drip") {
    body.drip = {
      batch_size: Number(document.getElementById("drip-batch").value),
      interval_seconds: Number(document.getElementById("drip-interval").value) * Number(document.getElementById("drip-unit").value),
    };
  }
  return body;
}

async function submitEnroll() {
  const select = document.getElementById("enroll-workflow");
  const workflowId = Number(select.value);
  if (!workflowId) return enrollError("Choose the workflow to add them to.");
  const payload = enrollBody();
  if (payload.drip && !(payload.drip.batch_size >= 1)) return enrollError("The batch size must be at least 1.");
  if (payload.drip && !(payload.drip.interval_seconds >= 0)) return enrollError("The interval cannot be negative.");
  enrollError(null);
  const button = document.getElementById("enroll-confirm");
  button.disabled = true;
  try {
    enrolling.workflowName = select.selectedOptions[0]?.textContent ?? "";
    enrolling.bulk = await post(`/api/workflows/${workflowId}/enroll`, payload);
  } catch (error) {
    const field = Object.entries(error.fields ?? {})[0];
    enrollError(field ? `${field[0].replace("drip.", "")}: ${field[1][0]}` : error.message);
    return;
  } finally {
    button.disabled = false;
  }
  show("enroll-setup", false);
  show("enroll-confirm", false);
  show("enroll-progress-box", true);
  setText("enroll-cancel", "Close");
  showProgress(enrolling.bulk);
  poll();
}

function showProgress(bulk) {
  const bar = document.getElementById("enroll-progress");
  bar.max = Math.max(bulk.total, 1);
  bar.value = bulk.total ? bulk.processed : 1;
  const done = Boolean(bulk.finished_at);
  dialog.dataset.enrollState = done ? "done" : "running";
  const skipped = bulk.skipped ? `, ${bulk.skipped} skipped (already in it, or no longer here)` : "";
  setText("enroll-progress-text", done
    ? `Done: ${bulk.enrolled} of ${bulk.total} added to ${enrolling.workflowName}${skipped}.`
    : `${bulk.processed} of ${bulk.total} processed: ${bulk.enrolled} added${skipped}.`);
}

function poll() {
  clearTimeout(enrolling.timer);
  const bulk = enrolling.bulk;
  if (!bulk || bulk.finished_at) return finishEnroll();
  enrolling.timer = setTimeout(async () => {
    try {
      enrolling.bulk = await get(bulk.status_url);
      showProgress(enrolling.bulk);
    } catch (error) {
      setText("enroll-progress-text", `${error.message} Retrying…`);
    }
    if (dialog.open) poll();
  }, POLL_MS);
}

function finishEnroll() {
  clearSelection();
  render();
}

// Agents have no enroll dialog (the page renders none): a bare listener here would stop the whole page.
dialog?.addEventListener("close", () => {
  clearTimeout(enrolling.timer);
  const bulk = enrolling.bulk;
  if (bulk && !bulk.finished_at) {
    notice(`Adding to ${enrolling.workflowName} goes on in the background.`);
    clearSelection();
    render();
  }
  enrolling.bulk = null;
});

const notice = (text) => showMessage("contacts-notice", text);

// --- add a contact (admins and managers) -----------------------------------------------------

function wireAddContact() {
  const contactForm = new ContactForm({
    assignees: config.assignees ?? [],
    onSaved: (contact) => {
      // The new contact may not match the filters: say where it is rather than lose it.
      const link = h("a", { href: `/contacts/${contact.id}` }, contactName(contact));
      document.getElementById("contacts-notice").replaceChildren("Added ", link, ".");
      show("contacts-notice", true);
      refresh();
    },
  });
  document.getElementById("add-contact").addEventListener("click", () => contactForm.open(null));
}

// A contact page that deleted its contact comes back here with ?deleted=<name>.
function deletedNotice() {
  const params = new URLSearchParams(window.location.search);
  if (params.has("deleted")) notice(`Deleted ${params.get("deleted") || "the contact"}.`);
}

// --- wiring ----------------------------------------------------------------------------------

form.addEventListener("submit", (event) => event.preventDefault());
const onSearch = debounce(() => setFilter("q", form.q.value.trim()), 250);
form.q.addEventListener("input", onSearch);
form.tag.addEventListener("change", () => setFilter("tag", form.tag.value.trim()));
form.assigned_user_id?.addEventListener("change", () => setFilter("assigned_user_id", Number(form.assigned_user_id.value) || null));
document.getElementById("clear-contact-filters").addEventListener("click", () => {
  form.reset();
  state.filters = { page: 1 };
  clearSelection();
  refresh();
});
wirePager(PAGER, state, refresh);

if (canEnroll) {
  document.getElementById("select-page").addEventListener("change", (event) => selectPage(event.target.checked));
  document.getElementById("select-all-matching").addEventListener("click", () => {
    state.selection = { mode: "all", ids: new Set() };
    render();
  });
  document.getElementById("clear-selection").addEventListener("click", () => {
    clearSelection();
    render();
  });
  document.getElementById("add-to-automation").addEventListener("click", openEnroll);
  wireAddContact();
  for (const radio of enrollForm.querySelectorAll('input[name="delivery"]')) {
    radio.addEventListener("change", () => show("drip-fields", enrollForm.delivery.value === "drip"));
  }
  enrollForm.addEventListener("submit", (event) => {
    if (event.submitter?.value !== "confirm") return;
    event.preventDefault();
    submitEnroll();
  });
}

fillForm();
deletedNotice();
refresh();
