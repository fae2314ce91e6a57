import { DAY_MS } from "./cron.ts";
import type { Schedule } from "./schedule.ts";
import { zoneOffset } from "./zoned-time.ts";

/**
 * Translations of a {@link Schedule} for other schedulers. Every expression parseCronFields accepts
 * converts to systemd exactly: fields become value lists, ranges (`a..b`) and repetitions (`a/n`),
 * and cron's "either day field" rule becomes two OnCalendar= lines (a timer fires on the union).
 */

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** OnCalendar= values (one, or two when cron's day-of-month OR day-of-week rule applies). */
export function toOnCalendar(s: Schedule): string[] {
  const f = s.fields;
  const time = `${compact(f.hour, 0, 23)}:${compact(f.minute, 0, 59)}:00`;
  const month = compact(f.month, 1, 12);
  const zone = s.timezone ? ` ${s.timezone}` : "";
  const dom = compact(f.dayOfMonth, 1, 31);
  const dow = f.dayOfWeek.length === 7 ? "" : `${weekdays(f.dayOfWeek)} `;
  if (f.domStar || f.dowStar) return [`${dow}*-${month}-${dom} ${time}${zone}`];
  return [`*-${month}-${dom} ${time}${zone}`, `${dow}*-${month}-* ${time}${zone}`];
}

/** A GitHub Actions `cron:` (always UTC) that wakes up at every run of `s`, and how exact it is. */
export interface UtcCron {
  cron: string;
  /** True when the UTC expression fires exactly at the schedule's runs and nowhere else. */
  exact: boolean;
  /** One line for a YAML comment. */
  note: string;
}

/**
 * Converts to UTC for GitHub Actions, over every offset the zone has in the year after `now`. The
 * result never misses a run but may wake more often (both hours around DST, every day when a shift
 * crosses midnight on restricted days): the job runs `--if-due`, which picks the due wake-up.
 */
export function toUtcCron(s: Schedule, now: Date): UtcCron {
  const [, , dom, month, dow] = s.expression.split(" ") as [string, string, string, string, string];
  if (!s.timezone) return { cron: s.expression, exact: true, note: "no CRON_TZ: read as UTC, the zone of GitHub's runners" };
  const offsets = yearOffsets(s.timezone, now);
  const zone = `${s.timezone} (${offsets.map(formatOffset).join(", ")})`;
  if (offsets.every((o) => o === 0)) return { cron: s.expression, exact: true, note: `${zone} is UTC` };
  const f = s.fields;
  const times = new Set<number>();
  const dayShifts = new Set<number>();
  for (const o of offsets) {
    for (const h of f.hour) {
      for (const m of f.minute) {
        const utc = h * 60 + m - o;
        dayShifts.add(Math.floor(utc / 1440));
        times.add(((utc % 1440) + 1440) % 1440);
      }
    }
  }
  const hours = [...new Set([...times].map((t) => Math.floor(t / 60)))].sort((a, b) => a - b);
  const minutes = [...new Set([...times].map((t) => t % 60))].sort((a, b) => a - b);
  const product = hours.length * minutes.length === times.size;
  const days = utcDays(f, [dom, month, dow], dayShifts);
  const keepDays = days !== undefined;
  const cron = `${cronList(minutes, 60)} ${cronList(hours, 24)} ${days ?? "* * *"}`;
  const extra = [
    offsets.length > 1 ? "wakes at the UTC time of each offset" : "",
    product ? "" : "wakes at every combination of those hours and minutes",
    keepDays ? "" : "wakes every day because the shift crosses midnight",
  ].filter(Boolean);
  const exact = extra.length === 0;
  return { cron, exact, note: `${s.expression} in ${zone}${exact ? "" : `; ${extra.join(", ")}: --if-due runs only the due wake-up`}` };
}

// --- internal ---

/**
 * The day fields in UTC, or undefined when they cannot follow: unchanged when no time crosses
 * midnight or every day runs; weekdays moved when every time crosses the same way.
 */
function utcDays(f: Schedule["fields"], written: [string, string, string], shifts: Set<number>): string | undefined {
  const allDays = f.dayOfMonth.length === 31 && f.month.length === 12 && f.dayOfWeek.length === 7;
  if (allDays || (shifts.size === 1 && shifts.has(0))) return written.join(" ");
  const [shift] = shifts;
  if (shifts.size > 1 || f.dayOfMonth.length < 31 || f.month.length < 12) return undefined;
  return `* * ${f.dayOfWeek.map((d) => (d + shift! + 7) % 7).sort((a, b) => a - b).join(",")}`;
}

/** Values as systemd writes them: `*`, `a/n` to the end of the field, or lists of `a..b` and `a`. */
function compact(values: readonly number[], min: number, max: number): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  if (values.length === max - min + 1) return "*";
  const first = values[0]!;
  const step = values.length > 1 ? values[1]! - first : 0;
  const progression = values.length > 2 && values.every((v, i) => v === first + i * step) && values[values.length - 1]! + step > max;
  if (progression) return `${pad(first)}/${step}`;
  return runs(values).map(([a, b]) => (a === b ? pad(a) : b === a + 1 ? `${pad(a)},${pad(b)}` : `${pad(a)}..${pad(b)}`)).join(",");
}

function weekdays(days: readonly number[]): string {
  return runs(days).map(([a, b]) => (a === b ? DAY_NAMES[a] : b === a + 1 ? `${DAY_NAMES[a]},${DAY_NAMES[b]}` : `${DAY_NAMES[a]}..${DAY_NAMES[b]}`)).join(",");
}

/** Consecutive runs of sorted values as [start, end] pairs. */
function runs(values: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const v of values) {
    const last = out[out.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/** `*`, `*\/n` from zero to the end, or a comma list: GitHub's cron accepts all three. */
function cronList(values: readonly number[], size: number): string {
  if (values.length === size) return "*";
  const step = values[1]! - values[0]!;
  if (values.length > 2 && values[0] === 0 && values.every((v, i) => v === i * step) && values.length * step >= size) return `*/${step}`;
  return values.join(",");
}

function formatOffset(minutes: number): string {
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? "-" : "+"}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, "0")}` : ""}`;
}

/** The distinct UTC offsets (minutes) of `zone` over the year after `now`, sampled daily. */
function yearOffsets(zone: string, now: Date): number[] {
  const seen = new Set<number>();
  for (let i = 0; i <= 366; i++) seen.add(zoneOffset(zone, now.getTime() + i * DAY_MS) / 60_000);
  return [...seen].sort((a, b) => a - b);
}
