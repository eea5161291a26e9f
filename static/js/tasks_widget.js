// The dashboard's Tasks widget: open and overdue tasks the viewer sees (GET /api/tasks/counts), read again
// whenever a live task event arrives and after every (re)connect.

import { get } from "./api.js";
import { debounce } from "./dom.js";
import { connect, on } from "./live.js";

const widget = document.getElementById("tasks-widget");

async function refresh() {
  try {
    const counts = await get("/api/tasks/counts");
    for (const key of ["open", "overdue"]) {
      const node = widget.querySelector(`[data-task-count="${key}"]`);
      if (node && typeof counts[key] === "number") node.textContent = String(counts[key]);
    }
    widget.dataset.loaded = "true";
  } catch (error) {
    console.warn("dashboard: could not load the task counts", error);
  }
}

const refreshSoon = debounce(refresh, 150);
if (widget) {
  const socket = connect();
  for (const name of ["task.created", "task.updated", "task.deleted"]) socket.on(name, refreshSoon);
  on("connect", refreshSoon);
  // Overdue is a matter of time as well as of events: look again each minute.
  setInterval(refreshSoon, 60_000);
  refresh();
}
