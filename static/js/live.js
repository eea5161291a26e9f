// The Socket.IO connection (client served from static/vendor) and a tiny event bus.
// Pages subscribe with on(name, fn); "connect" fires on every (re)connect, with
// {reconnected: true} after the first, so pages can refetch instead of trusting a stale view.

import { io } from "../vendor/socket.io/socket.io.esm.min.js";

const EVENTS = ["manual_action.created", "manual_action.updated", "manual_action.deleted", "manual_actions.counts"];
const handlers = new Map();
let socket = null;
let connectedOnce = false;

export function on(name, fn) {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name).add(fn);
  // The socket is shared by the page and the header (the notification bell connects it on every page):
  // a part that subscribes after it has connected still gets its "connect", to join its rooms and load.
  if (name === "connect" && socket?.connected) queueMicrotask(() => fn({ reconnected: false }));
  return () => handlers.get(name).delete(fn);
}

function emit(name, payload) {
  for (const fn of handlers.get(name) ?? []) {
    try {
      fn(payload);
    } catch (error) {
      console.error(`live: a handler for ${name} failed`, error);
    }
  }
  for (const fn of handlers.get("*") ?? []) fn(name, payload);
}

function showStatus(text, state) {
  for (const node of document.querySelectorAll("[data-live-status]")) {
    node.hidden = false;
    node.textContent = text;
    node.dataset.state = state;
  }
}

export function connect() {
  if (socket) return socket;
  // WebSocket only: long-polling would need sticky sessions once there is more than one web process.
  // Back-off capped at 2 s (3 s with jitter): an agent's queue should be live again soon after a blip.
  // An attempt that stalls (no handshake, no close: a half-open connection) is dropped after 5 s and
  // retried, instead of the client's default 20 s.
  socket = io({ withCredentials: true, reconnectionDelayMax: 2000, timeout: 5000, transports: ["websocket"] });
  socket.on("connect", () => {
    showStatus("Live", "live");
    emit("connect", { reconnected: connectedOnce });
    connectedOnce = true;
  });
  socket.on("disconnect", () => {
    showStatus("Reconnecting…", "offline");
    emit("disconnect", {});
  });
  socket.on("connect_error", () => showStatus("Offline: retrying", "offline"));
  for (const name of EVENTS) socket.on(name, (payload) => emit(name, payload ?? {}));
  return socket;
}

export const isConnected = () => Boolean(socket?.connected);
