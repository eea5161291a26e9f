// Automation > Workflows: the list, with create (a name and Blank or a template, then the builder),
// import and export, duplicate, save as template (admins) and delete.
// Agents see the list read-only; the server checks every write anyway.

import { api, get, post } from "./api.js";
import { ICONS, cell, formatTime, h, icon, pageConfig, setText, show, showMessage } from "./dom.js";
import { Gallery } from "./workflow_gallery.js";

const config = pageConfig();
const canEdit = Boolean(config.can_edit);
const isAdmin = config.me?.role === "admin";
const triggerLabels = config.trigger_labels ?? {};
const body = document.getElementById("workflows-body");
const state = { rows: [] };

const editUrl = (id) => `/workflows/${id}/edit`;
const COPY_ICON = "M8 3h11a2 2 0 0 1 2 2v11h-2V5H8zM4 7h11a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V9a2 2 0 0 1 2-2zm0 2v11h11V9z";
const EXPORT_ICON = "M11 3h2v9.2l3.3-3.3 1.4 1.4L12 16l-5.7-5.7 1.4-1.4 3.3 3.3zM4 18h16v2H4z";
const TEMPLATE_ICON = "M4 3h16v6H4zm2 2v2h12V5zM4 11h7v10H4zm2 2v6h3v-6zm7-2h7v10h-7zm2 2v6h3v-6z";

// --- the list ---------------------------------------------------------------------

function statusCell(wf) {
  const badges = [h("span", { class: `status-badge wf-status-${wf.status}` },
    wf.status === "published" ? `Published v${wf.published_version}` : "Draft")];
  if (wf.status === "published" && wf.has_unpublished_changes) {
    badges.push(h("span", { class: "status-badge wf-status-changes" }, "Unpublished changes"));
  }
  return badges;
}

function triggerText(trigger) {
  const label = triggerLabels[trigger?.type] ?? trigger?.type ?? "";
  const tag = trigger?.config?.tag;
  return tag ? `${label}: ${tag}` : label;
}

function rowFor(wf) {
  const name = canEdit
    ? h("a", { href: editUrl(wf.id), class: "workflow-link" }, wf.name)
    : h("span", { class: "workflow-link" }, wf.name);
  const edited = [h("time", { datetime: wf.updated_at }, formatTime(wf.updated_at))];
  if (wf.updated_by) edited.push(h("span", { class: "hint" }, ` by ${wf.updated_by.name}`));
  const cells = [
    cell("Name", name),
    cell("Status", ...statusCell(wf)),
    cell("Trigger", triggerText(wf.trigger)),
    h("td", { class: "num", "data-label": "Active" }, String(wf.counts.active)),
    h("td", { class: "num", "data-label": "Waiting" }, String(wf.counts.waiting)),
    h("td", { class: "num", "data-label": "Completed" }, String(wf.counts.completed)),
    // Failed runs link to the builder, where the run log offers "Retry all failed".
    h("td", { class: `num${wf.counts.failed ? " has-failed" : ""}`, "data-label": "Failed" },
      wf.counts.failed && canEdit
        ? h("a", { href: `${editUrl(wf.id)}#failed`, class: "failed-count", title: "Open to retry failed runs" },
          String(wf.counts.failed))
        : String(wf.counts.failed ?? 0)),
    cell("Last edited", ...edited),
  ];
  if (canEdit) {
    cells.push(h("td", { class: "row-actions" },
      // A button, not a link: the row's one link is the workflow. The file comes as an attachment, so the page stays.
      h("button", { type: "button", class: "icon-button export-button", "aria-label": `Export ${wf.name}`,
        title: "Export as a file", onclick: () => window.location.assign(`/api/workflows/${wf.id}/export`) },
      icon(EXPORT_ICON)),
      isAdmin ? h("button", { type: "button", class: "icon-button template-button",
        "aria-label": `Save ${wf.name} as a template`, title: "Save as template",
        onclick: () => openSaveTemplate(wf) }, icon(TEMPLATE_ICON)) : null,
      h("button", { type: "button", class: "icon-button copy-button", "aria-label": `Duplicate ${wf.name}`,
        title: "Duplicate", onclick: () => duplicate(wf) }, icon(COPY_ICON)),
      h("button", { type: "button", class: "icon-button delete-button", "aria-label": `Delete ${wf.name}`,
        title: "Delete", onclick: () => confirmDelete(wf) }, icon(ICONS.trash))));
  }
  return h("tr", { dataset: { workflowId: wf.id } }, ...cells);
}

function render() {
  body.replaceChildren(...state.rows.map(rowFor));
  show("list-loading", false);
  show("workflows-table", state.rows.length > 0);
  show("empty-state", state.rows.length === 0);
}

const showError = (message) => showMessage("list-error", message);
const notify = (message) => showMessage("list-notice", message);

async function refresh() {
  try {
    state.rows = await get("/api/workflows");
    showError(null);
    render();
  } catch (error) {
    showError(error.message);
  }
  document.body.dataset.listLoaded = "true";
}

// --- create: a name and Blank or a template, then the builder ------------------------------

const createDialog = document.getElementById("create-dialog");
const nameInput = document.getElementById("create-name");
let suggestedName = ""; // the chosen template's name, while the name field still shows it

const gallery = canEdit ? new Gallery(document.getElementById("template-cards"), {
  canDelete: isAdmin,
  onChange(template) {
    // Choosing a template names the workflow after it, unless a name of one's own was typed.
    if (!nameInput.value.trim() || nameInput.value === suggestedName) {
      suggestedName = template?.name ?? "";
      nameInput.value = suggestedName;
    }
  },
  onError: (message) => showMessage("create-error", message),
}) : null;

function openCreate() {
  createDialog.querySelector("form").reset();
  suggestedName = "";
  gallery.reset();
  gallery.load();
  show("create-error", false);
  createDialog.showModal();
  nameInput.focus();
}

async function create(event) {
  if (event.submitter?.value !== "confirm") return;
  event.preventDefault();
  const name = nameInput.value.trim();
  const template = gallery.selected();
  if (!name) {
    setText("create-error", "Give the workflow a name.");
    show("create-error", true);
    return;
  }
  const button = document.getElementById("create-confirm");
  button.disabled = true;
  try {
    const wf = template
      ? await post("/api/workflows/from-template", { template: template.id, name })
      : await post("/api/workflows", { name, start: null, steps: {} });
    window.location.assign(editUrl(wf.id));
  } catch (error) {
    setText("create-error", error.fields?.name?.[0] ?? error.message);
    show("create-error", true);
    button.disabled = false;
  }
}

// --- duplicate ---------------------------------------------------------------------

async function duplicate(wf) {
  try {
    const copy = await post(`/api/workflows/${wf.id}/duplicate`);
    notify(`Created “${copy.name}” as a draft.`);
    await refresh();
  } catch (error) {
    showError(error.message);
  }
}

// --- import: a file exported from flowdesk, then what had to change --------------------------

const importDialog = document.getElementById("import-dialog");
const importFile = document.getElementById("import-file");
let imported = null;

async function importChosenFile() {
  const file = importFile.files[0];
  importFile.value = ""; // choosing the same file again imports it again
  if (!file) return;
  let exported;
  try {
    exported = JSON.parse(await file.text());
  } catch {
    showError(`${file.name} is not a workflow file (it is not JSON).`);
    return;
  }
  try {
    imported = await post("/api/workflows/import", exported);
  } catch (error) {
    showError(`${file.name} could not be imported: ${error.message}`);
    return;
  }
  showError(null);
  setText("import-what", imported.name);
  document.getElementById("import-remapped").replaceChildren(
    ...imported.remapped.map((r) => h("li", {}, r.step ? h("strong", {}, `${r.step}: `) : "", r.message)));
  show("import-clean", imported.remapped.length === 0);
  show("import-changes", imported.remapped.length > 0);
  importDialog.showModal();
  refresh();
}

function afterImport(event) {
  if (event.submitter?.value !== "confirm" || !imported) return;
  event.preventDefault();
  window.location.assign(editUrl(imported.id));
}

// --- save as template (admins) -------------------------------------------------------------

const templateDialog = document.getElementById("template-dialog");
let templateSource = null;

function openSaveTemplate(wf) {
  templateSource = wf;
  templateDialog.querySelector("form").reset();
  document.getElementById("template-name").value = wf.name;
  show("template-error", false);
  templateDialog.showModal();
}

async function saveTemplate(event) {
  if (event.submitter?.value !== "confirm" || !templateSource) return;
  event.preventDefault();
  const name = document.getElementById("template-name").value.trim();
  const description = document.getElementById("template-description").value.trim();
  if (!name) {
    showMessage("template-error", "Give the template a name.");
    return;
  }
  const button = document.getElementById("template-confirm");
  button.disabled = true;
  try {
    const saved = await post(`/api/workflows/${templateSource.id}/save-as-template`, { name, description });
    templateDialog.close("saved");
    gallery.reset(true);
    notify(`Saved “${saved.name}” as a template: it is offered under Create Workflow.`);
  } catch (error) {
    showMessage("template-error", error.fields?.name?.[0] ?? error.fields?.description?.[0] ?? error.message);
  } finally {
    button.disabled = false;
  }
}

// --- delete --------------------------------------------------------------------------

const deleteDialog = document.getElementById("delete-dialog");
let pendingDelete = null;

function askAboutContacts(active) {
  const choice = document.getElementById("delete-active");
  setText("delete-active-count", active === 1
    ? "1 contact is still in this workflow. What should happen to them?"
    : `${active} contacts are still in this workflow. What should happen to them?`);
  show(choice, active > 0);
}

function confirmDelete(wf) {
  pendingDelete = { ...wf, active: wf.counts.active };
  deleteDialog.querySelector("form").reset();
  setText("delete-what", wf.name);
  askAboutContacts(pendingDelete.active);
  show("delete-error", false);
  deleteDialog.showModal();
}

async function submitDelete(event) {
  if (event.submitter?.value !== "confirm" || !pendingDelete) return;
  event.preventDefault();
  const wf = pendingDelete;
  const active = deleteDialog.querySelector("input[name=active]:checked")?.value;
  const query = wf.active > 0 ? `?active=${encodeURIComponent(active)}` : "";
  const button = document.getElementById("delete-confirm");
  button.disabled = true;
  try {
    const result = await api("DELETE", `/api/workflows/${wf.id}${query}`);
    deleteDialog.close("deleted");
    notify(result?.status === "finishing"
      ? `“${wf.name}” is deleted; it stays running until its ${result.active} remaining contact(s) finish.`
      : `“${wf.name}” is deleted.`);
    state.rows = state.rows.filter((row) => row.id !== wf.id);
    render();
  } catch (error) {
    if (error.status === 409) {
      // Contacts entered since the list loaded: ask what to do with them.
      const fresh = await get(`/api/workflows/${wf.id}`).catch(() => null);
      pendingDelete = { ...wf, active: Math.max(fresh?.counts.active ?? 1, 1) };
      askAboutContacts(pendingDelete.active);
    } else if (error.status === 404) {
      deleteDialog.close("gone");
      refresh();
    } else {
      setText("delete-error", error.message);
      show("delete-error", true);
    }
  } finally {
    button.disabled = false;
  }
}

// --- wiring -----------------------------------------------------------------------------

if (canEdit) {
  document.getElementById("create-workflow").addEventListener("click", openCreate);
  createDialog.querySelector("form").addEventListener("submit", create);
  document.getElementById("import-workflow").addEventListener("click", () => importFile.click());
  importFile.addEventListener("change", importChosenFile);
  importDialog.querySelector("form").addEventListener("submit", afterImport);
  templateDialog?.querySelector("form").addEventListener("submit", saveTemplate);
  deleteDialog.querySelector("form").addEventListener("submit", submitDelete);
}
refresh();
