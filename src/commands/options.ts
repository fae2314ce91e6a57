// Options and helpers every command shares: the one place a flag is declared and validated.
import { Option, type Command } from "commander";
import type { Deps } from "../deps.ts";
import type { ExitCodeValue } from "../errors.ts";

/**
 * A command's action reports the exit code it wants (0 ok, 3 partial, …) through `setExit`, or throws.
 */
export type CommandRegistrar = (program: Command, deps: Deps, setExit: (code: ExitCodeValue) => void) => void;

/** Options every command shares; `-f` may repeat. */
export interface CommonOptions {
  file?: string[];
  app?: string;
  /** `--profile`: compose profiles to treat as active, on top of `COMPOSE_PROFILES`. */
  profile?: string[];
  json?: boolean;
  verbose?: boolean;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("-f, --file <file>", "compose file (repeat to merge several)").argParser(collect))
    .option("--app <name>", "compose project name (finds the running project when no -f is given)")
    .addOption(new Option("--profile <name>", "compose profile to treat as active (repeatable; adds to COMPOSE_PROFILES)").argParser(collect))
    .option("--json", "print one JSON document on stdout")
    .option("-v, --verbose", "more detail on stderr");
}

export function addTargetOption(cmd: Command): Command {
  return cmd.option("--target <url>", "where sets live: a directory, file:///abs or s3://bucket/prefix (default ./backups or SDBACKUP_TARGET)");
}


export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
