import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sweepLeftovers } from "../../../../src/core/backup/sweep-leftovers.ts";
import { createFanOut } from "../../../../src/core/backup/fan-out.ts";
import { createMemoryTarget } from "../../../../src/targets/memory.ts";
import type { Target } from "../../../../src/targets/types.ts";
import { sdbackupInProcess } from "../../../helpers/cli.ts";
import { collectingLogger, container } from "../../../helpers/builders.ts";
import { createFakeDocker } from "../../../helpers/fake-docker.ts";
import { tarOf } from "../../../battery/forge.ts";

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
    await writeFile(path.join(cwd, "compose.yaml"), "name: shop\nservices:\n  files:\n    image: nginx:1\n    labels: { simpledeploy.backup.strategy: volume, simpledeploy.backup.paths: /srv/files }\n");
    const fake = createFakeDocker({
      containers: [container("files", { labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "files" }, project: "shop" })],
      archives: { "/srv/files": await tarOf([{ name: "files/", type: "directory" }, { name: "files/a", body: "a" }]) },
    });

    const r = await sdbackupInProcess(["backup", "--target", root], { cwd, docker: async () => fake.api });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l.includes("leftover"))).toEqual([`removed 1 leftover(s) of interrupted runs older than 24h from ${root}: ${dead}`]);
    const left = await files(root);
    expect(left).not.toContain(dead);
    expect(left).toEqual(expect.arrayContaining([young, other, committed]));
    expect(await readdir(path.join(root, "shop"))).not.toContain("20261101T000000Z-dead");
  });
});

describe("sweepLeftovers", () => {
  const signal = new AbortController().signal;
  const now = () => new Date("2026-11-29T12:00:00Z");
  const sweeping = (result: () => Promise<string[]>, calls: unknown[][]): Target =>
    Object.assign(createMemoryTarget(), { sweep: async (...args: unknown[]) => (calls.push(args), result()) });

  it("asks every target of a fan-out for the project's prefix and 24h ago; targets without sweep are skipped", async () => {
    const calls: unknown[][] = [];
    const a = sweeping(async () => ["shop/s/x.tmp-1"], calls);
    const b = sweeping(async () => [], calls);
    const log = collectingLogger();
    await sweepLeftovers({ target: createFanOut([a, createMemoryTarget(), b]), project: "shop", now, signal, log });
    expect(calls.map(([prefix, before]) => [prefix, (before as Date).toISOString()])).toEqual([["shop/", "2026-11-28T12:00:00.000Z"], ["shop/", "2026-11-28T12:00:00.000Z"]]);
    expect(log.lines).toEqual(["info: removed 1 leftover(s) of interrupted runs older than 24h from memory://test: shop/s/x.tmp-1"]);
  });

  it("a failing sweep is one warning, never a failure", async () => {
    const log = collectingLogger();
    await sweepLeftovers({ target: sweeping(async () => { throw new Error("listing refused"); }, []), project: "shop", now, signal, log });
    expect(log.lines).toEqual(["warn: could not remove leftovers of interrupted runs from memory://test: listing refused"]);
  });

  it("an interrupt ends it as an interrupt", async () => {
    const ac = new AbortController();
    const target = sweeping(async () => { ac.abort(new Error("interrupted")); throw new Error("aborted"); }, []);
    await expect(sweepLeftovers({ target, project: "shop", now, signal: ac.signal, log: collectingLogger() })).rejects.toMatchObject({ name: "CancelledError", exitCode: 130 });
  });
});
