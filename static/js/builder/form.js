// Owns one generated config form: its value, which fields were touched, and the messages shown on them.
// The form comes from the API's field descriptors (the same marshmallow schemas the server validates
// with): one input per field, chosen by its kind (formfields.js), with inline validation as you type
// (required, required_if, min/max: formrules.js) and the server's own messages shown on the field they name.

import { h } from "../dom.js";
import { getPath, setPath } from "./model.js";
import { isRequired, isShown, newConfig, startingValue } from "./catalog.js";
import { control, jsonField } from "./formfields.js";
import { problemWith, removePath } from "./formrules.js";

export { problemWith };

export class ConfigForm {
  /**
   * @param {object} options
   *   fields: the descriptors (null: edit the config as JSON)
   *   value: the config
   *   context: {users: [{id, name}], mergeFields: [{label, value}], customFields: [name],
   *     stepOutputs: [{label, value}] (the earlier steps' outputs, for a step's form)}
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
    const body = this.fields === null ? [jsonField(this, "", "Settings (JSON)", this.value)]
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

  /** One field: its label, input, help and message line, remembered for validation. */
  field(field, path, parentPath) {
    const id = this.inputId(path);
    // Not this mode's field: nothing to show or check; it comes back when its sibling changes (see set).
    if (!isShown(field, this.get(parentPath))) return h("div", { class: "field", hidden: true, "data-path": path });
    const message = h("p", { class: "field-message", id: `${id}-message`, "aria-live": "polite" });
    const help = field.help ? h("p", { class: "field-help", id: `${id}-help` }, field.help) : null;
    const input = control(this, field, path, id);
    const describedBy = [help ? `${id}-help` : null, `${id}-message`].filter(Boolean).join(" ");
    for (const inner of input.querySelectorAll?.("input, select, textarea") ?? []) {
      if (!inner.hasAttribute("aria-describedby")) inner.setAttribute("aria-describedby", describedBy);
    }
    if (input.matches?.("input, select, textarea")) input.setAttribute("aria-describedby", describedBy);
    const required = isRequired(field, this.get(parentPath));
    const grouped = ["list", "users", "object"].includes(field.kind) || (field.kind === "boolean");
    // The mark sits beside the label, not in it: the field's name stays just its label.
    const label = grouped ? null : h("label", { for: id, class: "field-label" }, field.label);
    const mark = !grouped && required ? h("span", { class: "required-mark", "aria-hidden": "true" }, "*") : null;
    if (required) input.querySelector?.("input, select, textarea")?.setAttribute("aria-required", "true");
    if (required && input.matches?.("input, select, textarea")) input.setAttribute("aria-required", "true");
    const wrapper = h("div", { class: `field field-${field.kind}`, "data-path": path }, label, mark, input, help, message);
    this.entries.push({ field, path, parentPath, wrapper, message });
    return wrapper;
  }

  // --- editing -------------------------------------------------------------------

  set(path, value) {
    this.touched.add(path); // validate as the user types
    this.value = value === undefined ? removePath(this.value, path) : setPath(this.value, path, value);
    this.onChange(this.value, path);
    if (this.controlsVisibility(path)) this.render();
    else this.refreshMessages();
  }

  /** Whether the field at `path` decides which of its siblings are shown (a wait's mode, say). */
  controlsVisibility(path) {
    const name = path.split(".").pop();
    const walk = (fields) => (fields ?? []).some((f) => f.shown_if?.field === name || walk(f.fields) || walk(f.item?.fields));
    return walk(this.fields);
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
