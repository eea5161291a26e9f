// Tiny DOM helpers. Data only ever goes in through textContent and attributes,
// never through innerHTML, so whatever users wrote is shown as text.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function setText(id, text) {
  const node = typeof id === "string" ? document.getElementById(id) : id;
  if (node) node.textContent = text ?? "";
  return node;
}

export function show(id, visible = true) {
  const node = typeof id === "string" ? document.getElementById(id) : id;
  if (node) node.hidden = !visible;
  return node;
}

// A message line (error banner, notice): its text, shown only while there is some.
export function showMessage(id, text) {
  setText(id, text);
  return show(id, Boolean(text));
}

// A table cell labelled for the stacked (phone) layout.
export function cell(label, ...children) {
  return h("td", { "data-label": label }, ...children);
}

export function pageConfig() {
  const node = document.getElementById("page-config");
  return node ? JSON.parse(node.textContent) : {};
}

// API times are UTC; naive ones (no offset) are read as UTC too.
export function parseTime(value) {
  if (!value) return null;
  const text = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(value) {
  const date = parseTime(value);
  return date ? dateFormat.format(date) : "";
}

// A contact's display name: first and last name, else the full name the Let's Start card carries,
// else the email or phone, else `fallback`.
export function contactName(contact, fallback = "(no name)") {
  return [contact.first_name, contact.last_name].filter(Boolean).join(" ") || contact.name || contact.email
    || contact.phone || fallback;
}

export const TYPE_LABELS = { call: "Manual Call", sms: "Manual SMS" };
export const STATUS_LABELS = { queued: "Queued", completed: "Completed", deleted: "Deleted" };

export function icon(pathData) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", pathData);
  svg.append(path);
  return svg;
}

export const ICONS = {
  trash: "M9 3h6l1 2h4v2H4V5h4zm-3 6h12l-1 12H7zm4 2v8h1.5v-8zm3.5 0v8H15v-8z",
  phone: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
  sms: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
  user: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-4 0-8 2-8 5v1h16v-1c0-3-4-5-8-5z",
};

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
