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

// Merge fields a contact always has (engine/merge.py STANDARD_FIELDS); custom fields come from the account.
export const STANDARD_MERGE_FIELDS = ["id", "first_name", "last_name", "name", "email", "phone", "timezone", "tags",
  "engagement_score"];
const MERGE_TAG = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
const CONTACT_PATH = /\bcontact((?:\s*\.\s*[A-Za-z_]\w*|\s*\[\s*(?:"[^"]*"|'[^']*'|\d+)\s*\])*)/g;
const PATH_PART = /\.\s*([A-Za-z_]\w*)|\[\s*(?:"([^"]*)"|'([^']*)'|(\d+))\s*\]/g;

/** The contact paths a template reads, as lists of keys ("{{ contact.custom.plan }}" -> ["custom", "plan"]). */
export function mergePaths(text) {
  const paths = [];
  for (const tag of String(text ?? "").matchAll(MERGE_TAG)) {
    for (const found of (tag[1] ?? tag[2]).matchAll(CONTACT_PATH)) {
      const parts = [];
      for (const part of found[1].matchAll(PATH_PART)) {
        if (part[4] !== undefined) break; // a list index: what follows is inside the value
        parts.push(part[1] ?? part[2] ?? part[3]);
      }
      paths.push(parts);
    }
  }
  return paths;
}

/**
 * Merge fields of `text` that name nothing, as written ("contact.favourite_colour"), the server's rule
 * (builder/domain/custom_fields.py): standard fields, the account's custom fields by key (as
 * contact.custom.<key> or contact.<key>); an account with no custom fields (`keys` empty) keeps
 * free-form contact.custom.<key>.
 */
export function unknownMergeFields(text, keys) {
  const defined = new Set(keys);
  const unknown = [];
  for (const parts of mergePaths(text)) {
    const [first, second] = parts;
    const known = first === undefined || STANDARD_MERGE_FIELDS.includes(first)
      || (first === "custom" && (second === undefined || defined.size === 0 || defined.has(second)))
      || (first !== "custom" && defined.has(first));
    const shown = `contact${parts.slice(0, first === "custom" ? 2 : 1)
      .map((part) => (/^[A-Za-z_]\w*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`)).join("")}`;
    if (!known && !unknown.includes(shown)) unknown.push(shown);
  }
  return unknown;
}

/** The words shown while typing, the same as the server's 422 says on save. */
export function mergeProblem(text, keys) {
  const unknown = unknownMergeFields(text, keys);
  return unknown.length ? `Unknown merge field ${unknown.join(", ")}: use a standard contact field or a custom `
    + "field defined in Settings > Custom fields." : null;
}

// {{ custom_values.<key> }} / custom_values["key"] (not contact.custom_values, a custom field of that name).
const CUSTOM_VALUE_REF = /(?<![.\w])custom_values\b(?:\s*\.\s*([A-Za-z_]\w*)|\s*\[\s*(?:"([^"]*)"|'([^']*)')\s*\])?/g;

/** The words shown while typing for custom values the account does not have, as the server's 422 says on
 * save (builder/domain/custom_values.py); null when every one is known. */
export function customValueProblem(text, keys) {
  const defined = new Set(keys);
  const unknown = [];
  for (const tag of String(text ?? "").matchAll(MERGE_TAG)) {
    for (const found of (tag[1] ?? tag[2]).matchAll(CUSTOM_VALUE_REF)) {
      const key = found[1] ?? found[2] ?? found[3];
      if (key === undefined) return "Name a custom value, as in {{ custom_values.<key> }}.";
      if (!defined.has(key) && !unknown.includes(key)) unknown.push(key);
    }
  }
  return unknown.length ? `Unknown custom value ${unknown.map((key) => `custom_values.${key}`).join(", ")}: `
    + "define it in Settings > Custom values first." : null;
}
