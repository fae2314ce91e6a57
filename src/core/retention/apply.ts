import { ConfigError } from "../../errors.ts";
import { COUNT_RULES, isEmptyPolicy, type CountRule, type RetentionPolicy } from "./policy.ts";
import { subtractCalendarSpan } from "../../runtime/duration.ts";
import { newestFirst } from "../../manifest/order.ts";

/**
 * Retention as restic's `forget` has it, applied to the backup sets of one project. Pure: the
 * clock and the calendar come in through `opts`, so golden files pin every decision.
 */

export type BucketKind = Exclude<CountRule, "last">;
/** The calendar bucket of `time`: equal strings mean the same hour/day/ISO week/month/year. */
export type BucketOf = (kind: BucketKind, time: Date) => string;

export interface RetentionSet {
  id: string;
  time: Date;
  /** Services whose artifacts the set holds (empty for incomplete sets). */
  services: readonly string[];
  /** Has a readable manifest; only complete sets count for the policy. */
  complete: boolean;
}

export interface RetentionOptions {
  /** Incomplete sets older than `now - graceMs` are garbage. */
  now: Date;
  /** Default: the machine's local calendar ({@link calendarBuckets}()). */
  bucketOf?: BucketOf;
  /** Elapsed time, default 24h: a backup that old is not running any more. */
  graceMs?: number;
  /** Lets the policy remove every complete set, including the newest set of a service. */
  allowRemoveAll?: boolean;
}

export interface RetentionResult {
  /** Newest first, like `remove`. */
  keep: RetentionSet[];
  remove: RetentionSet[];
  /** Why, by set id: rule names for kept sets, `expired`/`incomplete` for removed ones. */
  reasons: Record<string, string[]>;
}

/** Reasons beyond the rule names (`last`, `hourly`, …, `within`). */
export const REASON = {
  noPolicy: "no-policy",
  expired: "expired",
  incomplete: "incomplete",
  inGrace: "incomplete-within-grace",
  refuseRemoveAll: "refuse-remove-all",
  newestOfService: (service: string) => `newest-of-service:${service}`,
} as const;

export const DEFAULT_GRACE_MS = 24 * 3_600_000;

/**
 * Decides which sets of one project to keep. For each count rule, complete sets are walked newest
 * to oldest and a set is kept when its bucket differs from the last one kept for that rule, until
 * the count is used up (-1: never). `within` keeps sets newer than the newest set minus the
 * duration. Then two safety nets, both lifted by `allowRemoveAll`: a policy that would remove every
 * complete set keeps the newest, and the newest set holding each service is kept (a `--service db`
 * backup must not push out the last backup of the volume). Without a policy nothing is removed.
 */
export function applyRetention(sets: readonly RetentionSet[], policy: RetentionPolicy | undefined, opts: RetentionOptions): RetentionResult {
  const sorted = newestFirst(sets, (s) => ({ createdAt: s.time, set: s.id }));
  const reasons: Record<string, string[]> = {};
  const add = (id: string, reason: string) => (reasons[id] ??= []).push(reason);
  if (!policy || isEmptyPolicy(policy)) {
    for (const s of sorted) add(s.id, REASON.noPolicy);
    return { keep: sorted, remove: [], reasons };
  }

  const complete = sorted.filter((s) => s.complete);
  const kept = new Set<string>();
  const keep = (s: RetentionSet, reason: string) => {
    kept.add(s.id);
    add(s.id, reason);
  };
  const bucketOf = opts.bucketOf ?? calendarBuckets();
  for (const rule of COUNT_RULES) {
    let left = policy[rule];
    if (left === undefined || left === 0) continue;
    let previous: string | undefined;
    for (const [i, s] of complete.entries()) {
      if (left === 0) break;
      const bucket = rule === "last" ? String(i) : bucketOf(rule, s.time);
      if (bucket === previous) continue;
      previous = bucket;
      keep(s, rule);
      if (left > 0) left--;
    }
  }
  const newest = complete[0];
  if (policy.within && newest) {
    const cutoff = subtractCalendarSpan(newest.time, policy.within).getTime();
    for (const s of complete) if (s.time.getTime() > cutoff) keep(s, "within");
  }

  if (!opts.allowRemoveAll && newest && kept.size === 0) keep(newest, REASON.refuseRemoveAll);
  if (!opts.allowRemoveAll) {
    const byPolicy = new Set(kept);
    const seen = new Set<string>();
    for (const s of complete) {
      for (const service of [...s.services].sort()) {
        if (seen.has(service)) continue;
        seen.add(service);
        if (!byPolicy.has(s.id)) keep(s, REASON.newestOfService(service));
      }
    }
  }

  const graceCutoff = opts.now.getTime() - (opts.graceMs ?? DEFAULT_GRACE_MS);
  for (const s of sorted) {
    if (s.complete) {
      if (!kept.has(s.id)) add(s.id, REASON.expired);
    } else if (s.time.getTime() < graceCutoff) {
      add(s.id, REASON.incomplete);
    } else {
      kept.add(s.id);
      add(s.id, REASON.inGrace);
    }
  }
  const ordered: Record<string, string[]> = {};
  for (const s of sorted) ordered[s.id] = reasons[s.id] ?? [];
  return { keep: sorted.filter((s) => kept.has(s.id)), remove: sorted.filter((s) => !kept.has(s.id)), reasons: ordered };
}

/**
 * Buckets on the calendar of `timeZone` (an IANA name such as `UTC` or `Europe/Berlin`; default the
 * machine's local zone): hour `YYYY-MM-DD HH`, day `YYYY-MM-DD`, ISO week `YYYY-Www` (of the ISO
 * week-year: 2027-01-01 is in 2026-W53, 2024-12-30 in 2025-W01), month `YYYY-MM`, year `YYYY`.
 */
export function calendarBuckets(timeZone?: string): BucketOf {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23" });
  } catch (err) {
    throw new ConfigError(`unknown time zone "${timeZone}"`, { cause: err, hint: "use an IANA name such as UTC or Europe/Berlin" });
  }
  return (kind, time) => {
    const parts: Record<string, string> = {};
    for (const p of fmt.formatToParts(time)) parts[p.type] = p.value;
    const y = Number(parts.year);
    const m = Number(parts.month);
    const d = Number(parts.day);
    switch (kind) {
      case "yearly":
        return pad(y, 4);
      case "monthly":
        return `${pad(y, 4)}-${pad(m, 2)}`;
      case "weekly":
        return isoWeek(y, m, d);
      case "daily":
        return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
      case "hourly":
        return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)} ${pad(Number(parts.hour), 2)}`;
    }
  };
}

// --- internal ---

/** ISO 8601 week of a calendar date: weeks start on Monday and belong to the year of their Thursday. */
function isoWeek(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const week = Math.floor((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 / 7) + 1;
  return `${pad(weekYear, 4)}-W${pad(week, 2)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
