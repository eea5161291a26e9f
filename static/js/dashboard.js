// The dashboard's Manual Actions widget: pending totals (and per assignee for
// managers), updated live from manual_actions.counts and refetched on reconnect.

import { get } from "./api.js";
import { debounce, h } from "./dom.js";
import { connect, on } from "./live.js";

const widget = document.getElementById("manual-actions-widget");

function renderCounts(counts) {
  if (!widget || !counts) return;
  for (const key of ["pending_total", "pending_calls", "pending_sms"]) {
    const node = widget.querySelector(`[data-count="${key}"]`);
    if (node && typeof counts[key] === "number") node.textContent = String(counts[key]);
  }
  const list = widget.querySelector("[data-by-assignee]");
  if (list && Array.isArray(counts.by_assignee)) {
    list.replaceChildren(...counts.by_assignee.map((row) => h("li", {},
      h("span", { class: "assignee-name" }, row.assignee_name || "Unassigned"),
      h("span", { class: "assignee-pending" }, String(row.pending)))));
    list.closest(".by-assignee").hidden = counts.by_assignee.length === 0;
  }
}

async function refetch() {
  try {
    renderCounts(await get("/api/dashboard/manual-actions"));
  } catch (error) {
    console.warn("dashboard: could not load the counts", error);
  }
}

const refetchSoon = debounce(refetch, 150);

on("manual_actions.counts", (counts) => {
  renderCounts(counts);
  // Per-assignee rows may be left out of a live payload: fetch them rather than show stale ones.
  if (widget?.querySelector("[data-by-assignee]") && !Array.isArray(counts.by_assignee)) refetchSoon();
});
on("connect", refetch); // first connect and every reconnect: never show stale counts
refetch();
connect();
