import { DAY_MS } from "./cron.ts";

/**
 * Wall-clock time in an IANA zone, with Intl only (no tz database of our own). A "floating" time is
 * epoch milliseconds whose UTC fields read as the wall clock in the zone.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `zone` is a time zone this runtime knows. */
export function isValidZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone of this process (TZ or /etc/localtime): what cron and systemd use without CRON_TZ. */
export function hostZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Milliseconds to add to the instant `ms` to get its wall-clock reading in `zone`. */
export function zoneOffset(zone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(whole)) if (part.type !== "literal") p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - whole;
}

export function toFloating(zone: string, ms: number): number {
  return ms + zoneOffset(zone, ms);
}

/**
 * The instant a wall-clock reading happens in `zone`. A reading that happens twice (the hour repeated
 * when clocks go back) is its first occurrence; one that never happens (skipped when clocks go
 * forward) is the moment of the jump, as vixie cron runs a job whose time was skipped.
 */
export function fromFloating(zone: string, floating: number): number {
  const before = zoneOffset(zone, floating - DAY_MS);
  const after = zoneOffset(zone, floating + DAY_MS);
  const hits = [...new Set([before, after])].map((o) => floating - o).filter((t) => toFloating(zone, t) === floating);
  if (hits.length) return Math.min(...hits);
  // In the gap: the jump lies between the two candidate instants; find it to the second.
  let lo = floating - Math.max(before, after);
  let hi = floating - Math.min(before, after);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (zoneOffset(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

// --- internal ---

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}
