import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdbackup, sdbackupInProcess } from "../../helpers/cli.ts";

/**
 * Every flag value is checked before Docker or the target: a bad one is exit 2 with a message
 * naming the flag, and the (absent) engine is never contacted.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-flags-"));
  await writeFile(path.join(dir, "compose.yaml"), "services:\n  db:\n    image: postgres:15\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (args: string[]) => sdbackupInProcess(args, { cwd: dir });

describe("flag values are usage errors before any work", () => {
  it.each([
    [["backup", "--level", "30"], /--level must be a whole number from 1 to 19, got "30"/],
    [["backup", "--level", "12", "--compression", "gzip", "--dry-run"], /gzip compression level must be an integer from 1 to 9, got 12/],
    [["backup", "--level", "3", "--compression", "none"], /--compression none takes no --level/],
    [["backup", "--concurrency", "0"], /--concurrency must be a whole number from 1 to 64, got "0"/],
    [["backup", "--concurrency", "2x"], /--concurrency must be a whole number/],
    [["backup", "--hook-timeout", "5x"], /--hook-timeout: invalid duration "5x"/],
    [["restore", "--hook-timeout", "soon"], /--hook-timeout: invalid duration "soon"/],
    [["prune", "--grace", "1y"], /--grace: invalid duration "1y"/],
    [["backup", "--target", ""], /--target is empty/],
    [["list", "--target", " "], /--target is empty/],
    [["backup", "--app", ""], /--app is empty/],
    [["verify", "--app", ""], /--app is empty/],
    [["backup", "--app", "___"], /--app "___" is not a usable compose project name/],
    [["backup", "--service", ""], /--service is empty/],
    [["detect", "-f", ""], /--file is empty/],
    [["restore", "--set", ""], /--set is empty/],
    [["schedule", "--bin", ""], /--bin is empty/],
    [["backup", "--if-due", "--app", "elsewhere", "--cron", "0 3 * *"], /--cron/],
    [["schedule", "--app", "elsewhere", "--cron", "61 * * * *"], /--cron/],
    [["list", "-v", "-q"], /cannot be used with option '-v, --verbose'/],
    [["completion", "tcsh"], /value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/],
  ])("%j", async (args, message) => {
    const r = await run(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.dockerUsed).toBe(false);
  });

  it("a bad value with --json also gives the error document", async () => {
    const r = await run(["backup", "--level", "30", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: expect.objectContaining({ code: "E_CONFIG", exitCode: 2 }) });
  });

  it("valid values pass: a dry run with gzip level 9 reads the compose file only", async () => {
    const r = await sdbackupInProcess(["backup", "--dry-run", "--json", "--compression", "gzip", "--level", "9", "--concurrency", "4", "-f", "compose.yaml", "--target", "out"], {
      cwd: dir,
      docker: async () => ({ listContainers: async () => [] }) as never,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, target: `file://${dir}/out`, items: [{ service: "db", strategy: "postgres" }] });
  });
});

describe("-v, -q and --json on every command", () => {
  it.each(["detect", "backup", "restore", "list", "prune", "verify", "schedule", "completion"])("%s --help lists them", async (cmd) => {
    const r = await run([cmd, "--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["-v, --verbose", "-q, --quiet", "--json"]) expect(r.stdout).toContain(flag);
  });

  it("-q leaves errors only on stderr", async () => {
    const args = ["schedule", "-f", "compose.yaml", "--cron", "0 3 * * *"];
    const loud = await run(args);
    const quiet = await run([...args, "-q"]);
    expect(loud.code).toBe(0);
    expect(quiet.code).toBe(0);
    expect(loud.stderr).toMatch(/next run/);
    expect(quiet.stdout).toBe(loud.stdout);
    expect(quiet.stderr).toBe("");
    const failed = await run(["list", "-q", "--target", "ftp://host/x"]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/^error: unknown target scheme "ftp"/);
    expect(failed.stderr).toMatch(/hint: /);
  });
});

describe("main.ts", () => {
  it("dates each stderr line when stderr is a pipe, and a usage error with --json is one JSON document", async () => {
    const r = await sdbackup(["backup", "--level", "30", "--json"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error: --level must be a whole number from 1 to 19, got "30"\n$/);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: "E_CONFIG", message: '--level must be a whole number from 1 to 19, got "30"', exitCode: 2 } });
  }, 30_000);
});
