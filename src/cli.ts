import { Command, CommanderError } from "commander";
import type { Deps } from "./deps.ts";
import { ConfigError, ExitCode, type ExitCodeValue } from "./errors.ts";
import { VERSION } from "./version.ts";
import type { CommandRegistrar } from "./commands/options.ts";
import { register as registerDetect } from "./commands/detect.ts";
import { register as registerBackup } from "./commands/backup.ts";
import { register as registerRestore } from "./commands/restore.ts";
import { register as registerList } from "./commands/list.ts";
import { register as registerPrune } from "./commands/prune.ts";
import { register as registerVerify } from "./commands/verify.ts";
import { register as registerSchedule } from "./commands/schedule.ts";

/** Every command, in the order `--help` lists them. */
const registrars: CommandRegistrar[] = [registerDetect, registerBackup, registerRestore, registerList, registerPrune, registerVerify, registerSchedule];

/** Parses argv and runs one command. Resolves to the exit code; throws SdbackupErrors. */
export async function runCli(argv: string[], deps: Deps): Promise<ExitCodeValue> {
  let exit: ExitCodeValue = ExitCode.ok;
  const program = new Command("sdbackup")
    .description("Back up and restore the data of docker compose applications")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.out(s.replace(/\n$/, "")), writeErr: (s) => process.stderr.write(s) });
  for (const register of registrars) register(program, deps, (code) => (exit = code));
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.ok;
      if (err.code === "commander.help") return ExitCode.usage;
      // commander already printed its message to stderr
      throw new ConfigError(err.message.replace(/^error: /, ""), { context: { printed: true } });
    }
    throw err;
  }
  return exit;
}
