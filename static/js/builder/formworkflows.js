// Owns the workflow pickers of the side panel: kind "workflow" (one published workflow, Add to Workflow)
// and kind "workflows" (several of the account's workflows, Remove from Workflow), read from GET /api/workflows.

import { get } from "../api.js";
import { h } from "../dom.js";

const WORKFLOWS_PATH = "/api/workflows";

/** The account's workflows [{id, name, status}], read once per page (kept on the shared context). */
function accountWorkflows(form) {
  form.context.accountWorkflows ??= get(WORKFLOWS_PATH).then((body) => (Array.isArray(body) ? body : []), () => []);
  return form.context.accountWorkflows;
}

/** A select of the account's workflows other than this one: published ones only for kind "workflow". */
export function workflowControl(form, field, path, id, value) {
  const several = field.kind === "workflows";
  const chosen = several ? (Array.isArray(value) ? value : []) : (value === undefined || value === null ? [] : [value]);
  const select = h("select", { id, multiple: several, "data-workflow-picker": field.kind,
    onchange: (event) => {
      const ids = [...event.target.selectedOptions].map((option) => Number(option.value)).filter((n) => n > 0);
      form.set(path, several ? ids : ids[0]);
      form.touch(path);
    } });
  // Until the list is read, show what is chosen by id, so nothing is lost.
  const fill = (workflows) => {
    const known = new Map(workflows.map((wf) => [wf.id, wf.name]));
    for (const wid of chosen) if (!known.has(wid)) known.set(wid, `Workflow ${wid}`);
    select.replaceChildren(
      several ? null : h("option", { value: "", selected: chosen.length === 0 }, "Choose a workflow…"),
      ...[...known].map(([wid, name]) => h("option", { value: String(wid), selected: chosen.includes(wid) }, name)));
  };
  fill([]);
  accountWorkflows(form).then((workflows) => fill(workflows.filter((wf) => wf.id !== form.context.workflowId
    && (several || wf.status === "published"))));
  return select;
}
