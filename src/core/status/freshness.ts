// Freshness of the sets in a target, per project and service: pure functions over the listed sets.
import type { SetInfo } from "../../manifest/store.ts";
import type { TargetFacts } from "../../notify/metrics.ts";

export interface FreshnessLimits {
  /** A service whose newest artifact is older than this is stale. */
  maxAgeMs?: number;
  /** A service whose newest artifact is smaller than the previous one by more than this percentage has shrunk. */
  maxShrinkPct?: number;
}

export interface ServiceFreshness {
  service: string;
  /** Newest complete set holding an artifact of the service, or null when none does. */
  set: string | null;
  createdAt: string | null;
  ageMs: number | null;
  bytes: number | null;
  previousBytes: number | null;
  /** Relative change against the previous artifact, in percent (−100 … ∞), null without one. */
  changePct: number | null;
  /** Sizes over the project's last complete sets, oldest first; null where the set lacks the service. */
  history: (number | null)[];
  problems: string[];
}

export interface ProjectFreshness {
  project: string;
  newestSet: string | null;
  newestStatus: "ok" | "partial" | null;
  completeSets: number;
  incompleteSets: number;
  services: ServiceFreshness[];
  problems: string[];
}

/** Sets the trend covers. */
export const HISTORY = 12;

/**
 * `sets` newest first (as {@link listSets} returns them). A service is judged by the newest set that
 * holds it; "missing" means the newest set lacks (or failed) a service that it or the set before it
 * names, so a service that stops being backed up is reported until it has been gone for two sets.
 */
export function projectFreshness(project: string, sets: readonly SetInfo[], now: Date, limits: FreshnessLimits): ProjectFreshness {
  const mine = sets.filter((s) => s.project === project);
  const complete = mine.filter((s) => s.complete && s.manifest);
  const newest = complete[0];
  const names = new Set<string>();
  for (const s of complete.slice(0, 2)) for (const n of serviceNames(s)) names.add(n);
  const recent = complete.slice(0, HISTORY).reverse();
  const services = [...names].sort().map((service): ServiceFreshness => {
    const holding = complete.filter((s) => bytesOf(s, service) !== null);
    const [cur, prev] = holding;
    const bytes = cur ? bytesOf(cur, service) : null;
    const previousBytes = prev ? bytesOf(prev, service) : null;
    const ageMs = cur ? now.getTime() - cur.createdAt.getTime() : null;
    const changePct = bytes !== null && previousBytes ? ((bytes - previousBytes) / previousBytes) * 100 : null;
    const problems: string[] = [];
    if (newest && bytesOf(newest, service) === null) {
      const failed = newest.manifest!.failed.find((f) => f.service === service);
      problems.push(`missing from the newest set ${newest.set}${failed ? ` (${failed.error})` : ""}`);
    }
    if (limits.maxAgeMs !== undefined && (ageMs === null || ageMs > limits.maxAgeMs)) problems.push(ageMs === null ? "no complete set holds it" : `stale: newest artifact is ${formatAge(ageMs)} old`);
    if (limits.maxShrinkPct !== undefined && changePct !== null && -changePct > limits.maxShrinkPct) {
      problems.push(`shrank ${Math.round(-changePct)}% against the previous set (limit ${limits.maxShrinkPct}%)`);
    }
    return {
      service, set: cur?.set ?? null, createdAt: cur?.createdAt.toISOString() ?? null, ageMs, bytes, previousBytes, changePct,
      history: recent.map((s) => bytesOf(s, service)), problems,
    };
  });
  const problems = newest ? [] : [`no complete set of project ${project}`];
  return {
    project, newestSet: newest?.set ?? null, newestStatus: newest?.manifest?.status ?? null,
    completeSets: complete.length, incompleteSets: mine.length - complete.length, services, problems,
  };
}

/** Per project and service: how many complete sets hold it and the newest one's time (for metrics). */
export function targetFacts(sets: readonly SetInfo[]): TargetFacts[] {
  const facts = new Map<string, TargetFacts>();
  for (const s of sets) {
    if (!s.complete || !s.manifest) continue;
    for (const service of new Set(s.manifest.items.map((i) => i.service))) {
      const key = `${s.project}/${service}`;
      const f = facts.get(key) ?? { project: s.project, service, sets: 0, newestSet: null };
      f.sets++;
      if (!f.newestSet || s.createdAt > f.newestSet) f.newestSet = s.createdAt;
      facts.set(key, f);
    }
  }
  return [...facts.values()];
}

export function formatAge(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ""}`;
}

// --- internal ---

function serviceNames(s: SetInfo): string[] {
  return [...s.manifest!.items.map((i) => i.service), ...s.manifest!.failed.map((f) => f.service)];
}

/** Stored bytes of the service's artifacts in the set, or null when it has none. */
function bytesOf(s: SetInfo, service: string): number | null {
  const items = s.manifest?.items.filter((i) => i.service === service) ?? [];
  return items.length ? items.reduce((n, i) => n + i.bytes, 0) : null;
}
