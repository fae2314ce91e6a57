import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createLocalTarget } from "../../src/targets/local.ts";
import { openTarget } from "../../src/targets/index.ts";
import { describeTarget } from "./conformance.ts";

const tmpRoot = () => mkdtemp(path.join(os.tmpdir(), "sdbackup-local-"));

describeTarget("local", async () => {
  const dir = await tmpRoot();
  const root = path.join(dir, "backups");
  return {
    target: await openTarget(pathToFileURL(root).href, { env: {}, cwd: dir }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
    listLeftovers: async () => (await walk(root)).filter((f) => f.includes(".tmp-")),
  };
});

describe("local target specifics", () => {
  const signal = new AbortController().signal;

  it("creates files 0600 and directories 0700, and prunes emptied directories on remove", async () => {
    const dir = await tmpRoot();
    try {
      const root = path.join(dir, "b");
      const t = createLocalTarget(root);
      await t.put("app/svc/x.dump", Readable.from([Buffer.from("x")]), { signal });
      await t.put("app/keep", Readable.from([Buffer.from("k")]), { signal });
      expect((await stat(path.join(root, "app/svc/x.dump"))).mode & 0o777).toBe(0o600);
      for (const d of ["", "app", "app/svc"]) expect((await stat(path.join(root, d))).mode & 0o777).toBe(0o700);
      await t.remove("app/svc/x.dump", { signal });
      expect(await readdir(path.join(root, "app"))).toEqual(["keep"]);
      expect(t.display).toBe(root);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("does not list tmp files of puts in flight, nor report an absent root as an error", async () => {
    const dir = await tmpRoot();
    try {
      const t = createLocalTarget(path.join(dir, "missing"));
      const listed: string[] = [];
      for await (const o of t.list("", { signal })) listed.push(o.key);
      expect(listed).toEqual([]);
      const t2 = createLocalTarget(dir);
      const { writeFile } = await import("node:fs/promises");
      await writeFile(path.join(dir, "a.tmp-0123456789abcdef"), "partial");
      await writeFile(path.join(dir, "b"), "whole");
      for await (const o of t2.list("", { signal })) listed.push(o.key);
      expect(listed).toEqual(["b"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lists a tmp file untouched for an hour (a killed run's, issue 11 case 10) so that prune can remove it", async () => {
    const dir = await tmpRoot();
    try {
      const { mkdir, utimes, writeFile } = await import("node:fs/promises");
      await mkdir(path.join(dir, "app/set1"), { recursive: true });
      const stale = path.join(dir, "app/set1/db.pgdump.zst.tmp-0123456789abcdef");
      await writeFile(stale, "partial");
      const t = createLocalTarget(dir);
      const keys = async () => {
        const listed: string[] = [];
        for await (const o of t.list("app/", { signal })) listed.push(o.key);
        return listed;
      };
      expect(await keys()).toEqual([]);
      const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
      await utimes(stale, twoHoursAgo, twoHoursAgo);
      expect(await keys()).toEqual(["app/set1/db.pgdump.zst.tmp-0123456789abcdef"]);
      await t.remove("app/set1/db.pgdump.zst.tmp-0123456789abcdef", { signal });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
