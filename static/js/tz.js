// Wall-clock times in a contact's IANA time zone, with nothing but Intl.

export function safeZone(zone) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone || "UTC" });
    return zone || "UTC";
  } catch {
    return "UTC";
  }
}

function wallParts(zone, date) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(date);
  const value = (type) => Number(parts.find((p) => p.type === type).value);
  return { year: value("year"), month: value("month"), day: value("day"), hour: value("hour") % 24,
    minute: value("minute"), second: value("second") };
}

// Minutes east of UTC for `zone` at the instant `date`.
export function offsetMinutes(zone, date) {
  const p = wallParts(zone, date);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

function formatOffset(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const pad = (n) => String(n).padStart(2, "0");

// "2026-11-25T09:30" read as a wall-clock time in `zone` -> "2026-11-25T09:30:00-05:00".
export function wallTimeToIso(local, zone) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(local ?? "");
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let offset = offsetMinutes(zone, new Date(wall));
  const corrected = offsetMinutes(zone, new Date(wall - offset * 60000));
  if (corrected !== offset) offset = corrected; // near a DST change
  const instant = new Date(wall - offset * 60000);
  const p = wallParts(zone, instant); // a time skipped by DST moves to the real wall time
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:00${formatOffset(offset)}`;
}

// The value for a datetime-local input: `date` as wall-clock time in `zone`.
export function toLocalInput(zone, date) {
  const p = wallParts(zone, date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

export function zoneLabel(zone, date = new Date()) {
  const short = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" })
    .formatToParts(date).find((p) => p.type === "timeZoneName")?.value;
  return short && short !== zone ? `${zone} (${short})` : zone;
}

export function localClock(zone, date = new Date()) {
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: "numeric", minute: "2-digit", weekday: "short" })
    .format(date);
}

const viewerZone = new Intl.DateTimeFormat().resolvedOptions().timeZone;

// `iso` as wall-clock time in `zone`, naming the zone unless it is the viewer's own.
export function formatInZone(iso, zone) {
  const date = new Date(iso);
  const text = new Intl.DateTimeFormat(undefined, { timeZone: zone, dateStyle: "medium", timeStyle: "short" })
    .format(date);
  return zone === viewerZone ? text : `${text} (${zoneLabel(zone, date)})`;
}
