// Automation > Workflows > a workflow: the builder page. Wires the model, the
// canvas, the palette, the side panel, undo/redo, saving and publishing, version
// history, test runs and live step stats together. Each part lives in its own
// module beside this one; this file only decides what happens when.

import { ApiError, api, get, post } from "../api.js";
import { h, pageConfig } from "../dom.js";
import { connect, on as onLive } from "../live.js";
import * as M from "./model.js";
import { Catalog } from "./catalog.js";
import { Canvas, TRIGGER_ID, slotOf } from "./canvas.js";
import { DragController } from "./drag.js";
import { WORKFLOW, cardMessages, errorsByCard } from "./errors.js";
import { History } from "./history.js";
import { AddStepMenu, Palette } from "./palette.js";
import { Panel } from "./panel.js";
import { TestRun } from "./testrun.js";
import { VersionHistory } from "./versions.js";
import { Viewport } from "./viewport.js";

const config = pageConfig();
const base = `/api/workflows/${config.workflow_id}`;
const readOnly = !config.can_edit;
const $ = (id) => document.getElementById(id);

const state = {
  workflow: null,
  saved: "", // canonical JSON of the graph last loaded or saved
  errors: new Map(), // card id -> {path inside the card: [messages]}
  selected: null,
  pending: null, // {kind: "move", id} or {kind: "place", type}: waiting for a slot
  stats: {},
  runs: new Map(),
  busy: false,
};

let catalog;
let edits; // the undo/redo stack (History)
let canvas;
let viewport;
let panel;
let menu;
let testRun;
let versions;

const model = () => edits.present;
const specOf = (type) => catalog.specOf(type);
const isDirty = () => M.canonical(M.toGraph(model())) !== state.saved;

// --- messages ------------------------------------------------------------------

function notice(text) {
  const node = $("builder-notice");
  node.textContent = text;
  node.hidden = !text;
}

function banner(text, items = []) {
  const node = $("builder-error");
  node.replaceChildren(text, items.length ? h("ul", {}, ...items.map((item) => h("li", {}, item))) : "");
  node.hidden = !text;
}

function hint(text) {
  $("canvas-hint").textContent = text;
  $("canvas-hint").hidden = !text;
}

// --- rendering -----------------------------------------------------------------

function cardErrors() {
  const out = new Map();
  for (const [card, errors] of state.errors) if (card !== WORKFLOW) out.set(card, cardMessages(errors));
  return out;
}

function renderCanvas() {
  const start = performance.now();
  // The trigger stays where it is on screen while branches widen or narrow the flow.
  viewport.keepInPlace(() => canvas.cardFor(TRIGGER_ID), () => {
    canvas.render(model(), { selected: state.selected, errors: cardErrors(), stats: state.stats, runs: state.runs,
      moving: state.pending?.kind === "move" ? state.pending.id : null });
  });
  if (state.pending) markSlots(state.pending);
  performance.measure("builder-render", { start, end: performance.now() }); // read by bench/builder_scale.py
}

function updateToolbar() {
  const dirty = isDirty();
  $("undo").disabled = readOnly || !edits.canUndo;
  $("redo").disabled = readOnly || !edits.canRedo;
  $("save").disabled = readOnly || state.busy;
  $("publish").disabled = readOnly || state.busy;
  $("save-state").textContent = dirty ? "Unsaved changes" : state.workflow?.version ? `Saved as v${state.workflow.version}` : "";
  document.body.dataset.dirty = String(dirty);
  const wf = state.workflow;
  const badge = $("status-badge");
  if (wf?.published_version) {
    badge.textContent = wf.has_unpublished_changes || dirty ? `Live: v${wf.published_version} · draft changes` : `Live: v${wf.published_version}`;
    badge.className = "status-badge status-published";
  } else {
    badge.textContent = "Draft";
    badge.className = "status-badge status-draft";
  }
  const name = $("workflow-name");
  if (document.activeElement !== name) name.value = model().top.name ?? "";
}

/** The signature of a step's exits: when it changes, the layout must be redrawn. */
const exitShape = (m, id) => {
  const step = m.steps.get(id);
  return step ? JSON.stringify(catalog.exits(step)) : "";
};

/**
 * Make `next` the current model (an undo step unless coalesced with the previous
 * edit of the same field) and redraw what it changes.
 */
function commit(next, { coalesce = null, touched = null } = {}) {
  const before = model();
  if (!edits.push(next, coalesce)) return;
  const relayout = touched === null || before.steps.size !== next.steps.size
    || (touched !== TRIGGER_ID && exitShape(before, touched) !== exitShape(next, touched))
    || M.startOf(before) !== M.startOf(next);
  if (relayout) {
    renderCanvas();
  } else {
    canvas.setModel(next);
    if (touched === TRIGGER_ID) canvas.refreshTrigger();
    else canvas.refreshCard(touched);
  }
  const lost = before.steps.size - next.steps.size;
  if (lost > 0) notice(`${lost === 1 ? "1 step" : `${lost} steps`} no longer reached from the trigger ${lost === 1 ? "was" : "were"} removed. Undo (Ctrl+Z) brings ${lost === 1 ? "it" : "them"} back.`);
  updateToolbar();
}

function afterHistoryMove() {
  notice("");
  if (state.selected !== null && state.selected !== TRIGGER_ID && !model().steps.has(state.selected)) state.selected = null;
  renderCanvas();
  if (state.selected === null) panel.close();
  else panel.refresh(model(), panelOptions(state.selected));
  updateToolbar();
}

function undo() {
  if (readOnly || !edits.undo()) return;
  afterHistoryMove();
}

function redo() {
  if (readOnly || !edits.redo()) return;
  afterHistoryMove();
}

// --- selection and the side panel ------------------------------------------------

function panelOptions(id) {
  return { errors: state.errors.get(id) ?? {}, run: id === TRIGGER_ID ? null : testRun.rowFor(id) };
}

function select(id, { focusPanel = false } = {}) {
  state.selected = id;
  canvas.setState({ selected: id });
  if (!$("test-panel").hidden && id !== TRIGGER_ID) {
    testRun.showRow(testRun.rowFor(id));
    return;
  }
  $("test-panel").hidden = true;
  panel.show(model(), id, { ...panelOptions(id), focus: focusPanel });
}

function deselect() {
  const was = state.selected;
  state.selected = null;
  panel.close();
  canvas.setState({ selected: null });
  if (was) canvas.cardFor(was)?.focus();
}

function clearError(card, path) {
  const errors = state.errors.get(card);
  if (!errors || !(path in errors)) return;
  delete errors[path];
  if (!Object.keys(errors).length) state.errors.delete(card);
  canvas.setState({ errors: cardErrors() });
}

const panelHandlers = {
  config(id, value, path) {
    clearError(id, `config.${path}`);
    commit(M.setConfig(model(), id, value, specOf), { coalesce: `config:${id}:${path}`, touched: id });
  },
  name(id, name) {
    commit(M.setStepName(model(), id, name), { coalesce: `name:${id}`, touched: id });
  },
  trigger(trigger, path) {
    clearError(TRIGGER_ID, `trigger.${path}`);
    commit(M.setTrigger(model(), trigger), { coalesce: path === "type" ? null : `trigger:${path}`, touched: TRIGGER_ID });
    if (path === "type") panel.show(model(), TRIGGER_ID, panelOptions(TRIGGER_ID));
  },
  settings(value) {
    commit(M.setSettings(model(), value), { touched: TRIGGER_ID });
  },
  target(id, key, target) {
    clearError(id, key);
    attempt(() => commit(M.setExitTarget(model(), id, key, target, specOf)));
  },
  move: (id) => startPending({ kind: "move", id }),
  remove: (id) => removeStep(id),
  close: () => deselect(),
};

// --- edits -----------------------------------------------------------------------

function attempt(edit) {
  try {
    edit();
    return true;
  } catch (error) {
    if (!(error instanceof M.ModelError)) throw error;
    notice(error.message);
    return false;
  }
}

function insert(type, slot, { focus = false } = {}) {
  attempt(() => {
    const { model: next, id } = M.insertStep(model(), slot, catalog.newStep(type), specOf);
    commit(next);
    notice(`Added ${catalog.label(type)}.`);
    select(id);
    if (focus) canvas.cardFor(id)?.focus();
  });
}

function move(id, slot) {
  attempt(() => {
    const next = M.moveStep(model(), id, slot, specOf);
    if (next === model()) return;
    commit(next);
    notice(`Moved ${canvas.nameOf(id)}.`);
    canvas.cardFor(id)?.focus();
  });
}

/** The slot that leads to a step (to put focus back after the step is gone). */
function slotLeadingTo(id) {
  if (M.startOf(model()) === id) return M.START_SLOT;
  for (const [from, step] of model().steps) {
    const exit = catalog.exits(step).find((candidate) => candidate.target === id && !candidate.jump);
    if (exit) return { from, exit: exit.key };
  }
  return null;
}

async function removeStep(id) {
  if (readOnly || !model().steps.has(id)) return;
  const step = model().steps.get(id);
  const waiting = state.stats?.[id]?.waiting ?? 0;
  let keep = null;
  if (catalog.branching(step.type) || waiting > 0) {
    const choice = await askDelete(id, step, waiting);
    if (choice === null) return;
    keep = choice || null;
  }
  const slot = slotLeadingTo(id);
  if (state.selected === id) deselect();
  state.errors.delete(id);
  const before = model().steps.size;
  commit(M.deleteStep(model(), id, specOf, keep));
  const others = before - model().steps.size - 1;
  notice(`Deleted ${step.name || catalog.label(step.type)}${others ? ` and ${others} ${others === 1 ? "step" : "steps"} in its branches` : ""}. Undo (Ctrl+Z) brings it back.`);
  const stillThere = slot && (slot.from === null || model().steps.has(slot.from));
  const target = stillThere ? canvas.slotElement(slot) : null;
  (target?.querySelector("button") ?? canvas.cardFor(TRIGGER_ID))?.focus();
}

/** Confirm deleting a branching step (and which branch takes its place), or one with contacts waiting. */
function askDelete(id, step, waiting) {
  const dialog = $("delete-dialog");
  const name = step.name || catalog.label(step.type);
  $("delete-title").textContent = `Delete ${name}?`;
  $("delete-waiting").hidden = waiting === 0;
  $("delete-waiting").textContent = `${waiting} ${waiting === 1 ? "contact is" : "contacts are"} waiting at this step in the live version. Publishing without it leaves them to finish on the version they started on.`;
  const choices = $("delete-choices");
  const exits = catalog.branching(step.type) ? catalog.exits(step).filter((exit) => !exit.jump) : [];
  choices.hidden = exits.length === 0;
  choices.replaceChildren(h("legend", {}, "Its branches"),
    h("label", { class: "check" }, h("input", { type: "radio", name: "keep", value: "", checked: true }), "Delete every branch"),
    ...exits.filter((exit) => exit.target !== null).map((exit) => h("label", { class: "check" },
      h("input", { type: "radio", name: "keep", value: exit.key }), `Keep the “${exit.label}” branch in its place`)));
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "confirm") return resolve(null);
      resolve(new FormData(dialog.querySelector("form")).get("keep") ?? "");
    }, { once: true });
  });
}

// --- choosing a slot: drag, keyboard "Move", palette Enter ---------------------------

function markSlots(pending) {
  const rule = M.dropRule(model(), pending.kind === "move" ? { id: pending.id } : { type: pending.type }, specOf);
  for (const element of canvas.slots()) element.classList.toggle("slot-invalid", !rule(slotOf(element)));
}

function clearSlotMarks() {
  for (const element of canvas.slots()) element.classList.remove("slot-invalid", "is-drop-target");
}

function startPending(pending) {
  if (readOnly) return;
  state.pending = pending;
  document.body.classList.add("is-choosing-slot");
  canvas.setState({ moving: pending.kind === "move" ? pending.id : null });
  markSlots(pending);
  const what = pending.kind === "move" ? canvas.nameOf(pending.id) : catalog.label(pending.type);
  hint(`Choose where ${what} goes: Tab to a + and press Enter. Escape cancels.`);
  canvas.slots().find((element) => !element.classList.contains("slot-invalid"))?.querySelector("button")?.focus();
}

function endPending() {
  const pending = state.pending;
  state.pending = null;
  document.body.classList.remove("is-choosing-slot");
  canvas.setState({ moving: null });
  clearSlotMarks();
  hint("");
  return pending;
}

function onSlot(slot, button) {
  if (readOnly) return;
  if (state.pending) {
    if (button.closest(".slot").classList.contains("slot-invalid")) return;
    const pending = endPending();
    if (pending.kind === "move") move(pending.id, slot);
    else insert(pending.type, slot, { focus: true });
    return;
  }
  const label = slot.from === null ? "the trigger" : canvas.nameOf(slot.from);
  menu.open(slot, label, button);
}

function dragGhost(payload) {
  if (payload.type) return h("div", { class: "step-card ghost-card" }, h("div", { class: "card-title" }, catalog.label(payload.type)));
  return h("div", { class: "step-card ghost-card" }, h("div", { class: "card-title" }, canvas.nameOf(payload.id)));
}

// --- keyboard --------------------------------------------------------------------

const typing = (target) => target.closest?.("input, textarea, select, [contenteditable]");

function focusNeighbour(from, direction) {
  const items = [...$("canvas-world").querySelectorAll(".step-card, .slot-button:not(:disabled), .jump-chip")];
  const index = items.indexOf(from);
  const next = items[index + direction];
  next?.focus();
}

function onCanvasKey(event) {
  const card = event.target.closest(".step-card");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (!event.target.matches(".step-card, .slot-button, .jump-chip")) return;
    event.preventDefault();
    focusNeighbour(event.target, event.key === "ArrowDown" ? 1 : -1);
    return;
  }
  if (!card || event.target !== card) return;
  const id = card.dataset.stepId;
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    select(id, { focusPanel: true });
  } else if ((event.key === "Delete" || event.key === "Backspace") && id !== TRIGGER_ID) {
    event.preventDefault();
    removeStep(id);
  } else if ((event.key === "m" || event.key === "M") && id !== TRIGGER_ID && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    startPending({ kind: "move", id });
  }
}

function onGlobalKey(event) {
  const mod = event.ctrlKey || event.metaKey;
  if (event.key === "Escape" && state.pending) {
    event.preventDefault();
    const pending = endPending();
    if (pending.kind === "move") canvas.cardFor(pending.id)?.focus();
    return;
  }
  if (event.key === "Escape" && panel.isOpen && $("side-panel").contains(event.target) && !document.querySelector("dialog[open]")) {
    event.preventDefault();
    deselect();
    return;
  }
  if (mod && event.key.toLowerCase() === "s") {
    event.preventDefault();
    save();
    return;
  }
  if (typing(event.target) || document.querySelector("dialog[open]")) return;
  if (mod && event.key.toLowerCase() === "z") {
    event.preventDefault();
    if (event.shiftKey) redo();
    else undo();
  } else if (mod && event.key.toLowerCase() === "y") {
    event.preventDefault();
    redo();
  }
}

// --- saving and publishing ---------------------------------------------------------

function showServerErrors(fields) {
  state.errors = errorsByCard(fields, model());
  renderCanvas();
  const general = state.errors.get(WORKFLOW) ?? {};
  const count = Object.values(Object.fromEntries(state.errors)).reduce((n, errors) => n + Object.keys(errors).length, 0);
  banner(`Not saved: ${count} ${count === 1 ? "problem" : "problems"} to fix, shown on the steps.`,
    Object.entries(general).map(([path, messages]) => `${path}: ${messages.join(" ")}`));
  if (state.selected !== null) panel.refresh(model(), panelOptions(state.selected));
  const first = [...state.errors.keys()].find((card) => card !== WORKFLOW);
  if (first) viewport.reveal(canvas.cardFor(first));
}

async function save() {
  if (readOnly || state.busy) return false;
  const graph = M.toGraph(model());
  state.busy = true;
  updateToolbar();
  try {
    const workflow = await api("PUT", base, graph);
    state.workflow = workflow;
    state.saved = M.canonical(graph);
    state.errors.clear();
    banner("");
    renderCanvas();
    if (state.selected !== null) panel.refresh(model(), panelOptions(state.selected));
    notice(`Saved as version ${workflow.version}.`);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) showServerErrors(error.fields);
    else banner(error.message);
    return false;
  } finally {
    state.busy = false;
    updateToolbar();
  }
}

/** Before a test run or a publish: the server must have what the canvas shows. */
async function ensureSaved() {
  return isDirty() ? save() : true;
}

async function publish() {
  if (readOnly || state.busy) return;
  if (!(await ensureSaved())) return;
  state.busy = true;
  updateToolbar();
  try {
    if (state.workflow.published_version) {
      const impact = await post(`${base}/impact`, M.toGraph(model()));
      if (impact.removed.length && !(await confirmImpact(impact.removed))) return;
    }
    state.workflow = await post(`${base}/publish`, { version: state.workflow.version });
    banner("");
    notice(`Published: version ${state.workflow.published_version} is live.`);
  } catch (error) {
    banner(error.message);
  } finally {
    state.busy = false;
    updateToolbar();
  }
}

function confirmImpact(removed) {
  const dialog = $("impact-dialog");
  $("impact-list").replaceChildren(...removed.map((step) => h("li", { "data-step-id": step.step_id },
    h("strong", {}, step.name || step.step_id), `: ${step.waiting} ${step.waiting === 1 ? "contact" : "contacts"} waiting`)));
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

// --- loading, stats, live -----------------------------------------------------------

function load(workflow, { keepHistory = false } = {}) {
  state.workflow = workflow;
  const next = M.fromGraph(workflow.graph ?? { name: workflow.name, start: null, steps: {} });
  state.saved = M.canonical(M.toGraph(next));
  state.errors.clear();
  if (keepHistory) edits.push(next);
  else edits = new History(next);
  if (state.selected !== null && state.selected !== TRIGGER_ID && !next.steps.has(state.selected)) state.selected = null;
  renderCanvas();
  if (state.selected === null) panel.close();
  else panel.refresh(next, panelOptions(state.selected));
  updateToolbar();
}

async function loadStats() {
  try {
    const data = await get(`${base}/stats`);
    setStats(data);
  } catch (error) {
    console.warn("builder: step stats unavailable", error);
  }
}

function setStats(data) {
  if (data?.workflow_id !== undefined && data.workflow_id !== config.workflow_id) return;
  state.stats = data?.steps ?? {};
  canvas.setState({ stats: state.stats });
}

function watch() {
  const socket = connect();
  const join = () => {
    socket.emit("workflow.watch", { workflow_id: config.workflow_id }, (answer) => {
      document.body.dataset.watching = String(Boolean(answer?.ok));
      if (!answer?.ok) console.warn("builder: not watching this workflow live", answer);
    });
    loadStats();
    testRun.catchUp().catch(() => {});
  };
  onLive("connect", join);
  socket.on("workflow.execution", (row) => {
    if (row?.workflow_id !== undefined && row.workflow_id !== config.workflow_id) return;
    testRun.accept(row);
  });
  socket.on("workflow.stats", setStats);
}

// --- start-up --------------------------------------------------------------------------

function wire() {
  const world = $("canvas-world");
  canvas = new Canvas(world, { catalog, readOnly });
  viewport = new Viewport($("canvas"), world, {
    onChange: (v) => { $("zoom-level").textContent = `${Math.round(v.scale * 100)}%`; },
  });
  const context = { users: config.users ?? [], mergeFields: config.merge_fields ?? [], customFields: config.custom_fields ?? [] };
  panel = new Panel($("side-panel"), { catalog, context, readOnly, on: panelHandlers });
  menu = new AddStepMenu($("add-step-menu"), catalog, { onChoose: (type, slot) => insert(type, slot, { focus: true }) });
  testRun = new TestRun($("test-panel"), {
    workflowId: config.workflow_id, catalog, ensureSaved,
    nameOf: (id) => canvas.nameOf(id),
    onStates: (runs) => {
      state.runs = runs;
      canvas.setState({ runs });
      if (state.selected !== null && !$("test-panel").hidden) testRun.showRow(testRun.rowFor(state.selected));
    },
  });
  versions = new VersionHistory($("versions-dialog"), {
    workflowId: config.workflow_id, readOnly,
    confirmDiscard: () => !isDirty() || window.confirm("Restoring discards your unsaved changes. Restore anyway?"),
    onRestored: (workflow, number) => {
      load(workflow, { keepHistory: true });
      notice(`Version ${number} restored as version ${workflow.version} (a draft).`);
    },
  });

  world.addEventListener("click", (event) => {
    const tool = event.target.closest("[data-card-action]");
    if (tool) {
      const id = tool.closest(".step-card").dataset.stepId;
      if (tool.dataset.cardAction === "delete") removeStep(id);
      else startPending({ kind: "move", id });
      return;
    }
    const jump = event.target.closest(".jump-chip");
    if (jump) {
      const card = canvas.cardFor(jump.dataset.jumpTo);
      card?.focus();
      return;
    }
    const slotButton = event.target.closest(".slot-button");
    if (slotButton) {
      onSlot(slotOf(slotButton), slotButton);
      return;
    }
    const card = event.target.closest(".step-card");
    if (card) select(card.dataset.stepId);
  });
  world.addEventListener("keydown", onCanvasKey);
  document.addEventListener("keydown", onGlobalKey);

  if (!readOnly) {
    new Palette($("palette"), catalog, { onPick: (type) => startPending({ kind: "place", type }) });
    new DragController(document.body, {
      viewport,
      pick: (element) => {
        if (element.dataset.drag === "palette") return { type: element.dataset.type };
        if (element.dataset.drag === "card") return { id: element.dataset.stepId };
        return null;
      },
      ghost: dragGhost,
      begin: (payload) => {
        if (state.pending) endPending();
        markSlots(payload.type ? { kind: "place", type: payload.type } : { kind: "move", id: payload.id });
        canvas.setState({ moving: payload.id ?? null });
      },
      drop: (payload, element) => {
        const slot = slotOf(element);
        if (payload.type) insert(payload.type, slot);
        else move(payload.id, slot);
      },
      end: () => {
        clearSlotMarks();
        canvas.setState({ moving: null });
      },
    });
  } else {
    $("palette").hidden = true;
  }

  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("save").addEventListener("click", save);
  $("publish").addEventListener("click", publish);
  $("zoom-in").addEventListener("click", () => viewport.zoomIn());
  $("zoom-out").addEventListener("click", () => viewport.zoomOut());
  $("zoom-fit").addEventListener("click", () => viewport.fit());
  $("zoom-level").addEventListener("click", () => viewport.zoomTo(1));
  $("open-history").addEventListener("click", () => versions.open());
  $("open-test").addEventListener("click", () => {
    const test = $("test-panel");
    test.hidden = !test.hidden;
    if (!test.hidden) {
      panel.close();
      testRun.loadContacts().catch((error) => testRun.setStatus(error.message));
      $("test-contact").focus();
    }
    $("open-test").setAttribute("aria-pressed", String(!test.hidden));
  });
  $("test-close").addEventListener("click", () => {
    $("test-panel").hidden = true;
    $("open-test").setAttribute("aria-pressed", "false");
  });
  $("workflow-name").addEventListener("input", (event) => {
    clearError(WORKFLOW, "name");
    commit(M.setWorkflowName(model(), event.target.value), { coalesce: "workflow-name", touched: TRIGGER_ID });
  });
  window.addEventListener("beforeunload", (event) => {
    if (!readOnly && isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}

async function boot() {
  try {
    const [actionTypes, triggerTypes, workflow] = await Promise.all([
      get("/api/workflows/action-types"), get("/api/workflows/trigger-types"), get(base),
    ]);
    performance.mark("builder-data-loaded");
    catalog = new Catalog(actionTypes, triggerTypes, config.users ?? []);
    wire();
    load(workflow);
    viewport.fit();
    document.body.dataset.builderState = "ready";
    performance.mark("builder-rendered");
    requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("builder-painted")));
    loadStats();
    watch();
  } catch (error) {
    document.body.dataset.builderState = "failed";
    banner(`The builder could not load: ${error.message}`);
    throw error;
  }
}

boot();
