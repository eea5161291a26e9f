// A contact's tasks on their page (templates/tasks/_contact_tasks.html): open ones soonest due first, completed
// ones when asked, each completed or reopened in place; new ones added with the task dialog. The list reads
// /api/tasks?contact_id= and follows the live task events about this contact.

import { get } from "./api.js";
import { debounce, formatTime, h, pageConfig, show, showMessage } from "./dom.js";
import { toSearch } from "./filters.js";
import { connect, on } from "./live.js";
import { TaskDialog, toggleDone, viewerZone } from "./task_form.js";

const config = pageConfig();
const contactId = config.contact_id;
const list = document.getElementById("contact-tasks");
const showDone = document.getElementById("contact-tasks-show-done");
let seq = 0;

function itemFor(task) {
  const button = h("button", {
    type: "button", class: task.status === "open" ? "primary task-toggle" : "task-toggle",
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      try {
        await toggleDone(task);
      } catch (error) {
        showMessage("contact-tasks-error", error.message);
      }
      load();
    },
  }, task.status === "open" ? "Complete" : "Reopen");
  const meta = [`Due ${formatTime(task.due_at)}`, task.assignee_name ? `for ${task.assignee_name}` : "for nobody",
    task.workflow_name ? `from ${task.workflow_name}` : null].filter(Boolean).join(" · ");
  return h("li", { class: `task-item task-${task.status}`, dataset: { taskId: task.id, status: task.status } },
    h("div", { class: "task-main" },
      h("strong", { class: "task-title" }, task.title),
      task.overdue ? h("span", { class: "status-badge status-overdue" }, "Overdue") : null,
      task.status === "completed" ? h("span", { class: "status-badge status-completed" }, "Completed") : null,
      task.body ? h("p", { class: "task-body" }, task.body) : null,
      h("p", { class: "hint task-meta" }, meta)),
    button);
}

async function load() {
  const mine = ++seq;
  const query = { contact_id: contactId, status: showDone.checked ? null : "open", tz: viewerZone(), per_page: 100 };
  try {
    const page = await get(`/api/tasks${toSearch(query)}`);
    if (mine !== seq) return;
    list.replaceChildren(...page.items.map(itemFor));
    show("contact-tasks-empty", page.items.length === 0);
    showMessage("contact-tasks-error", null);
  } catch (error) {
    if (mine === seq) showMessage("contact-tasks-error", error.message);
  }
  document.body.dataset.contactTasksLoaded = "true";
}

const loadSoon = debounce(load, 150);
const dialog = new TaskDialog({ prefix: "contact-task", me: config.me, assignees: config.assignees ?? [], contactId,
  onSaved: () => loadSoon() });
document.getElementById("contact-task-new").addEventListener("click", () => dialog.open());
showDone.addEventListener("change", load);

const socket = connect();
for (const name of ["task.created", "task.updated", "task.deleted"]) {
  socket.on(name, (task) => task?.contact_id === contactId && loadSoon());
}
on("connect", ({ reconnected }) => reconnected && loadSoon());
load();
