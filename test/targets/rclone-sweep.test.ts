import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTarget } from "../../src/targets/index.ts";
import type { Target } from "../../src/targets/types.ts";
import { startRcloneBackend, type RcloneBackend } from "../helpers/rclone.ts";

// Issue 11: an rclone put killed mid-way leaves its temporary object (`<name>.tmp-<16 hex>`, or
// the `.partial` file a backend writes it through), which list() never shows and prune never
// sees. The next backup's sweep removes those older than the grace period, and nothing else.

const HOUR = 3_600_000;
let backend: RcloneBackend;
let t: Target;
beforeAll(async () => {
  backend = await startRcloneBackend("local");
  t = await openTarget(backend.url, { env: backend.env, cwd: "/" });
}, 60_000);
afterAll(() => backend?.stop());

const put = async (key: string, ageMs: number) => {
  const file = path.join(backend.dir, "base", key);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, "partial");
  const at = new Date(Date.now() - ageMs);
  await utimes(file, at, at);
};

describe("rclone target: sweep", () => {
  it("removes the project's temporary and partial objects older than the cutoff, and nothing else", async () => {
    const dead = "shop/20261101T000000Z-dead/db.sql.zst.tmp-0123456789abcdef";
    const partial = "shop/20261101T000000Z-dead/files.tar.zst.tmp-fedcba9876543210.1a2b3c4d.partial";
    const young = "shop/20261128T000000Z-live/db.sql.zst.tmp-00112233445566aa";
    const committed = "shop/20261101T000000Z-dead/manifest.json";
    const other = "wiki/20261101T000000Z-dead/db.sql.zst.tmp-0123456789abcdef";
    for (const key of [dead, partial, committed, other]) await put(key, 48 * HOUR);
    await put(young, 2 * HOUR);
    const removed = await t.sweep!("shop/", new Date(Date.now() - 24 * HOUR), { signal: new AbortController().signal });
    expect(removed.sort()).toEqual([dead, partial].sort());
    const left = (await readdir(path.join(backend.dir, "base"), { recursive: true })).map(String);
    expect(left).toEqual(expect.arrayContaining([young, committed, other]));
    expect(left).not.toEqual(expect.arrayContaining([dead]));
    expect(left).not.toEqual(expect.arrayContaining([partial]));
  });
});
