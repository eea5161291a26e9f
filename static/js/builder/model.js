// The editor's model of a workflow graph and the edits the canvas makes to it.
//
// Pure functions only: a model is never changed in place, every edit returns a new
// one, so the undo stack can simply keep old models. fromGraph/toGraph round-trip
// every graph the API accepts: unknown keys, key order, step ids, names, branch
// order, settings, schema_version and trigger all come back as they went in.
//
// How a step's ways out are stored depends on its type; the API describes it per
// action type as an `exits` spec (see exitsOf). Functions that follow or change
// exits take `specOf(type) -> spec`; unknown types are treated as linear (`next`).

export class ModelError extends Error {
  constructor(message) {
    super(message);
    this.name = "ModelError";
  }
}

const NEXT = Object.freeze({ kind: "next" });
const clone = (value) => (value === undefined ? undefined : structuredClone(value));

// Keys may be anything a JSON document holds, "__proto__" included: define, never assign.
function put(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

const has = (object, key) => object !== null && typeof object === "object" && Object.hasOwn(object, key);

// --- graph <-> model ----------------------------------------------------------

/** A model from a graph: top-level keys in their order, the steps in a Map (in order). */
export function fromGraph(graph) {
  const top = {};
  for (const key of Object.keys(graph)) if (key !== "steps") put(top, key, clone(graph[key]));
  const steps = new Map();
  const raw = has(graph, "steps") && graph.steps && typeof graph.steps === "object" ? graph.steps : {};
  for (const id of Object.keys(raw)) steps.set(id, clone(raw[id]));
  return freeze({ keys: Object.keys(graph), top, steps, hadSteps: has(graph, "steps") });
}

/** The graph JSON of a model (a fresh copy; the model stays untouched). */
export function toGraph(model) {
  const out = {};
  const keys = [...model.keys];
  for (const key of Object.keys(model.top)) if (!keys.includes(key)) keys.push(key);
  if (!keys.includes("steps") && model.steps.size) keys.push("steps");
  for (const key of keys) {
    if (key === "steps") {
      if (!model.hadSteps && !model.steps.size) continue;
      const steps = {};
      for (const [id, step] of model.steps) put(steps, id, clone(step));
      put(out, key, steps);
    } else if (has(model.top, key)) {
      put(out, key, clone(model.top[key]));
    }
  }
  return out;
}

function freeze(model) {
  return Object.freeze(model);
}

function withTop(model, key, value) {
  const top = { ...model.top };
  put(top, key, value);
  const keys = model.keys.includes(key) ? model.keys : [...model.keys, key];
  return freeze({ ...model, keys, top });
}

function withSteps(model, steps) {
  return freeze({ ...model, steps, hadSteps: true });
}

function withStep(model, id, step) {
  const steps = new Map(model.steps);
  steps.set(id, step);
  return withSteps(model, steps);
}

// --- reading ------------------------------------------------------------------

export const startOf = (model) => (has(model.top, "start") ? model.top.start ?? null : null);
export const stepOf = (model, id) => model.steps.get(id);
export const stepIds = (model) => [...model.steps.keys()];

/** Canonical JSON (sorted keys): two graphs are the same when these strings are. */
export function canonical(value) {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const key of Object.keys(value).sort()) put(out, key, sortKeys(value[key]));
  return out;
}

/** The first unused id of the form s1, s2, ...: short, and stable across saves. */
export function newStepId(model) {
  for (let n = 1; ; n += 1) if (!model.steps.has(`s${n}`)) return `s${n}`;
}

// --- exits --------------------------------------------------------------------

/**
 * A step's ways out: [{key, label, target, jump}]. `key` is the path of the exit
 * inside the step (as in the server's error paths: "next", "config.else_next",
 * "config.branches.0.next"). A `jump` exit (Go To) points anywhere; the others are
 * the flow drawn on the canvas, with a "+" slot on each.
 */
export function exitsOf(step, spec = NEXT) {
  const exits = flowAndJumpExits(step, spec);
  // A step that reaches outside may name where a failed run goes on ("On failure"): a jump, like Go To's.
  if (!spec?.failure) return exits;
  const config = step?.config && typeof step.config === "object" ? step.config : {};
  const target = typeof config[spec.failure] === "string" ? config[spec.failure] : null;
  return [...exits, { key: `config.${spec.failure}`, label: "On failure", target, jump: true, failure: true }];
}

function flowAndJumpExits(step, spec) {
  const config = step?.config && typeof step.config === "object" ? step.config : {};
  const target = (value) => (typeof value === "string" ? value : null);
  spec = resolveSpec(spec, step);
  switch (spec?.kind) {
    case "none":
      return [];
    case "goto":
      return [{ key: `config.${spec.field}`, label: "Go to", target: target(config[spec.field]), jump: true }];
    case "branches": {
      const list = Array.isArray(config[spec.list]) ? config[spec.list] : [];
      const branches = list.map((item, index) => ({
        key: `config.${spec.list}.${index}.${spec.target}`,
        label: (spec.label && typeof item?.[spec.label] === "string" && item[spec.label]) || `Branch ${index + 1}`,
        target: target(item?.[spec.target]),
        jump: false,
      }));
      if (!spec.else) return branches; // Split: its paths are all its exits
      return [...branches, { key: `config.${spec.else}`, label: spec.else_label || "Else",
        target: target(config[spec.else]), jump: false }];
    }
    case "named":
      return (spec.exits ?? []).map((exit) => ({
        key: `config.${exit.field}`, label: exit.label, target: target(config[exit.field]), jump: false,
      }));
    default:
      return [{ key: "next", label: "", target: target(step?.next), jump: false }];
  }
}

/**
 * The spec that applies to this step: a `by_field` spec (a Wait's exits follow its mode) picks
 * `cases[config[field]]`, else `default`; other specs are as they are. Without a step, the default.
 */
export function resolveSpec(spec, step) {
  if (spec?.kind !== "by_field") return spec;
  return spec.cases?.[step?.config?.[spec.field]] ?? spec.default ?? NEXT;
}

/** Steps that fork into side-by-side branches on the canvas (`step`: for specs that depend on its config). */
export const isBranching = (spec, step) => {
  const kind = resolveSpec(spec, step)?.kind;
  return kind === "branches" || kind === "named";
};
/** Steps after which a path ends (End, Go To): nothing can be inserted below them. */
export const isTerminal = (spec, step) => {
  const kind = resolveSpec(spec, step)?.kind;
  return kind === "none" || kind === "goto";
};

const flowExits = (step, specOf) => exitsOf(step, specOf(step.type)).filter((exit) => !exit.jump);

function allExits(model, specOf) {
  const out = [];
  for (const [id, step] of model.steps) for (const exit of exitsOf(step, specOf(step.type))) out.push([id, exit]);
  return out;
}

/** Read a dotted path ("config.branches.0.next") inside a step. */
export function getPath(object, path) {
  let node = object;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/** A copy of `object` with the value at a dotted path replaced (arrays stay arrays). */
export function setPath(object, path, value) {
  const [head, ...rest] = path.split(".");
  const base = object !== null && typeof object === "object" ? object : {};
  const copy = Array.isArray(base) ? [...base] : { ...base };
  const child = rest.length ? setPath(base[head], rest.join("."), value) : value;
  if (Array.isArray(copy)) copy[Number(head)] = child;
  else put(copy, head, child);
  return copy;
}

/** Steps reachable from the start (or `from`), never entering `avoid`. */
export function reachable(model, specOf, from = startOf(model), avoid = null) {
  const seen = new Set();
  const stack = from !== null && model.steps.has(from) && from !== avoid ? [from] : [];
  while (stack.length) {
    const id = stack.pop();
    if (seen.has(id)) continue;
    seen.add(id);
    for (const exit of exitsOf(model.steps.get(id), specOf(model.steps.get(id).type))) {
      if (exit.target !== null && exit.target !== avoid && model.steps.has(exit.target)) stack.push(exit.target);
    }
  }
  return seen;
}

/** The step and everything only reachable through it: what moves or goes with it. */
export function ownedBy(model, id, specOf) {
  const elsewhere = reachable(model, specOf, startOf(model), id);
  return new Set([...reachable(model, specOf, id)].filter((other) => !elsewhere.has(other)));
}

// --- slots --------------------------------------------------------------------
// A slot is the "+" on an exit: {from: step id, exit: exit key}, or {from: null}
// for the one under the trigger (the start).

export const START_SLOT = Object.freeze({ from: null, exit: null });

export function slotTarget(model, slot) {
  if (slot.from === null) return startOf(model);
  const step = model.steps.get(slot.from);
  if (!step) throw new ModelError(`Step ${slot.from} no longer exists.`);
  const value = getPath(step, slot.exit);
  return typeof value === "string" ? value : null;
}

function setSlotTarget(model, slot, target) {
  if (slot.from === null) return withTop(model, "start", target);
  return withStep(model, slot.from, setPath(model.steps.get(slot.from), slot.exit, target));
}

export const sameSlot = (a, b) => a.from === b.from && (a.from === null || a.exit === b.exit);

// --- edits --------------------------------------------------------------------

/** Point everything that points at `from` (the start included) at `to` instead. */
function redirect(model, from, to, specOf) {
  let next = startOf(model) === from ? withTop(model, "start", to) : model;
  for (const [id, exit] of allExits(model, specOf)) {
    if (exit.target === from) next = withStep(next, id, setPath(next.steps.get(id), exit.key, to));
  }
  return next;
}

/** Remove steps the start no longer reaches (the branch of a deleted step, say). */
export function prune(model, specOf) {
  const keep = reachable(model, specOf);
  if (keep.size === model.steps.size) return model;
  return withSteps(model, new Map([...model.steps].filter(([id]) => keep.has(id))));
}

/**
 * Hang `id` (already in the model, nothing pointing at it) on a slot. What the slot
 * led to continues at the end of the new step's first path, which must stay within
 * `group` (the step and the branch moving with it) and must not end in End or Go To.
 */
function attach(model, slot, id, specOf, group) {
  const after = slotTarget(model, slot);
  let next = setSlotTarget(model, slot, id);
  if (after === null) return next;
  const seen = new Set();
  for (let current = id; ; ) {
    if (seen.has(current)) throw new ModelError("Its first path loops: put it at the end of a path.");
    seen.add(current);
    const exits = flowExits(next.steps.get(current), specOf);
    if (!exits.length) {
      const label = current === id ? "This step" : "Its first path";
      throw new ModelError(`${label} ends the workflow: put it at the end of a path.`);
    }
    const target = exits[0].target;
    if (target === null) {
      next = withStep(next, current, setPath(next.steps.get(current), exits[0].key, after));
      return next;
    }
    if (!group.has(target)) throw new ModelError("Put a step with branches at the end of a path.");
    current = target;
  }
}

/** Insert a new step on a slot; returns {model, id}. `step` is {type, name?, config}. */
export function insertStep(model, slot, step, specOf) {
  slotTarget(model, slot); // the slot must still exist
  const id = newStepId(model);
  const fresh = { type: step.type, name: step.name ?? "", config: clone(step.config ?? {}), next: null };
  const next = attach(withStep(model, id, fresh), slot, id, specOf, new Set([id]));
  return { model: next, id };
}

/** Whether dropping step `id` on `slot` would leave everything where it is. */
export function isNoOpMove(model, id, slot, specOf) {
  if (slot.from === id) return !isBranching(specOf(model.steps.get(id).type), model.steps.get(id));
  return slotTarget(model, slot) === id;
}

/**
 * Which slots a step can go to: `moving` is {type} for a new step or {id} for one
 * being moved. Returns slot -> boolean, cheap enough to ask for every slot.
 */
export function dropRule(model, moving, specOf) {
  if (moving.type !== undefined) {
    const continues = !isTerminal(specOf(moving.type));
    return (slot) => continues || slotTarget(model, slot) === null;
  }
  const step = model.steps.get(moving.id);
  if (!step) return () => false;
  const spec = resolveSpec(specOf(step.type), step);
  const noOp = (slot) => isNoOpMove(model, moving.id, slot, specOf);
  if (!isBranching(spec)) {
    const continues = !isTerminal(spec);
    return (slot) => !noOp(slot) && (continues || slotTarget(model, slot) === null);
  }
  const group = ownedBy(model, moving.id, specOf);
  const continues = firstPathEndsOpen(model, moving.id, group, specOf);
  return (slot) => !(slot.from !== null && group.has(slot.from)) && !noOp(slot)
    && (continues || slotTarget(model, slot) === null);
}

/** Whether the first path down from `id` stays in `group` and ends open (so it can take a continuation). */
function firstPathEndsOpen(model, id, group, specOf) {
  const seen = new Set();
  for (let current = id; !seen.has(current); ) {
    seen.add(current);
    const exits = flowExits(model.steps.get(current), specOf);
    if (!exits.length) return false;
    if (exits[0].target === null) return true;
    if (!group.has(exits[0].target)) return false;
    current = exits[0].target;
  }
  return false;
}

/**
 * Move a step to a slot. A linear step moves alone (what followed it closes up);
 * a branching step takes its branches with it.
 */
export function moveStep(model, id, slot, specOf) {
  const step = model.steps.get(id);
  if (!step) throw new ModelError(`Step ${id} no longer exists.`);
  if (isNoOpMove(model, id, slot, specOf)) return model;
  const spec = resolveSpec(specOf(step.type), step);
  if (!isBranching(spec)) {
    if (slot.from === id) return model;
    const exits = flowExits(step, specOf);
    let after = isTerminal(spec) ? null : exits[0]?.target ?? null;
    if (after === id) after = null;
    let next = redirect(model, id, after, specOf);
    if (exits.length && !isTerminal(spec)) next = withStep(next, id, setPath(next.steps.get(id), exits[0].key, null));
    return attach(next, slot, id, specOf, new Set([id]));
  }
  const group = ownedBy(model, id, specOf);
  if (slot.from !== null && group.has(slot.from)) throw new ModelError("A step cannot move into its own branches.");
  return attach(redirect(model, id, null, specOf), slot, id, specOf, group);
}

/**
 * Delete a step. A linear step's neighbours close up; a branching step goes with
 * its branches, except the one named by `keepExit` (an exit key), which takes its place.
 */
export function deleteStep(model, id, specOf, keepExit = null) {
  const step = model.steps.get(id);
  if (!step) return model;
  const spec = resolveSpec(specOf(step.type), step);
  const exits = exitsOf(step, spec);
  let keep = null;
  if (keepExit !== null) keep = exits.find((exit) => exit.key === keepExit)?.target ?? null;
  else if (!isBranching(spec) && !isTerminal(spec)) keep = exits[0]?.target ?? null;
  if (keep === id) keep = null;
  const next = redirect(model, id, keep, specOf);
  const steps = new Map(next.steps);
  steps.delete(id);
  return prune(withSteps(next, steps), specOf);
}

/** Replace a step's config (removing a branch prunes the steps only it led to). */
export function setConfig(model, id, config, specOf) {
  const step = model.steps.get(id);
  if (!step) throw new ModelError(`Step ${id} no longer exists.`);
  const changed = carryExits(step, { ...step, config: clone(config) }, specOf(step.type));
  return prune(withStep(model, id, changed), specOf);
}

/**
 * A step whose ways out follow its config (a Wait switched to "until an event" and back) keeps what
 * followed it on its first new exit, so the path below it is not pruned; the old exits are cleared.
 */
function carryExits(before, after, spec) {
  if (spec?.kind !== "by_field") return after;
  // Exits are the canvas's, never the form's: whatever config the form sent, the model's exit values stand.
  let out = after;
  const cases = [...Object.values(spec.cases ?? {}), spec.default ?? NEXT];
  for (const key of new Set(cases.flatMap((c) => exitsOf({ config: {} }, c).map((exit) => exit.key)))) {
    if (!key.startsWith("config.")) continue;
    const value = getPath(before, key);
    out = value === undefined ? withoutConfigKey(out, key.slice("config.".length)) : setPath(out, key, value);
  }
  const old = exitsOf(before, spec);
  const now = exitsOf(out, spec);
  const keys = new Set(now.map((exit) => exit.key));
  if (old.every((exit) => keys.has(exit.key))) return out;
  for (const exit of old) {
    if (keys.has(exit.key)) continue;
    out = exit.key === "next" ? setPath(out, "next", null) : withoutConfigKey(out, exit.key.slice("config.".length));
  }
  const carried = old.find((exit) => exit.target !== null)?.target ?? null;
  if (carried !== null && now.length && now[0].target === null) out = setPath(out, now[0].key, carried);
  return out;
}

function withoutConfigKey(step, name) {
  if (!step.config || !Object.hasOwn(step.config, name)) return step;
  const config = { ...step.config };
  delete config[name];
  return { ...step, config };
}

/** Set a value inside a step's config by path, e.g. "message" or "branches.0.name". */
export function setConfigValue(model, id, path, value, specOf) {
  const step = model.steps.get(id);
  if (!step) throw new ModelError(`Step ${id} no longer exists.`);
  return setConfig(model, id, setPath(step.config ?? {}, path, value), specOf);
}

export function setStepName(model, id, name) {
  const step = model.steps.get(id);
  if (!step) throw new ModelError(`Step ${id} no longer exists.`);
  return withStep(model, id, setPath(step, "name", name));
}

/** Point an exit (a Go To's target, say) at another step, or at nothing. */
export function setExitTarget(model, id, exitKey, target, specOf) {
  const step = model.steps.get(id);
  if (!step) throw new ModelError(`Step ${id} no longer exists.`);
  if (target !== null && !model.steps.has(target)) throw new ModelError(`Step ${target} does not exist.`);
  return prune(withStep(model, id, setPath(step, exitKey, target)), specOf);
}

export const setWorkflowName = (model, name) => withTop(model, "name", name);
export const setTrigger = (model, trigger) => withTop(model, "trigger", clone(trigger));
export const setSettings = (model, settings) => withTop(model, "settings", clone(settings));
