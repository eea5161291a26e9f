// A form generated from the API's field descriptors (the same marshmallow schemas
// the server validates with): one input per field, chosen by its kind, with inline
// validation as you type (required, required_if, min/max) and the server's own
// messages shown on the field they name.

import { h } from "../dom.js";
import { getPath, setPath } from "./model.js";
import { isRequired, newConfig, startingValue } from "./catalog.js";

const CONDITION_FIELDS = ["first_name", "last_name", "email", "phone", "timezone", "assigned_user_id", "tags"];
let timeZones = null;

function removePath(object, path) {
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

function singular(label) {
  if (/(ches|shes|sses|xes)$/i.test(label)) return label.slice(0, -2);
  if (/ies$/i.test(label)) return `${label.slice(0, -3)}y`;
  if (/s$/i.test(label)) return label.slice(0, -1);
  return label;
}

export class ConfigForm {
  /**
   * @param {object} options
   *   fields: the descriptors (null: edit the config as JSON)
   *   value: the config
   *   context: {users: [{id, name}], mergeFields: [{label, value}], customFields: [name]}
   *   onChange(value, path): every edit, with the path of the field edited
   *   idPrefix: makes input ids unique on the page
   *   readOnly
   */
  constructor({ fields, value, context = {}, onChange = () => {}, idPrefix = "cfg", readOnly = false }) {
    this.fields = fields;
    this.value = value ?? {};
    this.context = context;
    this.onChange = onChange;
    this.idPrefix = idPrefix;
    this.readOnly = readOnly;
    this.touched = new Set();
    this.showEverything = false;
    this.serverErrors = {};
    this.element = h("div", { class: "config-form" });
    this.render();
  }

  // --- rendering -----------------------------------------------------------------

  render() {
    this.entries = [];
    const focusedId = document.activeElement && this.element.contains(document.activeElement) ? document.activeElement.id : null;
    const general = h("ul", { class: "form-errors", role: "alert", "data-form-errors": "" });
    const body = this.fields === null ? [this.jsonField("", "Settings (JSON)", this.value)]
      : this.fields.filter((field) => field.kind !== "step").map((field) => this.field(field, field.name, ""));
    this.element.replaceChildren(general, ...body);
    if (this.readOnly) for (const input of this.element.querySelectorAll("input, select, textarea, button")) input.disabled = true;
    if (focusedId) document.getElementById(focusedId)?.focus();
    this.refreshMessages();
  }

  inputId(path) {
    return `${this.idPrefix}-${path.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  }

  get(path) {
    return path === "" ? this.value : getPath(this.value, path);
  }

  field(field, path, parentPath) {
    const id = this.inputId(path);
    const message = h("p", { class: "field-message", id: `${id}-message`, "aria-live": "polite" });
    const help = field.help ? h("p", { class: "field-help", id: `${id}-help` }, field.help) : null;
    const control = this.control(field, path, id);
    const describedBy = [help ? `${id}-help` : null, `${id}-message`].filter(Boolean).join(" ");
    for (const input of control.querySelectorAll?.("input, select, textarea") ?? []) {
      if (!input.hasAttribute("aria-describedby")) input.setAttribute("aria-describedby", describedBy);
    }
    if (control.matches?.("input, select, textarea")) control.setAttribute("aria-describedby", describedBy);
    const required = isRequired(field, this.get(parentPath));
    const grouped = ["list", "users", "object"].includes(field.kind) || (field.kind === "boolean");
    // The mark sits beside the label, not in it: the field's name stays just its label.
    const label = grouped ? null : h("label", { for: id, class: "field-label" }, field.label);
    const mark = !grouped && required ? h("span", { class: "required-mark", "aria-hidden": "true" }, "*") : null;
    if (required) control.querySelector?.("input, select, textarea")?.setAttribute("aria-required", "true");
    if (required && control.matches?.("input, select, textarea")) control.setAttribute("aria-required", "true");
    const wrapper = h("div", { class: `field field-${field.kind}`, "data-path": path }, label, mark, control, help, message);
    this.entries.push({ field, path, parentPath, wrapper, message });
    return wrapper;
  }

  control(field, path, id) {
    const value = this.get(path);
    switch (field.kind) {
      case "template":
        return this.templateControl(field, path, id, value);
      case "integer":
        return h("input", { id, type: "number", step: "1", min: field.min, max: field.max, value: value ?? "",
          oninput: (event) => this.setNumber(path, event.target.value), onblur: () => this.touch(path) });
      case "boolean":
        return h("label", { class: "check" },
          h("input", { id, type: "checkbox", checked: value === true,
            onchange: (event) => this.set(path, event.target.checked) }), field.label);
      case "choice":
        return this.choiceControl(field, path, id, value);
      case "datetime":
        return h("input", { id, type: "datetime-local", step: "1", value: typeof value === "string" ? value.slice(0, 19) : "",
          oninput: (event) => this.setText(path, event.target.value), onblur: () => this.touch(path) });
      case "users":
        return this.usersControl(field, path, value);
      case "list":
        return this.listControl(field, path, value);
      case "object":
        return field.fields?.length || !field.values ? this.objectControl(field, path)
          : this.mappingControl(field, path, value);
      case "condition_field":
      case "time_zone":
        return this.suggestedText(field, path, id, value);
      case "text":
        return this.textInput(path, id, value);
      default:
        return this.jsonField(path, field.label, value, id);
    }
  }

  textInput(path, id, value, attrs = {}) {
    const shown = value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
    return h("input", { id, type: "text", value: shown, ...attrs,
      oninput: (event) => this.setText(path, event.target.value), onblur: () => this.touch(path) });
  }

  suggestedText(field, path, id, value) {
    const listId = `${id}-options`;
    const options = field.kind === "time_zone" ? zones()
      : [...CONDITION_FIELDS.map((name) => `contact.${name}`),
        ...(this.context.customFields ?? []).map((name) => `contact.custom.${name}`)];
    return h("div", { class: "suggested" }, this.textInput(path, id, value, { list: listId, autocomplete: "off" }),
      h("datalist", { id: listId }, ...options.map((option) => h("option", { value: option }))));
  }

  choiceControl(field, path, id, value) {
    const choices = [...(field.choices ?? [])];
    if (value !== undefined && value !== null && !choices.some((c) => c.value === value)) {
      choices.unshift({ value, label: String(value) });
    }
    const select = h("select", { id, onchange: (event) => {
      const choice = event.target.value === "" ? null : choices[Number(event.target.value)];
      this.set(path, choice ? choice.value : undefined);
    } },
    value === undefined || value === null ? h("option", { value: "" }, "Choose…") : null,
    ...choices.map((choice, index) => h("option", { value: String(index), selected: choice.value === value }, choice.label)));
    return select;
  }

  templateControl(field, path, id, value) {
    const area = h("textarea", { id, rows: "4", oninput: (event) => this.setText(path, event.target.value),
      onblur: () => this.touch(path) });
    area.value = typeof value === "string" ? value : "";
    const menu = h("div", { class: "merge-menu", hidden: true, role: "menu", "aria-label": "Merge fields" });
    // The page's merge fields list the account's custom fields too; add any it does not name.
    const options = [...(this.context.mergeFields ?? [])];
    const named = new Set(options.map((option) => option.value));
    for (const name of this.context.customFields ?? []) {
      const value = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `contact.custom.${name}` : `contact.custom[${JSON.stringify(name)}]`;
      if (!named.has(value)) options.push({ label: `${name} (custom field)`, value });
    }
    for (const option of options) {
      menu.append(h("button", { type: "button", role: "menuitem", "data-merge": option.value, onclick: () => {
        insertAtCaret(area, `{{ ${option.value} }}`);
        menu.hidden = true;
        this.setText(path, area.value);
        area.focus();
      } }, option.label));
    }
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        menu.hidden = true;
        toggle.focus();
      }
    });
    const toggle = h("button", { type: "button", class: "merge-toggle link-button", "aria-haspopup": "menu",
      "aria-label": `Insert a merge field into ${field.label}`, onclick: () => {
        menu.hidden = !menu.hidden;
        toggle.setAttribute("aria-expanded", String(!menu.hidden));
        if (!menu.hidden) menu.querySelector("button")?.focus();
      } }, "{{ }} Insert merge field");
    return h("div", { class: "template-control" }, area, h("div", { class: "merge-picker" }, toggle, menu));
  }

  usersControl(field, path, value) {
    const chosen = Array.isArray(value) ? value : [];
    const known = new Map((this.context.users ?? []).map((user) => [user.id, user.name]));
    for (const id of chosen) if (!known.has(id)) known.set(id, `User ${id}`);
    const boxes = [...known].map(([userId, name]) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: String(userId), checked: chosen.includes(userId), onchange: (event) => {
        const now = Array.isArray(this.get(path)) ? this.get(path) : [];
        // Keep the order users were chosen in: weights follow it.
        const next = event.target.checked ? [...now.filter((x) => x !== userId), userId] : now.filter((x) => x !== userId);
        this.set(path, next);
        this.touch(path);
      } }), name));
    return h("fieldset", { class: "user-picker" }, h("legend", {}, field.label), ...boxes);
  }

  listControl(field, path, value) {
    const items = Array.isArray(value) ? value : [];
    const item = field.item ?? { kind: "text", name: "item", label: "Item" };
    const name = singular(field.label);
    const rows = items.map((_, index) => {
      const itemPath = `${path}.${index}`;
      const itemField = { ...item, label: `${name} ${index + 1}`, required: true };
      const inner = item.kind === "object" ? this.objectControl(itemField, itemPath) : this.field(itemField, itemPath, path);
      return h("div", { class: "list-item" }, inner,
        h("button", { type: "button", class: "link-button remove-item", "aria-label": `Remove ${name} ${index + 1}`,
          onclick: () => this.removeItem(path, index) }, "Remove"));
    });
    const add = h("button", { type: "button", class: "add-item", onclick: () => this.addItem(path, item) }, `Add ${name.toLowerCase()}`);
    return h("fieldset", { class: "list-field" }, h("legend", {}, field.label), ...rows, add);
  }

  objectControl(field, path) {
    const children = (field.fields ?? []).filter((f) => f.kind !== "step").map((f) => this.field(f, `${path}.${f.name}`, path));
    return h("fieldset", { class: "object-field" }, h("legend", {}, field.label), ...children);
  }

  /** A free-form mapping (a Dict field): rows of key and value, rebuilt as a whole on each edit. */
  mappingControl(field, path, value) {
    const entries = value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
    const table = h("div", { class: "mapping" });
    const rebuild = () => {
      const out = {};
      for (const row of table.querySelectorAll(".mapping-row")) {
        const [key, val] = row.querySelectorAll("input");
        if (key.value !== "") Object.defineProperty(out, key.value, { value: val.value, enumerable: true, writable: true, configurable: true });
      }
      this.set(path, out);
    };
    const row = (key, val) => h("div", { class: "mapping-row" },
      h("input", { type: "text", value: key, "aria-label": `${field.keys?.label ?? "Key"}`, oninput: rebuild }),
      h("input", { type: "text", value: val ?? "", "aria-label": `${field.values?.label ?? "Value"}`, oninput: rebuild }),
      h("button", { type: "button", class: "link-button", onclick: (event) => { event.target.closest(".mapping-row").remove(); rebuild(); } }, "Remove"));
    table.append(...entries.map(([key, val]) => row(key, String(val))));
    return h("fieldset", { class: "mapping-field" }, h("legend", {}, field.label), table,
      h("button", { type: "button", class: "add-item", onclick: () => table.append(row("", "")) }, "Add a pair"));
  }

  jsonField(path, label, value, id = this.inputId(path || "json")) {
    const area = h("textarea", { id, rows: "6", class: "json-input", spellcheck: "false" });
    area.value = JSON.stringify(value ?? null, null, 2);
    area.addEventListener("input", () => {
      try {
        const parsed = JSON.parse(area.value);
        area.setCustomValidity("");
        if (path === "") {
          this.value = parsed;
          this.onChange(this.value, "");
        } else {
          this.set(path, parsed);
        }
      } catch {
        area.setCustomValidity("Not valid JSON yet.");
      }
    });
    return path === "" ? h("label", { class: "field" }, label, area) : area;
  }

  // --- editing -------------------------------------------------------------------

  set(path, value) {
    this.touched.add(path); // validate as the user types
    this.value = value === undefined ? removePath(this.value, path) : setPath(this.value, path, value);
    this.onChange(this.value, path);
    this.refreshMessages();
  }

  setText(path, text) {
    this.set(path, text);
  }

  setNumber(path, text) {
    const trimmed = text.trim();
    this.set(path, trimmed === "" ? undefined : Number(trimmed));
  }

  touch(path) {
    this.touched.add(path);
    this.refreshMessages();
  }

  addItem(path, item) {
    const items = Array.isArray(this.get(path)) ? this.get(path) : [];
    const blank = item.kind === "object" ? newConfig(item.fields ?? []) : startingValue(item) ?? (item.kind === "integer" ? item.min ?? 1 : "");
    this.set(path, [...items, blank]);
    this.render();
    const added = this.element.querySelector(`[data-path="${CSS.escape(`${path}.${items.length}`)}"] input, [data-path^="${CSS.escape(`${path}.${items.length}.`)}"] input`);
    added?.focus();
  }

  removeItem(path, index) {
    const items = Array.isArray(this.get(path)) ? this.get(path) : [];
    this.set(path, items.filter((_, i) => i !== index));
    this.touched.add(path);
    this.render();
  }

  // --- messages ------------------------------------------------------------------

  /** Server messages keyed by paths inside this config ("message", "branches.0.name"). */
  setServerErrors(errors) {
    this.serverErrors = errors ?? {};
    this.refreshMessages();
  }

  showAll() {
    this.showEverything = true;
    this.refreshMessages();
  }

  /** Problems found in the browser: [{path, message}]. */
  problems() {
    const out = [];
    for (const entry of this.entries) {
      const problem = problemWith(entry.field, this.get(entry.path), this.get(entry.parentPath));
      if (problem) out.push({ path: entry.path, message: problem });
    }
    return out;
  }

  refreshMessages() {
    const shown = new Set();
    for (const entry of this.entries) {
      const local = problemWith(entry.field, this.get(entry.path), this.get(entry.parentPath));
      const server = this.serverErrors[entry.path];
      const visible = local && (this.showEverything || this.touched.has(entry.path)) ? local : null;
      const text = visible ?? (server ? server.join(" ") : "");
      if (server) shown.add(entry.path);
      entry.message.textContent = text;
      entry.wrapper.classList.toggle("is-invalid", Boolean(text));
      for (const input of entry.wrapper.querySelectorAll(":scope > input, :scope > select, :scope > textarea, :scope > div > input, :scope > div > textarea")) {
        input.setAttribute("aria-invalid", String(Boolean(text)));
      }
    }
    const general = this.element.querySelector("[data-form-errors]");
    const rest = Object.entries(this.serverErrors).filter(([path]) => !shown.has(path));
    general?.replaceChildren(...rest.map(([path, messages]) => h("li", {}, path ? `${path}: ${messages.join(" ")}` : messages.join(" "))));
  }
}

function insertAtCaret(area, text) {
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? start;
  area.value = area.value.slice(0, start) + text + area.value.slice(end);
  area.selectionStart = area.selectionEnd = start + text.length;
}

function zones() {
  if (!timeZones) {
    try {
      timeZones = Intl.supportedValuesOf("timeZone");
    } catch {
      timeZones = ["UTC"];
    }
  }
  return timeZones;
}
