import type { Readable } from "node:stream";
import { drainGuard } from "../../pipeline/stall.ts";
import type { Target } from "../../targets/types.ts";
import { storeStalled } from "../../targets/shared/stalled.ts";
import { TargetError } from "../../errors.ts";

/**
 * `target` with every put bounded by the stall timeout on the store's side: a put whose store takes
 * no byte for `ms` while the backup has bytes for it fails (and is aborted, so the target removes
 * what it began) with one line naming the target. Each target of a multi-target run is guarded on
 * its own, so one frozen store fails alone and the others commit (exit 3).
 */
export function guardPuts(target: Target, ms: number): Target {
  return {
    scheme: target.scheme,
    display: target.display,
    capabilities: target.capabilities,
    get: (key, opts) => target.get(key, opts),
    list: (prefix, opts) => target.list(prefix, opts),
    remove: (key, opts) => target.remove(key, opts),
    ...(target.sweep ? { sweep: target.sweep.bind(target) } : {}),

    async put(key, body: Readable, opts) {
      const stalled = new AbortController();
      const guard = drainGuard(ms, (after) => {
        const err = storeStalled(target.display, key, after);
        stalled.abort(err);
        return err;
      });
      // the stall reaches the put through its signal; a target no longer reading must not crash Node
      guard.on("error", () => {});
      body.once("error", (err) => guard.destroy(err));
      body.pipe(guard);
      try {
        return await target.put(key, guard, { signal: AbortSignal.any([opts.signal, stalled.signal]) });
      } catch (err) {
        if (!stalled.signal.aborted || opts.signal.aborted) throw err;
        // the stall is what happened; what the target says about its aborted put (an upload it
        // could not abort on a frozen store) is worth keeping
        const reason = stalled.signal.reason as TargetError;
        if (!(err instanceof TargetError) || err === reason) throw reason;
        if (err.message.includes(reason.message)) throw err;
        throw new TargetError(`${reason.message}; ${err.message}`, { ...(reason.hint ? { hint: reason.hint } : {}), cause: err });
      } finally {
        body.unpipe(guard);
      }
    },
  };
}
