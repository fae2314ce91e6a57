import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../../src/targets/local.ts";
import { writeManifest } from "../../../src/manifest/store.ts";
import { newSetId } from "../../../src/manifest/keys.ts";
import { MANIFEST_VERSION, type ManifestItem } from "../../../src/manifest/schema.ts";
import { sparkline } from "../../../src/ui/sparkline.ts";
import { sdbackupInProcess } from "../../helpers/cli.ts";
import type { StatusResult } from "../../../src/commands/status.ts";

const NOW = new Date("2026-01-10T12:00:00Z");
const HOUR = 3_600_000;
const signal = new AbortController().signal;
let dir: string;

beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), "sdbackup-status-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A committed set `hoursAgo` before NOW with these service sizes; `failed` services are listed as failed. */
async function set(project: string, hoursAgo: number, sizes: Record<string, number>, failed: string[] = []): Promise<string> {
  const createdAt = new Date(NOW.getTime() - hoursAgo * HOUR);
  const id = newSetId(createdAt);
  const items: ManifestItem[] = Object.entries(sizes).map(([service, bytes]) => ({
    service, strategy: "volume", image: null, key: `${project}/${id}/${service}.tar.zst`, bytes, sha256: "0".repeat(64), compression: "zstd", paths: [],
    startedAt: createdAt.toISOString(), durationMs: 1000,
  }));
  await writeManifest(createLocalTarget(dir), {
    schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project, set: id, createdAt: createdAt.toISOString(), completedAt: createdAt.toISOString(),
    status: failed.length ? "partial" : "ok", items, failed: failed.map((service) => ({ service, strategy: "postgres", error: "pg_dump exited 1" })),
  }, signal);
  return id;
}

const status = (...args: string[]) => sdbackupInProcess(["status", "--target", dir, ...args], { cwd: dir, now: () => NOW });

describe("sdbackup status", () => {
  it("exit 0 for fresh sets that did not shrink; reports age, size and change per service; never touches Docker", async () => {
    await set("shop", 50, { db: 1000, files: 10 });
    await set("shop", 26, { db: 1100, files: 10 });
    const newest = await set("shop", 2, { db: 1200, files: 10 });
    const r = await status("--max-age", "26h", "--max-shrink", "50%", "--json");
    expect(r.code).toBe(0);
    expect(r.dockerUsed).toBe(false);
    const doc = JSON.parse(r.stdout) as StatusResult;
    expect(doc.status).toBe("ok");
    expect(doc.limits).toEqual({ maxAge: "26h", maxShrinkPct: 50 });
    expect(doc.projects[0]!.services.map((s) => [s.service, s.set, s.ageMs, s.bytes, s.previousBytes, Math.round(s.changePct! * 10) / 10, s.history])).toEqual([
      ["db", newest, 2 * HOUR, 1200, 1100, 9.1, [1000, 1100, 1200]],
      ["files", newest, 2 * HOUR, 10, 10, 0, [10, 10, 10]],
    ]);
  });

  it("--max-age: a stale service exits 1, naming it; without the flag age is only shown", async () => {
    await set("shop", 30, { db: 1000 });
    const stale = await status("--max-age", "26h");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("shop/db: stale: newest artifact is 30h old");
    expect(stale.stdout).toMatch(/shop\s+db\s+\S+\s+30h\s/);
    expect((await status()).code).toBe(0);
    expect((await status("--max-age", "31h")).code).toBe(0);
  });

  it("--max-shrink: a set that shrank past the limit exits 1 (the 0-byte backup that said ok)", async () => {
    await set("shop", 26, { db: 1_000_000 });
    await set("shop", 2, { db: 400_000 });
    const r = await status("--max-shrink", "50%", "--max-age", "26h");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("shop/db: shrank 60% against the previous set (limit 50%)");
    expect((await status("--max-shrink", "60")).code).toBe(0);
  });

  it("a service missing from the newest set (failed or gone) exits 1", async () => {
    await set("shop", 26, { db: 1000, files: 10 });
    await set("shop", 2, { files: 10 }, ["db"]);
    const r = await status("--app", "shop", "--json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as StatusResult;
    expect(doc.problems).toEqual([expect.stringMatching(/^shop\/db: missing from the newest set \S+ \(pg_dump exited 1\)$/)]);
  });

  it("an empty target, an unknown --app, and bad limits", async () => {
    expect((await status()).stderr).toContain(`no backup sets in ${dir}`);
    await set("shop", 1, { db: 1 });
    const other = await status("--app", "blog");
    expect({ code: other.code, problem: other.stderr.includes("no complete set of project blog") }).toEqual({ code: 1, problem: true });
    expect((await status("--max-shrink", "150%")).code).toBe(2);
    expect((await status("--max-age", "soon")).code).toBe(2);
  });

  it("ignores incomplete sets: a backup in progress is neither newest nor missing", async () => {
    await set("shop", 3, { db: 1000 });
    const running = path.join(dir, "shop", newSetId(NOW));
    await mkdir(running, { recursive: true });
    await writeFile(path.join(running, "db.tar.zst"), "partial");
    const doc = JSON.parse((await status("--json", "--max-age", "4h")).stdout) as StatusResult;
    expect(doc.status).toBe("ok");
    expect(doc.projects[0]).toMatchObject({ completeSets: 1, incompleteSets: 1 });
  });
});

describe("sparkline", () => {
  it("scales from zero, marks missing sets, blanks zero bytes", () => {
    expect(sparkline([100, 200, 400, 800])).toBe("▁▂▄█");
    expect(sparkline([800, null, 800, 0])).toBe("█·█ ");
    expect(sparkline([])).toBe("");
  });
});
