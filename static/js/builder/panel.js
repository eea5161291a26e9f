// The side panel: the selected step's name and generated config form, or the
// trigger's type, config and the workflow's settings. Edits go straight to the
// model through the callbacks; the panel never holds a copy that can drift.

import { h } from "../dom.js";
import { ConfigForm } from "./form.js";
import { HookPanel } from "./hookpanel.js";
import { TRIGGER_ID } from "./canvas.js";
import { exitsOf } from "./model.js";
import { OUTCOME_LABELS, runDetails } from "./runlog.js";
import { sendWindowControl } from "./sendwindow.js";
import { stepOutputOptions } from "./stepoutputs.js";

// Workflow settings are part of the graph but have no type of their own to describe them.
const SETTINGS_FIELDS = [
  { name: "allow_reentry", kind: "boolean", label: "Allow re-entry", required: false, default: false,
    help: "A contact may enter again once their previous run has finished." },
  { name: "stop_on_response", kind: "boolean", label: "Stop when the contact replies", required: false, default: false },
  { name: "notify_on_failure", kind: "users", label: "When a run fails, notify", required: false,
    help: "Each of them gets an internal notification with the contact and the error." },
];


export class Panel {
  /**
   * @param {HTMLElement} root the panel element (hidden until something is selected)
   * @param {object} options {catalog, context, readOnly, on: {config, name, trigger, settings, target, move, remove, close}}
   */
  constructor(root, { catalog, context, readOnly, workflowId, on }) {
    this.root = root;
    this.workflowId = workflowId; // for the webhook trigger's URL
    this.catalog = catalog;
    this.context = context;
    this.readOnly = readOnly;
    this.on = on;
    this.body = root.querySelector("[data-panel-body]");
    this.title = root.querySelector("[data-panel-title]");
    this.subtitle = root.querySelector("[data-panel-subtitle]");
    root.querySelector("[data-panel-close]").addEventListener("click", () => this.on.close());
    this.current = null; // step id, TRIGGER_ID or null
    this.forms = [];
  }

  get isOpen() {
    return !this.root.hidden && this.current !== null;
  }

  close() {
    this.current = null;
    this.root.hidden = true;
    this.body.replaceChildren();
    this.forms = [];
  }

  /** Show a step or the trigger. `errors` maps paths inside the step ("config.message") to messages. */
  show(model, id, { errors = {}, run = null, focus = false } = {}) {
    this.current = id;
    this.root.hidden = false;
    if (id === TRIGGER_ID) this.showTrigger(model, errors);
    else this.showStep(model, id, errors, run);
    if (focus) this.body.querySelector("input, select, textarea")?.focus();
  }

  /** After undo/redo: redraw whatever is open, or close if its step is gone. */
  refresh(model, options) {
    if (this.current === null) return;
    if (this.current !== TRIGGER_ID && !model.steps.has(this.current)) {
      this.on.close();
      return;
    }
    const focused = document.activeElement?.id;
    this.show(model, this.current, options);
    if (focused) document.getElementById(focused)?.focus();
  }

  setErrors(errors) {
    const claimed = new Set();
    for (const [form, prefix] of this.forms) {
      const local = {};
      for (const [path, messages] of Object.entries(errors)) {
        if (!path.startsWith(`${prefix}.`)) continue;
        local[path.slice(prefix.length + 1)] = messages;
        claimed.add(path);
      }
      form.setServerErrors(local);
      if (Object.keys(local).length) form.showAll();
    }
    const general = this.body.querySelector("[data-step-errors]");
    const rest = Object.entries(errors).filter(([path]) => !claimed.has(path));
    general?.replaceChildren(...rest.map(([path, messages]) => h("li", {}, messageFor(path, messages))));
  }

  showStep(model, id, errors, run) {
    const step = model.steps.get(id);
    const label = this.catalog.label(step.type);
    this.title.textContent = step.name || label;
    this.subtitle.textContent = `${label} · ${id}`;
    const nameInput = h("input", { id: "step-name", type: "text", value: step.name ?? "", maxlength: "200",
      placeholder: label, disabled: this.readOnly,
      oninput: (event) => {
        this.title.textContent = event.target.value || label;
        this.on.name(id, event.target.value);
      } });
    // The merge menu offers the outputs of the steps that run before this one on every path.
    const context = { ...this.context, stepOutputs: stepOutputOptions(model, id, this.catalog) };
    const form = new ConfigForm({
      fields: this.catalog.fields(step.type), value: step.config ?? {}, context, idPrefix: `step-${id}`,
      readOnly: this.readOnly, onChange: (config, path) => this.on.config(id, config, path),
    });
    this.forms = [[form, "config"]];
    const description = this.catalog.actions.get(step.type)?.description;
    this.body.replaceChildren(...[
      description ? h("p", { class: "hint panel-description" }, description) : null,
      h("ul", { class: "form-errors", role: "alert", "data-step-errors": "" }),
      h("label", { for: "step-name", class: "field-label" }, "Step name"), nameInput,
      form.element,
      this.gotoPicker(model, id, step),
      run ? runDetails(run, this.catalog, this.context) : null,
      this.readOnly ? null : h("div", { class: "panel-actions" },
        h("button", { type: "button", "data-panel-action": "move", onclick: () => this.on.move(id) }, "Move"),
        h("button", { type: "button", class: "danger", "data-panel-action": "delete", onclick: () => this.on.remove(id) },
          "Delete step")),
    ].filter(Boolean)); // replaceChildren would write out a null as "null"
    this.setErrors(errors);
  }

  /** A Go To's target is a step, chosen here by name (the canvas draws the jump). */
  gotoPicker(model, id, step) {
    const exit = exitsOf(step, this.catalog.specOf(step.type)).find((candidate) => candidate.jump);
    if (!exit) return null;
    // The "On failure" exit of a step that reaches outside is picked the same way; none: the run fails.
    const inputId = exit.failure ? "failure-target" : "goto-target";
    const select = h("select", { id: inputId, disabled: this.readOnly, onchange: (event) => {
      this.on.target(id, exit.key, event.target.value || null);
    } }, h("option", { value: "" }, exit.failure ? "None: the run fails" : "Choose a step…"),
    ...[...model.steps].filter(([other]) => other !== id).map(([other, s]) => h("option", {
      value: other, selected: other === exit.target }, `${s.name || this.catalog.label(s.type)} (${other})`)));
    return h("div", { class: "field", "data-path": exit.key.replace(/^config\./, "") },
      h("label", { for: inputId, class: "field-label" }, exit.failure ? "On failure, go to step" : "Go to step"), select);
  }

  showTrigger(model, errors) {
    const trigger = model.top.trigger ?? { type: "manual", config: {} };
    this.title.textContent = "Trigger";
    this.subtitle.textContent = "What starts this workflow";
    const types = [...this.catalog.triggers.values()];
    const select = h("select", { id: "trigger-type", disabled: this.readOnly, onchange: (event) => {
      this.on.trigger(this.catalog.newTrigger(event.target.value), "type");
    } }, ...types.map((type) => h("option", { value: type.type, selected: type.type === trigger.type }, type.label)));
    if (!types.some((type) => type.type === trigger.type)) select.prepend(h("option", { value: trigger.type, selected: true }, trigger.type));
    const form = new ConfigForm({
      fields: this.catalog.triggerFields(trigger.type), value: trigger.config ?? {}, context: this.context,
      idPrefix: "trigger", readOnly: this.readOnly,
      onChange: (config, path) => this.on.trigger({ ...trigger, config }, `config.${path}`),
    });
    const settings = new ConfigForm({
      fields: SETTINGS_FIELDS, value: model.top.settings ?? {}, context: this.context, idPrefix: "settings",
      readOnly: this.readOnly, onChange: (value) => this.on.settings(value),
    });
    this.forms = [[form, "trigger.config"], [settings, "settings"]];
    // The webhook's URL is for editors only (it carries the secret); picked fields go into field_map.
    const hook = trigger.type === "inbound_webhook" && !this.readOnly && this.workflowId ? new HookPanel({
      workflowId: this.workflowId, customFields: this.context.customFields ?? [],
      fieldMap: () => form.value.field_map ?? {},
      onMap: (fieldMap) => { form.set("field_map", fieldMap); form.render(); },
    }) : null;
    this.body.replaceChildren(...[
      h("ul", { class: "form-errors", role: "alert", "data-step-errors": "" }),
      h("label", { for: "trigger-type", class: "field-label" }, "Trigger"), select,
      form.element,
      ...(hook ? [hook.element] : []),
      h("h3", {}, "Workflow settings"), settings.element,
      sendWindowControl(settings.value.send_window, {
        readOnly: this.readOnly, onChange: (window) => settings.set("send_window", window ?? undefined),
      }),
    ]);
    this.setErrors(errors);
  }
}

function messageFor(path, messages) {
  const text = messages.join(" ");
  if (path === "" || path === "start") return text;
  return `${path.split(".").filter((part) => !/^\d+$/.test(part)).pop().replace(/_/g, " ")}: ${text}`;
}

export { OUTCOME_LABELS, runDetails };
