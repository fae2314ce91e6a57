import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopApp, type ShopApp } from "../../helpers/shop-app.ts";

// Issue 11: `list --target /some/regular/file` exited 0 with nothing. A target that is a regular
// file (or lies below one) is a config error (exit 2) for every command, before any work.

let cwd: string;
let file: string;
let app: ShopApp;
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "sdbackup-notdir-"));
  app = await shopApp(cwd);
  file = path.join(cwd, "backups.tar");
  await writeFile(file, "a regular file");
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

const run = (args: string[]) => app.cli(args).run;

describe("a target that is a regular file", () => {
  it.each([
    ["list"], ["verify"], ["restore", "--yes"], ["prune", "--keep-last", "1"], ["status"], ["backup"],
  ])("%s exits 2 saying the target is not a directory", async (...args) => {
    for (const target of [() => file, () => `file://${file}`, () => path.join(file, "below")]) {
      const r = await run([...args, "--target", target()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/target .*backups\.tar.* is not a directory/);
      expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length).toBe(1);
    }
  });

  it("--json prints one error document", async () => {
    const r = await run(["list", "--json", "--target", file]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "E_CONFIG", message: expect.stringContaining("is not a directory") });
  });
});
