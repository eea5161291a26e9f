// The flow on the canvas: the trigger card on top, action cards below it, a "+"
// slot on every exit, and the exits of a branching step side by side. The layout is
// a tree: a step reached a second time (two branches joining, a Go To back up)
// is drawn once, and the other places show a chip that leads to it.
//
// Plain DOM and CSS flexbox do the layout; this module only decides the structure.
// Everything user-written goes in through textContent (see dom.js).

import { h } from "../dom.js";
import { START_SLOT, isBranching, resolveSpec, startOf } from "./model.js";

export const TRIGGER_ID = "trigger";

const RUN_LABELS = { ran: "Ran", waiting: "Waiting", failed: "Failed", skipped: "Skipped" };

/** A slot's identity in the DOM: data-slot-from / data-slot-exit. */
export function slotOf(element) {
  const node = element?.closest?.(".slot");
  if (!node) return null;
  return node.dataset.slotFrom ? { from: node.dataset.slotFrom, exit: node.dataset.slotExit } : START_SLOT;
}

export const slotSelector = (slot) => (slot.from === null ? '.slot[data-slot-start]'
  : `.slot[data-slot-from="${CSS.escape(slot.from)}"][data-slot-exit="${CSS.escape(slot.exit)}"]`);

export class Canvas {
  /**
   * @param {HTMLElement} world the element the flow is drawn into (the viewport moves it)
   * @param {object} options {catalog, readOnly}
   */
  constructor(world, { catalog, readOnly = false }) {
    this.world = world;
    this.catalog = catalog;
    this.readOnly = readOnly;
    this.cards = new Map();
    this.model = null;
    this.state = { selected: null, errors: new Map(), stats: {}, runs: new Map(), moving: null };
  }

  /** Draw the whole flow for a model. `state` holds what decorates the cards. */
  render(model, state = {}) {
    this.model = model;
    Object.assign(this.state, state);
    this.cards = new Map();
    const placed = new Set();
    const column = h("div", { class: "flow-column flow-root" });
    column.append(this.triggerCard());
    this.appendPath(column, START_SLOT, startOf(model), placed);
    const failurePaths = this.failurePaths(placed);
    const loose = [...model.steps.keys()].filter((id) => !placed.has(id));
    const parts = [column, ...failurePaths];
    if (loose.length) parts.push(this.looseSteps(loose, placed));
    this.world.replaceChildren(...parts);
    this.decorateAll();
  }

  /** A slot, then the steps down a path until it ends, joins another, or forks. */
  appendPath(column, slot, target, placed) {
    column.append(this.slot(slot));
    let next = target;
    for (;;) {
      if (next === null) {
        column.append(h("div", { class: "path-end", "aria-hidden": "true" }));
        return;
      }
      if (placed.has(next) || !this.model.steps.has(next)) {
        column.append(this.jumpChip(next, "Continues at"));
        return;
      }
      placed.add(next);
      const id = next;
      const step = this.model.steps.get(id);
      const spec = resolveSpec(this.catalog.specOf(step.type), step);
      column.append(this.card(id, step));
      const exits = this.catalog.exits(step);
      const failure = exits.find((exit) => exit.failure && exit.target !== null);
      if (failure) column.append(this.jumpChip(failure.target, "On failure, goes to"));
      if (isBranching(spec)) {
        column.append(this.fork(id, exits, placed));
        return;
      }
      if (spec.kind === "none") {
        column.append(h("div", { class: "path-end path-end-final", title: "End of the workflow" }, "End"));
        return;
      }
      if (spec.kind === "goto") {
        const to = exits[0]?.target ?? null;
        if (to === null) {
          column.append(h("p", { class: "goto-missing" }, "Choose the step to go to in the side panel."));
          return;
        }
        if (placed.has(to) || !this.model.steps.has(to)) {
          column.append(this.jumpChip(to, "Goes to"));
          return;
        }
        // Only the Go To leads there: draw the target below it, as its continuation.
        column.append(h("div", { class: "connector", "aria-hidden": "true" }));
        next = to;
        continue;
      }
      const exit = exits[0];
      column.append(this.slot({ from: id, exit: exit.key }));
      next = exit.target;
    }
  }

  /** Steps reached only through an "On failure" exit: each such path drawn beside the flow, headed by the step
   * whose failure leads there (its slot inserts on that exit). */
  failurePaths(placed) {
    const columns = [];
    for (let found = true; found;) {
      found = false;
      for (const id of [...placed]) {
        const step = this.model.steps.get(id);
        const failure = step ? this.catalog.exits(step).find((exit) => exit.failure && exit.target !== null) : null;
        if (!failure || placed.has(failure.target) || !this.model.steps.has(failure.target)) continue;
        const column = h("div", { class: "flow-column failure-path", "data-failure-of": id },
          h("p", { class: "loose-title" }, `On failure of “${this.nameOf(id)}”`));
        this.appendPath(column, { from: id, exit: failure.key }, failure.target, placed);
        columns.push(column);
        found = true;
      }
    }
    return columns;
  }

  fork(id, exits, placed) {
    const branches = exits.filter((exit) => !exit.jump).map((exit, index) => {
      // A Split's per-path count (filled in by showStats); other forks' counts stay empty.
      const count = h("span", { class: "branch-count", "data-path-count": String(index), hidden: true });
      const branch = h("div", { class: "branch" },
        h("span", { class: "branch-label" }, exit.label, count));
      this.appendPath(branch, { from: id, exit: exit.key }, exit.target, placed);
      return branch;
    });
    return h("div", { class: "fork-wrap" }, h("div", { class: "connector fork-stem", "aria-hidden": "true" }),
      h("div", { class: "fork" }, ...branches));
  }

  looseSteps(ids, placed) {
    const column = h("div", { class: "flow-column loose" },
      h("p", { class: "loose-title" }, "Not connected to the flow"));
    for (const id of ids) {
      if (placed.has(id)) continue;
      placed.add(id);
      column.append(this.card(id, this.model.steps.get(id)));
    }
    return column;
  }

  slot(slot) {
    const after = slot.from === null ? "the trigger" : this.nameOf(slot.from);
    const attrs = slot.from === null ? { "data-slot-start": "" } : { "data-slot-from": slot.from, "data-slot-exit": slot.exit };
    return h("div", { class: "slot", ...attrs },
      h("button", { type: "button", class: "slot-button", "aria-label": `Add a step after ${after}`,
        title: "Add a step", disabled: this.readOnly }, "+"));
  }

  jumpChip(target, words) {
    const name = this.model.steps.has(target) ? this.nameOf(target) : target;
    return h("button", { type: "button", class: "jump-chip", "data-jump-to": target }, `↪ ${words} “${name}”`);
  }

  nameOf(id) {
    const step = this.model.steps.get(id);
    if (!step) return id;
    return step.name || this.catalog.label(step.type);
  }

  triggerCard() {
    const trigger = this.model.top.trigger;
    const card = h("div", {
      class: "step-card trigger-card", tabindex: "0", "data-step-id": TRIGGER_ID, role: "group",
      "aria-label": `Trigger: ${this.catalog.triggerLabel(trigger?.type)}`,
    },
    h("div", { class: "card-head" }, h("span", { class: "card-kind" }, "Trigger")),
    h("div", { class: "card-title" }, trigger ? this.catalog.triggerLabel(trigger.type) : "Add a trigger"),
    h("div", { class: "card-summary" }, triggerSummary(trigger)),
    h("ul", { class: "card-errors", role: "alert" }));
    this.cards.set(TRIGGER_ID, card);
    return card;
  }

  card(id, step) {
    const label = this.catalog.label(step.type);
    const title = step.name || label;
    const category = this.catalog.category(step.type).toLowerCase().replace(/[^a-z]+/g, "-");
    const card = h("div", {
      class: `step-card cat-${category}`, tabindex: "0", role: "group", "data-step-id": id,
      "data-drag": this.readOnly ? null : "card",
      "data-step-type": step.type, "aria-label": `Step ${title} (${label})`,
    },
    h("div", { class: "card-head" },
      h("span", { class: "card-kind" }, label),
      h("span", { class: "card-id" }, id)),
    h("div", { class: "card-title" }, title),
    h("div", { class: "card-summary" }, this.catalog.summary(step)),
    h("div", { class: "card-foot" },
      h("span", { class: "card-stats", "data-stats": "" }),
      h("span", { class: "run-badge", hidden: true })),
    h("ul", { class: "card-errors", role: "alert" }),
    this.readOnly ? null : h("div", { class: "card-tools" },
      h("button", { type: "button", class: "card-tool", "data-card-action": "move", "aria-label": `Move ${title}` }, "Move"),
      h("button", { type: "button", class: "card-tool danger-tool", "data-card-action": "delete",
        "aria-label": `Delete ${title}` }, "Delete")));
    this.cards.set(id, card);
    return card;
  }

  /** Redraw one card's text after its config or name changed (no layout change). */
  refreshCard(id) {
    const card = this.cards.get(id);
    const step = this.model?.steps.get(id);
    if (!card || !step) return;
    const title = step.name || this.catalog.label(step.type);
    card.querySelector(".card-title").textContent = title;
    card.querySelector(".card-summary").textContent = this.catalog.summary(step);
    card.setAttribute("aria-label", `Step ${title} (${this.catalog.label(step.type)})`);
  }

  setModel(model) {
    this.model = model;
  }

  refreshTrigger() {
    const card = this.cards.get(TRIGGER_ID);
    const trigger = this.model.top.trigger;
    card.querySelector(".card-title").textContent = this.catalog.triggerLabel(trigger?.type);
    card.querySelector(".card-summary").textContent = triggerSummary(trigger);
  }

  // --- decorations: selection, errors, stats, test run --------------------------

  decorateAll() {
    for (const id of this.cards.keys()) this.decorate(id);
  }

  /** Bring one card up to date with the state; parts that did not change are left alone (200 cards add up). */
  decorate(id) {
    const card = this.cards.get(id);
    if (!card) return;
    const { selected, errors, stats, runs, moving } = this.state;
    card.classList.toggle("is-selected", selected === id);
    card.classList.toggle("is-moving", moving === id);
    const messages = errors.get(id) ?? [];
    const errorKey = JSON.stringify(messages);
    if (card.dataset.errorKey !== errorKey) {
      card.dataset.errorKey = errorKey;
      card.classList.toggle("has-error", messages.length > 0);
      card.querySelector(".card-errors").replaceChildren(...messages.map((text) => h("li", {}, text)));
    }
    if (id === TRIGGER_ID) return;
    const counts = stats?.[id];
    const statsKey = counts ? `${counts.waiting ?? 0}/${counts.passed ?? 0}/${JSON.stringify(counts.paths ?? {})}` : "";
    const run = runs.get(id);
    if (card.dataset.statsKey !== statsKey) {
      card.dataset.statsKey = statsKey;
      this.showStats(card, counts);
    }
    if ((card.dataset.runState ?? "") !== (run ?? "")) this.showRun(card, run);
  }

  showStats(card, counts) {
    this.showPathCounts(card, counts);
    card.querySelector("[data-stats]").replaceChildren(...(counts ? [
      h("span", { class: "stat", "data-stat": "waiting", title: "Contacts waiting at this step" },
        h("strong", {}, String(counts.waiting ?? 0)), " waiting"),
      h("span", { class: "stat", "data-stat": "passed", title: "Contacts that went through this step" },
        h("strong", {}, String(counts.passed ?? 0)), " passed"),
    ] : []));
  }

  /** A Split's runs per path, on its branch labels below the card ("12 contacts"). */
  showPathCounts(card, counts) {
    const id = card.dataset.stepId;
    const step = this.model?.steps.get(id);
    if (!step || !this.catalog.specOf(step.type)?.path_counts) return;
    const fork = card.nextElementSibling;
    for (const badge of fork?.querySelectorAll?.(":scope > .fork > .branch > .branch-label > [data-path-count]") ?? []) {
      const n = counts ? counts.paths?.[badge.dataset.pathCount] ?? 0 : null;
      badge.hidden = n === null;
      badge.textContent = n === null ? "" : ` · ${n} ${n === 1 ? "contact" : "contacts"}`;
      badge.title = "Contacts that went down this path";
    }
  }

  showRun(card, run) {
    const badge = card.querySelector(".run-badge");
    badge.hidden = !run;
    badge.textContent = run ? RUN_LABELS[run] ?? run : "";
    if (run) card.dataset.runState = run;
    else delete card.dataset.runState;
  }

  /** Change what decorates the cards; a new selection or moving step touches only the cards concerned. */
  setState(patch) {
    const touched = new Set();
    for (const key of ["selected", "moving"]) {
      if (key in patch && patch[key] !== this.state[key]) touched.add(this.state[key]).add(patch[key]);
    }
    const everything = ["errors", "stats", "runs"].some((key) => key in patch);
    Object.assign(this.state, patch);
    if (everything) this.decorateAll();
    else for (const id of touched) if (id !== null && id !== undefined) this.decorate(id);
  }

  cardFor(id) {
    return this.cards.get(id) ?? null;
  }

  slots() {
    return [...this.world.querySelectorAll(".slot")];
  }

  slotElement(slot) {
    return this.world.querySelector(slotSelector(slot));
  }
}

function triggerSummary(trigger) {
  const config = trigger?.config ?? {};
  if (config.tag) return `Tag: ${config.tag}`;
  if (Array.isArray(config.keywords)) return config.keywords.length ? `Keywords: ${config.keywords.join(", ")}` : "Any reply";
  return "";
}
