// Owns saving and publishing: the PUT and publish calls, the server's validation errors, and the publish impact dialog.

import { ApiError, api, post } from "../api.js";
import { h } from "../dom.js";
import * as M from "./model.js";
import { WORKFLOW, errorsByCard } from "./errors.js";
import { $, banner, notice } from "./page.js";

export class SaveController {
  constructor(builder) {
    this.b = builder;
  }

  showServerErrors(fields) {
    const b = this.b;
    const { state } = b;
    state.errors = errorsByCard(fields, b.model());
    b.renderCanvas();
    const general = state.errors.get(WORKFLOW) ?? {};
    const count = Object.values(Object.fromEntries(state.errors)).reduce((n, errors) => n + Object.keys(errors).length, 0);
    banner(`Not saved: ${count} ${count === 1 ? "problem" : "problems"} to fix, shown on the steps.`,
      Object.entries(general).map(([path, messages]) => `${path}: ${messages.join(" ")}`));
    if (state.selected !== null) b.panel.refresh(b.model(), b.selection.panelOptions(state.selected));
    const first = [...state.errors.keys()].find((card) => card !== WORKFLOW);
    if (first) b.viewport.reveal(b.canvas.cardFor(first));
  }

  async save() {
    const b = this.b;
    const { state } = b;
    if (b.readOnly || state.busy) return false;
    const graph = M.toGraph(b.model());
    state.busy = true;
    b.toolbar.update();
    try {
      const workflow = await api("PUT", b.base, graph);
      state.workflow = workflow;
      state.saved = M.canonical(graph);
      state.errors.clear();
      banner("");
      b.renderCanvas();
      if (state.selected !== null) b.panel.refresh(b.model(), b.selection.panelOptions(state.selected));
      notice(`Saved as version ${workflow.version}.`);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) this.showServerErrors(error.fields);
      else banner(error.message);
      return false;
    } finally {
      state.busy = false;
      b.toolbar.update();
    }
  }

  /** Before a test run or a publish: the server must have what the canvas shows. */
  async ensureSaved() {
    return this.b.isDirty() ? this.save() : true;
  }

  async publish() {
    const b = this.b;
    const { state } = b;
    if (b.readOnly || state.busy) return;
    if (!(await this.ensureSaved())) return;
    state.busy = true;
    b.toolbar.update();
    try {
      if (state.workflow.published_version) {
        const impact = await post(`${b.base}/impact`, M.toGraph(b.model()));
        if (impact.removed.length && !(await this.confirmImpact(impact.removed))) return;
      }
      state.workflow = await post(`${b.base}/publish`, { version: state.workflow.version });
      banner("");
      notice(`Published: version ${state.workflow.published_version} is live.`);
    } catch (error) {
      banner(error.message);
    } finally {
      state.busy = false;
      b.toolbar.update();
    }
  }

  confirmImpact(removed) {
    const dialog = $("impact-dialog");
    $("impact-list").replaceChildren(...removed.map((step) => h("li", { "data-step-id": step.step_id },
      h("strong", {}, step.name || step.step_id), `: ${step.waiting} ${step.waiting === 1 ? "contact" : "contacts"} waiting`)));
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    });
  }
}
