import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, type Stack } from "../helpers/compose.ts";
import { sdbackup } from "../helpers/cli.ts";

// A copy of the nextcloud fixture, started for real, then found by its compose labels alone.
let dir: string;
let stack: Stack;
let elsewhere: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdb-detect-"));
  elsewhere = await mkdtemp(join(tmpdir(), "sdb-detect-cwd-"));
  await cp(join(import.meta.dirname, "stack"), dir, { recursive: true });
  stack = composeStack(join(dir, "compose.yaml"), "sdbdet");
  await stack.up();
}, 120_000);

afterAll(async () => {
  await stack.down();
  await rm(dir, { recursive: true, force: true });
  await rm(elsewhere, { recursive: true, force: true });
}, 120_000);

describe("detect --app against a running project", () => {
  it("reads the compose files recorded in the containers' labels", async () => {
    const r = await sdbackup(["detect", "--app", stack.project, "--json"], { cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ project: stack.project, origin: "files" });
    const by = Object.fromEntries(out.services.map((s: { service: string }) => [s.service, s]));
    expect(by.db).toMatchObject({ strategy: "postgres", source: "image", warnings: [] });
    expect(by.files).toMatchObject({ strategy: "volume", paths: ["/srv/files"] });
    expect(by.static).toMatchObject({ strategy: "volume", paths: ["/data"] });
  });

  it("falls back to the containers' own image, labels and mounts when the files are gone", async () => {
    await rm(join(dir, "compose.yaml"));
    const r = await sdbackup(["detect", "--app", stack.project, "--json"], { cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.origin).toBe("containers");
    const by = Object.fromEntries(out.services.map((s: { service: string }) => [s.service, s]));
    expect(by.db.strategy).toBe("postgres");
    expect(by.files).toMatchObject({ strategy: "volume", paths: ["/srv/files"] });
  });

  it("an unknown project is a usage error naming it", async () => {
    const r = await sdbackup(["detect", "--app", "no-such-project-xyz"], { cwd: elsewhere });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-such-project-xyz/);
  });
});
