import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../docker/types.ts";
import type { Logger } from "../../ui/logger.ts";
import { ConfigError, errorMessage } from "../../errors.ts";
import { LABEL } from "../../compose/labels.ts";
import { containerFor } from "../project/plan.ts";
import { parseElapsed } from "../../runtime/duration.ts";
import { critical } from "../../runtime/critical.ts";

export type HookPhase = "pre" | "post" | "restore.pre" | "restore.post";

export interface HookResult {
  service: string;
  phase: HookPhase;
  status: "ok" | "failed";
  exitCode: number | null;
  durationMs: number;
  error?: string;
}

export interface HookDeps {
  docker: DockerApi;
  log: Logger;
  signal: AbortSignal;
  /** Default per-hook timeout; a service's `simpledeploy.backup.hooks.timeout` label overrides it. */
  timeoutMs: number;
}

const LABEL_OF: Record<HookPhase, string> = { pre: LABEL.pre, post: LABEL.post, "restore.pre": LABEL.restorePre, "restore.post": LABEL.restorePost };

/** `["php","occ","x"]` (a JSON array) runs as is; any other string runs with `sh -c`. */
export function hookArgv(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ConfigError(`hook ${JSON.stringify(value)} looks like an exec-form list but is not valid JSON`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === "string")) {
      throw new ConfigError(`hook ${JSON.stringify(value)} must be a non-empty list of strings`);
    }
    return parsed as string[];
  }
  return ["sh", "-c", trimmed];
}

export function hooksAbortOnError(service: ComposeService): boolean {
  const v = (service.labels[LABEL.hooksOnError] ?? "abort").trim();
  if (v !== "abort" && v !== "continue") throw new ConfigError(`${service.name}: ${LABEL.hooksOnError} must be abort or continue, not "${v}"`);
  return v === "abort";
}

/** Services of `services` that have a hook for `phase`, in compose order. */
export function servicesWithHook(services: readonly ComposeService[], phase: HookPhase): ComposeService[] {
  return services.filter((s) => Boolean(s.labels[LABEL_OF[phase]]?.trim()));
}

/** Runs one service's hook inside its running container, with a timeout. Never throws on failure. */
export async function runHook(service: ComposeService, phase: HookPhase, containers: readonly ContainerDetails[], deps: HookDeps): Promise<HookResult> {
  const t0 = performance.now();
  const result = (status: HookResult["status"], exitCode: number | null, error?: string): HookResult => ({
    service: service.name, phase, status, exitCode, durationMs: Math.round(performance.now() - t0), ...(error ? { error } : {}),
  });
  const value = service.labels[LABEL_OF[phase]] ?? "";
  const container = containerFor(service.name, containers);
  if (!container?.running) return result("failed", null, `${phase} hook of ${service.name}: the container is not running`);
  const timeoutMs = hookTimeout(service, deps.timeoutMs);
  const signal = AbortSignal.any([deps.signal, AbortSignal.timeout(timeoutMs)]);
  deps.log.info(`${service.name}: running ${phase} hook`);
  try {
    const argv = hookArgv(value);
    const r = await deps.docker.exec(container.id, argv, { signal, service: service.name });
    for (const line of `${r.stdout.toString("utf8")}${r.stderr}`.split("\n").filter(Boolean)) deps.log.debug(`${service.name} ${phase}> ${line}`);
    if (r.exitCode !== 0) {
      const tail = r.stderr.trim().split("\n").slice(-5).join(" | ");
      return result("failed", r.exitCode, `${phase} hook of ${service.name} exited ${r.exitCode}${tail ? `: ${tail}` : ""}`);
    }
    return result("ok", 0);
  } catch (err) {
    if (deps.signal.aborted) throw err;
    const timedOut = signal.aborted;
    return result("failed", null, timedOut ? `${phase} hook of ${service.name} timed out after ${timeoutMs / 1000} s` : errorMessage(err));
  }
}

// --- internal ---

function hookTimeout(service: ComposeService, fallbackMs: number): number {
  const raw = service.labels[LABEL.hookTimeout];
  return raw ? parseElapsed(raw, `${service.name}: ${LABEL.hookTimeout}`) : fallbackMs;
}

export interface Hooked<T> {
  /** Undefined when a failing pre hook stopped the run. */
  value?: T;
  hooks: HookResult[];
  /** Why the body did not run: a failed pre hook with on-error=abort. */
  stopReason?: string;
}

/**
 * pre hooks → body → post hooks. Post hooks run in `finally`, with their own deadline so that an
 * interrupt still runs them, for every service whose pre hook ran (or that has only a post hook).
 */
export async function withHooks<T>(
  phases: { pre: HookPhase; post: HookPhase },
  services: readonly ComposeService[],
  containers: readonly ContainerDetails[],
  deps: HookDeps,
  body: () => Promise<T>,
): Promise<Hooked<T>> {
  const out: Hooked<T> = { hooks: [] };
  const preRan = new Set<string>();
  try {
    for (const service of servicesWithHook(services, phases.pre)) {
      if (deps.signal.aborted) throw deps.signal.reason;
      preRan.add(service.name);
      const hook = await runHook(service, phases.pre, containers, deps);
      out.hooks.push(hook);
      if (hook.status === "failed") {
        deps.log.error(hook.error ?? `${phases.pre} hook failed`);
        if (hooksAbortOnError(service)) {
          out.stopReason = `${hook.error} (${LABEL.hooksOnError}=abort)`;
          return out;
        }
      }
    }
    out.value = await body();
    return out;
  } finally {
    const postDeps = { ...deps, signal: AbortSignal.timeout(deps.timeoutMs + 5_000) };
    const hasPre = (s: ComposeService) => Boolean(s.labels[LABEL_OF[phases.pre]]?.trim());
    for (const service of servicesWithHook(services, phases.post)) {
      if (hasPre(service) ? !preRan.has(service.name) : out.stopReason !== undefined) continue;
      const hook = await critical(() => runHook(service, phases.post, containers, postDeps));
      if (hook.status === "failed") deps.log.error(hook.error ?? `${phases.post} hook failed`);
      out.hooks.push(hook);
    }
  }
}
