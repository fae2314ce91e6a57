import { runCli } from "./cli.ts";
import { CancelledError, ExitCode, SdbackupError, exitCodeFor, isAbortError } from "./errors.ts";
import { createLogger } from "./ui/logger.ts";
import { errorDocument, reportError } from "./ui/report-error.ts";
import { scanOutputMode } from "./commands/options.ts";
import type { DockerApi } from "./docker/types.ts";
import { criticalSettled, hasCritical } from "./runtime/critical.ts";

/**
 * The process entry: owns the one AbortController, turns signals into a clean abort, maps errors to
 * exit codes. The only place that exits the process.
 */
const controller = new AbortController();
const argv = process.argv.slice(2);
// A first guess from argv, so that even a usage error respects --json; the parsed flags replace it.
const log = createLogger(scanOutputMode(argv));

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
    }, { onOutputMode: (mode) => log.configure(mode) });
  } catch (err) {
    const interrupted = controller.signal.aborted || isAbortError(err);
    const shown = interrupted && !(err instanceof SdbackupError) ? new CancelledError() : err;
    reportError(shown, log);
    const code = interrupted ? ExitCode.interrupted : exitCodeFor(shown);
    if (log.mode.json && !printed) process.stdout.write(JSON.stringify({ error: errorDocument(shown, code) }, null, 2) + "\n");
    return code;
  }
}

// Node exits 0 when nothing is left to wait on, even while the command still awaits a promise that
// can no longer settle (a stream or container event that never came). A run that did not finish
// must never look like success.
process.once("beforeExit", () => {
  log.error("internal error: the run stopped while still waiting (an event that never came); nothing it did is confirmed. This is a bug, please report it with --verbose output");
  if (log.mode.json && !printed) process.stdout.write(JSON.stringify({ error: { code: "E_INTERNAL", exitCode: ExitCode.failed, message: "the run stopped while still waiting" } }, null, 2) + "\n");
  process.exit(ExitCode.failed);
});

// No top-level await: the single binary is a CommonJS bundle.
void main().then((code) => {
  // Flush stdout before exiting: a piped `--json` document must not be cut short.
  process.stdout.write("", () => process.exit(code));
});
