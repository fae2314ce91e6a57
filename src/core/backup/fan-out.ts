import type { Readable } from "node:stream";
import { errorMessage, throwIfAborted } from "../../errors.ts";
import { tee } from "../../pipeline/tee.ts";
import type { Target } from "../../targets/types.ts";

/**
 * Several targets behind one Target, for a backup to all of them at once: every artifact is read
 * once and teed into a put per target. A target whose put fails is out for the rest of the run
 * (the set on it could not be complete); the others go on. A put succeeds while any target takes
 * it, so the item counts as stored; run-backup then commits a manifest on each target still in.
 * Reads go to the first target still in; removes go to all.
 */
export interface FanOut extends Target {
  readonly members: readonly Target[];
  /** Targets that failed a put, with why. */
  failures(): ReadonlyMap<Target, string>;
  /** Marks a target out (its manifest could not be written, say). */
  fail(target: Target, error: string): void;
}

export function createFanOut(members: readonly Target[]): FanOut {
  const failed = new Map<Target, string>();
  const live = () => members.filter((t) => !failed.has(t));
  const first = () => live()[0] ?? members[0]!;
  return {
    scheme: "fan-out",
    display: members.map((t) => t.display).join(", "),
    capabilities: {
      atomicPut: members.every((t) => t.capabilities.atomicPut),
      maxConcurrency: Math.min(...members.map((t) => t.capabilities.maxConcurrency)),
    },
    members,
    failures: () => failed,
    fail: (t, error) => void (failed.has(t) || failed.set(t, error)),

    async put(key, body: Readable, { signal }) {
      throwIfAborted(signal);
      const targets = live();
      if (targets.length === 0) throw new Error(`every target failed: ${[...failed.values()].join("; ")}`);
      let sourceError: unknown;
      body.once("error", (err) => (sourceError ??= err));
      const branches = tee(body, targets.length);
      const results = await Promise.allSettled(
        targets.map((t, i) =>
          t.put(key, branches[i]!, { signal }).catch((err: unknown) => {
            branches[i]!.destroy();
            throw err;
          }),
        ),
      );
      throwIfAborted(signal);
      if (sourceError !== undefined) throw sourceError;
      let stored: { bytes: number } | undefined;
      results.forEach((r, i) => {
        if (r.status === "fulfilled") stored ??= r.value;
        else failed.set(targets[i]!, errorMessage(r.reason));
      });
      if (stored) return stored;
      throw (results[0] as PromiseRejectedResult).reason;
    },

    get: (key, opts) => first().get(key, opts),
    list: (prefix, opts) => first().list(prefix, opts),

    async remove(key, opts) {
      const results = await Promise.allSettled(members.map((t) => t.remove(key, opts)));
      // A target that is out may well be unreachable; only the live ones must confirm.
      const bad = results.find((r, i) => r.status === "rejected" && !failed.has(members[i]!));
      if (bad) throw (bad as PromiseRejectedResult).reason;
    },
  };
}

export function isFanOut(t: Target): t is FanOut {
  return t.scheme === "fan-out";
}
