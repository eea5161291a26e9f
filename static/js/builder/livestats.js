// Owns the live side of the page: the per-step stats and the socket that streams stats and test-run rows for this workflow.

import { get } from "../api.js";
import { connect, on as onLive } from "../live.js";

export class LiveStats {
  constructor(builder) {
    this.b = builder;
  }

  async loadStats() {
    try {
      const data = await get(`${this.b.base}/stats`);
      this.setStats(data);
    } catch (error) {
      console.warn("builder: step stats unavailable", error);
    }
  }

  setStats(data) {
    const { state, canvas, config } = this.b;
    if (data?.workflow_id !== undefined && data.workflow_id !== config.workflow_id) return;
    state.stats = data?.steps ?? {};
    canvas.setState({ stats: state.stats });
  }

  watch() {
    const { config } = this.b;
    const socket = connect();
    const join = () => {
      socket.emit("workflow.watch", { workflow_id: config.workflow_id }, (answer) => {
        document.body.dataset.watching = String(Boolean(answer?.ok));
        if (!answer?.ok) console.warn("builder: not watching this workflow live", answer);
      });
      this.loadStats();
      this.b.testRun.catchUp().catch(() => {});
    };
    onLive("connect", join);
    socket.on("workflow.execution", (row) => {
      if (row?.workflow_id !== undefined && row.workflow_id !== config.workflow_id) return;
      this.b.testRun.accept(row);
    });
    socket.on("workflow.stats", (data) => this.setStats(data));
  }
}
