// The header's notification bell: the unread count (live from notification.created, refetched on every
// (re)connect) and a dropdown of the latest notifications, each marked read when opened or with its button.
// Text goes in through textContent only (dom.js), so whatever a workflow wrote is shown as text.

import { get, post } from "./api.js";
import { formatTime, h, showMessage } from "./dom.js";
import { connect, on } from "./live.js";

const LATEST = 20;
const bell = document.getElementById("notif-bell");
const panel = document.getElementById("notif-panel");
const list = document.getElementById("notif-list");
const countNode = document.getElementById("notif-count");
const empty = document.getElementById("notif-empty");
let items = [];

function setCount(unread) {
  const count = Math.max(0, Number(unread) || 0);
  countNode.textContent = count > 99 ? "99+" : String(count);
  countNode.dataset.count = String(count);
  countNode.hidden = count === 0;
  bell.title = count ? `Notifications: ${count} unread` : "Notifications";
}

async function markRead(item) {
  try {
    const updated = await post(`/api/notifications/${item.id}/read`);
    Object.assign(item, updated);
    render();
    await refreshCount();
  } catch (error) {
    showMessage("notif-error", error.message);
  }
}

function row(item) {
  const unread = !item.read_at;
  const title = item.contact
    ? h("a", { href: `/contacts/${item.contact.id}`, class: "notif-title",
               onclick: () => { if (unread) markRead(item); } }, item.title)
    : h("span", { class: "notif-title" }, item.title);
  return h("li", { class: `notif-item${unread ? " is-unread" : ""}`, dataset: { notificationId: item.id } },
    title,
    item.body ? h("p", { class: "notif-body" }, item.body) : null,
    h("p", { class: "notif-meta" },
      item.contact ? `${item.contact.name} · ` : "", formatTime(item.created_at), item.is_test ? " · test run" : ""),
    unread ? h("button", { type: "button", class: "link-button notif-mark",
                           "aria-label": `Mark read: ${item.title}`, onclick: () => markRead(item) }, "Mark read")
      : null);
}

function render() {
  list.replaceChildren(...items.map(row));
  empty.hidden = items.length > 0;
}

async function refreshCount() {
  const page = await get("/api/notifications?unread=true&per_page=1");
  setCount(page.unread);
}

async function refetch() {
  try {
    const page = await get(`/api/notifications?per_page=${LATEST}`);
    items = page.items;
    setCount(page.unread);
    render();
    showMessage("notif-error", "");
  } catch (error) {
    showMessage("notif-error", error.message);
  }
}

function toggle(open = panel.hidden) {
  panel.hidden = !open;
  bell.setAttribute("aria-expanded", String(open));
}

bell.addEventListener("click", () => toggle());
document.addEventListener("click", (event) => {
  if (!panel.hidden && !event.target.closest("[data-notifications]")) toggle(false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !panel.hidden) {
    toggle(false);
    bell.focus();
  }
});
document.getElementById("notif-read-all").addEventListener("click", async () => {
  try {
    await post("/api/notifications/read-all");
    await refetch();
  } catch (error) {
    showMessage("notif-error", error.message);
  }
});

on("connect", () => {
  document.querySelector("[data-notifications]").dataset.live = "true";
  refetch(); // first connect and every reconnect: never show a stale count
});
on("disconnect", () => { document.querySelector("[data-notifications]").dataset.live = "false"; });
// live.js forwards the events its pages asked for; this one is the bell's own.
connect().on("notification.created", (payload) => {
  if (!payload?.notification) return;
  items = [payload.notification, ...items.filter((item) => item.id !== payload.notification.id)].slice(0, LATEST);
  setCount(payload.unread);
  render();
});
refetch();
