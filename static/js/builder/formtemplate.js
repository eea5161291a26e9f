// Owns the template field renderer: a textarea plus the menu that inserts merge fields at the caret.

import { h } from "../dom.js";

/** The merge fields to offer: the page's, plus any custom field it does not name, then earlier steps' outputs. */
function mergeOptions(context) {
  // The page's merge fields list the account's custom fields too; add any it does not name.
  const options = [...(context.mergeFields ?? [])];
  const named = new Set(options.map((option) => option.value));
  for (const name of context.customFields ?? []) {
    const value = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `contact.custom.${name}` : `contact.custom[${JSON.stringify(name)}]`;
    if (!named.has(value)) options.push({ label: `${name} (custom field)`, value });
  }
  options.push(...(context.stepOutputs ?? []));
  return options;
}

export function templateControl(form, field, path, id, value) {
  const area = h("textarea", { id, rows: "4", oninput: (event) => form.setText(path, event.target.value),
    onblur: () => form.touch(path) });
  area.value = typeof value === "string" ? value : "";
  const menu = h("div", { class: "merge-menu", hidden: true, role: "menu", "aria-label": "Merge fields" });
  for (const option of mergeOptions(form.context)) {
    menu.append(h("button", { type: "button", role: "menuitem", "data-merge": option.value, onclick: () => {
      insertAtCaret(area, `{{ ${option.value} }}`);
      menu.hidden = true;
      form.setText(path, area.value);
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

function insertAtCaret(area, text) {
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? start;
  area.value = area.value.slice(0, start) + text + area.value.slice(end);
  area.selectionStart = area.selectionEnd = start + text.length;
}
