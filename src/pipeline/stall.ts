import { Transform, type TransformCallback } from "node:stream";

/** `--stall-timeout` default: long enough for a slow disk, short enough that cron runs do not pile up. */
export const DEFAULT_STALL_MS = 5 * 60_000;

/**
 * A pass-through that fails when its source sends nothing for `ms` while the consumer is waiting
 * for data (a paused database mid-dump, a target that stopped sending). The clock runs only while
 * downstream asks for more: a consumer that is busy (a restore building an index) is not a stall.
 * `error()` builds the failure, so it can name the service and the artifact.
 */
export function stallGuard(ms: number, error: (ms: number) => Error): Transform {
  const clock = stallClock(ms, () => guard.destroy(error(ms)));
  const guard = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      clock.disarm();
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      clock.disarm();
      done();
    },
    destroy(err, done) {
      clock.disarm();
      done(err);
    },
  });
  const read = guard._read.bind(guard);
  guard._read = (size: number) => {
    if (!guard.writableFinished) clock.arm();
    read(size);
  };
  return guard;
}

/**
 * A child of `parent` for one item's work, so a stall can cancel that item alone; `dispose` drops
 * the link (call it when the item settles, or the parent keeps a listener per item).
 */
export function childController(parent: AbortSignal): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  if (parent.aborted) controller.abort(parent.reason);
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener("abort", onAbort) };
}

/**
 * `start()` (a strategy opening its dump stream) bounded by the stall timeout: some transports
 * wait for the dump's first bytes before they hand the stream over, and a wedged database sends
 * none. On timeout `controller` is aborted with the error, which ends the work in the container.
 */
export async function startWithin<T>(ms: number, error: (ms: number) => Error, controller: AbortController, start: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = error(ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([start(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The other end's stall: a pass-through that fails when its consumer takes nothing for `ms` while
 * data waits for it (a store that stopped answering: a frozen SFTP or WebDAV server, a hung NFS
 * mount). The clock runs only while the consumer is behind, so a slow source is never its fault.
 */
export function drainGuard(ms: number, error: (ms: number) => Error): Transform {
  const clock = stallClock(ms, () => guard.destroy(error(ms)));
  const guard = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      if (!guard.push(chunk)) clock.arm();
      done();
    },
    destroy(err, done) {
      clock.disarm();
      done(err);
    },
  });
  const read = guard._read.bind(guard);
  guard._read = (size: number) => {
    clock.disarm();
    read(size);
  };
  guard.once("end", clock.disarm);
  return guard;
}

/** One timer for a guard: `arm` starts it unless it runs already, `disarm` stops it. */
function stallClock(ms: number, fire: () => void): { arm(): void; disarm(): void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    arm() {
      if (timer) return;
      timer = setTimeout(fire, ms);
      timer.unref();
    },
    disarm() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
