// Owns choosing a field's input by its kind, and the renderers for the single-input kinds (text, number, choice, JSON…).

import { get } from "../api.js";
import { h } from "../dom.js";
import { choiceListControl, listControl, mappingControl, objectControl, usersControl } from "./formgroups.js";
import { customValueProblem, mergeProblem } from "./formrules.js";
import { templateControl } from "./formtemplate.js";
import { workflowControl } from "./formworkflows.js";

const CONDITION_FIELDS = ["first_name", "last_name", "email", "phone", "timezone", "assigned_user_id", "tags", "engagement_score"];
const UPDATABLE_FIELDS = ["first_name", "last_name", "email", "timezone"]; // update_contact_field's STANDARD_FIELDS
const CUSTOM_FIELDS_PATH = "/api/settings/custom-fields";
const CUSTOM_VALUES_PATH = "/api/settings/custom-values";

/** The account's custom fields [{key, label, type, choices}], read once per page (kept on the shared context). */
function definedFields(form) {
  form.context.definedFields ??= get(CUSTOM_FIELDS_PATH).then((body) => body.fields, () => []);
  return form.context.definedFields;
}

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
      return checkedTemplate(form, field, path, id, value);
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
    case "time": // "HH:MM", a wall-clock time (a wait's window)
      return h("input", { id, type: "time", step: "60", value: typeof value === "string" ? value : "",
        oninput: (event) => form.setText(path, event.target.value), onblur: () => form.touch(path) });
    case "users":
      return usersControl(form, field, path, value);
    case "workflow":
    case "workflows":
      return workflowControl(form, field, path, id, value);
    case "list": // a list of choices (a wait window's days) is picked as a set of checkboxes
      return field.item?.kind === "choice" ? choiceListControl(form, field, path, value) : listControl(form, field, path, value);
    case "object":
      return field.fields?.length || !field.values ? objectControl(form, field, path)
        : mappingControl(form, field, path, value);
    case "condition_field":
    case "time_zone":
      return suggestedText(form, field, path, id, value);
    case "text":
      if (field.suggest === "contact_fields") return suggestedText(form, field, path, id, value);
      if (field.suggest === "custom_values") return customValueKey(form, path, id, value);
      if (field.name === "value" && /(^|\.)conditions\.\d+\.value$/.test(path)) return conditionValue(form, path, id, value);
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
  const prefix = field.kind === "condition_field" ? "contact." : "";
  const standard = field.kind === "time_zone" ? TIME_ZONES
    : field.kind === "condition_field" ? CONDITION_FIELDS.map((name) => `contact.${name}`) : UPDATABLE_FIELDS;
  const sampled = field.kind === "time_zone" ? [] : (form.context.customFields ?? []).map((name) => `${prefix}custom.${name}`);
  const list = h("datalist", { id: listId }, ...[...standard, ...sampled].map((option) => h("option", { value: option })));
  if (field.kind !== "time_zone") {
    // The account's defined custom fields, by label, as soon as they are read.
    definedFields(form).then((fields) => {
      const have = new Set([...list.options].map((option) => option.value));
      for (const defined of fields) {
        const option = `${prefix}custom.${defined.key}`;
        if (have.has(option)) list.querySelector(`option[value="${CSS.escape(option)}"]`)?.setAttribute("label", defined.label);
        else list.append(h("option", { value: option, label: defined.label }));
      }
    });
  }
  return h("div", { class: "suggested" }, textInput(form, path, id, value, { list: listId, autocomplete: "off" }), list);
}

/** The account's custom values [{key, value}], read once per page (kept on the shared context). */
function definedValues(form) {
  form.context.customValues ??= get(CUSTOM_VALUES_PATH).then((body) => body.values, () => []);
  return form.context.customValues;
}

/** A custom value's key (Update Custom Value), suggesting the account's keys with their current values. */
function customValueKey(form, path, id, value) {
  const listId = `${id}-options`;
  const list = h("datalist", { id: listId });
  definedValues(form).then((values) => list.replaceChildren(
    ...values.map((item) => h("option", { value: item.key, label: item.value.slice(0, 60) }))));
  return h("div", { class: "suggested" }, textInput(form, path, id, value, { list: listId, autocomplete: "off",
    spellcheck: "false" }), list);
}

/** A condition's value, suggesting the choices of the choice field the condition reads (looked up on focus,
 * as the field beside it may have changed since). */
function conditionValue(form, path, id, value) {
  const listId = `${id}-options`;
  const list = h("datalist", { id: listId });
  const input = textInput(form, path, id, value, { list: listId, autocomplete: "off" });
  input.addEventListener("focus", async () => {
    const read = String(form.get(path.replace(/value$/, "field")) ?? "");
    const defined = (await definedFields(form)).find((f) => read === `contact.custom.${f.key}`);
    list.replaceChildren(...(defined?.choices ?? []).map((choice) => h("option", { value: choice })));
  });
  return h("div", { class: "suggested" }, input, list);
}

/** The template textarea, telling while typing which merge fields name nothing (the save would refuse them). */
function checkedTemplate(form, field, path, id, value) {
  const control = templateControl(form, field, path, id, value);
  const note = h("p", { class: "merge-check", id: `${id}-merge`, "aria-live": "polite",
    "data-merge-check": "" });
  const check = async () => {
    const keys = (await definedFields(form)).map((defined) => defined.key);
    const text = form.get(path);
    note.textContent = mergeProblem(text, keys)
      ?? customValueProblem(text, (await definedValues(form)).map((item) => item.key)) ?? "";
  };
  control.querySelector("textarea")?.addEventListener("input", check);
  control.addEventListener("click", check); // a merge field inserted from the menu
  check();
  control.append(note);
  return control;
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
