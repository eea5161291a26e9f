// What the builder knows about action and trigger types: the API's descriptors
// (GET /api/workflows/action-types and /trigger-types), how each type's exits are
// stored, the config a new step starts with, and the one-line summary on its card.

import { exitsOf, isBranching } from "./model.js";

const NEXT = Object.freeze({ kind: "next" });
const CATEGORY_ORDER = ["Contact", "Communication", "Send Data", "Internal Tools"];

export class Catalog {
  constructor(actionTypes = [], triggerTypes = [], users = []) {
    this.actions = new Map(actionTypes.map((type) => [type.type, type]));
    this.triggers = new Map(triggerTypes.map((type) => [type.type, type]));
    this.userNames = new Map(users.map((user) => [user.id, user.name]));
    this.specOf = (type) => this.actions.get(type)?.exits ?? NEXT;
  }

  label(type) {
    return this.actions.get(type)?.label ?? type;
  }

  category(type) {
    return this.actions.get(type)?.category ?? "Other";
  }

  fields(type) {
    return this.actions.get(type)?.fields ?? null;
  }

  /** Action types grouped by category, in the product's order, filtered by a search text. */
  groups(search = "") {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    const matches = (type) => {
      const text = `${type.label} ${type.category} ${type.description ?? ""} ${type.type}`.toLowerCase();
      return words.every((word) => text.includes(word));
    };
    const groups = new Map();
    for (const type of this.actions.values()) {
      if (!matches(type)) continue;
      if (!groups.has(type.category)) groups.set(type.category, []);
      groups.get(type.category).push(type);
    }
    const rank = (name) => (CATEGORY_ORDER.includes(name) ? CATEGORY_ORDER.indexOf(name) : CATEGORY_ORDER.length);
    return [...groups].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
      .map(([name, types]) => ({ name, types }));
  }

  /** The step a palette item adds: its config holds what a form needs to start from. */
  newStep(type) {
    return { type, name: "", config: newConfig(this.fields(type) ?? []) };
  }

  triggerLabel(type) {
    return this.triggers.get(type)?.label ?? type ?? "No trigger";
  }

  triggerFields(type) {
    return this.triggers.get(type)?.fields ?? null;
  }

  newTrigger(type) {
    return { type, config: newConfig(this.triggerFields(type) ?? []) };
  }

  exits(step) {
    return exitsOf(step, this.specOf(step.type));
  }

  branching(type, step) {
    return isBranching(this.specOf(type), step);
  }

  /** One line for the card: what this step will do, in words. */
  summary(step) {
    const config = step.config ?? {};
    const special = SUMMARIES[step.type];
    if (special) return special(config, this);
    for (const field of this.fields(step.type) ?? []) {
      const value = config[field.name];
      if (field.kind === "users" && Array.isArray(value)) return this.users(value);
      if ((field.kind === "template" || field.kind === "text") && typeof value === "string" && value.trim()) {
        return value;
      }
    }
    return "";
  }

  users(ids) {
    const names = ids.map((id) => this.userNames.get(id) ?? `User ${id}`);
    return names.length ? names.join(", ") : "No users chosen";
  }
}

const SUMMARIES = {
  math_operation: (config) => {
    const to = config.save_to ? ` → ${config.save_to}` : "";
    const value = config.value?.trim() || "?";
    if (config.operation === "round") return `Round ${value} to ${config.decimals ?? 0} decimal places${to}`;
    if (config.operation === "date_add" || config.operation === "date_subtract") {
      const sign = config.operation === "date_add" ? "+" : "−";
      return `${value} ${sign} ${config.amount?.trim() || "?"} ${config.unit ?? "days"}${to}`;
    }
    const symbol = { add: "+", subtract: "−", multiply: "×", divide: "÷" }[config.operation] ?? "+";
    return `${value} ${symbol} ${config.operand?.trim() || "?"}${to}`;
  },
  text_formatter: (config, catalog) => {
    const field = (catalog.fields("text_formatter") ?? []).find((f) => f.name === "operation");
    const label = field?.choices?.find((c) => c.value === config.operation)?.label ?? config.operation ?? "Format";
    const text = config.text?.trim();
    return [label, text ? `of ${text}` : "no text yet"].join(" ") + (config.save_to ? ` → ${config.save_to}` : "");
  },
  update_custom_value: (config) => {
    const key = config.key?.trim();
    if (!key) return "No custom value chosen";
    return config.value?.trim() ? `Set ${key} to ${config.value}` : `Clear ${key}`;
  },
  split: (config) => {
    const paths = Array.isArray(config.paths) ? config.paths : [];
    return paths.map((path, index) => `${path?.name || `Path ${index + 1}`} ${path?.percent ?? "?"}%`).join(" · ")
      || "No paths yet";
  },
  send_email: (config) => (config.subject?.trim() ? `Email: ${config.subject}` : "No subject yet"),
  add_to_workflow: (config) => (config.workflow_id ? `Add to workflow ${config.workflow_id}` : "No workflow chosen")
    + (config.end_this_workflow ? " · then end this one" : ""),
  remove_from_workflow: (config) => {
    if (config.target === "all_others") return "Remove from every other workflow";
    if (config.target !== "chosen") return "Remove from this workflow";
    const ids = Array.isArray(config.workflow_ids) ? config.workflow_ids : [];
    return ids.length ? `Remove from workflow${ids.length === 1 ? "" : "s"} ${ids.join(", ")}` : "No workflows chosen";
  },
  call: (config) => {
    const who = config.connect_to === "number" ? (config.number?.trim() || "No number yet") : "the assigned user";
    return [`Call the contact, then ring ${who}`, config.whisper === false ? "" : "whisper their name"]
      .filter(Boolean).join(" · ");
  },
  add_task: (config, catalog) => {
    const ids = Array.isArray(config.user_ids) ? config.user_ids : [];
    const who = { user: catalog.users(ids.slice(0, 1)), round_robin: `Round-robin: ${catalog.users(ids)}` }[config.assign_to]
      ?? "The contact's assigned user";
    const amount = config.due_amount;
    const unit = (config.due_unit ?? "days").replace(/s$/, amount === 1 ? "" : "s");
    const due = config.due === "at" ? (config.due_at ? `due ${String(config.due_at).replace("T", " ")}` : "")
      : amount ? `due in ${amount} ${unit}` : "";
    return [config.title?.trim() || "No title yet", who, due].filter(Boolean).join(" · ");
  },
  create_contact: (config) => {
    const name = [config.first_name, config.last_name].filter((part) => part?.trim()).join(" ");
    const who = [name, config.phone?.trim(), config.email?.trim()].filter(Boolean).join(" · ");
    return who ? `${who}${config.if_exists === "skip" ? " (skip if it exists)" : ""}` : "No phone or email yet";
  },
  find_contact: (config) => {
    const where = config.by === "custom_field" ? config.custom_field || "a custom field" : config.by ?? "phone";
    return config.value?.trim() ? `By ${where}: ${config.value}` : `By ${where}`;
  },
  remove_assigned_user: () => "The contact is left unassigned",
  set_dnd: (config) => {
    const channel = { sms: "SMS", call: "calls", email: "email", all: "all channels" }[config.channel] ?? "all channels";
    return `DND ${config.dnd === "off" ? "off" : "on"} for ${channel}`;
  },
  delete_contact: () => "The contact is deleted and leaves the workflow",
  modify_engagement_score: (config) => {
    const amount = Number.isInteger(config.amount) ? config.amount : 1;
    if (config.operation === "set") return `Set the score to ${amount}`;
    return `${config.operation === "subtract" ? "Subtract" : "Add"} ${amount} point${amount === 1 ? "" : "s"}`;
  },
  webhook: (config) => (config.url ? `${config.method ?? "POST"} ${config.url}` : "No URL yet"),
  send_slack_message: (config) => config.text || "No message yet",
  internal_notification: (config, catalog) => {
    const to = config.recipients === "users" ? catalog.users(Array.isArray(config.user_ids) ? config.user_ids : [])
      : config.recipients === "role" ? `Every ${config.role ?? "…"}` : "The assigned user";
    return config.title ? `${to}: ${config.title}` : to;
  },
  wait: (config) => {
    if (config.mode === "until") return config.until ? `Until ${String(config.until).replace("T", " ")}` : "";
    if (config.mode === "window") return windowSummary(config);
    if (config.mode === "event") {
      const timeout = config.timeout_amount ? ` (up to ${config.timeout_amount} ${config.timeout_unit ?? "days"})` : "";
      return `Until ${goalSummary(config.event, config.event_tag, config.event_condition)}${timeout}`;
    }
    return config.amount ? `For ${config.amount} ${config.unit ?? "minutes"}` : "";
  },
  assign_user: (config, catalog) => {
    const ids = Array.isArray(config.user_ids) ? config.user_ids : [];
    const who = catalog.users(ids);
    return ids.length > 1 ? `Round-robin: ${who}` : who;
  },
  if_else: (config) => {
    const count = Array.isArray(config.branches) ? config.branches.length : 0;
    return `${count} ${count === 1 ? "branch" : "branches"} and Else`;
  },
  goto: () => "",
  goal_event: (config) => {
    const otherwise = { wait: "else wait for it", end: "else end" }[config.if_not_met] ?? "else continue";
    return `Goal: ${goalSummary(config.goal, config.tag, config.condition)} · ${otherwise}`;
  },
  drip: (config) => {
    if (!Number.isInteger(config.batch_size) || !Number.isInteger(config.interval_amount)) return "";
    const unit = String(config.interval_unit ?? "hours").replace(/s$/, "");
    const every = config.interval_amount === 1 ? unit : `${config.interval_amount} ${unit}s`;
    return `${config.batch_size} contact${config.batch_size === 1 ? "" : "s"} every ${every}`;
  },
  end: () => "The contact leaves the workflow",
  manual_call: (config) => config.name || "A call for the assigned user",
};

/** A goal (or the event a wait waits for) in words: "tag “vip” added", "the contact replies". */
function goalSummary(kind, tag, condition) {
  const named = tag?.trim() ? `“${tag.trim()}”` : "…";
  switch (kind) {
    case "tag_added": return `tag ${named} added`;
    case "tag_removed": return `tag ${named} removed`;
    case "replied": return "the contact replies";
    case "manual_action_completed": return "a manual action is completed";
    case "task_completed": return "a task is completed";
    case "field_condition": {
      if (!condition?.field) return "a field condition";
      const value = condition.value === null || condition.value === undefined ? "" : ` ${condition.value}`;
      return `${condition.field.replace(/^contact\./, "")} ${String(condition.op ?? "").replace(/_/g, " ")}${value}`;
    }
    default: return "no goal chosen";
  }
}

/** A wait's time window in a line: "Mon–Fri 09:00–17:00" (days as listed, a run of three or more shortened). */
function windowSummary(config) {
  const order = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const days = order.filter((day) => Array.isArray(config.window_days) && config.window_days.includes(day));
  if (!days.length || !config.window_start || !config.window_end) return "";
  const name = (day) => day[0].toUpperCase() + day.slice(1);
  const runs = [];
  for (const day of days) {
    const last = runs.at(-1);
    if (last && order.indexOf(day) === order.indexOf(last.at(-1)) + 1) last.push(day);
    else runs.push([day]);
  }
  const text = runs.map((run) => (run.length >= 3 ? `${name(run[0])}–${name(run.at(-1))}` : run.map(name).join(", ")))
    .join(", ");
  return `${text} ${config.window_start}–${config.window_end}`;
}

// --- new configs from field descriptors ----------------------------------------

/** Whether a field must have a value, given its siblings (required, or required_if). */
export function isRequired(field, siblings = {}) {
  if (field.required) return true;
  const rule = field.required_if;
  return Boolean(rule && siblings?.[rule.field] === rule.value);
}

/** Whether a field applies, given its siblings: fields of another mode (a wait's date while it waits
 * "for a time", a condition's value for "is empty") are hidden rather than left to confuse. */
export function isShown(field, siblings = {}) {
  const rule = field.shown_if;
  return !rule || rule.in.includes(siblings?.[rule.field]);
}

/** The config a new step (or list item) starts with: defaults, and a starting value where one is required. */
export function newConfig(fields) {
  const config = {};
  for (const field of fields) if (field.default !== undefined) config[field.name] = structuredClone(field.default);
  for (const field of fields) {
    if (field.name in config || !isRequired(field, config)) continue;
    const value = startingValue(field);
    if (value !== undefined) config[field.name] = value;
  }
  return config;
}

/** A blank value for a field the user has to fill in (never invented content). */
export function startingValue(field) {
  if (field.example !== undefined) return structuredClone(field.example);
  switch (field.kind) {
    case "choice":
      return field.choices?.[0]?.value;
    case "boolean":
      return false;
    case "step":
      return null;
    case "users":
      return [];
    case "list": {
      const count = field.min ?? 0;
      const item = field.item ?? { kind: "text" };
      return Array.from({ length: count }, () => (item.kind === "object" ? newConfig(item.fields ?? []) : startingValue(item)))
        .filter((value) => value !== undefined);
    }
    case "object":
      return newConfig(field.fields ?? []);
    case "text":
    case "template":
    case "condition_field":
    case "time_zone":
      return "";
    default:
      return undefined;
  }
}
