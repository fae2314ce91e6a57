import { ConfigError } from "../../errors.ts";
import { LABEL } from "../../compose/labels.ts";
import { formatCalendarSpan, parseCalendarSpan, type CalendarSpan } from "../../runtime/duration.ts";

/**
 * The one table of retention rules, in the order reasons are reported: the policy type, the
 * `--keep-*` flags, the label keys and their parsing all derive from it.
 */
export const RETENTION_RULES = [
  { rule: "last", kind: "count", help: "keep the n newest sets (-1: all)" },
  { rule: "hourly", kind: "count", help: "keep the newest set of each of the last n hours that have one" },
  { rule: "daily", kind: "count", help: "keep the newest set of each of the last n days that have one" },
  { rule: "weekly", kind: "count", help: "keep the newest set of each of the last n ISO weeks that have one" },
  { rule: "monthly", kind: "count", help: "keep the newest set of each of the last n months that have one" },
  { rule: "yearly", kind: "count", help: "keep the newest set of each of the last n years that have one" },
  { rule: "within", kind: "span", help: "keep sets newer than the newest set minus this (7d, 2w, 1y6m, 36h)" },
] as const;

type RuleSpec = (typeof RETENTION_RULES)[number];
export type Rule = RuleSpec["rule"];
export type CountRule = Extract<RuleSpec, { kind: "count" }>["rule"];
export const COUNT_RULES = RETENTION_RULES.filter((r) => r.kind === "count").map((r) => r.rule) as readonly CountRule[];
const RULES: readonly Rule[] = RETENTION_RULES.map((r) => r.rule);

/**
 * What `prune` keeps. A count is how many buckets of that kind to fill (-1 = unlimited, 0 = none);
 * an absent field is not a rule. A policy with no field at all is "no policy": nothing is removed.
 * `within` keeps sets newer than the newest set's time minus that calendar span.
 */
export type RetentionPolicy = { [R in CountRule]?: number } & { within?: CalendarSpan };

/** `--keep-*` flags as commander hands them over (strings, unparsed): `keepLast`, …, `keepWithin`. */
export type RetentionFlags = { [R in Rule as `keep${Capitalize<R>}`]?: string };

/** The commander attribute of a rule's `--keep-<rule>` flag. */
export function flagKey(rule: Rule): keyof RetentionFlags {
  return `keep${rule[0]!.toUpperCase()}${rule.slice(1)}` as keyof RetentionFlags;
}

/** The policy of `--keep-*` flags, or undefined when none is given. */
export function policyFromFlags(flags: RetentionFlags): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {};
  for (const rule of RULES) {
    const raw = flags[flagKey(rule)];
    if (raw === undefined) continue;
    const flag = `--keep-${rule}`;
    if (rule === "within") policy.within = parseCalendarSpan(raw, flag);
    else policy[rule] = parseCount(raw, flag);
  }
  return isEmptyPolicy(policy) ? undefined : policy;
}

/** Parses `last=3,daily=7,weekly=4,monthly=6,yearly=2,within=7d,hourly=24`; `where` names the source in errors. */
export function parseRetentionLabel(value: string, where: string = LABEL.retention): RetentionPolicy {
  const policy: RetentionPolicy = {};
  const seen = new Set<string>();
  for (const entry of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf("=");
    const key = (eq < 0 ? entry : entry.slice(0, eq)).trim().toLowerCase();
    const raw = eq < 0 ? "" : entry.slice(eq + 1).trim();
    if (!(RULES as readonly string[]).includes(key)) {
      throw new ConfigError(`${where}: unknown retention rule "${key}"`, { hint: `valid rules: ${RULES.join(", ")} (e.g. daily=7,weekly=4)` });
    }
    if (eq < 0 || raw === "") throw new ConfigError(`${where}: retention rule "${key}" has no value`, { hint: "write it as rule=value, e.g. daily=7" });
    if (seen.has(key)) throw new ConfigError(`${where}: retention rule "${key}" is given twice`);
    seen.add(key);
    const rule = key as Rule;
    if (rule === "within") policy.within = parseCalendarSpan(raw, `${where} within`);
    else policy[rule] = parseCount(raw, `${where} ${rule}`);
  }
  return policy;
}

/**
 * The policy from the retention label of a project's services. Retention applies to whole sets, so
 * services that carry different policies are a ConfigError rather than a silent pick.
 */
export function policyFromLabels(services: readonly { name: string; labels: Record<string, string> }[]): RetentionPolicy | undefined {
  let found: { service: string; policy: RetentionPolicy; text: string } | undefined;
  for (const svc of services) {
    const value = svc.labels[LABEL.retention];
    if (value === undefined || value.trim() === "") continue;
    const policy = parseRetentionLabel(value, `${LABEL.retention} of service ${svc.name}`);
    const text = formatPolicy(policy);
    if (found && found.text !== text) {
      throw new ConfigError(`services ${found.service} and ${svc.name} have different ${LABEL.retention} labels (${found.text} vs ${text})`, {
        hint: "retention applies to whole backup sets: give every service the same label, or pass --keep-* flags",
      });
    }
    found ??= { service: svc.name, policy, text };
  }
  return found && !isEmptyPolicy(found.policy) ? found.policy : undefined;
}

export function isEmptyPolicy(policy: RetentionPolicy | undefined): boolean {
  return !policy || RULES.every((rule) => policy[rule] === undefined);
}

/** `last=3,daily=7,within=7d` in rule order: the label format, also used for display and comparison. */
export function formatPolicy(policy: RetentionPolicy): string {
  return RULES.filter((rule) => policy[rule] !== undefined)
    .map((rule) => `${rule}=${rule === "within" ? formatCalendarSpan(policy.within!) : String(policy[rule])}`)
    .join(",");
}

/** The policy as a JSON object (`within` as text). */
export function policyToJson(policy: RetentionPolicy): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const rule of COUNT_RULES) if (policy[rule] !== undefined) out[rule] = policy[rule];
  if (policy.within) out.within = formatCalendarSpan(policy.within);
  return out;
}

// --- internal ---

function parseCount(raw: string, what: string): number {
  const text = raw.trim();
  const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < -1) {
    throw new ConfigError(`${what}: expected a whole number of sets (-1 for unlimited), got "${raw}"`);
  }
  return n;
}
