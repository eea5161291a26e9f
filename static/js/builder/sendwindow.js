// The workflow's send window (settings.send_window): the days and hours, in each contact's own time
// zone, when its automated texts may go out; a text due outside them waits for the window to open.

import { h } from "../dom.js";

const DAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];
const WORKDAYS = { days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" };

/**
 * @param {object|null} value the current send_window, or null when texts may go at any time
 * @param {object} options {readOnly, onChange(window or null)}
 */
export function sendWindowControl(value, { readOnly, onChange }) {
  let current = value ? { ...value } : null;
  const fields = h("div", { class: "send-window-fields" });
  const emit = () => onChange(current ? { ...current } : null);

  const toggle = h("input", { id: "settings-send-window", type: "checkbox", checked: Boolean(current), onchange: (event) => {
    current = event.target.checked ? { ...WORKDAYS } : null;
    draw();
    emit();
  } });

  function draw() {
    fields.hidden = !current;
    if (!current) return fields.replaceChildren();
    const days = DAYS.map(([day, label]) => h("label", { class: "check day" },
      h("input", { type: "checkbox", value: day, checked: current.days.includes(day), onchange: (event) => {
        const chosen = new Set(current.days);
        if (event.target.checked) chosen.add(day);
        else chosen.delete(day);
        current = { ...current, days: DAYS.map(([d]) => d).filter((d) => chosen.has(d)) };
        emit();
      } }), label));
    const time = (name, label) => h("label", { class: "field-label" }, label,
      h("input", { type: "time", id: `settings-send-window-${name}`, value: current[name], step: "60", onchange: (event) => {
        current = { ...current, [name]: event.target.value };
        emit();
      } }));
    fields.replaceChildren(
      h("fieldset", { class: "days" }, h("legend", {}, "Days"), ...days),
      h("div", { class: "send-window-hours" }, time("start", "From"), time("end", "Until")),
      h("p", { class: "field-help" }, "In each contact's own time zone. A text due outside the window waits for it to open."));
    if (readOnly) for (const input of fields.querySelectorAll("input")) input.disabled = true;
  }

  draw();
  toggle.disabled = readOnly;
  return h("div", { class: "field send-window", "data-path": "send_window" },
    h("label", { class: "check" }, toggle, "Send texts only on set days and hours"), fields);
}
