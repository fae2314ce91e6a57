import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseManifest, type Manifest } from "../../../src/manifest/schema.ts";
import { manifestKey } from "../../../src/manifest/keys.ts";
import { openTarget } from "../../../src/targets/index.ts";
import type { MemoryTarget } from "../../../src/targets/memory.ts";
import { shopApp, type ShopApp } from "../../helpers/shop-app.ts";

// Issue 11, "keys pointing into another set": a manifest may only name artifacts inside its own
// set. One that points elsewhere (another set's artifact, `..`, an absolute path) is refused when it
// is read, so verify, restore and the drill refuse the set before any artifact is read or written.

const S1 = "20261120T030000Z-aaaa";
const S2 = "20261121T030000Z-bbbb";
const item = (key: string) => ({ service: "files", strategy: "volume", image: null, key, bytes: 1, sha256: "0".repeat(64), compression: "zstd", paths: [], startedAt: "", durationMs: 1 });
const text = (keys: string[], over: Partial<Manifest> = {}) =>
  JSON.stringify({ schemaVersion: 1, tool: { name: "sdbackup", version: "t" }, project: "shop", set: S2, createdAt: "2026-11-21T03:00:00Z", completedAt: "", status: "ok", items: keys.map(item), failed: [], ...over });

describe("parseManifest: artifact keys stay inside the manifest's own set", () => {
  it.each([
    ["another set's artifact", `shop/${S1}/files.tar.zst`],
    ["another project's set", `wiki/${S2}/files.tar.zst`],
    ["a .. segment", `shop/${S2}/../${S1}/files.tar.zst`],
    ["a bare ..", ".."],
    ["an absolute path", "/etc/passwd"],
    ["a sub-directory", `shop/${S2}/sub/files.tar.zst`],
    ["the manifest itself", `shop/${S2}/manifest.json`],
    ["an empty name", `shop/${S2}/`],
    ["a backslash", `shop/${S2}/..\\x`],
  ])("refuses %s with one line naming the item and the key", (_what, key) => {
    const err = (() => { try { parseManifest(text([`shop/${S2}/files.tar.zst`, key]), manifestKey("shop", S2)); } catch (e) { return e as Error & { code?: string }; } })();
    expect(err?.code).toBe("E_INTEGRITY");
    expect(err?.message).toContain(`manifest shop/${S2}/manifest.json: item files has key ${JSON.stringify(key)}, outside its set shop/${S2}/`);
    expect(err?.message).not.toContain("\n");
  });

  it("refuses a manifest describing another set than the one it is stored in", () => {
    expect(() => parseManifest(text([`shop/${S1}/files.tar.zst`], { set: S1 }), manifestKey("shop", S2))).toThrow(`manifest shop/${S2}/manifest.json describes set ${S1}`);
  });

  it("a set copied under another project keeps its keys; they are read beside the manifest", () => {
    const m = parseManifest(text([`shop/${S2}/files.tar.zst`]), manifestKey("staging", S2));
    expect(m.items.map((i) => i.key)).toEqual([`staging/${S2}/files.tar.zst`]);
    expect(parseManifest(text([`shop/${S2}/files.tar.zst`]), manifestKey("shop", S2)).items[0]!.key).toBe(`shop/${S2}/files.tar.zst`);
  });
});

// --- the commands: exit 1, one line, nothing read or written ---

let cwd: string;
let app: ShopApp;
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "sdbackup-keys-"));
  app = await shopApp(cwd);
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

describe("verify, restore and verify --restore-test refuse a set whose manifest points into another set", () => {
  const T = "memory://foreign-keys";
  const cli = (args: string[], now?: string) => app.cli([...args, "--target", T], now ? { now } : {});
  let first: string;
  let second: string;
  let store: MemoryTarget;
  const reads: string[] = [];

  beforeAll(async () => {
    const b1 = await cli(["backup", "--json"], "2026-11-20T03:00:00Z").run;
    const b2 = await cli(["backup", "--json"], "2026-11-21T03:00:00Z").run;
    expect([b1.code, b2.code], b1.stderr + b2.stderr).toEqual([0, 0]);
    [first, second] = [JSON.parse(b1.stdout).set as string, JSON.parse(b2.stdout).set as string];
    store = (await openTarget(T, { env: {}, cwd })) as MemoryTarget;
    // The newer set's item now names the older set's artifact, with that artifact's true size and
    // sha256: every check on the bytes would pass.
    const key = manifestKey("shop", second);
    const m = JSON.parse(store.objects.get(key)!.data.toString()) as Manifest;
    const older = (JSON.parse(store.objects.get(manifestKey("shop", first))!.data.toString()) as Manifest).items[0]!;
    m.items = [{ ...m.items[0]!, key: older.key, sha256: older.sha256, bytes: older.bytes }];
    store.objects.set(key, { data: Buffer.from(JSON.stringify(m)), modified: new Date() });
    store.fault = ({ op, key: k }) => (op === "get" && !k.endsWith("/manifest.json") && reads.push(k), undefined);
  });

  const refused = (r: { code: number | null; stderr: string }) => {
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split("\n").filter((l) => /error|✖/i.test(l));
    expect(lines.join("\n")).toContain(`item files has key "shop/${first}/files.tar.zst", outside its set shop/${second}/`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  };

  it("verify --set all: the set is bad (exit 1); only the older set's own artifact is read, once", async () => {
    reads.length = 0;
    refused(await cli(["verify", "--set", "all"]).run);
    expect(reads).toEqual([`shop/${first}/files.tar.zst`]);
  });

  it.each([
    ["verify --set ID", () => ["verify", "--set", second]],
    ["verify (latest)", () => ["verify"]],
    ["restore --set ID", () => ["restore", "--set", second, "--yes"]],
    ["restore (latest)", () => ["restore", "--yes"]],
    ["verify --restore-test --set ID", () => ["verify", "--restore-test", "--set", second]],
    ["verify --restore-test (latest)", () => ["verify", "--restore-test"]],
  ])("%s: exit 1 naming the key; no artifact read, nothing restored", async (_name, args) => {
    reads.length = 0;
    const { run, fake } = cli(args());
    refused(await run);
    expect(reads).toEqual([]);
    expect(fake.calls.filter((c) => !c.startsWith("list"))).toEqual([]);
  });

  it("the older set itself is still good", async () => {
    const r = await cli(["verify", "--set", first]).run;
    expect(r.code, r.stderr).toBe(0);
  });
});
