// Owns the toolbar: its buttons (undo, redo, save, publish, zoom, history, export, test), the status badge, the workflow name and the leave warning.

import * as M from "./model.js";
import { h } from "../dom.js";
import { TRIGGER_ID } from "./canvas.js";
import { WORKFLOW } from "./errors.js";
import { $ } from "./page.js";
import { FailedRuns } from "./failedruns.js";

export class Toolbar {
  constructor(builder) {
    this.b = builder;
  }

  /** Show what can be done now and whether the canvas differs from what was saved. */
  update() {
    const b = this.b;
    this.failedRuns?.update();
    const { state, readOnly, edits } = b;
    const dirty = b.isDirty();
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
    if (document.activeElement !== name) name.value = b.model().top.name ?? "";
  }

  wire() {
    const b = this.b;
    $("undo").addEventListener("click", () => b.undo());
    $("redo").addEventListener("click", () => b.redo());
    $("save").addEventListener("click", () => b.saving.save());
    $("publish").addEventListener("click", () => b.saving.publish());
    $("zoom-in").addEventListener("click", () => b.viewport.zoomIn());
    $("zoom-out").addEventListener("click", () => b.viewport.zoomOut());
    $("zoom-fit").addEventListener("click", () => b.viewport.fit());
    $("zoom-level").addEventListener("click", () => b.viewport.zoomTo(1));
    $("open-history").addEventListener("click", () => b.versions.open());
    // Export downloads the latest saved version: what the canvas shows once it is saved.
    $("open-history").after(h("a", { class: "button", id: "export-workflow", href: `${b.base}/export`, download: "",
      title: "Download the saved workflow as a file to import into another account" }, "Export"));
    $("open-test").addEventListener("click", () => this.toggleTest());
    this.failedRuns = new FailedRuns(b);
    this.failedRuns.wire();
    $("test-close").addEventListener("click", () => {
      $("test-panel").hidden = true;
      $("open-test").setAttribute("aria-pressed", "false");
    });
    $("workflow-name").addEventListener("input", (event) => {
      b.selection.clearError(WORKFLOW, "name");
      b.commit(M.setWorkflowName(b.model(), event.target.value), { coalesce: "workflow-name", touched: TRIGGER_ID });
    });
    window.addEventListener("beforeunload", (event) => {
      if (!b.readOnly && b.isDirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  toggleTest() {
    const { panel, testRun } = this.b;
    const test = $("test-panel");
    test.hidden = !test.hidden;
    if (!test.hidden) {
      panel.close();
      testRun.loadContacts().catch((error) => testRun.setStatus(error.message));
      $("test-contact").focus();
    }
    $("open-test").setAttribute("aria-pressed", String(!test.hidden));
  }
}
