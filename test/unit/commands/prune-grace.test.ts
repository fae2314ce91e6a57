import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSetId } from "../../../src/manifest/keys.ts";
import { sdbackup } from "../../helpers/cli.ts";

/**
 * `--grace` is elapsed time: `30m` is thirty minutes, not thirty months (retention `within` reads
 * `m` as months). An incomplete set started an hour ago is past a 30-minute grace.
 */
describe("prune --grace (CLI)", () => {
  let dir: string;
  let set: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-grace-"));
    set = newSetId(new Date(Date.now() - 3_600_000));
    await mkdir(path.join(dir, "app", set), { recursive: true });
    await writeFile(path.join(dir, "app", set, "db.sql.zst"), "half");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const prune = (grace: string) =>
    sdbackup(["prune", "--target", dir, "--app", "app", "--keep-last", "1", "--grace", grace, "--dry-run", "--json"], { cwd: dir });

  it.each([
    ["30m", "30m", "remove", "incomplete"],
    ["2h", "2h", "keep", "incomplete-within-grace"],
  ])("--grace %s", async (grace, shown, action, reason) => {
    const run = await prune(grace);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { grace: string; sets: { set: string; action: string; reasons: string[] }[] };
    expect(doc.grace).toBe(shown);
    expect(doc.sets).toEqual([expect.objectContaining({ set, action, reasons: [reason] })]);
  }, 30_000);

  it("rejects a calendar unit with exit 2", async () => {
    const run = await prune("1y");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--grace: invalid duration "1y"/);
  }, 30_000);
});
