// The list filters as they travel in the page URL, in REST queries and in the Let's Start body.

export const FILTER_KEYS = ["workflow_id", "assignee_id", "contact_id", "type"];

const positiveInt = (value) => (/^\d+$/.test(value ?? "") && Number(value) > 0 ? Number(value) : null);

export function readFilters(search = window.location.search) {
  const params = new URLSearchParams(search);
  const filters = {};
  for (const key of ["workflow_id", "assignee_id", "contact_id", "action_id"]) {
    const id = positiveInt(params.get(key));
    if (id) filters[key] = id;
  }
  const type = params.get("type");
  if (type === "sms" || type === "call") filters.type = type;
  const status = params.get("status");
  filters.status = ["queued", "completed", "all"].includes(status) ? status : "queued";
  const page = positiveInt(params.get("page"));
  filters.page = page ?? 1;
  return filters;
}

// Just what Let's Start honours: the queue filters (never status or page).
export function queueFilters(filters) {
  const out = {};
  for (const key of FILTER_KEYS) if (filters[key]) out[key] = filters[key];
  return out;
}

export function toSearch(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const LIST_URL = "/conversations/manual-actions";
export const SESSION_URL = "/conversations/manual-actions/session";
