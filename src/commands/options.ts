// Options and helpers every command shares: the one place a flag is declared and validated
// (the checks themselves are in validate.ts).
import { Option, type Command } from "commander";
import type { Deps } from "../deps.ts";
import { SdbackupError, type ExitCodeValue } from "../errors.ts";
import type { OutputMode } from "../ui/logger.ts";
import { redactTarget } from "../targets/index.ts";
import { appName, elapsed, nonEmpty, nonEmptyList, timeLimit } from "./validate.ts";

/**
 * A command's action reports the exit code it wants (0 ok, 3 partial, …) through `setExit`, or throws.
 */
export type CommandRegistrar = (program: Command, deps: Deps, setExit: (code: ExitCodeValue) => void) => void;

/** Options of the commands that work on a compose project; `-f` may repeat. */
export interface CommonOptions extends OutputMode {
  file?: string[];
  app?: string;
  /** `--profile`: compose profiles to treat as active, on top of `COMPOSE_PROFILES`. */
  profile?: string[];
}

/**
 * `-f`, `--app` and `--profile`: which compose project, found the same way by every command (see
 * core/project/project.ts); `appHelp` says what `--app` means for a command that reads only the target.
 */
export function addCommonOptions(cmd: Command, appHelp = "compose project name (finds the running project when no -f is given)"): Command {
  return cmd
    .addOption(new Option("-f, --file <file>", "compose file (repeat to merge several)").argParser(nonEmptyList("--file")))
    .addOption(appOption(appHelp))
    .addOption(new Option("--profile <name>", "compose profile to treat as active (repeatable; adds to COMPOSE_PROFILES)").argParser(nonEmptyList("--profile")))
    .addOption(new Option("--context <name>", "docker CLI context of the engine (default: DOCKER_HOST, else DOCKER_CONTEXT or the current context)").argParser(nonEmpty("--context")));
}

/** `--app` alone, for commands that read only the target; `help` says what it does there. */
export function appOption(help: string): Option {
  return new Option("--app <name>", help).argParser(appName);
}

/** `--target`; with `repeatable` (backup) every given target, joined by newlines for openTargetFlags. */
export function addTargetOption(cmd: Command, repeatable = false): Command {
  const single = nonEmpty("--target");
  const help = "where sets live: a directory, file:///abs, s3://bucket/prefix or rclone:remote:path (default ./backups or SDBACKUP_TARGET)";
  return cmd.addOption(
    new Option("--target <url>", repeatable ? `${help}; repeat to write the set to several targets at once` : help)
      .argParser(repeatable ? (v: string, prev: string | undefined) => (prev ? `${prev}\n${single(v)}` : single(v)) : single),
  );
}

/** `--stall-timeout`: how long a stream may send nothing before the run fails (see pipeline/stall.ts). */
export function addStallTimeoutOption(cmd: Command): Command {
  return cmd.addOption(new Option("--stall-timeout <duration>", "fail when a dump, upload or download sends no data for this long (e.g. 90s, 5m)").default("5m").argParser(elapsed("--stall-timeout")));
}

/**
 * `--timeout`: the whole run's time limit (core/report/reported.ts applies it). No default: a run
 * has only its stall, request and hook timeouts unless the user bounds it as a whole.
 */
export function addTimeoutOption(cmd: Command): Command {
  return cmd.addOption(new Option("--timeout <duration>", "give up (exit 1, work cleaned up, nothing committed) when the whole run takes longer than this (e.g. 30m, 2h; default: no limit)").argParser(timeLimit("--timeout")));
}

/** `-v`, `-q` and `--json`: `cli.ts` adds them to every command, so none can forget them. */
export function addOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("-v, --verbose", "more detail on stderr (causes, stack traces)"))
    .addOption(new Option("-q, --quiet", "errors only on stderr").conflicts("verbose"))
    .addOption(new Option("--json", "print one JSON document on stdout"));
}

/** The output mode from options commander has parsed. */
export function outputMode(opts: Record<string, unknown>): OutputMode {
  return { verbose: opts.verbose === true, quiet: opts.quiet === true, json: opts.json === true };
}

/**
 * `main.ts` needs the output mode before commander has parsed anything (to report a usage error
 * as JSON, say); this first guess is replaced by {@link outputMode} once parsing succeeds.
 */
export function scanOutputMode(argv: readonly string[]): OutputMode {
  const end = argv.indexOf("--");
  const args = end === -1 ? argv : argv.slice(0, end);
  const has = (...flags: string[]) => flags.some((f) => args.includes(f));
  return { verbose: has("-v", "--verbose"), quiet: has("-q", "--quiet"), json: has("--json") };
}

/**
 * Hints that send the user to `sdbackup list` repeat the `--target` they gave (without
 * credentials), so the suggested command shows the same target.
 */
export function withTargetInHint(err: unknown, target: string | undefined): unknown {
  if (!(err instanceof SdbackupError) || !err.hint || target === undefined || target.trim() === "") return err;
  const hint = err.hint.replace(/\bsdbackup list\b(?! --target)/g, `sdbackup list --target ${shellWord(redactTarget(target))}`);
  if (hint !== err.hint) Object.defineProperty(err, "hint", { value: hint, enumerable: true });
  return err;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// --- internal ---

/** Quotes a value so the hint can be pasted into a shell. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./~-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
