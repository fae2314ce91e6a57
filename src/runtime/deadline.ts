import { TimeoutError } from "../errors.ts";
import { formatElapsed } from "./duration.ts";

/**
 * A total time limit for a run (`--timeout`): `run` gets a signal that aborts when either `signal`
 * does (SIGINT/SIGTERM) or `ms` elapse. The limit's reason is a {@link TimeoutError}, so work that
 * rethrows its signal's reason fails with it; and whatever the run throws once the limit has passed
 * (a CancelledError from deep inside, a stream's AbortError) becomes that one TimeoutError: exit 1
 * with "gave up after …", never the 130 of an interrupt. Without `ms` the run gets `signal` as is.
 */
export async function withDeadline<R>(signal: AbortSignal, ms: number | undefined, flag: string, run: (signal: AbortSignal) => Promise<R>): Promise<R> {
  if (ms === undefined) return run(signal);
  const message = `gave up after ${formatElapsed(ms)} (${flag})`;
  const hint = `raise ${flag} if the run is only slow`;
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(new TimeoutError(message, { hint })), ms);
  try {
    return await run(AbortSignal.any([signal, limit.signal]));
  } catch (err) {
    if (!limit.signal.aborted || signal.aborted || err === limit.signal.reason) throw err;
    throw new TimeoutError(message, { hint, cause: err });
  } finally {
    clearTimeout(timer);
  }
}
