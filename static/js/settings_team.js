// Settings > Team (admins): the account's people over /api/team. Add a person (their temporary password
// is shown once), change a role in place, deactivate (optionally handing their queued actions on),
// reactivate, reset a password. Names and emails are user-written: they go in as text only.

import { api, get, post } from "./api.js";
import { cell, h, pageConfig, setText, show, showMessage } from "./dom.js";
import { clearFieldErrors, placeFieldErrors } from "./formerrors.js";

const { me } = pageConfig();
const ROLE_LABELS = { admin: "Admin", manager: "Manager", agent: "Agent" };
const state = { people: [] };

const label = (user) => user.name || user.email;
const byId = (id) => state.people.find((user) => user.id === id);

function notify(text) {
  showMessage("team-error", null);
  showMessage("team-notice", text);
}

function fail(error) {
  showMessage("team-notice", null);
  showMessage("team-error", error.message);
}

function replace(user) {
  state.people = state.people.map((row) => (row.id === user.id ? user : row));
  render();
}

function roleSelect(user) {
  const select = h("select", { "aria-label": `Role of ${label(user)}`, dataset: { role: user.id } },
    Object.entries(ROLE_LABELS).map(([value, text]) => h("option", { value, selected: value === user.role }, text)));
  select.addEventListener("change", async () => {
    try {
      replace(await api("PATCH", `/api/team/${user.id}`, { role: select.value }));
      notify(`${label(user)} is now ${ROLE_LABELS[select.value].toLowerCase()}.`);
    } catch (error) {
      select.value = user.role;
      fail(error);
    }
  });
  return select;
}

function actions(user) {
  const buttons = [h("button", { type: "button", onclick: () => openReset(user) }, "Reset password")];
  if (user.id === me.id) return buttons;
  if (user.active) {
    buttons.push(h("button", { type: "button", class: "danger", onclick: () => openDeactivate(user) }, "Deactivate"));
  } else {
    buttons.push(h("button", { type: "button", onclick: () => reactivate(user) }, "Reactivate"));
    buttons.push(h("button", { type: "button", onclick: () => openReassign(user) }, "Reassign actions"));
  }
  return buttons;
}

function render() {
  const body = document.getElementById("team-body");
  body.replaceChildren(...state.people.map((user) => h("tr", { dataset: { userId: user.id }, class: user.active ? "" : "is-inactive" },
    cell("Name", label(user), user.id === me.id ? " (you)" : ""),
    cell("Email", user.email),
    cell("Role", roleSelect(user)),
    cell("Phone", user.phone ?? ""),
    cell("Status", user.active ? "Active" : "Deactivated"),
    cell("Actions", h("div", { class: "team-actions" }, actions(user))),
  )));
  show("team-loading", false);
  show("team-table", true);
}

// --- add a person ---------------------------------------------------------------------

const inviteDialog = document.getElementById("invite-dialog");
const inviteForm = document.getElementById("invite-form");

function clearInviteErrors() {
  clearFieldErrors(inviteForm);
  show("invite-error", false);
}

function showPassword(user, password) {
  setText("password-for", `The temporary password of ${label(user)} (${user.email}):`);
  setText("temporary-password", password);
  document.getElementById("password-dialog").showModal();
}

document.getElementById("invite-open").addEventListener("click", () => {
  inviteForm.reset();
  clearInviteErrors();
  inviteDialog.showModal();
});

inviteForm.addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "confirm") return;
  event.preventDefault();
  clearInviteErrors();
  const body = Object.fromEntries(["email", "name", "role", "phone"].map((name) => [name, inviteForm.elements[name].value]));
  try {
    const { user, temporary_password: password } = await post("/api/team", body);
    inviteDialog.close("added");
    state.people.push(user);
    render();
    notify(`${label(user)} is added.`);
    showPassword(user, password);
  } catch (error) {
    if (!placeFieldErrors(inviteForm, error)) showMessage("invite-error", error.message);
  }
});

// --- deactivate, reassign, reactivate, reset ------------------------------------------

// The people who may take over `user`'s queued actions: the other active ones.
function successorOptions(select, user, keepLabel) {
  const others = state.people.filter((other) => other.active && other.id !== user.id);
  select.replaceChildren(
    ...(keepLabel ? [h("option", { value: "keep" }, keepLabel)] : []),
    ...others.map((other) => h("option", { value: String(other.id) }, `Give them to ${label(other)}`)),
    h("option", { value: "none" }, "Unassign them"),
  );
}

const reassignBody = (value) => (value === "none" ? { reassign_to: null } : { reassign_to: Number(value) });
const movedText = (count) => (count === 1 ? "1 queued action" : `${count} queued actions`);

function dialogAction(id, run) {
  const dialog = document.getElementById(`${id}-dialog`);
  dialog.querySelector("form").addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "confirm" || !dialog.target) return;
    event.preventDefault();
    const button = document.getElementById(`${id}-confirm`);
    button.disabled = true;
    try {
      await run(dialog.target);
      dialog.close("done");
    } catch (error) {
      showMessage(`${id}-error`, error.message);
    } finally {
      button.disabled = false;
    }
  });
  return (user, prepare) => {
    dialog.target = user;
    showMessage(`${id}-error`, null);
    setText(`${id}-who`, label(user));
    prepare?.();
    dialog.showModal();
  };
}

const openDeactivate = (user) => deactivateDialog(user, () => successorOptions(
  document.getElementById("deactivate-reassign"), user, "Leave them with this person"));
const deactivateDialog = dialogAction("deactivate", async (user) => {
  const value = document.getElementById("deactivate-reassign").value;
  const result = await post(`/api/team/${user.id}/deactivate`, value === "keep" ? {} : reassignBody(value));
  replace(result.user);
  notify(`${label(user)} is deactivated${result.reassigned ? `; ${movedText(result.reassigned)} reassigned` : ""}.`);
});

const openReassign = (user) => reassignDialog(user, () => successorOptions(
  document.getElementById("reassign-to"), user, null));
const reassignDialog = dialogAction("reassign", async (user) => {
  const result = await post(`/api/team/${user.id}/reassign-actions`,
    reassignBody(document.getElementById("reassign-to").value));
  notify(`${movedText(result.reassigned)} of ${label(user)} reassigned.`);
});

const openReset = (user) => resetDialog(user);
const resetDialog = dialogAction("reset", async (user) => {
  const result = await post(`/api/team/${user.id}/reset-password`);
  showPassword(result.user, result.temporary_password);
});

async function reactivate(user) {
  try {
    replace(await post(`/api/team/${user.id}/reactivate`));
    notify(`${label(user)} is active again.`);
  } catch (error) {
    fail(error);
  }
}

try {
  state.people = await get("/api/team");
  render();
  document.body.dataset.teamLoaded = "true";
} catch (error) {
  show("team-loading", false);
  fail(error);
}
