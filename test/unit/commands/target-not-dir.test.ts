import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdbackupInProcess } from "../../helpers/cli.ts";
import { container } from "../../helpers/builders.ts";
import { createFakeDocker } from "../../helpers/fake-docker.ts";

// Issue 11: `list --target /some/regular/file` exited 0 with nothing. A target that is a regular
// file (or lies below one) is a config error (exit 2) for every command, before any work.

const COMPOSE = "name: shop\nservices:\n  files:\n    image: nginx:1\n    labels: { simpledeploy.backup.strategy: volume, simpledeploy.backup.paths: /srv/files }\n";
let cwd: string;
let file: string;
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "sdbackup-notdir-"));
  await writeFile(path.join(cwd, "compose.yaml"), COMPOSE);
  file = path.join(cwd, "backups.tar");
  await writeFile(file, "a regular file");
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

const run = (args: string[]) => {
  const fake = createFakeDocker({ containers: [container("files", { labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "files" }, project: "shop" })] });
  return sdbackupInProcess(args, { cwd, docker: async () => fake.api });
};

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
