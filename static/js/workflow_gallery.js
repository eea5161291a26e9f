// The template gallery of "Create a workflow": Blank, then each template as a card (name, one-line
// description, the pattern's steps), built-in ones first, then the account's own (admins may delete those).
// Cards are radio buttons, so the keyboard moves between them; the dialog's form reads the choice.

import { del, get } from "./api.js";
import { ICONS, h, icon, setText } from "./dom.js";

export class Gallery {
  /**
   * @param {HTMLElement} cards the container holding the Blank card; template cards follow it
   * @param {{canDelete: boolean, onChange: (template: object|null) => void, onError: (message: string) => void}} options
   */
  constructor(cards, { canDelete, onChange, onError }) {
    this.cards = cards;
    this.canDelete = canDelete;
    this.onChange = onChange;
    this.onError = onError;
    this.templates = [];
    this.loaded = null;
    cards.addEventListener("change", () => this.onChange(this.selected()));
  }

  /** Fetch the templates once (again after `reset(true)`). */
  load() {
    this.loaded ??= get("/api/workflow-templates")
      .then((templates) => {
        this.templates = templates;
        this.render();
        setText("gallery-status", "");
      })
      .catch((error) => {
        this.loaded = null;
        setText("gallery-status", `Templates could not be loaded: ${error.message}`);
      });
    return this.loaded;
  }

  /** The chosen template, or null for Blank. */
  selected() {
    const value = this.cards.querySelector("input[name=template]:checked")?.value ?? "";
    return this.templates.find((t) => String(t.id) === value) ?? null;
  }

  render() {
    const blank = this.cards.querySelector(".template-card");
    this.cards.replaceChildren(blank, ...this.templates.map((t) => this.card(t)));
  }

  card(template) {
    const value = String(template.id);
    const descriptionId = `template-${value.replace(/[^A-Za-z0-9-]/g, "-")}-about`;
    const children = [
      h("input", { type: "radio", name: "template", value, "aria-label": template.name,
        "aria-describedby": descriptionId }),
      h("span", { class: "template-name" }, template.name,
        template.kind === "account" ? h("span", { class: "status-badge template-own" }, "Your template") : null),
      h("span", { class: "template-description", id: descriptionId }, template.description || ""),
      h("ol", { class: "template-steps", "aria-label": "Steps" }, ...template.steps.map((s) => h("li", {}, s))),
    ];
    if (this.canDelete && template.kind === "account") {
      children.push(h("button", { type: "button", class: "icon-button template-delete",
        "aria-label": `Delete template ${template.name}`, title: "Delete template",
        onclick: (event) => this.remove(event, template) }, icon(ICONS.trash)));
    }
    return h("label", { class: "template-card", dataset: { templateId: value } }, ...children);
  }

  async remove(event, template) {
    event.preventDefault(); // a click inside the label would also choose the card
    if (!window.confirm(`Delete the template “${template.name}”? Workflows made from it stay.`)) return;
    try {
      await del(`/api/workflow-templates/${template.id}`);
      const wasChosen = this.selected()?.id === template.id;
      this.templates = this.templates.filter((t) => t.id !== template.id);
      this.render();
      if (wasChosen) {
        this.cards.querySelector("input[value='']").checked = true;
        this.onChange(null);
      }
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** Back to Blank; `refetch` when the account's templates changed (one was just saved). */
  reset(refetch = false) {
    if (refetch) this.loaded = null;
    const blank = this.cards.querySelector("input[value='']");
    if (blank) blank.checked = true;
  }
}
