// Owns the config form's value rules: what is wrong with a field's value (problemWith) and path/label helpers.

import { getPath, setPath } from "./model.js";
import { isRequired } from "./catalog.js";

/** `object` without the value at a dotted path (an array item is spliced out). */
export function removePath(object, path) {
  const parts = path.split(".");
  const last = parts.pop();
  const parent = parts.length ? getPath(object, parts.join(".")) : object;
  if (!parent || typeof parent !== "object" || !Object.hasOwn(parent, last)) return object;
  const copy = Array.isArray(parent) ? parent.filter((_, i) => String(i) !== last) : { ...parent };
  if (!Array.isArray(copy)) delete copy[last];
  return parts.length ? setPath(object, parts.join("."), copy) : copy;
}

const isBlank = (value) => value === undefined || value === null || value === ""
  || (Array.isArray(value) && value.length === 0);

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What is wrong with a value, in words, or null. */
export function problemWith(field, value, siblings) {
  if (isBlank(value)) return isRequired(field, siblings) ? "Required." : null;
  const { min, max } = field;
  switch (field.kind) {
    case "integer":
      if (!Number.isInteger(value)) return "Enter a whole number.";
      if (min !== undefined && value < min) return `At least ${min}.`;
      if (max !== undefined && value > max) return `At most ${max}.`;
      return null;
    case "text":
    case "template":
    case "condition_field":
      if (typeof value !== "string") return null;
      if (min !== undefined && value.length < min) return `At least ${plural(min, "character")}.`;
      if (max !== undefined && value.length > max) return `At most ${plural(max, "character")} (now ${value.length}).`;
      return null;
    case "list":
    case "users":
      if (!Array.isArray(value)) return null;
      if (min !== undefined && value.length < min) return `Choose at least ${min}.`;
      if (max !== undefined && value.length > max) return `At most ${max}.`;
      return null;
    case "choice":
      return field.choices?.some((choice) => choice.value === value) ? null : "Choose one of the options.";
    default:
      return null;
  }
}

/** A list's label made singular for its items ("Branches" -> "Branch"). */
export function singular(label) {
  if (/(ches|shes|sses|xes)$/i.test(label)) return label.slice(0, -2);
  if (/ies$/i.test(label)) return `${label.slice(0, -3)}y`;
  if (/s$/i.test(label)) return label.slice(0, -1);
  return label;
}
