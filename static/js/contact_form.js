// The add / edit contact dialog (templates/contacts/_contact_form.html), on the Contacts list and a contact's
// page. Custom fields come from the account's definitions (GET /api/settings/custom-fields); without any (or
// without the endpoint) the contact's own keys are edited as text. The API decides: its 422 is shown next to each field it names.

import { api, get, post } from "./api.js";
import { h, showMessage } from "./dom.js";

const PREFIX = "contact-form";
const INPUT_TYPES = { number: "number", date: "date", email: "email", phone: "tel", text: "text" };

// The account's custom field definitions, read once per page; null when the endpoint is not there (404).
let definitions;
async function customFieldDefinitions() {
  if (definitions === undefined) {
    try {
      definitions = (await get("/api/settings/custom-fields")).fields ?? [];
    } catch (error) {
      if (error.status !== 404) throw error;
      definitions = null;
    }
  }
  return definitions;
}

const asText = (value) => (value === null || value === undefined ? "" : String(value));

function customInput({ key, type, choices }, value, index) {
  const id = `${PREFIX}-custom-${index}`;
  const attrs = { id, name: `custom_fields.${key}`, "aria-describedby": `${id}-error` };
  const input = type === "choice"
    ? h("select", attrs, h("option", { value: "" }, "—"), ...(choices ?? []).map((c) => h("option", { value: c }, c)))
    : h("input", { ...attrs, type: INPUT_TYPES[type] ?? "text", maxlength: 1000, step: type === "number" ? "any" : null });
  input.value = asText(value);
  input.dataset.original = input.value; // as the input shows it: unchanged means "leave it"
  return input;
}

export class ContactForm {
  /**
   * @param {object} options {assignees: [{id, name}], onSaved(contact, created)}; the assignee picker is only
   *   in the page for admins and managers.
   */
  constructor({ assignees = [], onSaved }) {
    this.dialog = document.getElementById("contact-dialog");
    this.assignees = assignees;
    this.onSaved = onSaved;
    this.contact = null;
    this.form = null;
    this.custom = []; // [{key, label, type, choices, input}]
    this.dialog.addEventListener("close", () => {
      this.dialog.replaceChildren();
      this.form = null;
    });
  }

  // A fresh form from the page's <template>, in the dialog.
  mount() {
    const template = document.getElementById(`${PREFIX}-template`);
    this.dialog.replaceChildren(template.content.cloneNode(true));
    this.form = document.getElementById(PREFIX);
    this.form.assigned_user_id?.append(...this.assignees.map((u) => h("option", { value: u.id }, u.name)));
    this.form.addEventListener("submit", (event) => {
      if (event.submitter?.value !== "confirm") return;
      event.preventDefault();
      this.save();
    });
  }

  /** Open for `contact` (edit) or a new contact (null); `focus` names the field to start in. */
  async open(contact, { focus = "first_name" } = {}) {
    if (this.dialog.open) return;
    this.contact = contact;
    this.mount();
    document.getElementById(`${PREFIX}-title`).textContent = contact ? "Edit contact" : "Add contact";
    const form = this.form;
    for (const name of ["first_name", "last_name", "phone", "email"]) form[name].value = asText(contact?.[name]);
    form.timezone.value = contact?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
    if (!form.timezone.value) form.timezone.value = "UTC"; // a zone the list does not have
    form.tags.value = (contact?.tags ?? []).join(", ");
    if (form.assigned_user_id) form.assigned_user_id.value = asText(contact?.assigned_user_id);
    form.dnd_sms.checked = Boolean(contact?.dnd_sms);
    form.dnd_call.checked = Boolean(contact?.dnd_call);
    form.dnd_email.checked = Boolean(contact?.dnd_email);
    try {
      this.renderCustom(await customFieldDefinitions(), contact?.custom_fields ?? {});
    } catch (error) {
      this.renderCustom(null, contact?.custom_fields ?? {});
      showMessage(`${PREFIX}-error`, `Custom fields could not be loaded: ${error.message}`);
    }
    this.dialog.showModal();
    (document.getElementById(`${PREFIX}-${focus}`) ?? form.first_name).focus();
  }

  renderCustom(defined, values) {
    // An account that defines no fields keeps free-form keys: the contact's own are edited as text.
    const fields = defined?.length ? defined
      : Object.keys(values).sort().map((key) => ({ key, label: key, type: "text" }));
    this.custom = fields.map((field, index) => ({ ...field, input: customInput(field, values[field.key], index) }));
    document.getElementById(`${PREFIX}-custom-list`).replaceChildren(...this.custom.map(({ key, label, input }) =>
      h("div", { class: "form-field" }, h("label", { for: input.id }, label || key), input,
        h("p", { class: "field-error", id: `${input.id}-error`, role: "alert", hidden: true }))));
    document.getElementById(`${PREFIX}-custom`).hidden = this.custom.length === 0;
  }

  payload() {
    const form = this.form;
    const data = {
      first_name: form.first_name.value.trim(),
      last_name: form.last_name.value.trim(),
      phone: form.phone.value.trim() || null,
      email: form.email.value.trim() || null,
      timezone: form.timezone.value,
      tags: form.tags.value.split(",").map((t) => t.trim()).filter(Boolean),
      dnd_sms: form.dnd_sms.checked,
      dnd_call: form.dnd_call.checked,
      dnd_email: form.dnd_email.checked,
    };
    if (form.assigned_user_id) data.assigned_user_id = Number(form.assigned_user_id.value) || null;
    // Only what changed: an untouched value keeps its type (a number stays a number), an emptied one is removed.
    const custom = {};
    for (const { key, type, input } of this.custom) {
      if (input.value === input.dataset.original) continue;
      const text = input.value.trim();
      custom[key] = text === "" ? null : type === "number" && Number.isFinite(Number(text)) ? Number(text) : text;
    }
    if (Object.keys(custom).length) data.custom_fields = custom;
    return data;
  }

  async save() {
    this.clearErrors();
    const button = document.getElementById(`${PREFIX}-save`);
    button.disabled = true;
    try {
      const created = !this.contact;
      const saved = created ? await post("/api/contacts", this.payload())
        : await api("PATCH", `/api/contacts/${this.contact.id}`, this.payload());
      this.dialog.close();
      this.onSaved?.(saved, created);
    } catch (error) {
      this.showErrors(error);
    } finally {
      button.disabled = false;
    }
  }

  clearErrors() {
    showMessage(`${PREFIX}-error`, null);
    for (const line of this.form.querySelectorAll(".field-error")) showMessage(line, null);
    for (const input of this.form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  // Each of the API's field errors beside its input ("tags.3" under Tags, "custom_fields.plan" under that
  // field); what names no input goes in the banner at the top.
  showErrors(error) {
    const unplaced = [];
    let first = null;
    for (const [path, messages] of Object.entries(error.fields ?? {})) {
      const text = [].concat(messages).join(" ");
      const input = this.inputFor(path);
      if (!input) {
        unplaced.push(path === "_schema" ? text : `${path}: ${text}`);
        continue;
      }
      input.setAttribute("aria-invalid", "true");
      showMessage(document.getElementById(`${input.id}-error`), text);
      first ??= input;
    }
    if (unplaced.length || !first) showMessage(`${PREFIX}-error`, unplaced.join(" ") || error.message);
    first?.focus();
  }

  inputFor(path) {
    if (path.startsWith("custom_fields.")) {
      const key = path.slice("custom_fields.".length);
      return this.custom.find((field) => field.key === key || key.startsWith(`${field.key}.`))?.input ?? null;
    }
    const name = path.split(".")[0];
    const input = document.getElementById(`${PREFIX}-${name}`);
    return input && document.getElementById(`${PREFIX}-${name}-error`) ? input : null;
  }
}
