import { describe, expect, it } from "vitest";
import { sdbackupInProcess } from "../../helpers/cli.ts";

/** `--timeout` on every command that runs work: checked before any work, listed in help, no default. */
const run = (args: string[]) => sdbackupInProcess(args, { cwd: "/nonexistent-sdbackup-timeout-test" });
const COMMANDS = ["backup", "restore", "verify", "prune"];

describe("--timeout", () => {
  it.each(COMMANDS.flatMap((c) => [
    [c, "5x", /--timeout: invalid duration "5x"/],
    [c, "", /--timeout: invalid duration ""/],
    [c, "0s", /--timeout must be more than 0s, got "0s"/],
    [c, "30d", /--timeout: invalid duration "30d" \(too large/],
  ]))("%s --timeout %j is a usage error before any work", async (command, value, message) => {
    const r = await run([command, "--timeout", value as string]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.dockerUsed).toBe(false);
  });

  it.each(COMMANDS)("%s --help lists --timeout with no default", async (command) => {
    const r = await run([command, "--help"]);
    expect(r.code).toBe(0);
    // commander wraps long descriptions: read the help as one line
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help, r.stdout).toMatch(/--timeout <duration> give up \(exit 1[^-]*default: no limit\)/);
    expect(help).not.toMatch(/default: no limit\) \(default: /);
  });
});
