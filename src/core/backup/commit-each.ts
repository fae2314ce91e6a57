import { errorMessage, TargetError, throwIfAborted } from "../../errors.ts";
import type { Manifest } from "../../manifest/schema.ts";
import { writeManifest } from "../../manifest/store.ts";
import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import type { FanOut } from "./fan-out.ts";
import type { TargetOutcome } from "./types.ts";

/**
 * The commit of a backup to several targets: each target still in gets the manifest (its own commit
 * point: every artifact on it is durable, since its puts resolved); a target that failed a put or
 * the manifest gets its artifacts of this set removed again, so nothing partial stays visible.
 * Rejects only when no target committed.
 */
export async function commitToEach(
  fan: FanOut, manifest: Manifest, keys: string[], ctx: { signal: AbortSignal; log: Logger },
): Promise<{ manifest: string; targets: TargetOutcome[] }> {
  let manifestKey: string | undefined;
  let firstError: unknown;
  const targets = await Promise.all(fan.members.map(async (t): Promise<TargetOutcome> => {
    const earlier = fan.failures().get(t);
    if (earlier === undefined) {
      try {
        manifestKey = await writeManifest(t, manifest, ctx.signal);
        return { target: t.display, status: "ok", manifest: manifestKey };
      } catch (err) {
        firstError ??= err;
        fan.fail(t, errorMessage(err));
      }
    }
    const error = fan.failures().get(t)!;
    ctx.log.error(`target ${t.display} failed, the set is not on it: ${error}`);
    await removeQuietly(t, keys);
    return { target: t.display, status: "failed", manifest: null, error };
  }));
  throwIfAborted(ctx.signal);
  if (manifestKey === undefined) throw firstError ?? new TargetError(`no target took the set: ${targets.map((t) => t.error).join("; ")}`);
  return { manifest: manifestKey, targets };
}

// --- internal ---

/** Best effort within 15 s: a target that failed has often stopped answering; prune collects the rest. */
async function removeQuietly(t: Target, keys: string[]): Promise<void> {
  const signal = AbortSignal.timeout(15_000);
  for (const key of keys) await t.remove(key, { signal }).catch(() => {});
}
