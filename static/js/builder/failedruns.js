// "Retry failed runs" in the builder's toolbar: shown to editors while the workflow has failed live runs (the
// workflows list counts them); each run goes on from the step it failed at, on the published version.

import { post } from "../api.js";
import { h } from "../dom.js";
import { $, notice } from "./page.js";

export class FailedRuns {
  constructor(builder) {
    this.b = builder;
    this.button = null;
  }

  wire() {
    if (this.b.readOnly) return;
    this.button = h("button", { type: "button", id: "retry-failed", hidden: true,
      title: "Run every failed run again from the step it failed at (on the published version)",
      onclick: () => this.retryAll() }, "Retry all failed");
    $("open-test").after(this.button);
  }

  failed() {
    return this.b.state.workflow?.counts?.failed ?? 0;
  }

  update() {
    if (!this.button) return;
    const failed = this.failed();
    this.button.hidden = failed === 0;
    this.button.textContent = `Retry all failed (${failed})`;
  }

  async retryAll() {
    const { b } = this;
    this.button.disabled = true;
    try {
      const result = await post(`${b.base}/runs/retry-failed`, { version: "latest" });
      const done = result.retried.length;
      const left = result.skipped.length;
      if (b.state.workflow?.counts) b.state.workflow.counts.failed = left;
      notice(`${done === 1 ? "1 failed run is" : `${done} failed runs are`} running again from their failed step.`
        + (left ? ` ${left} could not be retried: ${result.skipped[0].reason}` : ""));
    } catch (error) {
      notice(error.message);
    } finally {
      this.button.disabled = false;
      this.update();
    }
  }
}
