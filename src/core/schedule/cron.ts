import { ConfigError } from "../../errors.ts";

/**
 * A 5-field cron expression as value sets, with vixie cron/cronie semantics: when either day field
 * is written starting with `*` a day must match both fields, otherwise either one. Times here are
 * "floating": epoch milliseconds whose UTC fields are the wall-clock reading in the schedule's zone.
 */
export interface CronFields {
  /** Sorted, unique. */
  minute: readonly number[];
  hour: readonly number[];
  /** 1–31. */
  dayOfMonth: readonly number[];
  /** 1–12. */
  month: readonly number[];
  /** 0–6, Sunday = 0 (a written 7 is Sunday too). */
  dayOfWeek: readonly number[];
  domStar: boolean;
  dowStar: boolean;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** Longest gap between two runs of a valid schedule: Feb 29 on one weekday recurs every 28 years. */
const SEARCH_DAYS = 366 * 28 + 7;

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for min, min+1, … */
  names?: string[];
}

const SPECS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 7, names: DAYS },
];

/**
 * Parses exactly five fields: `*`, numbers, `jan`–`dec` and `sun`–`sat`, ranges `a-b`, steps after
 * `*` or a range (`*\/15`, `8-18/2`) and comma lists. Anything else (seconds, `?`, `L`, `W`, `#`,
 * `H`, `5/15`) is a ConfigError saying what is wrong, so what passes here runs the same in cron.
 */
export function parseCronFields(expression: string): CronFields {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === "") {
    throw new ConfigError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts[0] === "" ? 0 : parts.length}`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((text, i) => parseField(text, SPECS[i]!)) as [number[], number[], number[], number[], number[]];
  const fields: CronFields = {
    minute, hour, dayOfMonth, month,
    dayOfWeek: [...new Set(dayOfWeek.map((d) => d % 7))].sort((a, b) => a - b),
    domStar: parts[2]!.startsWith("*"),
    dowStar: parts[4]!.startsWith("*"),
  };
  if ((fields.domStar || fields.dowStar) && !fields.month.some((m) => fields.dayOfMonth.some((d) => d <= daysInMonth(m)))) {
    throw new ConfigError(`day of month ${parts[2]} never occurs in month ${parts[3]}: the schedule never runs`);
  }
  return fields;
}

/** Whether the day of the floating time `ms` is a scheduled day. */
export function dayMatches(f: CronFields, ms: number): boolean {
  const d = new Date(ms);
  if (!f.month.includes(d.getUTCMonth() + 1)) return false;
  const dom = f.dayOfMonth.includes(d.getUTCDate());
  const dow = f.dayOfWeek.includes(d.getUTCDay());
  return f.domStar || f.dowStar ? dom && dow : dom || dow;
}

/** The first scheduled minute strictly after the floating time `ms`; undefined only for a never-running schedule. */
export function nextMatch(f: CronFields, ms: number): number | undefined {
  const from = Math.floor(ms / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  let day = Math.floor(from / DAY_MS) * DAY_MS;
  for (let i = 0; i < SEARCH_DAYS; i++, day += DAY_MS) {
    if (!dayMatches(f, day)) continue;
    const earliest = i === 0 ? (from - day) / MINUTE_MS : 0;
    for (const h of f.hour) for (const m of f.minute) if (h * 60 + m >= earliest) return day + (h * 60 + m) * MINUTE_MS;
  }
  return undefined;
}

/** The last scheduled minute at or before the floating time `ms`. */
export function prevMatch(f: CronFields, ms: number): number | undefined {
  const to = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  let day = Math.floor(to / DAY_MS) * DAY_MS;
  const hours = [...f.hour].reverse();
  const minutes = [...f.minute].reverse();
  for (let i = 0; i < SEARCH_DAYS; i++, day -= DAY_MS) {
    if (!dayMatches(f, day)) continue;
    const latest = i === 0 ? (to - day) / MINUTE_MS : 24 * 60;
    for (const h of hours) for (const m of minutes) if (h * 60 + m <= latest) return day + (h * 60 + m) * MINUTE_MS;
  }
  return undefined;
}

export function daysInMonth(month: number, leap = true): number {
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// --- internal ---

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw new ConfigError(`${spec.name} "${text}" has an empty list entry`);
    const slash = item.split("/");
    if (slash.length > 2) throw new ConfigError(`${spec.name} "${item}" has more than one "/"`);
    const [range, stepText] = slash as [string, string | undefined];
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = spec.min;
      hi = spec.name === "day of week" ? 6 : spec.max;
    } else {
      const ends = range.split("-");
      if (ends.length > 2) throw new ConfigError(`${spec.name} "${item}" is not a value or a range a-b`);
      lo = value(ends[0]!, spec, item);
      hi = ends[1] === undefined ? lo : value(ends[1], spec, item);
      if (stepText !== undefined && ends[1] === undefined) {
        throw new ConfigError(`${spec.name} "${item}": a step needs * or a range before it; write ${ends[0]}-${spec.max}/${stepText}`);
      }
      if (lo > hi) throw new ConfigError(`${spec.name} range "${range}" runs backwards`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (stepText !== undefined && (!/^\d+$/.test(stepText) || step < 1)) throw new ConfigError(`${spec.name} step "${stepText}" is not a whole number of at least 1`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function value(text: string, spec: FieldSpec, item: string): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d+$/.test(text)) {
    const names = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : "";
    throw new ConfigError(`${spec.name} "${item}" is not a number${names}`);
  }
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new ConfigError(`${spec.name} ${n} is out of range ${spec.min}-${spec.max}`);
  return n;
}
