import type { DockerApi } from "./types.ts";
import { DockerError, errorMessage, throwIfAborted } from "../errors.ts";
import { critical } from "../runtime/critical.ts";

/**
 * The one way sdbackup takes a container down and brings it back (backup quiesce, restores that
 * swap files under a stopped service). The guarantees, in order:
 * - the way back is registered, as a critical section, BEFORE the stop or pause is sent, so a
 *   forced exit waits for it;
 * - the engine call does not get the run's signal: an interrupt cannot cut a `docker stop` short
 *   on our side while the engine finishes it later. `down()` still rejects at once on abort, and
 *   `restore()` awaits the call in progress before it starts the container again;
 * - `restore()` brings back everything taken down, newest first, once, with its own deadline.
 */

/** Keeps the way back bounded when the engine hangs. Docker's stop timeout is 10 s by default. */
const ENGINE_DEADLINE_MS = 120_000;

export type DownAction = "stop" | "pause";

/** A container to take down: `service` names it in messages. */
export interface DownTarget {
  id: string;
  name: string;
  service: string;
}

/** What `restore()` reports for each container taken down. */
export interface BroughtBack extends DownTarget {
  action: DownAction;
  downtimeMs: number;
  /** Set when the container could not be brought back. */
  error?: string;
}

export interface Downed {
  /**
   * Stops or pauses the container, after registering its way back. Rejects with the signal's
   * reason as soon as `signal` aborts, although the engine call goes on until `restore()`.
   */
  down(target: DownTarget, action: DownAction, signal: AbortSignal): Promise<void>;
  /** Brings every container back, awaiting engine calls in progress first. Never throws; idempotent. */
  restore(): Promise<BroughtBack[]>;
}

export interface Log {
  info(message: string): void;
  error(message: string): void;
}

export function createDowned(docker: DockerApi, log: Log): Downed {
  const entries: { target: DownTarget; action: DownAction; since: number; call: Promise<unknown> }[] = [];
  let restored: Promise<BroughtBack[]> | undefined;
  let release: (() => void) | undefined;

  const restore = (): Promise<BroughtBack[]> => {
    restored ??= bringBack(docker, log, entries.slice().reverse()).finally(() => release?.());
    return restored;
  };

  return {
    async down(target, action, signal) {
      if (restored) throw new DockerError(`cannot take ${target.name} down: its group was already brought back`);
      throwIfAborted(signal);
      // The critical section lives from the first registration until everything is back.
      if (!release) void critical(() => new Promise<void>((resolve) => (release = resolve)));
      const call = action === "stop"
        ? docker.stop(target.id, { signal: AbortSignal.timeout(ENGINE_DEADLINE_MS) })
        : docker.pause(target.id, { signal: AbortSignal.timeout(ENGINE_DEADLINE_MS) });
      entries.push({ target, action, since: performance.now(), call });
      await untilAborted(call, signal);
    },
    restore,
  };
}

/**
 * Runs `fn` with the container stopped or paused and brings it back afterwards, also when `fn`
 * fails or the run is aborted. A failure to bring it back is reported together with `fn`'s error.
 */
export async function whileDown<T>(docker: DockerApi, log: Log, target: DownTarget, action: DownAction, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const downed = createDowned(docker, log);
  let result: T;
  try {
    await downed.down(target, action, signal);
    result = await fn();
  } catch (err) {
    const [back] = await downed.restore();
    if (back?.error) throw new AggregateError([err, new DockerError(back.error)], `${errorMessage(err)}; and ${back.error}`);
    throw err;
  }
  const [back] = await downed.restore();
  if (back?.error) throw new DockerError(back.error);
  return result;
}

// --- internal ---

/** `call`'s outcome, or the signal's reason as soon as it aborts (the call itself goes on). */
function untilAborted(call: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      try {
        throwIfAborted(signal);
      } catch (err) {
        reject(err);
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    call.then(() => resolve(), reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function bringBack(docker: DockerApi, log: Log, entries: { target: DownTarget; action: DownAction; since: number; call: Promise<unknown> }[]): Promise<BroughtBack[]> {
  const signal = AbortSignal.timeout(ENGINE_DEADLINE_MS);
  const results: BroughtBack[] = [];
  for (const { target, action, since, call } of entries) {
    const back: BroughtBack = { ...target, action, downtimeMs: 0 };
    const { service, name } = target;
    try {
      // A stop still in progress would undo a start sent now: wait for it, whatever its outcome.
      await call.catch(() => {});
      const now = await docker.inspect(target.id, { signal }).catch((err: unknown) => {
        throw new DockerError(`the container is gone (recreated while it was ${action === "stop" ? "stopped" : "paused"}?); not starting a stale id`, { cause: err });
      });
      if (action === "pause") await docker.unpause(now.id, { signal });
      else if (!now.running) await docker.start(now.id, { signal });
      log.info(`${service}: ${action === "stop" ? "started" : "unpaused"} ${name} again`);
    } catch (err) {
      back.error = `could not bring ${name} of service ${service} back: ${errorMessage(err)}`;
      log.error(`${service}: ${back.error}`);
    }
    back.downtimeMs = Math.round(performance.now() - since);
    results.push(back);
  }
  return results.reverse();
}
