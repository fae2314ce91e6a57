import { runCli } from "./cli.ts";
import { CancelledError, ExitCode, InternalError, SdbackupError, exitCodeFor, isAbortError } from "./errors.ts";
import { createLogger } from "./ui/logger.ts";
import type { DockerApi } from "./docker/types.ts";
import { criticalSettled, hasCritical } from "./runtime/critical.ts";

/**
 * The process entry: owns the one AbortController, turns signals into a clean abort, maps errors to
 * exit codes. The only place that exits the process.
 */
const controller = new AbortController();
const argv = process.argv.slice(2);
const verbose = argv.includes("--verbose") || argv.includes("-v");
const json = argv.includes("--json");
const log = createLogger({ verbose, json });

let signals = 0;
function onSignal(sig: NodeJS.Signals): void {
  signals++;
  if (signals === 1) {
    log.warn(`${sig} received: interrupted, cleaning up (send it again to force exit)…`);
    controller.abort(new CancelledError(`interrupted by ${sig}`));
    return;
  }
  if (signals > 2 || !hasCritical()) {
    log.error("forced exit");
    process.exit(ExitCode.interrupted);
  }
  // Forcing must not leave the app down: wait for restarts and post hooks already under way.
  log.error("forcing exit once stopped services are started again (signal again to exit now)…");
  void criticalSettled(120_000).then(() => process.exit(ExitCode.interrupted));
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

let dockerClient: Promise<DockerApi> | undefined;
/** Whether a command wrote its data document; with --json an error then gets one of its own. */
let printed = false;

async function main(): Promise<number> {
  try {
    return await runCli(argv, {
      env: process.env,
      cwd: process.cwd(),
      log,
      signal: controller.signal,
      docker: () => (dockerClient ??= import("./docker/client.ts").then((m) => m.connect(process.env, controller.signal))),
      out: (text) => {
        printed = true;
        process.stdout.write(text.endsWith("\n") ? text : text + "\n");
      },
      now: () => new Date(),
      stdinIsTTY: Boolean(process.stdin.isTTY),
    });
  } catch (err) {
    const interrupted = controller.signal.aborted || isAbortError(err);
    const shown = interrupted && !(err instanceof SdbackupError) ? new CancelledError() : err;
    report(shown);
    const code = interrupted ? ExitCode.interrupted : exitCodeFor(shown);
    if (json && !printed) process.stdout.write(JSON.stringify({ error: errorDocument(shown, code) }, null, 2) + "\n");
    return code;
  }
}

/** `--json` callers get the failure as data too: code, message, hint and the exit code. */
function errorDocument(err: unknown, exitCode: number): Record<string, unknown> {
  if (err instanceof SdbackupError) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode };
  return { code: "E_INTERNAL", message: err instanceof Error ? err.message : String(err), exitCode };
}

function report(err: unknown): void {
  if (err instanceof SdbackupError) {
    if (!err.context?.printed) log.error(err.message);
    if (err.hint) log.info(`hint: ${err.hint}`);
    if (verbose && err.cause) log.debug(`cause: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}`);
    if (verbose && err instanceof InternalError) log.debug(err.stack ?? "");
    return;
  }
  const bug = new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
  log.error(bug.message);
  log.info(`hint: ${bug.hint}`);
  if (verbose && err instanceof Error) log.debug(err.stack ?? "");
}

// No top-level await: the single binary is a CommonJS bundle.
void main().then((code) => {
  // Flush stdout before exiting: a piped `--json` document must not be cut short.
  process.stdout.write("", () => process.exit(code));
});
