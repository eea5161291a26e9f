// Owns the inbound-webhook trigger's part of the panel (editors only): the URL with a copy button and
// rotation, and "wait for a sample request", whose JSON fields are picked per contact field into the
// trigger's field_map. The URL carries the workflow's secret, so it is fetched here and never put in
// the graph.

import { get, post } from "../api.js";
import { h } from "../dom.js";

const CONTACT_FIELDS = [
  { target: "phone", label: "Phone" },
  { target: "email", label: "Email" },
  { target: "first_name", label: "First name" },
  { target: "last_name", label: "Last name" },
  { target: "timezone", label: "Time zone" },
];
const POLL_MS = 1000;
const EXAMPLE_MAX = 40; // characters of a sample value shown beside its path

export class HookPanel {
  /**
   * @param {object} options
   *   workflowId
   *   fieldMap(): the trigger's field_map as it stands ({json path: contact field})
   *   onMap(fieldMap): the user picked a field
   *   customFields: custom field names known to the page (used if the custom-fields API cannot be read)
   */
  constructor({ workflowId, fieldMap, onMap, customFields = [] }) {
    this.base = `/api/workflows/${workflowId}/hook`;
    this.fieldMap = fieldMap;
    this.onMap = onMap;
    this.targets = [...CONTACT_FIELDS, ...customFields.map((name) => ({ target: `custom.${name}`, label: name }))];
    this.fields = []; // the sample's [{path, example}]
    this.polling = null;
    this.urlInput = h("input", { id: "hook-url", type: "text", readonly: true, value: "Loading…",
      "aria-label": "Webhook URL", onfocus: (event) => event.target.select() });
    this.urlStatus = h("p", { class: "hint", id: "hook-url-status", "aria-live": "polite" });
    this.listenButton = h("button", { type: "button", id: "hook-listen", onclick: () => this.listen() },
      "Wait for a sample request");
    this.listenStatus = h("p", { class: "hint", id: "hook-listen-status", "aria-live": "polite" });
    this.sample = h("div", { class: "hook-sample", id: "hook-sample" });
    this.element = h("section", { class: "hook-panel", "data-hook-panel": "" },
      h("h3", {}, "Webhook URL"),
      h("p", { class: "hint" }, "Send JSON here with POST to start this workflow for a contact. Keep it secret: "
        + "whoever has it can add contacts."),
      h("div", { class: "hook-url-row" }, this.urlInput,
        h("button", { type: "button", id: "hook-copy", onclick: () => this.copy() }, "Copy")),
      this.urlStatus,
      h("button", { type: "button", class: "link-button", id: "hook-rotate", onclick: () => this.rotate() },
        "Get a new URL (the current one stops working)"),
      h("h3", {}, "Sample request"),
      this.listenButton, this.listenStatus, this.sample);
    this.load();
  }

  async load() {
    try {
      const [hook, sample] = await Promise.all([get(this.base), get(`${this.base}/sample`)]);
      this.showUrl(hook);
      this.loadTargets();
      this.showSample(sample);
      if (sample.listening_until) this.poll();
    } catch (error) {
      this.urlInput.value = "";
      this.urlStatus.textContent = `The URL could not be loaded: ${error.message}`;
    }
  }

  /** Custom fields from Settings > Custom fields, labelled; the page's names if that cannot be read. */
  async loadTargets() {
    try {
      const { fields } = await get("/api/settings/custom-fields");
      this.targets = [...CONTACT_FIELDS, ...fields.map((f) => ({ target: `custom.${f.key}`, label: f.label || f.key }))];
      this.renderMapping();
    } catch {
      // keep the page's names
    }
  }

  showUrl(hook) {
    this.urlInput.value = hook.url;
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.urlInput.value);
      this.urlStatus.textContent = "Copied.";
    } catch {
      // No clipboard API (a page served over plain HTTP) or no permission: select it for Ctrl+C.
      this.urlInput.focus();
      this.urlInput.select();
      const copied = document.execCommand?.("copy");
      this.urlStatus.textContent = copied ? "Copied." : "Press Ctrl+C (⌘C on a Mac) to copy the selected URL.";
    }
  }

  async rotate() {
    if (!window.confirm("Get a new URL? The current one stops working at once; update the systems that use it.")) return;
    try {
      this.showUrl(await post(`${this.base}/rotate`));
      this.urlStatus.textContent = "New URL made: the old one no longer works.";
    } catch (error) {
      this.urlStatus.textContent = `The URL could not be changed: ${error.message}`;
    }
  }

  async listen() {
    try {
      await post(`${this.base}/listen`);
    } catch (error) {
      this.listenStatus.textContent = `Could not start waiting: ${error.message}`;
      return;
    }
    this.fields = [];
    this.sample.replaceChildren();
    this.poll();
  }

  /** Ask every second until the sample arrives, the wait runs out, or the panel is closed. */
  poll() {
    clearTimeout(this.polling);
    this.listenButton.disabled = true;
    this.listenStatus.textContent = "Waiting for a request to the URL above…";
    const tick = async () => {
      if (!this.element.isConnected) return; // the panel was redrawn or closed
      let sample;
      try {
        sample = await get(`${this.base}/sample`);
      } catch {
        this.polling = setTimeout(tick, POLL_MS); // a passing network error: keep waiting
        return;
      }
      if (sample.listening_until) {
        this.polling = setTimeout(tick, POLL_MS);
        return;
      }
      this.listenButton.disabled = false;
      this.listenStatus.textContent = sample.sample ? "" : "No request arrived in time. Wait again to retry.";
      this.showSample(sample);
    };
    this.polling = setTimeout(tick, POLL_MS);
  }

  showSample(sample) {
    if (!sample.sample) return;
    this.fields = sample.fields;
    this.received = sample.received_at;
    this.json = h("details", { class: "hook-sample-json" }, h("summary", {}, "The JSON received"),
      h("pre", { class: "json" }, JSON.stringify(sample.sample, null, 2)));
    this.renderMapping();
  }

  /** One select per contact field, listing the sample's paths (and any path already mapped). */
  renderMapping() {
    if (!this.json) return;
    const map = this.fieldMap() ?? {};
    const rows = this.targets.map(({ target, label }) => {
      const chosen = Object.keys(map).find((path) => map[path] === target) ?? "";
      const paths = this.fields.map((f) => f.path);
      const options = chosen && !paths.includes(chosen) ? [{ path: chosen }, ...this.fields] : this.fields;
      const id = `hook-map-${target.replace(/[^A-Za-z0-9_-]/g, "-")}`;
      return h("div", { class: "hook-map-row", "data-target": target },
        h("label", { for: id }, label),
        h("select", { id, onchange: (event) => this.pick(target, event.target.value) },
          h("option", { value: "" }, "Not mapped"),
          ...options.map((f) => h("option", { value: f.path, selected: f.path === chosen }, optionText(f)))));
    });
    this.sample.replaceChildren(this.json,
      h("p", { class: "hint" }, "Pick the field of the request that fills each contact field:"),
      h("div", { class: "hook-map" }, ...rows));
  }

  pick(target, path) {
    const next = {};
    for (const [source, mapped] of Object.entries(this.fieldMap() ?? {})) {
      // One path fills one contact field, and each contact field comes from one path.
      if (mapped !== target && source !== path) put(next, source, mapped);
    }
    if (path) put(next, path, target);
    this.onMap(next);
    this.renderMapping();
  }
}

// Paths come from the posted JSON: a key like "__proto__" must be an own property, not a prototype.
function put(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function optionText({ path, example }) {
  if (example === undefined) return path;
  const text = typeof example === "string" ? example : JSON.stringify(example);
  return `${path} (${text.length > EXAMPLE_MAX ? `${text.slice(0, EXAMPLE_MAX)}…` : text})`;
}
