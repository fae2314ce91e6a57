import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdbackup } from "../../helpers/cli.ts";

/** `--set` is checked before any project, container or target is touched (issue 11 case 6). */
describe("--set (CLI)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-set-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    [["restore", "--set", "", "--yes"], /--set is empty/],
    [["restore", "--set", "yesterday", "--yes"], /--set "yesterday" is not a set id/],
    [["verify", "--set", ""], /--set is empty/],
    [["verify", "--set", "20260105T100000Z"], /is not a set id/],
  ])("%j exits 2", async (args, message) => {
    const run = await sdbackup([...args, "--target", dir], { cwd: dir });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
  }, 30_000);

  it("an unknown set id exits 2 and points to list", async () => {
    const run = await sdbackup(["verify", "--set", "20260105T100000Z-abcd", "--target", dir], { cwd: dir });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/no set 20260105T100000Z-abcd in/);
    expect(run.stderr).toMatch(/hint: run sdbackup list/);
  }, 30_000);
});
