import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgram } from "../../../src/cli.ts";
import { completionScript, SHELLS, type Shell } from "../../../src/commands/completion.ts";
import { silentLogger } from "../../../src/ui/logger.ts";
import type { Deps } from "../../../src/deps.ts";
import { sdbackupInProcess } from "../../helpers/cli.ts";

const deps: Deps = {
  env: {}, cwd: "/", log: silentLogger, signal: new AbortController().signal, out: () => {}, now: () => new Date(), stdinIsTTY: false,
  docker: () => Promise.reject(new Error("no docker in this test")),
};
const program = createProgram(deps);
const commands = program.commands.map((c) => c.name());

/** A shell that is missing skips its syntax check locally; under CI (.ci/run installs zsh and fish) it fails. */
function shellPresent(shell: string): boolean {
  const found = spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;
  if (!found && process.env.CI) throw new Error(`${shell} is not installed (.ci/run installs it)`);
  return found;
}

let dir: string;
const scripts = {} as Record<Shell, string>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-completion-"));
  for (const shell of SHELLS) {
    const r = await sdbackupInProcess(["completion", shell], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    scripts[shell] = r.stdout;
    await writeFile(path.join(dir, `sdbackup.${shell}`), r.stdout);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("sdbackup completion", () => {
  it("knows every command", () => {
    expect(commands).toEqual(expect.arrayContaining(["detect", "backup", "restore", "list", "prune", "verify", "schedule", "completion"]));
  });

  it.each(SHELLS)("the %s script is what completionScript makes of the program", (shell) => {
    expect(scripts[shell]).toBe(completionScript(program, shell));
  });

  it.each(SHELLS)("the %s script names every command and every long flag", (shell) => {
    for (const cmd of program.commands) {
      expect(scripts[shell]).toMatch(new RegExp(`\\b${cmd.name()}\\b`));
      for (const o of cmd.options) {
        const flag = shell === "fish" ? `-l ${o.long!.slice(2)} ` : o.long!;
        expect(scripts[shell], `${cmd.name()} ${o.long}`).toContain(flag);
      }
    }
  });

  it.each([["bash", "-n"], ["zsh", "-n"], ["fish", "-n"]] as const)("%s %s accepts the script", (shell, flag) => {
    if (!shellPresent(shell)) return;
    const r = spawnSync(shell, [flag, path.join(dir, `sdbackup.${shell}`)], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("bash completes commands, flags and flag choices", () => {
    const complete = (...words: string[]) =>
      execFileSync("bash", ["-c", `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _sdbackup; printf '%s\\n' "\${COMPREPLY[@]}"`, "_", path.join(dir, "sdbackup.bash")], { encoding: "utf8" })
        .trim()
        .split("\n");
    expect(complete("sdbackup", "")).toEqual(expect.arrayContaining(commands));
    expect(complete("sdbackup", "ba")).toEqual(["backup"]);
    expect(complete("sdbackup", "backup", "--comp")).toEqual(["--compression"]);
    expect(complete("sdbackup", "backup", "--compression", "")).toEqual(["zstd", "gzip", "none"]);
    expect(complete("sdbackup", "prune", "--keep-w")).toEqual(["--keep-weekly", "--keep-within"]);
    expect(complete("sdbackup", "completion", "")).toEqual(expect.arrayContaining(["bash", "zsh", "fish"]));
  });
});
