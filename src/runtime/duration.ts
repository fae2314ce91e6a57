import { ConfigError } from "../errors.ts";

/**
 * Durations, one parser per meaning, because the same text means different things:
 * - elapsed time ({@link parseElapsed}): timeouts, grace periods, stall limits. `30m` is thirty
 *   minutes; the result is milliseconds.
 * - a calendar span ({@link parseCalendarSpan}): retention `within`, as restic has it. `1y6m` is
 *   one year and six months back on the calendar (`m` is months), not a number of milliseconds.
 */

// --- elapsed time ---

const ELAPSED_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type ElapsedUnit = keyof typeof ELAPSED_MS;

/** Timers over 2^31-1 ms (about 24.8 days) fire after 1 ms in Node: stay under that. */
export const MAX_TIMER_MS = 24 * 86_400_000;

/**
 * `90s`, `30m`, `1h30m`, `2d`, `250ms` or a bare number of seconds → milliseconds. Units:
 * d(ays of 24 h), h(ours), m(inutes), s(econds), ms, each at most once. `what` names the flag or
 * label. The default `maxMs` suits timeouts; pass a larger one for ages that never become timers.
 */
export function parseElapsed(value: string, what: string, maxMs: number = MAX_TIMER_MS): number {
  const text = value.trim().toLowerCase();
  const bad = (why: string) =>
    new ConfigError(`${what}: invalid duration "${value}" (${why})`, { hint: "use amounts with units d, h, m (minutes), s, ms, such as 30s, 5m, 1h30m or 2d" });
  const checked = (ms: number) => {
    if (!Number.isSafeInteger(ms) || ms > maxMs) throw bad(`too large: at most ${formatElapsed(maxMs)}`);
    return ms;
  };
  if (/^\d+$/.test(text)) return checked(Number(text) * ELAPSED_MS.s);
  if (!/^(\d+(ms|[dhms]))+$/.test(text)) throw bad("expected something like 30s, 5m or 1h");
  let ms = 0;
  const seen = new Set<string>();
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|[dhms])/g)) {
    if (seen.has(unit!)) throw bad(`unit ${unit} given twice`);
    seen.add(unit!);
    ms += Number(amount) * ELAPSED_MS[unit as ElapsedUnit];
  }
  return checked(ms);
}

/** Canonical text of milliseconds, in hours and below: `24h`, `1h30m`, `90s` → `1m30s`, `0s`. */
export function formatElapsed(ms: number): string {
  let rest = Math.round(ms);
  let text = "";
  for (const unit of ["h", "m", "s", "ms"] as const) {
    const n = Math.floor(rest / ELAPSED_MS[unit]);
    rest -= n * ELAPSED_MS[unit];
    if (n) text += `${n}${unit}`;
  }
  return text || "0s";
}

// --- calendar span ---

/** A calendar span as restic has it: `1y6m` is 1 year and 6 months back, not 548 days. */
export interface CalendarSpan {
  years: number;
  months: number;
  days: number;
  hours: number;
}

const SPAN_UNITS = { y: "years", m: "months", w: "days", d: "days", h: "hours" } as const;

/** `7d`, `2w`, `1y6m`, `36h`: integer amounts of y(ears), m(onths), w(eeks), d(ays), h(ours), each unit once. */
export function parseCalendarSpan(text: string, what: string): CalendarSpan {
  const value = text.trim();
  const bad = (why: string) =>
    new ConfigError(`${what}: invalid duration "${text}" (${why})`, { hint: "use amounts with units y, m (months), w, d, h, such as 7d, 2w, 1y6m or 36h" });
  if (!/^(\d+[ymwdh])+$/i.test(value)) throw bad("expected something like 7d");
  const d: CalendarSpan = { years: 0, months: 0, days: 0, hours: 0 };
  const seen = new Set<string>();
  for (const [, amount, unit] of value.toLowerCase().matchAll(/(\d+)([ymwdh])/g)) {
    const u = unit as keyof typeof SPAN_UNITS;
    if (seen.has(u)) throw bad(`unit ${u} given twice`);
    seen.add(u);
    const n = Number(amount);
    if (!Number.isSafeInteger(n) || n > 100_000) throw bad("amount too large");
    d[SPAN_UNITS[u]] += u === "w" ? n * 7 : n;
  }
  return d;
}

/** Canonical text: `1y6m`, `14d`, `0h` for zero. */
export function formatCalendarSpan(d: CalendarSpan): string {
  const text = (d.years ? `${d.years}y` : "") + (d.months ? `${d.months}m` : "") + (d.days ? `${d.days}d` : "") + (d.hours ? `${d.hours}h` : "");
  return text || "0h";
}

/**
 * `date` minus `d` on the UTC calendar (years, months, days), then hours: month ends overflow like
 * Go's AddDate, so the cut-off matches restic's.
 */
export function subtractCalendarSpan(date: Date, d: CalendarSpan): Date {
  const t = new Date(date.getTime());
  t.setUTCFullYear(t.getUTCFullYear() - d.years, t.getUTCMonth() - d.months, t.getUTCDate() - d.days);
  return new Date(t.getTime() - d.hours * 3_600_000);
}
