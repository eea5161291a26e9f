// Undo and redo over immutable models. Typing into one form field makes many
// models in a row; edits sharing a `coalesce` key replace each other, so one undo
// takes back the whole word rather than one letter.

const LIMIT = 200;

export class History {
  constructor(model) {
    this.past = [];
    this.present = model;
    this.future = [];
    this.lastKey = null;
  }

  push(model, coalesce = null) {
    if (model === this.present) return false;
    if (coalesce !== null && coalesce === this.lastKey && this.past.length) {
      this.present = model;
    } else {
      this.past.push(this.present);
      if (this.past.length > LIMIT) this.past.shift();
      this.present = model;
    }
    this.future = [];
    this.lastKey = coalesce;
    return true;
  }

  /** Swap the present for an equivalent model (the server's copy after a save) without an undo step. */
  replace(model) {
    this.present = model;
    this.lastKey = null;
  }

  /** End the current run of coalesced edits (the field lost focus, say). */
  seal() {
    this.lastKey = null;
  }

  get canUndo() {
    return this.past.length > 0;
  }

  get canRedo() {
    return this.future.length > 0;
  }

  undo() {
    if (!this.canUndo) return null;
    this.future.push(this.present);
    this.present = this.past.pop();
    this.lastKey = null;
    return this.present;
  }

  redo() {
    if (!this.canRedo) return null;
    this.past.push(this.present);
    this.present = this.future.pop();
    this.lastKey = null;
    return this.present;
  }
}
