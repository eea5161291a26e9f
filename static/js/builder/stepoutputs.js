// Owns the run variables a step may read: the outputs of the steps that run before it on every path
// from the start (the server refuses any other), offered in the merge menu as "Step name > Field".

import { reachable } from "./model.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The steps every path from the start to `id` passes through (not `id` itself), nearest the start first. */
export function earlierSteps(model, id, specOf) {
  const all = reachable(model, specOf);
  if (!all.has(id)) return [];
  return [...all].filter((other) => other !== id && !reachable(model, specOf, undefined, other).has(id));
}

/** Merge menu options, {label, value}, for the declared outputs of the steps before `id`. */
export function stepOutputOptions(model, id, catalog) {
  const options = [];
  for (const other of earlierSteps(model, id, catalog.specOf)) {
    const step = model.steps.get(other);
    const outputs = catalog.actions.get(step.type)?.outputs ?? {};
    const name = step.name || catalog.label(step.type);
    const ref = IDENTIFIER.test(other) ? `steps.${other}` : `steps[${JSON.stringify(other)}]`;
    for (const [field, label] of Object.entries(outputs)) {
      options.push({ label: `${name} > ${label}`, value: `${ref}.${field}` });
    }
  }
  return options;
}
