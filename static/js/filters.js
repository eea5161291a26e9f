// The list filters as they travel in the page URL, in REST queries and in the Let's Start body,
// and the paging the Manual Actions and Contacts lists share.

import { get } from "./api.js";
import { setText, showMessage } from "./dom.js";

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

// --- paged lists ------------------------------------------------------------------------

// The refresh of a paged list. `state` holds {filters: {page, …}, rows, total, seq}. Each call runs
// `prepare()` first (the URL follows the filters; false means there is nothing to fetch), then reads
// `url(state.filters)`. An answer overtaken by a newer call is dropped; a page past the end (rows went
// away meanwhile) steps back to the last page and reads again. Then `render()`, or the error in #list-error.
export function pagedRefresh(state, { perPage, url, prepare = () => true, render }) {
  async function refresh() {
    if (!prepare()) return;
    const seq = ++state.seq;
    const { page } = state.filters;
    try {
      const data = await get(url(state.filters));
      if (seq !== state.seq) return; // a newer request is on its way
      if (data.items.length === 0 && data.total > 0 && page > 1) {
        state.filters = { ...state.filters, page: Math.ceil(data.total / perPage) };
        return refresh();
      }
      state.rows = data.items;
      state.total = data.total;
      showMessage("list-error", null);
      render();
    } catch (error) {
      if (seq === state.seq) showMessage("list-error", error.message);
    }
    document.body.dataset.listLoaded = "true";
  }
  return refresh;
}

// The pager under a paged list (templates/macros/pager.html): `ids` names its {summary, prev, next}.
// "26–50 of 80", Previous and Next where there is somewhere to go, hidden while one page holds all.
export function renderPager(ids, { page, count, total, perPage }) {
  const first = (page - 1) * perPage + 1;
  setText(ids.summary, count ? `${first}–${first + count - 1} of ${total}` : "");
  const prev = document.getElementById(ids.prev);
  prev.disabled = page <= 1;
  document.getElementById(ids.next).disabled = page * perPage >= total;
  prev.closest(".pager").hidden = total <= perPage;
}

export function wirePager(ids, state, refresh) {
  document.getElementById(ids.prev).addEventListener("click", () => {
    state.filters = { ...state.filters, page: Math.max(1, state.filters.page - 1) };
    refresh();
  });
  document.getElementById(ids.next).addEventListener("click", () => {
    state.filters = { ...state.filters, page: state.filters.page + 1 };
    refresh();
  });
}
