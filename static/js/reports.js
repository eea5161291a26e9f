// Reports: call outcomes, manual actions completed per agent per day, and a workflow's funnel, read
// over /api/reports/* for the chosen days (in the viewer's time zone) and drawn with the vendored
// Chart.js (window.Chart, static/vendor/chart.js), each with its numbers in a table beside it.
// Completions arrive live (manual_action.updated): the two day-based reports are refetched, debounced.

import { ApiError, get } from "./api.js";
import { cell, debounce, h, pageConfig, setText, showMessage } from "./dom.js";
import { connect, on } from "./live.js";
import { safeZone, toLocalInput, zoneLabel } from "./tz.js";

const config = pageConfig();
const zone = safeZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
const form = document.getElementById("report-filters");
const fromInput = document.getElementById("report-from");
const toInput = document.getElementById("report-to");
const workflowSelect = document.getElementById("funnel-workflow");
const charts = new Map();
const DEFAULT_DAYS = 30;
const COLORS = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
  "#ea580c", "#475569"];

const outcomeLabel = (code) => config.outcomes?.[code] ?? code.replaceAll("_", " ");
const color = (i) => COLORS[i % COLORS.length];

function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function query() {
  return new URLSearchParams({ from: fromInput.value, to: toInput.value, tz: zone }).toString();
}

// One chart per canvas, replaced on every render (Chart.js keeps its own state per canvas).
function draw(id, chartConfig) {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id);
  if (!window.Chart || !canvas) return;
  charts.set(id, new window.Chart(canvas, {
    ...chartConfig,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...chartConfig.options },
  }));
}

// Days stacked by outcome or agent; ticks say "11-30" (the tooltip keeps the whole date).
const stacked = {
  x: { stacked: true, ticks: { callback(value) { return this.getLabelForValue(value).slice(5); } } },
  y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
};

function fillTable(id, head, rows) {
  const table = document.getElementById(id);
  if (head) table.tHead.replaceChildren(h("tr", {}, ...head.map((text, i) =>
    h("th", { scope: "col", class: i ? "num" : null }, text))));
  const labels = head ?? [...table.tHead.querySelectorAll("th")].map((th) => th.textContent);
  const body = rows.length ? rows.map((row) => h("tr", {}, ...row.map((value, i) =>
    Object.assign(cell(labels[i] ?? "", String(value)), { className: i ? "num" : "" }))))
    : [h("tr", {}, h("td", { colspan: labels.length, class: "empty" }, "Nothing in these days."))];
  table.tBodies[0].replaceChildren(...body);
}

function renderCalls(report) {
  const outcomes = Object.keys(report.outcomes).sort((a, b) => report.outcomes[b] - report.outcomes[a]);
  draw("calls-chart", {
    type: "bar",
    data: {
      labels: report.by_day.map((d) => d.day),
      datasets: outcomes.map((code, i) => ({
        label: outcomeLabel(code), backgroundColor: color(i), data: report.by_day.map((d) => d.outcomes[code] ?? 0),
      })),
    },
    options: { scales: stacked },
  });
  fillTable("calls-outcomes", null, [...outcomes.map((code) => [outcomeLabel(code), report.outcomes[code]]),
    ...(outcomes.length ? [["Total", report.total]] : [])]);
  const head = (first) => [first, ...outcomes.map(outcomeLabel), "Total"];
  const row = (g, fallback) => [g.name ?? fallback, ...outcomes.map((code) => g.outcomes[code] ?? 0), g.total];
  fillTable("calls-agents", head("Agent"), report.by_agent.map((g) => row(g, "(unknown)")));
  fillTable("calls-workflows", head("Workflow"), report.by_workflow.map((g) => row(g, "(no workflow)")));
}

function renderActions(report) {
  const agents = report.by_agent;
  const name = (a) => a.name ?? "(unknown)";
  draw("actions-chart", {
    type: "bar",
    data: {
      labels: report.days,
      datasets: agents.map((a, i) => ({ label: name(a), backgroundColor: color(i), data: a.counts })),
    },
    options: { scales: stacked },
  });
  fillTable("actions-agents", null, agents.map((a) => [name(a), a.by_type.call ?? 0, a.by_type.sms ?? 0, a.total]));
  const dayRows = report.days.map((day, i) => [day, ...agents.map((a) => a.counts[i]),
    agents.reduce((sum, a) => sum + a.counts[i], 0)]).filter((row) => row[row.length - 1] > 0);
  fillTable("actions-days", ["Day", ...agents.map(name), "Total"], dayRows);
}

function renderFunnel(funnel) {
  const steps = funnel.steps;
  const first = steps.find((s) => s.in_graph)?.passed ?? 0;
  const label = (s) => (s.in_graph ? s.label : `${s.label} (earlier version)`);
  draw("funnel-chart", {
    type: "bar",
    data: {
      labels: steps.map(label),
      datasets: [{ label: "Passed", backgroundColor: color(0), data: steps.map((s) => s.passed) }],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: false } } },
  });
  fillTable("funnel-steps", null, steps.map((s) => [label(s), s.passed,
    first ? `${Math.round((s.passed / first) * 100)}%` : "–"]));
}

function showError(error) {
  const fields = error instanceof ApiError ? error.fields : {};
  setText("from-error", (fields.from ?? fields.to ?? []).join(" "));
  showMessage("report-error", error.message || "The report could not be loaded.");
}

async function loadDays() {
  showMessage("report-error", "");
  setText("from-error", "");
  try {
    const q = query();
    const [calls, actions] = await Promise.all([get(`/api/reports/calls?${q}`),
      get(`/api/reports/manual-actions?${q}`)]);
    renderCalls(calls);
    renderActions(actions);
  } catch (error) {
    showError(error);
  }
  document.body.dataset.reportsState = "ready"; // tests wait for the first load
}

async function loadFunnel() {
  if (!workflowSelect.value) return;
  try {
    renderFunnel(await get(`/api/reports/funnel?workflow_id=${encodeURIComponent(workflowSelect.value)}`));
  } catch (error) {
    showError(error);
  }
}

function init() {
  toInput.value = toLocalInput(zone, new Date()).slice(0, 10);
  fromInput.value = addDays(toInput.value, 1 - DEFAULT_DAYS);
  setText("report-zone", `Days in ${zoneLabel(zone)}.`);
  const workflows = config.workflows ?? [];
  workflowSelect.replaceChildren(...workflows.map((w) => h("option", { value: w.id }, w.name)));
  document.getElementById("funnel-empty").hidden = workflows.length > 0;
  for (const node of document.querySelectorAll("#funnel-report > label, #funnel-report > .report-body")) {
    node.hidden = workflows.length === 0;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    loadDays();
  });
  workflowSelect.addEventListener("change", loadFunnel);

  // Live where cheap: a completion changes the day-based reports (two grouped queries), so refetch
  // them once a burst of completions settles; the funnel's counters move with runs, not actions.
  const refreshSoon = debounce(loadDays, 2000);
  on("manual_action.updated", (action) => {
    if (action?.status === "completed") refreshSoon();
  });
  on("connect", ({ reconnected }) => {
    if (reconnected) loadDays();
  });
  loadDays();
  loadFunnel();
  connect();
}

init();
