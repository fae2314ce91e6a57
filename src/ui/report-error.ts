import { InternalError, SdbackupError } from "../errors.ts";
import type { ConsoleLogger } from "./logger.ts";

/**
 * How a failed run is shown: `error: message` and `hint: …` on stderr (the cause and stack only
 * with --verbose), and with --json one error document on stdout. main.ts and the in-process test
 * runner both use this, so tests see what users see.
 */
export function reportError(err: unknown, log: ConsoleLogger): void {
  const verbose = log.mode.verbose === true;
  if (err instanceof SdbackupError) {
    log.error(err.message);
    if (err.hint) log.hint(err.hint);
    if (verbose && err.cause) log.debug(`cause: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}`);
    if (verbose && err instanceof InternalError) log.debug(err.stack ?? "");
    return;
  }
  const bug = new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
  log.error(bug.message);
  if (bug.hint) log.hint(bug.hint);
  if (verbose && err instanceof Error) log.debug(err.stack ?? "");
}

/** `--json` callers get the failure as data too: code, message, hint and the exit code. */
export function errorDocument(err: unknown, exitCode: number): Record<string, unknown> {
  if (err instanceof SdbackupError) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode };
  return { code: "E_INTERNAL", message: err instanceof Error ? err.message : String(err), exitCode };
}
