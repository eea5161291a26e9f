// Version history: every saved version with who saved it and which one is live,
// restoring one (saved again as the newest draft), and a readable diff between two.

import { get, post } from "../api.js";
import { formatTime, h } from "../dom.js";

const KIND_LABELS = { added: "Added", removed: "Removed", changed: "Changed" };

const show = (value) => (value === undefined || value === null ? "—" : typeof value === "string" ? value : JSON.stringify(value));

export class VersionHistory {
  /**
   * @param {HTMLDialogElement} dialog
   * @param {object} options {workflowId, readOnly, confirmDiscard: () => boolean, onRestored(workflow)}
   */
  constructor(dialog, { workflowId, readOnly, confirmDiscard, onRestored }) {
    this.dialog = dialog;
    this.base = `/api/workflows/${workflowId}`;
    this.readOnly = readOnly;
    this.confirmDiscard = confirmDiscard;
    this.onRestored = onRestored;
    this.list = dialog.querySelector("#versions-body");
    this.from = dialog.querySelector("#diff-from");
    this.to = dialog.querySelector("#diff-to");
    this.changes = dialog.querySelector("#diff-changes");
    this.error = dialog.querySelector("#versions-error");
    dialog.querySelector("#diff-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.compare();
    });
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-restore]");
      if (button) this.restore(Number(button.dataset.restore));
    });
  }

  async open() {
    this.error.hidden = true;
    this.changes.replaceChildren();
    this.dialog.showModal();
    try {
      this.versions = await get(`${this.base}/versions`);
    } catch (error) {
      return this.fail(error);
    }
    const latest = this.versions[0]?.number;
    this.list.replaceChildren(...this.versions.map((version) => h("tr", { "data-version": String(version.number) },
      h("td", {}, `v${version.number}`),
      h("td", {}, formatTime(version.created_at)),
      h("td", {}, version.created_by?.name ?? ""),
      h("td", {}, version.is_published ? h("span", { class: "status-badge status-published" }, "Live")
        : version.number === latest ? h("span", { class: "status-badge status-draft" }, "Latest draft") : ""),
      h("td", { class: "row-actions" }, this.readOnly || version.number === latest ? null
        : h("button", { type: "button", "data-restore": String(version.number) }, `Restore v${version.number}`)))));
    const options = (selected) => this.versions.map((version) => h("option", { value: String(version.number),
      selected: version.number === selected }, `v${version.number}`));
    this.to.replaceChildren(...options(latest));
    this.from.replaceChildren(...options(this.versions[1]?.number ?? latest));
    if (this.versions.length > 1) this.compare();
  }

  fail(error) {
    this.error.textContent = error.message;
    this.error.hidden = false;
  }

  async compare() {
    this.error.hidden = true;
    try {
      const diff = await get(`${this.base}/diff?from=${this.from.value}&to=${this.to.value}`);
      this.renderDiff(diff);
    } catch (error) {
      this.changes.replaceChildren();
      this.fail(error);
    }
  }

  renderDiff(diff) {
    if (!diff.changes.length) {
      this.changes.replaceChildren(h("p", { class: "hint" }, `v${diff.from} and v${diff.to} are the same.`));
      return;
    }
    this.changes.replaceChildren(h("p", { class: "hint" }, `From v${diff.from} to v${diff.to}:`),
      h("ul", { class: "diff-list" }, ...diff.changes.map((change) => h("li", { class: `diff-${change.kind}`,
        "data-step-id": change.step_id ?? "" },
      h("span", { class: "diff-kind" }, KIND_LABELS[change.kind] ?? change.kind), " ",
      h("span", { class: "diff-summary" }, change.summary),
      change.details?.length ? h("details", {}, h("summary", {}, "Details"),
        h("table", { class: "diff-details" },
          h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "Before"), h("th", {}, "After"))),
          h("tbody", {}, ...change.details.map((detail) => h("tr", {},
            h("td", {}, detail.path), h("td", {}, show(detail.before)), h("td", {}, show(detail.after))))))) : null))));
  }

  async restore(number) {
    if (!this.confirmDiscard()) return;
    try {
      const workflow = await post(`${this.base}/versions/${number}/restore`);
      this.dialog.close();
      this.onRestored(workflow, number);
    } catch (error) {
      this.fail(error);
    }
  }
}
