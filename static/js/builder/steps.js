// Owns the step edits a user asks for: adding, moving and deleting steps, and the delete confirmation dialog.

import { h } from "../dom.js";
import * as M from "./model.js";
import { TRIGGER_ID } from "./canvas.js";
import { $, notice } from "./page.js";

export class StepEditor {
  constructor(builder) {
    this.b = builder;
  }

  /** Run an edit; a ModelError (an edit the graph's rules refuse) becomes a notice. */
  attempt(edit) {
    try {
      edit();
      return true;
    } catch (error) {
      if (!(error instanceof M.ModelError)) throw error;
      notice(error.message);
      return false;
    }
  }

  insert(type, slot, { focus = false } = {}) {
    const b = this.b;
    this.attempt(() => {
      const { model: next, id } = M.insertStep(b.model(), slot, b.catalog.newStep(type), b.specOf);
      b.commit(next);
      notice(`Added ${b.catalog.label(type)}.`);
      b.selection.select(id);
      if (focus) b.canvas.cardFor(id)?.focus();
    });
  }

  move(id, slot) {
    const b = this.b;
    this.attempt(() => {
      const next = M.moveStep(b.model(), id, slot, b.specOf);
      if (next === b.model()) return;
      b.commit(next);
      notice(`Moved ${b.canvas.nameOf(id)}.`);
      b.canvas.cardFor(id)?.focus();
    });
  }

  /** The slot that leads to a step (to put focus back after the step is gone). */
  slotLeadingTo(id) {
    const model = this.b.model();
    if (M.startOf(model) === id) return M.START_SLOT;
    for (const [from, step] of model.steps) {
      const exit = this.b.catalog.exits(step).find((candidate) => candidate.target === id && !candidate.jump);
      if (exit) return { from, exit: exit.key };
    }
    return null;
  }

  async remove(id) {
    const b = this.b;
    const { state, catalog } = b;
    if (b.readOnly || !b.model().steps.has(id)) return;
    const step = b.model().steps.get(id);
    const waiting = state.stats?.[id]?.waiting ?? 0;
    let keep = null;
    if (catalog.branching(step.type, step) || waiting > 0) {
      const choice = await this.askDelete(id, step, waiting);
      if (choice === null) return;
      keep = choice || null;
    }
    const slot = this.slotLeadingTo(id);
    if (state.selected === id) b.selection.deselect();
    state.errors.delete(id);
    const before = b.model().steps.size;
    b.commit(M.deleteStep(b.model(), id, b.specOf, keep));
    const others = before - b.model().steps.size - 1;
    notice(`Deleted ${step.name || catalog.label(step.type)}${others ? ` and ${others} ${others === 1 ? "step" : "steps"} in its branches` : ""}. Undo (Ctrl+Z) brings it back.`);
    const stillThere = slot && (slot.from === null || b.model().steps.has(slot.from));
    const target = stillThere ? b.canvas.slotElement(slot) : null;
    (target?.querySelector("button") ?? b.canvas.cardFor(TRIGGER_ID))?.focus();
  }

  /** Confirm deleting a branching step (and which branch takes its place), or one with contacts waiting. */
  askDelete(id, step, waiting) {
    const { catalog } = this.b;
    const dialog = $("delete-dialog");
    const name = step.name || catalog.label(step.type);
    $("delete-title").textContent = `Delete ${name}?`;
    $("delete-waiting").hidden = waiting === 0;
    $("delete-waiting").textContent = `${waiting} ${waiting === 1 ? "contact is" : "contacts are"} waiting at this step in the live version. Publishing without it leaves them to finish on the version they started on.`;
    const choices = $("delete-choices");
    const exits = catalog.branching(step.type, step) ? catalog.exits(step).filter((exit) => !exit.jump) : [];
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
}
