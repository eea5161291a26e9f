// Owns the renderers for grouped field kinds: user pickers, lists, nested objects and free-form mappings.

import { h } from "../dom.js";
import { singular } from "./formrules.js";

export function usersControl(form, field, path, value) {
  const chosen = Array.isArray(value) ? value : [];
  const known = new Map((form.context.users ?? []).map((user) => [user.id, user.name]));
  for (const id of chosen) if (!known.has(id)) known.set(id, `User ${id}`);
  const boxes = [...known].map(([userId, name]) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: String(userId), checked: chosen.includes(userId), onchange: (event) => {
      const now = Array.isArray(form.get(path)) ? form.get(path) : [];
      // Keep the order users were chosen in: weights follow it.
      const next = event.target.checked ? [...now.filter((x) => x !== userId), userId] : now.filter((x) => x !== userId);
      form.set(path, next);
      form.touch(path);
    } }), name));
  return h("fieldset", { class: "user-picker" }, h("legend", {}, field.label), ...boxes);
}

/** A list of choices as checkboxes, kept in the choices' own order (a wait window's days: Mon…Sun). */
export function choiceListControl(form, field, path, value) {
  const chosen = Array.isArray(value) ? value : [];
  const choices = field.item.choices ?? [];
  const boxes = choices.map((choice) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: String(choice.value), checked: chosen.includes(choice.value), onchange: (event) => {
      const now = new Set(Array.isArray(form.get(path)) ? form.get(path) : []);
      if (event.target.checked) now.add(choice.value);
      else now.delete(choice.value);
      form.set(path, choices.map((c) => c.value).filter((v) => now.has(v)));
      form.touch(path);
    } }), choice.label));
  return h("fieldset", { class: "choice-list" }, h("legend", {}, field.label), ...boxes);
}

export function listControl(form, field, path, value) {
  const items = Array.isArray(value) ? value : [];
  const item = field.item ?? { kind: "text", name: "item", label: "Item" };
  const name = singular(field.label);
  const rows = items.map((_, index) => {
    const itemPath = `${path}.${index}`;
    const itemField = { ...item, label: `${name} ${index + 1}`, required: true };
    const inner = item.kind === "object" ? objectControl(form, itemField, itemPath) : form.field(itemField, itemPath, path);
    return h("div", { class: "list-item" }, inner,
      h("button", { type: "button", class: "link-button remove-item", "aria-label": `Remove ${name} ${index + 1}`,
        onclick: () => form.removeItem(path, index) }, "Remove"));
  });
  const add = h("button", { type: "button", class: "add-item", onclick: () => form.addItem(path, item) }, `Add ${name.toLowerCase()}`);
  return h("fieldset", { class: "list-field" }, h("legend", {}, field.label), ...rows, add);
}

export function objectControl(form, field, path) {
  const children = (field.fields ?? []).filter((f) => f.kind !== "step").map((f) => form.field(f, `${path}.${f.name}`, path));
  return h("fieldset", { class: "object-field" }, h("legend", {}, field.label), ...children);
}

/** A free-form mapping (a Dict field): rows of key and value, rebuilt as a whole on each edit. */
export function mappingControl(form, field, path, value) {
  const entries = value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
  const table = h("div", { class: "mapping" });
  const rebuild = () => {
    const out = {};
    for (const row of table.querySelectorAll(".mapping-row")) {
      const [key, val] = row.querySelectorAll("input");
      if (key.value !== "") Object.defineProperty(out, key.value, { value: val.value, enumerable: true, writable: true, configurable: true });
    }
    form.set(path, out);
  };
  const row = (key, val) => h("div", { class: "mapping-row" },
    h("input", { type: "text", value: key, "aria-label": `${field.keys?.label ?? "Key"}`, oninput: rebuild }),
    h("input", { type: "text", value: val ?? "", "aria-label": `${field.values?.label ?? "Value"}`, oninput: rebuild }),
    h("button", { type: "button", class: "link-button", onclick: (event) => { event.target.closest(".mapping-row").remove(); rebuild(); } }, "Remove"));
  table.append(...entries.map(([key, val]) => row(key, String(val))));
  return h("fieldset", { class: "mapping-field" }, h("legend", {}, field.label), table,
    h("button", { type: "button", class: "add-item", onclick: () => table.append(row("", "")) }, "Add a pair"));
}
