import type { RunContext } from "../types.ts";
import { LABEL } from "../../compose/labels.ts";
import { imageRepo } from "../../compose/image.ts";
import { StrategyError } from "../../errors.ts";
import { whileDown, type DownTarget } from "../../docker/stop-restart.ts";

/** Images tried for helper containers after the label's and the service's own image. */
const HELPER_FALLBACKS = ["busybox", "alpine", "debian", "ubuntu"];
/**
 * Runs `fn` with the container stopped when it was running, and starts it again afterwards: also
 * when `fn` fails or the run is aborted (see {@link whileDown}: the start is registered before the
 * stop). A failed start is reported together with `fn`'s error.
 */
export async function withStopped<T>(ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  const { container } = ctx;
  if (!container.running) return fn();
  ctx.log.info(`${ctx.service.name}: stopping ${container.name} for the restore`);
  return whileDown(ctx.docker, ctx.log, downTarget(ctx), "stop", ctx.signal, fn);
}

/** Runs `fn` with the container paused (unless it is stopped or already paused), unpausing in any case. */
export async function withPaused<T>(ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  const { container } = ctx;
  if (!container.running || container.paused) return fn();
  ctx.log.info(`${ctx.service.name}: pausing ${container.name} while its files are copied`);
  return whileDown(ctx.docker, ctx.log, downTarget(ctx), "pause", ctx.signal, fn);
}

/**
 * Runs `sh -c script` in a throwaway container that shares the service's volumes, as root; fails
 * with the script's stderr. Needs the paths it touches to be on volumes or bind mounts.
 */
export async function runHelper(ctx: RunContext, what: string, script: string, args: readonly string[]): Promise<{ image: string; output: string }> {
  const images = await helperImages(ctx);
  const result = await ctx.docker.runWithVolumesOf(ctx.container.id, images, ["sh", "-c", script, "sh", ...args], { signal: ctx.signal });
  if (result.exitCode !== 0) {
    throw new StrategyError(`could not ${what}`, {
      exec: { service: ctx.service.name, container: ctx.container.id, argv: ["sh", "-c", `(${what})`], exitCode: result.exitCode, stderrTail: result.stderr },
    });
  }
  ctx.log.debug(`${ctx.service.name}: ${what}: done in a helper container from ${result.image}`);
  return { image: result.image, output: result.stderr };
}

/** Whether `path` lives on one of the container's volumes or bind mounts (visible to helpers). */
export function onMount(ctx: RunContext, path: string): boolean {
  return ctx.container.mounts.some((m) => path === m.destination || path.startsWith(`${m.destination.replace(/\/+$/, "")}/`));
}

export function labelOf(ctx: RunContext, key: string): string | undefined {
  return ctx.service.labels[key] ?? ctx.container.labels[key];
}

// --- internal ---

async function helperImages(ctx: RunContext): Promise<string[]> {
  const local = await ctx.docker.listImageTags({ signal: ctx.signal });
  const preferred = labelOf(ctx, LABEL.helperImage);
  const fallbacks = HELPER_FALLBACKS.flatMap((repo) => local.filter((t) => imageRepo(t) === repo));
  return [...new Set([...(preferred ? [preferred] : []), ctx.container.image, ...fallbacks])];
}

function downTarget(ctx: RunContext): DownTarget {
  return { id: ctx.container.id, name: ctx.container.name, service: ctx.service.name };
}
