// Owns clicks and keys on the canvas itself: cards, their tools, slot buttons and jump chips.

import { TRIGGER_ID, slotOf } from "./canvas.js";
import { $ } from "./page.js";

export class CanvasInput {
  constructor(builder) {
    this.b = builder;
  }

  wire() {
    const world = $("canvas-world");
    world.addEventListener("click", (event) => this.onClick(event));
    world.addEventListener("keydown", (event) => this.onKey(event));
  }

  onClick(event) {
    const b = this.b;
    const tool = event.target.closest("[data-card-action]");
    if (tool) {
      const id = tool.closest(".step-card").dataset.stepId;
      if (tool.dataset.cardAction === "delete") b.steps.remove(id);
      else b.placement.start({ kind: "move", id });
      return;
    }
    const jump = event.target.closest(".jump-chip");
    if (jump) {
      const card = b.canvas.cardFor(jump.dataset.jumpTo);
      card?.focus();
      return;
    }
    const slotButton = event.target.closest(".slot-button");
    if (slotButton) {
      b.placement.onSlot(slotOf(slotButton), slotButton);
      return;
    }
    const card = event.target.closest(".step-card");
    if (card) b.selection.select(card.dataset.stepId);
  }

  focusNeighbour(from, direction) {
    const items = [...$("canvas-world").querySelectorAll(".step-card, .slot-button:not(:disabled), .jump-chip")];
    const index = items.indexOf(from);
    const next = items[index + direction];
    next?.focus();
  }

  onKey(event) {
    const b = this.b;
    const card = event.target.closest(".step-card");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!event.target.matches(".step-card, .slot-button, .jump-chip")) return;
      event.preventDefault();
      this.focusNeighbour(event.target, event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (!card || event.target !== card) return;
    const id = card.dataset.stepId;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      b.selection.select(id, { focusPanel: true });
    } else if ((event.key === "Delete" || event.key === "Backspace") && id !== TRIGGER_ID) {
      event.preventDefault();
      b.steps.remove(id);
    } else if ((event.key === "m" || event.key === "M") && id !== TRIGGER_ID && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      b.placement.start({ kind: "move", id });
    }
  }
}
