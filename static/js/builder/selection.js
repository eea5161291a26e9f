// Owns what is selected: showing it in the side panel (or the test panel), clearing its errors, and the panel's edit callbacks.

import * as M from "./model.js";
import { TRIGGER_ID } from "./canvas.js";
import { $ } from "./page.js";

export class Selection {
  constructor(builder) {
    this.b = builder;
  }

  panelOptions(id) {
    const { state, testRun } = this.b;
    return { errors: state.errors.get(id) ?? {}, run: id === TRIGGER_ID ? null : testRun.rowFor(id) };
  }

  select(id, { focusPanel = false } = {}) {
    const { state, canvas, testRun, panel } = this.b;
    state.selected = id;
    canvas.setState({ selected: id });
    if (!$("test-panel").hidden && id !== TRIGGER_ID) {
      testRun.showRow(testRun.rowFor(id));
      return;
    }
    $("test-panel").hidden = true;
    panel.show(this.b.model(), id, { ...this.panelOptions(id), focus: focusPanel });
  }

  deselect() {
    const { state, canvas, panel } = this.b;
    const was = state.selected;
    state.selected = null;
    panel.close();
    canvas.setState({ selected: null });
    if (was) canvas.cardFor(was)?.focus();
  }

  clearError(card, path) {
    const { state, canvas } = this.b;
    const errors = state.errors.get(card);
    if (!errors || !(path in errors)) return;
    delete errors[path];
    if (!Object.keys(errors).length) state.errors.delete(card);
    canvas.setState({ errors: this.b.cardErrors() });
  }

  /** The side panel's callbacks: each edit goes straight to the model. */
  panelHandlers() {
    const b = this.b;
    const model = () => b.model();
    return {
      config: (id, value, path) => {
        this.clearError(id, `config.${path}`);
        b.commit(M.setConfig(model(), id, value, b.specOf), { coalesce: `config:${id}:${path}`, touched: id });
      },
      name: (id, name) => {
        b.commit(M.setStepName(model(), id, name), { coalesce: `name:${id}`, touched: id });
      },
      trigger: (trigger, path) => {
        this.clearError(TRIGGER_ID, `trigger.${path}`);
        b.commit(M.setTrigger(model(), trigger), { coalesce: path === "type" ? null : `trigger:${path}`, touched: TRIGGER_ID });
        if (path === "type") b.panel.show(model(), TRIGGER_ID, this.panelOptions(TRIGGER_ID));
      },
      settings: (value) => {
        b.commit(M.setSettings(model(), value), { touched: TRIGGER_ID });
      },
      target: (id, key, target) => {
        this.clearError(id, key);
        b.steps.attempt(() => b.commit(M.setExitTarget(model(), id, key, target, b.specOf)));
      },
      move: (id) => b.placement.start({ kind: "move", id }),
      remove: (id) => b.steps.remove(id),
      close: () => this.deselect(),
    };
  }
}
