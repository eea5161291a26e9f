// Owns choosing a slot for a step: the pending move/place (keyboard "Move", palette Enter), slot marks, slot clicks and drag-to-canvas.

import { h } from "../dom.js";
import * as M from "./model.js";
import { slotOf } from "./canvas.js";
import { DragController } from "./drag.js";
import { Palette } from "./palette.js";
import { $, hint } from "./page.js";

export class Placement {
  constructor(builder) {
    this.b = builder;
  }

  markSlots(pending) {
    const b = this.b;
    const rule = M.dropRule(b.model(), pending.kind === "move" ? { id: pending.id } : { type: pending.type }, b.specOf);
    for (const element of b.canvas.slots()) element.classList.toggle("slot-invalid", !rule(slotOf(element)));
  }

  clearSlotMarks() {
    for (const element of this.b.canvas.slots()) element.classList.remove("slot-invalid", "is-drop-target");
  }

  /** Wait for a slot: `pending` is {kind: "move", id} or {kind: "place", type}. */
  start(pending) {
    const { state, canvas, catalog, readOnly } = this.b;
    if (readOnly) return;
    state.pending = pending;
    document.body.classList.add("is-choosing-slot");
    canvas.setState({ moving: pending.kind === "move" ? pending.id : null });
    this.markSlots(pending);
    const what = pending.kind === "move" ? canvas.nameOf(pending.id) : catalog.label(pending.type);
    hint(`Choose where ${what} goes: Tab to a + and press Enter. Escape cancels.`);
    canvas.slots().find((element) => !element.classList.contains("slot-invalid"))?.querySelector("button")?.focus();
  }

  /** Stop waiting for a slot; returns what was pending. */
  end() {
    const { state, canvas } = this.b;
    const pending = state.pending;
    state.pending = null;
    document.body.classList.remove("is-choosing-slot");
    canvas.setState({ moving: null });
    this.clearSlotMarks();
    hint("");
    return pending;
  }

  /** A slot's + was pressed: it takes what is pending, or opens the add-step menu. */
  onSlot(slot, button) {
    const b = this.b;
    if (b.readOnly) return;
    if (b.state.pending) {
      if (button.closest(".slot").classList.contains("slot-invalid")) return;
      const pending = this.end();
      if (pending.kind === "move") b.steps.move(pending.id, slot);
      else b.steps.insert(pending.type, slot, { focus: true });
      return;
    }
    const label = slot.from === null ? "the trigger" : b.canvas.nameOf(slot.from);
    b.menu.open(slot, label, button);
  }

  dragGhost(payload) {
    const { catalog, canvas } = this.b;
    if (payload.type) return h("div", { class: "step-card ghost-card" }, h("div", { class: "card-title" }, catalog.label(payload.type)));
    return h("div", { class: "step-card ghost-card" }, h("div", { class: "card-title" }, canvas.nameOf(payload.id)));
  }

  /** The palette and dragging (palette items and cards onto slots), for editors only. */
  wire() {
    const b = this.b;
    if (b.readOnly) {
      $("palette").hidden = true;
      return;
    }
    new Palette($("palette"), b.catalog, { onPick: (type) => this.start({ kind: "place", type }) });
    new DragController(document.body, {
      viewport: b.viewport,
      pick: (element) => {
        if (element.dataset.drag === "palette") return { type: element.dataset.type };
        if (element.dataset.drag === "card") return { id: element.dataset.stepId };
        return null;
      },
      ghost: (payload) => this.dragGhost(payload),
      begin: (payload) => {
        if (b.state.pending) this.end();
        this.markSlots(payload.type ? { kind: "place", type: payload.type } : { kind: "move", id: payload.id });
        b.canvas.setState({ moving: payload.id ?? null });
      },
      drop: (payload, element) => {
        const slot = slotOf(element);
        if (payload.type) b.steps.insert(payload.type, slot);
        else b.steps.move(payload.id, slot);
      },
      end: () => {
        this.clearSlotMarks();
        b.canvas.setState({ moving: null });
      },
    });
  }
}
