import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../src/targets/local.ts";
import type { Target } from "../../src/targets/types.ts";
import { shopApp } from "../helpers/shop-app.ts";

// Issue 11, "artifacts that are symlinks leaving the target root are followed": the local target
// never follows a symbolic link below its root (a link inside the root is refused as well, which is
// simpler to reason about than judging where it leads). The root itself may be a link.

const signal = new AbortController().signal;
const SET = "shop/20261121T030000Z-bbbb";
let dir: string;
let root: string;
let outside: string;
let t: Target;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-links-"));
  root = path.join(dir, "backups");
  outside = path.join(dir, "elsewhere");
  await mkdir(path.join(root, SET), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, "secret"), "not a backup");
  t = createLocalTarget(root);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const keys = async (prefix: string) => {
  const out: string[] = [];
  for await (const o of t.list(prefix, { signal })) out.push(`${o.key}:${o.size}`);
  return out.sort();
};
const read = async (key: string) => {
  const chunks: Buffer[] = [];
  for await (const c of await t.get(key, { signal })) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

describe("local target: symbolic links below the root are never followed", () => {
  it("get refuses an artifact that is a link out of the root (/etc/passwd), naming the key", async () => {
    await symlink("/etc/passwd", path.join(root, SET, "db.tar.zst"));
    await expect(read(`${SET}/db.tar.zst`)).rejects.toMatchObject({
      name: "TargetError",
      message: expect.stringMatching(new RegExp(`${SET}/db\\.tar\\.zst: it is a symbolic link`)),
    });
  });

  it("get refuses a link that stays inside the root too", async () => {
    await writeFile(path.join(root, SET, "real"), "inside");
    await symlink("real", path.join(root, SET, "db.tar.zst"));
    await expect(read(`${SET}/db.tar.zst`)).rejects.toThrow(/db\.tar\.zst: it is a symbolic link/);
    expect(await read(`${SET}/real`)).toBe("inside");
  });

  it("get refuses a key below a directory that is a link, naming the link", async () => {
    await symlink(outside, path.join(root, "shop", "20261122T030000Z-cccc"));
    await expect(read("shop/20261122T030000Z-cccc/secret")).rejects.toThrow(/shop\/20261122T030000Z-cccc\/secret: shop\/20261122T030000Z-cccc is a symbolic link/);
  });

  it("list shows a link where it is, by its own size, and never lists what a directory link leads to", async () => {
    await symlink("/etc/passwd", path.join(root, SET, "db.tar.zst"));
    await symlink(outside, path.join(root, "shop", "20261122T030000Z-cccc"));
    const linkSize = "/etc/passwd".length;
    expect(await keys("shop/")).toEqual([`${SET}/db.tar.zst:${linkSize}`, `shop/20261122T030000Z-cccc:${outside.length}`]);
    expect(await keys("shop/20261122T030000Z-cccc/")).toEqual([]);
    expect(await keys("shop/20261122T030000Z-cccc/sec")).toEqual([]);
  });

  it("put does not write through a directory that is a link; remove takes the link, not what it leads to", async () => {
    await symlink(outside, path.join(root, "shop", "20261122T030000Z-cccc"));
    await expect(t.put("shop/20261122T030000Z-cccc/x", Readable.from([Buffer.from("x")]), { signal })).rejects.toThrow(/20261122T030000Z-cccc is a symbolic link/);
    await expect(t.remove("shop/20261122T030000Z-cccc/secret", { signal })).rejects.toThrow(/symbolic link/);
    expect(await readFile(path.join(outside, "secret"), "utf8")).toBe("not a backup");
    await t.remove("shop/20261122T030000Z-cccc", { signal });
    expect(await readFile(path.join(outside, "secret"), "utf8")).toBe("not a backup");
    expect(await keys("shop/")).toEqual([]);
  });

  it("a root that is itself a link works as usual", async () => {
    const linked = path.join(dir, "linked-root");
    await symlink(root, linked);
    const lt = createLocalTarget(linked);
    await lt.put(`${SET}/db.tar.zst`, Readable.from([Buffer.from("dump")]), { signal });
    const out: string[] = [];
    for await (const o of lt.list("", { signal })) out.push(o.key);
    expect(out).toEqual([`${SET}/db.tar.zst`]);
    const chunks: Buffer[] = [];
    for await (const c of await lt.get(`${SET}/db.tar.zst`, { signal })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("dump");
  });
});

describe("verify and restore of a set whose artifact was replaced by a link to /etc/passwd", () => {
  it("verify reports the artifact bad and restore exits 1, each naming the key; nothing is restored", async () => {
    const cwd = path.join(dir, "app");
    await mkdir(cwd);
    const app = await shopApp(cwd);
    const cli = (args: string[]) => app.cli([...args, "--target", root]);
    const backup = await cli(["backup", "--json"]).run;
    expect(backup.code, backup.stderr).toBe(0);
    const { set, items } = JSON.parse(backup.stdout) as { set: string; items: { key: string }[] };
    const key = items[0]!.key;
    await rm(path.join(root, key));
    await symlink("/etc/passwd", path.join(root, key));

    const verify = await cli(["verify", "--set", set]).run;
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`${key}: it is a symbolic link`);
    const { run, fake } = cli(["restore", "--set", set, "--yes"]);
    const restore = await run;
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain(`${key}: it is a symbolic link`);
    expect(restore.stderr).not.toMatch(/^\s+at /m);
    expect(fake.puts).toEqual([]);
  });
});
