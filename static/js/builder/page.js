// Owns nothing: stateless access to the builder page's fixed elements (by id) and its message lines.

import { h } from "../dom.js";

export const $ = (id) => document.getElementById(id);

/** The polite one-line notice under the toolbar ("Added Send SMS."); empty text hides it. */
export function notice(text) {
  const node = $("builder-notice");
  node.textContent = text;
  node.hidden = !text;
}

/** The error banner, with an optional list of items under it; empty text hides it. */
export function banner(text, items = []) {
  const node = $("builder-error");
  node.replaceChildren(text, items.length ? h("ul", {}, ...items.map((item) => h("li", {}, item))) : "");
  node.hidden = !text;
}

/** The hint over the canvas while a slot is being chosen; empty text hides it. */
export function hint(text) {
  $("canvas-hint").textContent = text;
  $("canvas-hint").hidden = !text;
}
