// Contacts > Import: upload a CSV, match its columns to contact fields, choose the options, start, then
// follow the import (live `contact_import.progress` events, polling while the socket is down) until its
// counts and the rejected-rows report are there.

import { ApiError, post, get } from "./api.js";
import { h, pageConfig, setText, show, showMessage } from "./dom.js";
import { connect, isConnected } from "./live.js";

const BASE = "/api/contacts/imports";
const POLL_MS = 1500;
const DONE = new Set(["finished", "failed"]);
const config = pageConfig();
const uploadForm = document.getElementById("upload-form");
const mappingForm = document.getElementById("mapping-form");
const workflowSelect = document.getElementById("import-workflow");
const state = { upload: null, importId: null, last: null, timer: null };

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

// api.js speaks JSON; a file goes as multipart, with the same CSRF header and error shape.
async function uploadFile(file) {
  const body = new FormData();
  body.append("file", file);
  let response;
  try {
    response = await fetch(BASE, { method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } });
  } catch {
    throw new ApiError(0, "network_error", "Could not reach the server; check your connection and try again.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    const message = response.status === 413 ? "The file is too large to import." : error.message;
    throw new ApiError(response.status, error.code ?? "error", message || `The server answered ${response.status}.`,
      error.fields);
  }
  return data;
}

// --- errors -----------------------------------------------------------------------------

function clearErrors() {
  showMessage("import-error", "");
  for (const node of document.querySelectorAll("[data-error-for]")) node.textContent = "";
  for (const node of document.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function showError(error) {
  const fields = error instanceof ApiError ? error.fields : {};
  let placed = false;
  for (const [path, messages] of Object.entries(fields)) {
    const slot = document.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
    if (slot) {
      slot.textContent = messages.join(" ");
      placed = true;
    }
    const column = /^mapping\.(\d+)$/.exec(path);
    if (column) document.getElementById(`map-${column[1]}`)?.setAttribute("aria-invalid", "true");
  }
  if (!placed) showMessage("import-error", error.message);
}

// --- step 1: upload ---------------------------------------------------------------------

uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const file = document.getElementById("import-file").files[0];
  if (!file) {
    setText(document.querySelector('[data-error-for="file"]'), "Choose a CSV file to upload.");
    return;
  }
  const button = document.getElementById("upload-button");
  button.disabled = true;
  try {
    state.upload = await uploadFile(file);
    renderMapping(state.upload);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});

// --- step 2: mapping and options ----------------------------------------------------------

function targetSelect(index, header, chosen, targets) {
  return h("select", { id: `map-${index}`, name: `map-${index}`, "aria-label": `Import column ${header || index + 1} as` },
    ...targets.map((t) => h("option", { value: t.value, selected: t.value === chosen }, t.label)));
}

function renderMapping(upload) {
  const examples = (index) => upload.preview.map((row) => row[index] ?? "").filter(Boolean).slice(0, 3);
  document.getElementById("mapping-body").replaceChildren(...upload.headers.map((header, index) => h("tr", {},
    h("th", { scope: "row" }, header || `Column ${index + 1}`),
    h("td", { class: "import-examples" }, ...examples(index).map((value) => h("span", { class: "import-example" }, value))),
    h("td", {}, targetSelect(index, header, upload.suggested_mapping[index], upload.targets)),
  )));
  setText("mapping-source", upload.remembered
    ? "These are the choices you made the last time you imported a file with these columns."
    : "Suggested from the column names; change any that are wrong. Columns set to Ignore are not imported.");
  show("upload-step", false);
  show(mappingForm, true);
  document.getElementById("map-0")?.focus();
}

workflowSelect.append(...(config.workflows ?? []).map((w) => h("option", { value: w.id }, w.name)));
workflowSelect.addEventListener("change", () => show("import-drip", Boolean(workflowSelect.value)));

function startBody() {
  const mapping = state.upload.headers.map((_, index) => document.getElementById(`map-${index}`).value);
  const body = {
    mapping,
    duplicates: mappingForm.elements.duplicates.value,
    tags: mappingForm.elements.tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    fire_created: document.getElementById("import-fire-created").checked,
    workflow_id: workflowSelect.value ? Number(workflowSelect.value) : null,
  };
  if (body.workflow_id && document.getElementById("import-drip-on").checked) {
    body.batch_size = Number(document.getElementById("import-batch").value);
    body.interval_seconds = Number(document.getElementById("import-interval").value)
      * Number(document.getElementById("import-unit").value);
  }
  return body;
}

mappingForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const button = document.getElementById("start-import");
  button.disabled = true;
  try {
    const started = await post(`${BASE}/${state.upload.id}/start`, startBody());
    show(mappingForm, false);
    follow(started);
  } catch (error) {
    showError(error);
    button.disabled = false;
  }
});

// --- step 3: progress ---------------------------------------------------------------------

function render(status) {
  // Events and polls may arrive out of order: never move backwards.
  if (state.last && !DONE.has(status.status) && status.processed < state.last.processed) return;
  state.last = status;
  const bar = document.getElementById("import-progress");
  bar.max = Math.max(status.total ?? 1, 1);
  bar.value = status.status === "finished" ? bar.max : status.processed;
  const total = status.total ?? "…";
  const text = {
    queued: "Waiting for a worker…",
    running: `${status.processed.toLocaleString()} of ${total.toLocaleString()} rows`,
    finished: `Done: ${status.processed.toLocaleString()} rows read.`,
    failed: "The import stopped.",
  }[status.status] ?? status.status;
  setText("import-status", text);
  for (const name of ["created", "updated", "skipped", "rejected"]) setText(`count-${name}`, status[name].toLocaleString());
  const finished = DONE.has(status.status);
  showMessage("import-failed", status.error ?? "");
  const report = document.getElementById("rejected-download");
  report.href = `${BASE}/${status.id}/rejected.csv`;
  show(report, finished && status.rejected > 0);
  show("done-link", finished);
  document.body.dataset.importStatus = status.status;
}

function follow(started) {
  state.importId = started.id;
  setText("import-filename", started.filename);
  show("progress-step", true);
  render(started);
  connect().on("contact_import.progress", (payload) => {
    if (payload?.id === state.importId) render(payload);
  });
  poll();
}

// The socket carries every chunk's progress; while it is down a poll keeps up, and every few seconds
// anyway, in case an event was missed (the import may have moved before the page subscribed).
let ticks = 0;
async function poll() {
  if (state.last && DONE.has(state.last.status)) return;
  ticks += 1;
  if (!isConnected() || ticks % 4 === 0) {
    try {
      render(await get(`${BASE}/${state.importId}`));
    } catch (error) {
      showMessage("import-error", `${error.message} Retrying…`);
    }
  }
  state.timer = setTimeout(poll, POLL_MS);
}

document.body.dataset.importReady = "true";
