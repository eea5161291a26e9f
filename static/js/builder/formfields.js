// Owns choosing a field's input by its kind, and the renderers for the single-input kinds (text, number, choice, JSON…).

import { h } from "../dom.js";
import { listControl, mappingControl, objectControl, usersControl } from "./formgroups.js";
import { templateControl } from "./formtemplate.js";

const CONDITION_FIELDS = ["first_name", "last_name", "email", "phone", "timezone", "assigned_user_id", "tags"];

// Read once: the browser's list does not change while the page is open.
const TIME_ZONES = Object.freeze((() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
})());

/** The input (or group of inputs) for one field of `form`, showing the value at `path`. */
export function control(form, field, path, id) {
  const value = form.get(path);
  switch (field.kind) {
    case "template":
      return templateControl(form, field, path, id, value);
    case "integer":
      return h("input", { id, type: "number", step: "1", min: field.min, max: field.max, value: value ?? "",
        oninput: (event) => form.setNumber(path, event.target.value), onblur: () => form.touch(path) });
    case "boolean":
      return h("label", { class: "check" },
        h("input", { id, type: "checkbox", checked: value === true,
          onchange: (event) => form.set(path, event.target.checked) }), field.label);
    case "choice":
      return choiceControl(form, field, path, id, value);
    case "datetime":
      return h("input", { id, type: "datetime-local", step: "1", value: typeof value === "string" ? value.slice(0, 19) : "",
        oninput: (event) => form.setText(path, event.target.value), onblur: () => form.touch(path) });
    case "users":
      return usersControl(form, field, path, value);
    case "list":
      return listControl(form, field, path, value);
    case "object":
      return field.fields?.length || !field.values ? objectControl(form, field, path)
        : mappingControl(form, field, path, value);
    case "condition_field":
    case "time_zone":
      return suggestedText(form, field, path, id, value);
    case "text":
      return textInput(form, path, id, value);
    default:
      return jsonField(form, path, field.label, value, id);
  }
}

function textInput(form, path, id, value, attrs = {}) {
  const shown = value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  return h("input", { id, type: "text", value: shown, ...attrs,
    oninput: (event) => form.setText(path, event.target.value), onblur: () => form.touch(path) });
}

function suggestedText(form, field, path, id, value) {
  const listId = `${id}-options`;
  const options = field.kind === "time_zone" ? TIME_ZONES
    : [...CONDITION_FIELDS.map((name) => `contact.${name}`),
      ...(form.context.customFields ?? []).map((name) => `contact.custom.${name}`)];
  return h("div", { class: "suggested" }, textInput(form, path, id, value, { list: listId, autocomplete: "off" }),
    h("datalist", { id: listId }, ...options.map((option) => h("option", { value: option }))));
}

function choiceControl(form, field, path, id, value) {
  const choices = [...(field.choices ?? [])];
  if (value !== undefined && value !== null && !choices.some((c) => c.value === value)) {
    choices.unshift({ value, label: String(value) });
  }
  const select = h("select", { id, onchange: (event) => {
    const choice = event.target.value === "" ? null : choices[Number(event.target.value)];
    form.set(path, choice ? choice.value : undefined);
  } },
  value === undefined || value === null ? h("option", { value: "" }, "Choose…") : null,
  ...choices.map((choice, index) => h("option", { value: String(index), selected: choice.value === value }, choice.label)));
  return select;
}

/** A JSON textarea: for fields without a kind of their own, or the whole config (path ""). */
export function jsonField(form, path, label, value, id = form.inputId(path || "json")) {
  const area = h("textarea", { id, rows: "6", class: "json-input", spellcheck: "false" });
  area.value = JSON.stringify(value ?? null, null, 2);
  area.addEventListener("input", () => {
    try {
      const parsed = JSON.parse(area.value);
      area.setCustomValidity("");
      if (path === "") {
        form.value = parsed;
        form.onChange(form.value, "");
      } else {
        form.set(path, parsed);
      }
    } catch {
      area.setCustomValidity("Not valid JSON yet.");
    }
  });
  return path === "" ? h("label", { class: "field" }, label, area) : area;
}
