// Where a server validation error belongs. The API names fields by path
// ("steps.s2.config.message", "start", "trigger.config.tag"); each message goes to
// the card it is about, with the rest of the path kept for the side panel's form.

import { TRIGGER_ID } from "./canvas.js";

export const WORKFLOW = "workflow";

/**
 * Sort a 422's `fields` by card: Map(card id -> {path inside the card: [messages]}).
 * Step errors go to their step; start, trigger and settings errors to the trigger
 * card; anything else (the name, the document itself) to the workflow.
 */
export function errorsByCard(fields, model) {
  const out = new Map();
  const add = (card, path, messages) => {
    if (!out.has(card)) out.set(card, {});
    const bucket = out.get(card);
    bucket[path] = [...(bucket[path] ?? []), ...(Array.isArray(messages) ? messages : [String(messages)])];
  };
  for (const [path, messages] of Object.entries(fields ?? {})) {
    const step = /^steps\.([^.]+)(?:\.(.*))?$/.exec(path);
    if (step && model.steps.has(step[1])) add(step[1], step[2] ?? "", messages);
    else if (path === "start" || /^(trigger|settings)(\.|$)/.test(path)) add(TRIGGER_ID, path, messages);
    else add(WORKFLOW, path, messages);
  }
  return out;
}

/** One line per field for the card itself: "message: Missing data for required field." */
export function cardMessages(errors) {
  return Object.entries(errors ?? {}).map(([path, messages]) => {
    const name = path.split(".").filter((part) => part && !/^\d+$/.test(part) && part !== "config").pop();
    return name ? `${name.replace(/_/g, " ")}: ${messages.join(" ")}` : messages.join(" ");
  });
}
