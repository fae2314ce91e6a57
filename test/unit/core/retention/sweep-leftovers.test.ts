import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sweepLeftovers } from "../../../../src/core/retention/sweep-leftovers.ts";
import { runPrunePlan } from "../../../../src/core/retention/run-prune.ts";
import { createMemoryTarget } from "../../../../src/targets/memory.ts";
import type { Target } from "../../../../src/targets/types.ts";
import { collectingLogger } from "../../../helpers/builders.ts";
import { shopApp } from "../../../helpers/shop-app.ts";

// Issue 11: what a killed run leaves in the target is removed by the next backup of its project
// (not only by prune), once older than the grace period; best effort, never failing the backup.

const HOUR = 3_600_000;
let dir: string;
beforeEach(async () => void (dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-sweep-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Writes `rel` under the target root, last changed `ageMs` ago. */
async function leftover(root: string, rel: string, ageMs: number): Promise<void> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, "partial");
  const at = new Date(Date.now() - ageMs);
  await utimes(file, at, at);
}
const files = async (root: string) => (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();

describe("backup sweeps its project's leftovers from the local target (CLI)", () => {
  it("removes tmp files of dead runs older than 24h, keeps younger ones, other projects' and committed files; exit 0", async () => {
    const root = path.join(dir, "backups");
    const dead = "shop/20261101T000000Z-dead/files.tar.zst.tmp-0123456789abcdef";
    const young = "shop/20261128T000000Z-abcd/files.tar.zst.tmp-fedcba9876543210";
    const other = "wiki/20261101T000000Z-dead/db.sql.zst.tmp-0123456789abcdef";
    const committed = "shop/20261102T000000Z-beef/files.tar.zst";
    await leftover(root, dead, 48 * HOUR);
    await leftover(root, young, 2 * HOUR);
    await leftover(root, other, 48 * HOUR);
    await leftover(root, committed, 48 * HOUR);
    const cwd = path.join(dir, "app");
    await mkdir(cwd);
    const app = await shopApp(cwd);

    const r = await app.cli(["backup", "--target", root]).run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l.includes("leftover"))).toEqual([`removed 1 leftover(s) of interrupted runs older than 24h from ${root}: ${dead}`]);
    const left = await files(root);
    expect(left).not.toContain(dead);
    expect(left).toEqual(expect.arrayContaining([young, other, committed]));
    expect(await readdir(path.join(root, "shop"))).not.toContain("20261101T000000Z-dead");
  });
});

describe("backup to two local targets sweeps each of them", () => {
  it("both targets lose their dead tmp files; the backup exits 0", async () => {
    const roots = [path.join(dir, "one"), path.join(dir, "two")];
    const dead = "shop/20261101T000000Z-dead/files.tar.zst.tmp-0123456789abcdef";
    for (const root of roots) await leftover(root, dead, 48 * HOUR);
    const cwd = path.join(dir, "app");
    await mkdir(cwd);
    const app = await shopApp(cwd);
    const r = await app.cli(["backup", "--target", roots[0]!, "--target", roots[1]!]).run;
    expect(r.code, r.stderr).toBe(0);
    for (const root of roots) {
      expect(await files(root)).not.toContain(dead);
      expect(r.stderr).toContain(`removed 1 leftover(s) of interrupted runs older than 24h from ${root}: ${dead}`);
    }
  });
});

describe("prune sweeps its scope with its --grace; a dry run does not", () => {
  it("runPrunePlan passes the project's prefix and now - grace, and reports what went", async () => {
    const calls: unknown[][] = [];
    const target = Object.assign(createMemoryTarget(), { sweep: async (...args: unknown[]) => (calls.push(args), ["shop/s/x.tmp-1"]) });
    const base = { target, policy: undefined, policySource: "none" as const, allowRemoveAll: false, now: new Date("2026-11-29T12:00:00Z"), signal: new AbortController().signal, log: collectingLogger() };
    expect((await runPrunePlan({ ...base, project: "shop", graceMs: 2 * HOUR, dryRun: true })).leftovers).toEqual([]);
    expect(calls).toEqual([]);
    const pruned = await runPrunePlan({ ...base, project: "shop", graceMs: 2 * HOUR, dryRun: false });
    expect(pruned.leftovers).toEqual(["shop/s/x.tmp-1"]);
    await runPrunePlan({ ...base, dryRun: false });
    expect(calls.map(([prefix, before]) => [prefix, (before as Date).toISOString()])).toEqual([["shop/", "2026-11-29T10:00:00.000Z"], ["", "2026-11-28T12:00:00.000Z"]]);
  });
});

describe("sweepLeftovers", () => {
  const signal = new AbortController().signal;
  const now = () => new Date("2026-11-29T12:00:00Z");
  const sweeping = (result: () => Promise<string[]>, calls: unknown[][]): Target =>
    Object.assign(createMemoryTarget(), { sweep: async (...args: unknown[]) => (calls.push(args), result()) });

  it("asks every target for the prefix and 24h ago; targets without sweep are skipped", async () => {
    const calls: unknown[][] = [];
    const a = sweeping(async () => ["shop/s/x.tmp-1"], calls);
    const b = sweeping(async () => [], calls);
    const log = collectingLogger();
    await sweepLeftovers({ targets: [a, createMemoryTarget(), b], prefix: "shop/", now, signal, log });
    expect(calls.map(([prefix, before]) => [prefix, (before as Date).toISOString()])).toEqual([["shop/", "2026-11-28T12:00:00.000Z"], ["shop/", "2026-11-28T12:00:00.000Z"]]);
    expect(log.lines).toEqual(["info: removed 1 leftover(s) of interrupted runs older than 24h from memory://test: shop/s/x.tmp-1"]);
  });

  it("a failing sweep is one warning, never a failure", async () => {
    const log = collectingLogger();
    await sweepLeftovers({ targets: [sweeping(async () => { throw new Error("listing refused"); }, [])], prefix: "shop/", now, signal, log });
    expect(log.lines).toEqual(["warn: could not remove leftovers of interrupted runs from memory://test: listing refused"]);
  });

  it("an interrupt ends it as an interrupt", async () => {
    const ac = new AbortController();
    const target = sweeping(async () => { ac.abort(new Error("interrupted")); throw new Error("aborted"); }, []);
    await expect(sweepLeftovers({ targets: [target], prefix: "shop/", now, signal: ac.signal, log: collectingLogger() })).rejects.toMatchObject({ name: "CancelledError", exitCode: 130 });
  });
});
