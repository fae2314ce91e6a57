import { Command, CommanderError } from "commander";
import type { Deps } from "./deps.ts";
import { ConfigError, ExitCode, type ExitCodeValue } from "./errors.ts";
import { VERSION } from "./version.ts";
import { addOutputOptions, outputMode, withTargetInHint, type CommandRegistrar } from "./commands/options.ts";
import type { OutputMode } from "./ui/logger.ts";
import { register as registerDetect } from "./commands/detect.ts";
import { register as registerBackup } from "./commands/backup.ts";
import { register as registerRestore } from "./commands/restore.ts";
import { register as registerList } from "./commands/list.ts";
import { register as registerPrune } from "./commands/prune.ts";
import { register as registerVerify } from "./commands/verify.ts";
import { register as registerSchedule } from "./commands/schedule.ts";
import { register as registerStatus } from "./commands/status.ts";
import { register as registerCompletion } from "./commands/completion.ts";

/** Every command, in the order `--help` lists them. */
const registrars: CommandRegistrar[] = [registerDetect, registerBackup, registerRestore, registerList, registerPrune, registerVerify, registerStatus, registerSchedule, registerCompletion];

export interface CliHooks {
  /** Called once the command line is parsed, before the command runs: `-v`/`-q`/`--json` as given. */
  onOutputMode?(mode: OutputMode): void;
}

/** Parses argv and runs one command. Resolves to the exit code; throws SdbackupErrors. */
export async function runCli(argv: string[], deps: Deps, hooks: CliHooks = {}): Promise<ExitCodeValue> {
  let exit: ExitCodeValue = ExitCode.ok;
  let given: Record<string, unknown> = {};
  const program = createProgram(deps, (code) => (exit = code));
  program.hook("preAction", (_program, action) => {
    given = action.opts();
    hooks.onOutputMode?.(outputMode(given));
    // `--context` beats DOCKER_HOST, like the docker CLI's; the engine is connected to lazily, from deps.env.
    if (typeof given.context === "string") deps.env.SDBACKUP_DOCKER_CONTEXT = given.context;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.ok;
      if (err.code === "commander.help") return ExitCode.usage;
      throw new ConfigError(err.message.replace(/^error: /, ""));
    }
    throw withTargetInHint(err, typeof given.target === "string" ? given.target : undefined);
  }
  return exit;
}

/** The program with every command and the output options they all take (tests inspect it too). */
export function createProgram(deps: Deps, setExit: (code: ExitCodeValue) => void = () => {}): Command {
  const program = new Command("sdbackup")
    .description("Back up and restore the data of docker compose applications")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError()
    .exitOverride()
    // Usage errors are reported by main.ts like every other error (timestamps, --json document).
    .configureOutput({ writeOut: (s) => deps.out(s.replace(/\n$/, "")), writeErr: (s) => process.stderr.write(s), outputError: () => {} });
  for (const register of registrars) register(program, deps, setExit);
  for (const cmd of program.commands) addOutputOptions(cmd);
  return program;
}
