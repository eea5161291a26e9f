// Owns the page-wide keyboard shortcuts: Escape (cancel a move, close the panel), Ctrl+S, and undo/redo.

import { $ } from "./page.js";

const typing = (target) => target.closest?.("input, textarea, select, [contenteditable]");

export class Shortcuts {
  constructor(builder) {
    this.b = builder;
  }

  wire() {
    document.addEventListener("keydown", (event) => this.onKey(event));
  }

  onKey(event) {
    const b = this.b;
    const mod = event.ctrlKey || event.metaKey;
    if (event.key === "Escape" && b.state.pending) {
      event.preventDefault();
      const pending = b.placement.end();
      if (pending.kind === "move") b.canvas.cardFor(pending.id)?.focus();
      return;
    }
    if (event.key === "Escape" && b.panel.isOpen && $("side-panel").contains(event.target) && !document.querySelector("dialog[open]")) {
      event.preventDefault();
      b.selection.deselect();
      return;
    }
    if (mod && event.key.toLowerCase() === "s") {
      event.preventDefault();
      b.saving.save();
      return;
    }
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    if (mod && event.key.toLowerCase() === "z") {
      event.preventDefault();
      if (event.shiftKey) b.redo();
      else b.undo();
    } else if (mod && event.key.toLowerCase() === "y") {
      event.preventDefault();
      b.redo();
    }
  }
}
