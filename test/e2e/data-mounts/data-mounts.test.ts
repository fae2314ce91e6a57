import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, type Stack } from "../../helpers/compose.ts";
import { sdbackup } from "../../helpers/cli.ts";

let dir: string;
let target: string;
let stack: Stack;


beforeAll(async () => {
  // not under /tmp: a bind mount from a system path (/tmp, /etc, …) is not data by the rules
  dir = await mkdtemp("/var/tmp/sdb-cov-");
  target = await mkdtemp(join(tmpdir(), "sdb-cov-target-"));
  await cp(join(import.meta.dirname, "compose.yaml"), join(dir, "compose.yaml"));
  await mkdir(join(dir, "uploads"));
  await writeFile(join(dir, "uploads", "photo.jpg"), "original photo");
  stack = composeStack(join(dir, "compose.yaml"), "sdbcov");
  await stack.up();
  await stack.exec("app", ["sh", "-c", "echo shared-v1 > /srv/shared/s.txt && echo junk > /srv/cache/c"]);
}, 180_000);

afterAll(async () => {
  await stack?.down();
  await rm(dir, { recursive: true, force: true });
  await rm(target, { recursive: true, force: true });
}, 120_000);

describe("coverage of a real stack", () => {
  it("backs up the bind-mounted directory and the shared volume once, skips the inactive profile, exits 0", async () => {
    const r = await sdbackup(["backup", "--json", "--app", stack.project, "--target", target], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; items: { service: string; status: string }[] };
    expect(result.status).toBe("ok");
    expect(result.items.map((i) => i.service)).toEqual(["app"]);
    expect(r.stderr).toMatch(/debug: skipped, profile debug is not active/);
    const manifestKey = (JSON.parse(r.stdout) as { manifest: string }).manifest;
    const manifest = JSON.parse(await readFile(join(target, manifestKey), "utf8")) as { items: { service: string; paths: string[] }[] };
    expect(manifest.items, JSON.stringify(manifest.items)).toEqual([expect.objectContaining({ service: "app", paths: ["/srv/uploads", "/srv/shared"] })]);
  }, 120_000);

  it("restores the bind-mounted files and the shared volume", async () => {
    await writeFile(join(dir, "uploads", "photo.jpg"), "overwritten");
    await stack.exec("app", ["sh", "-c", "echo shared-v2 > /srv/shared/s.txt"]);
    const r = await sdbackup(["restore", "--yes", "--app", stack.project, "--target", target], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await stack.exec("app", ["cat", "/srv/uploads/photo.jpg"])).toBe("original photo");
    expect(await stack.exec("reader", ["cat", "/srv/shared/s.txt"])).toBe("shared-v1\n");
  }, 120_000);
});
