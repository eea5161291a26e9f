// The palette of action types (grouped by category, with a search box) and the
// "Add step" menu that a "+" slot opens: the same list, driven by the keyboard.

import { h } from "../dom.js";

function typeItem(type, attrs) {
  const category = type.category.toLowerCase().replace(/[^a-z]+/g, "-");
  return h("li", { class: `palette-item cat-${category}`, "data-type": type.type, title: type.description ?? "", ...attrs },
    h("span", { class: "palette-dot", "aria-hidden": "true" }),
    h("span", { class: "palette-label" }, type.label));
}

/** The sidebar: drag an item onto a slot, or press Enter on it and pick a slot. */
export class Palette {
  constructor(root, catalog, { onPick }) {
    this.root = root;
    this.catalog = catalog;
    this.onPick = onPick;
    this.search = root.querySelector("[data-palette-search]");
    this.list = root.querySelector("[data-palette-list]");
    this.search.addEventListener("input", () => this.render());
    this.list.addEventListener("keydown", (event) => {
      const item = event.target.closest(".palette-item");
      if (item && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        this.onPick(item.dataset.type);
      }
    });
    this.render();
  }

  render() {
    const groups = this.catalog.groups(this.search.value);
    this.list.replaceChildren(...groups.map((group) => h("section", { class: "palette-group" },
      h("h3", {}, group.name),
      h("ul", { role: "list" }, ...group.types.map((type) => typeItem(type, {
        tabindex: "0", role: "button", "data-drag": "palette",
        "aria-label": `${type.label}: drag onto a + or press Enter to choose where`,
      }))))));
    if (!groups.length) this.list.append(h("p", { class: "hint" }, "No action matches."));
  }
}

/** The "Add step" menu: a search box over a listbox; arrows move, Enter adds, Escape closes. */
export class AddStepMenu {
  constructor(dialog, catalog, { onChoose }) {
    this.dialog = dialog;
    this.catalog = catalog;
    this.onChoose = onChoose;
    this.search = dialog.querySelector("[data-menu-search]");
    this.list = dialog.querySelector("[data-menu-list]");
    this.title = dialog.querySelector("[data-menu-title]");
    this.active = 0;
    this.search.addEventListener("input", () => { this.active = 0; this.render(); });
    this.search.addEventListener("keydown", (event) => this.onKey(event));
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(option.dataset.type);
    });
    dialog.addEventListener("close", () => this.returnFocus?.focus());
  }

  open(slot, label, returnFocus) {
    this.slot = slot;
    this.returnFocus = returnFocus;
    this.title.textContent = `Add a step after ${label}`;
    this.search.value = "";
    this.active = 0;
    this.render();
    this.dialog.showModal();
    this.search.focus();
  }

  options() {
    return [...this.list.querySelectorAll("[role=option]")];
  }

  render() {
    const groups = this.catalog.groups(this.search.value);
    let index = 0;
    this.list.replaceChildren(...groups.map((group) => h("li", { role: "presentation", class: "menu-group" },
      h("span", { class: "menu-group-name", role: "presentation" }, group.name),
      h("ul", { role: "group", "aria-label": group.name }, ...group.types.map((type) => {
        const id = `add-step-option-${index}`;
        const item = typeItem(type, { role: "option", id, "aria-selected": String(index === this.active) });
        index += 1;
        return item;
      })))));
    const options = this.options();
    this.search.setAttribute("aria-activedescendant", options[this.active]?.id ?? "");
    options[this.active]?.scrollIntoView({ block: "nearest" });
  }

  onKey(event) {
    const count = this.options().length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!count) return;
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      this.render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const option = this.options()[this.active];
      if (option) this.choose(option.dataset.type);
    }
  }

  choose(type) {
    const slot = this.slot;
    this.returnFocus = null; // the caller focuses the new step
    this.dialog.close();
    this.onChoose(type, slot);
  }
}
