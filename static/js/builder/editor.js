// Owns one builder page: its state, the undo/redo history, the collaborators, and how an edit is committed and redrawn.

import { get } from "../api.js";
import * as M from "./model.js";
import { Catalog } from "./catalog.js";
import { TRIGGER_ID } from "./canvas.js";
import { WORKFLOW, cardMessages } from "./errors.js";
import { History } from "./history.js";
import { CanvasInput } from "./canvasinput.js";
import { LiveStats } from "./livestats.js";
import { createParts } from "./parts.js";
import { Placement } from "./placement.js";
import { SaveController } from "./saving.js";
import { Selection } from "./selection.js";
import { Shortcuts } from "./shortcuts.js";
import { StepEditor } from "./steps.js";
import { Toolbar } from "./toolbar.js";
import { banner, notice } from "./page.js";

/** A builder for the workflow the page config names; call start() once to load and show it. */
export function createBuilder(config) {
  return new Builder(config);
}

export class Builder {
  constructor(config) {
    this.config = config;
    this.base = `/api/workflows/${config.workflow_id}`;
    this.readOnly = !config.can_edit;
    this.state = {
      workflow: null,
      saved: "", // canonical JSON of the graph last loaded or saved
      errors: new Map(), // card id -> {path inside the card: [messages]}
      selected: null,
      pending: null, // {kind: "move", id} or {kind: "place", type}: waiting for a slot
      stats: {},
      runs: new Map(),
      busy: false,
    };
    // Collaborators, created by start() once the catalog has loaded (see parts.js).
    this.catalog = null;
    this.edits = null; // the undo/redo stack (History)
    this.canvas = null;
    this.viewport = null;
    this.panel = null;
    this.menu = null;
    this.testRun = null;
    this.versions = null;
    // Controllers, one per concern; each reaches the others through this builder.
    this.selection = new Selection(this);
    this.steps = new StepEditor(this);
    this.placement = new Placement(this);
    this.canvasInput = new CanvasInput(this);
    this.shortcuts = new Shortcuts(this);
    this.saving = new SaveController(this);
    this.toolbar = new Toolbar(this);
    this.live = new LiveStats(this);
    this.specOf = (type) => this.catalog.specOf(type);
  }

  model() {
    return this.edits.present;
  }

  isDirty() {
    return M.canonical(M.toGraph(this.model())) !== this.state.saved;
  }

  // --- rendering -----------------------------------------------------------------

  cardErrors() {
    const out = new Map();
    for (const [card, errors] of this.state.errors) if (card !== WORKFLOW) out.set(card, cardMessages(errors));
    return out;
  }

  renderCanvas() {
    const { state, canvas } = this;
    const start = performance.now();
    // The trigger stays where it is on screen while branches widen or narrow the flow.
    this.viewport.keepInPlace(() => canvas.cardFor(TRIGGER_ID), () => {
      canvas.render(this.model(), { selected: state.selected, errors: this.cardErrors(), stats: state.stats, runs: state.runs,
        moving: state.pending?.kind === "move" ? state.pending.id : null });
    });
    if (state.pending) this.placement.markSlots(state.pending);
    performance.measure("builder-render", { start, end: performance.now() }); // read by bench/builder_scale.py
  }

  /** The signature of a step's exits: when it changes, the layout must be redrawn. */
  exitShape(m, id) {
    const step = m.steps.get(id);
    return step ? JSON.stringify(this.catalog.exits(step)) : "";
  }

  /**
   * Make `next` the current model (an undo step unless coalesced with the previous
   * edit of the same field) and redraw what it changes.
   */
  commit(next, { coalesce = null, touched = null } = {}) {
    const before = this.model();
    if (!this.edits.push(next, coalesce)) return;
    const relayout = touched === null || before.steps.size !== next.steps.size
      || (touched !== TRIGGER_ID && this.exitShape(before, touched) !== this.exitShape(next, touched))
      || M.startOf(before) !== M.startOf(next);
    if (relayout) {
      this.renderCanvas();
    } else {
      this.canvas.setModel(next);
      if (touched === TRIGGER_ID) this.canvas.refreshTrigger();
      else this.canvas.refreshCard(touched);
    }
    const lost = before.steps.size - next.steps.size;
    if (lost > 0) notice(`${lost === 1 ? "1 step" : `${lost} steps`} no longer reached from the trigger ${lost === 1 ? "was" : "were"} removed. Undo (Ctrl+Z) brings ${lost === 1 ? "it" : "them"} back.`);
    this.toolbar.update();
  }

  // --- undo and redo ---------------------------------------------------------------

  afterHistoryMove() {
    const { state } = this;
    notice("");
    if (state.selected !== null && state.selected !== TRIGGER_ID && !this.model().steps.has(state.selected)) state.selected = null;
    this.renderCanvas();
    if (state.selected === null) this.panel.close();
    else this.panel.refresh(this.model(), this.selection.panelOptions(state.selected));
    this.toolbar.update();
  }

  undo() {
    if (this.readOnly || !this.edits.undo()) return;
    this.afterHistoryMove();
  }

  redo() {
    if (this.readOnly || !this.edits.redo()) return;
    this.afterHistoryMove();
  }

  // --- loading and start-up --------------------------------------------------------

  load(workflow, { keepHistory = false } = {}) {
    const { state } = this;
    state.workflow = workflow;
    const next = M.fromGraph(workflow.graph ?? { name: workflow.name, start: null, steps: {} });
    state.saved = M.canonical(M.toGraph(next));
    state.errors.clear();
    if (keepHistory) this.edits.push(next);
    else this.edits = new History(next);
    if (state.selected !== null && state.selected !== TRIGGER_ID && !next.steps.has(state.selected)) state.selected = null;
    this.renderCanvas();
    if (state.selected === null) this.panel.close();
    else this.panel.refresh(next, this.selection.panelOptions(state.selected));
    this.toolbar.update();
  }

  /** Create the collaborators and hook up every control, in the order the page has always done it. */
  wire() {
    createParts(this);
    this.canvasInput.wire();
    this.shortcuts.wire();
    this.placement.wire();
    this.toolbar.wire();
  }

  async start() {
    try {
      const [actionTypes, triggerTypes, workflow] = await Promise.all([
        get("/api/workflows/action-types"), get("/api/workflows/trigger-types"), get(this.base),
      ]);
      performance.mark("builder-data-loaded");
      this.catalog = new Catalog(actionTypes, triggerTypes, this.config.users ?? []);
      this.wire();
      this.load(workflow);
      this.viewport.fit();
      document.body.dataset.builderState = "ready";
      performance.mark("builder-rendered");
      requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("builder-painted")));
      this.live.loadStats();
      this.live.watch();
    } catch (error) {
      document.body.dataset.builderState = "failed";
      banner(`The builder could not load: ${error.message}`);
      throw error;
    }
  }
}
