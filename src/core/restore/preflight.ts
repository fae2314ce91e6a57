import { setTimeout as sleep } from "node:timers/promises";
import type { RunContext, Strategy } from "../../strategies/types.ts";
import { StrategyError, throwIfAborted } from "../../errors.ts";
import { formatElapsed } from "../../runtime/duration.ts";
import type { Logger } from "../../ui/logger.ts";

/**
 * Restore's preflight, run before any data is touched: each service whose strategy talks to a
 * server has a running container, and each server accepts connections (`Strategy.ready`) within
 * `--wait`. A restore started right after `docker compose up -d` waits here for the database's
 * init to finish instead of failing half-way with "the database system is starting up".
 */

export interface ServiceToCheck {
  service: string;
  strategy: Pick<Strategy, "needsRunning" | "ready">;
  ctx: RunContext;
}

/** Time between probes: readiness is a matter of seconds, the probe one short exec. */
const POLL_MS = 1000;

/** Every service that needs a running server has one; `docker compose up -d` is the fix. */
export function checkRunning(checks: readonly ServiceToCheck[]): void {
  const stopped = checks.filter((c) => c.strategy.needsRunning && (!c.ctx.container.running || c.ctx.container.paused));
  if (stopped.length === 0) return;
  const names = stopped.map((c) => `${c.service} (${c.ctx.container.paused ? "paused" : "not running"})`).join(", ");
  throw new StrategyError(`restore needs a running server in ${names}; nothing was restored`, { hint: "start the project first: docker compose up -d" });
}

/** Polls every service's probe until all are ready; throws naming the last reason after `waitMs`. */
export async function waitReady(checks: readonly ServiceToCheck[], waitMs: number, signal: AbortSignal, log: Logger, pollMs = POLL_MS): Promise<void> {
  let pending = checks.filter((c) => c.strategy.ready);
  const deadline = performance.now() + waitMs;
  const reasons = new Map<string, string>();
  for (let round = 0; pending.length > 0; round++) {
    throwIfAborted(signal);
    const answers = await Promise.all(pending.map(async (c) => [c, await c.strategy.ready!(c.ctx)] as const));
    pending = answers.filter(([, why]) => why !== undefined).map(([c]) => c);
    for (const [c, why] of answers) if (why !== undefined) reasons.set(c.service, why);
    if (pending.length === 0) break;
    if (performance.now() + pollMs > deadline) {
      const list = pending.map((c) => `${c.service} (${reasons.get(c.service)})`).join(", ");
      throw new StrategyError(`not ready after ${formatElapsed(waitMs)}: ${list}; nothing was restored`, {
        hint: `check \`docker compose logs ${pending.map((c) => c.service).join(" ")}\`, or wait longer with --wait`,
      });
    }
    if (round === 0) log.info(`waiting up to ${formatElapsed(waitMs)} for ${pending.map((c) => `${c.service} (${reasons.get(c.service)})`).join(", ")}`);
    await sleep(pollMs, undefined, { signal }).catch(() => throwIfAborted(signal));
  }
}
