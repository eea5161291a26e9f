// Owns the construction of a builder's collaborators (canvas, viewport, panels, menus, dialogs) and their callbacks.

import { Canvas } from "./canvas.js";
import { AddStepMenu } from "./palette.js";
import { Panel } from "./panel.js";
import { TestRun } from "./testrun.js";
import { VersionHistory } from "./versions.js";
import { Viewport } from "./viewport.js";
import { $, notice } from "./page.js";

/** Create the canvas, viewport, side panel, add-step menu, test run and version history on `builder`. */
export function createParts(builder) {
  const b = builder;
  const { config, catalog, readOnly, state } = b;
  const world = $("canvas-world");
  b.canvas = new Canvas(world, { catalog, readOnly });
  b.viewport = new Viewport($("canvas"), world, {
    onChange: (v) => { $("zoom-level").textContent = `${Math.round(v.scale * 100)}%`; },
  });
  const context = { users: config.users ?? [], mergeFields: config.merge_fields ?? [], customFields: config.custom_fields ?? [],
    workflowId: config.workflow_id }; // the workflow pickers leave this workflow out
  b.panel = new Panel($("side-panel"), { catalog, context, readOnly, workflowId: config.workflow_id,
    on: b.selection.panelHandlers() });
  b.menu = new AddStepMenu($("add-step-menu"), catalog, {
    onChoose: (type, slot) => b.steps.insert(type, slot, { focus: true }),
  });
  b.testRun = new TestRun($("test-panel"), {
    workflowId: config.workflow_id, catalog, users: config.users ?? [],
    ensureSaved: () => b.saving.ensureSaved(),
    nameOf: (id) => b.canvas.nameOf(id),
    onStates: (runs) => {
      state.runs = runs;
      b.canvas.setState({ runs });
      if (state.selected !== null && !$("test-panel").hidden) b.testRun.showRow(b.testRun.rowFor(state.selected));
    },
  });
  b.versions = new VersionHistory($("versions-dialog"), {
    workflowId: config.workflow_id, readOnly,
    confirmDiscard: () => !b.isDirty() || window.confirm("Restoring discards your unsaved changes. Restore anyway?"),
    onRestored: (workflow, number) => {
      b.load(workflow, { keepHistory: true });
      notice(`Version ${number} restored as version ${workflow.version} (a draft).`);
    },
  });
}
