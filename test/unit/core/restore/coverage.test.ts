import { describe, expect, it } from "vitest";
import { locateItems, setCoverage } from "../../../../src/core/restore/coverage.ts";
import type { SetInfo } from "../../../../src/manifest/store.ts";
import type { Manifest } from "../../../../src/manifest/schema.ts";

// What a set means for the project it goes into: what it lacks, who holds that, newer sets passed over.

function set(id: string, services: string[], opts: { status?: "ok" | "partial"; failed?: string[]; project?: string; keysOf?: string } = {}): SetInfo {
  const project = opts.project ?? "app";
  const keyProject = opts.keysOf ?? project;
  const items = services.map((service) => ({ service, strategy: "volume", image: null, key: `${keyProject}/${id}/${service}.tar.zst`, bytes: 1, sha256: "0".repeat(64), compression: "zstd" as const, paths: [], startedAt: "", durationMs: 0 }));
  const manifest: Manifest = {
    schemaVersion: 1, tool: { name: "sdbackup", version: "0" }, project: keyProject, set: id, createdAt: "", completedAt: "",
    status: opts.status ?? "ok", items, failed: (opts.failed ?? []).map((service) => ({ service, strategy: "postgres", error: "stopped" })),
  };
  const objects = [...services.map((s) => ({ key: `${project}/${id}/${s}.tar.zst`, size: 1 })), { key: `${project}/${id}/manifest.json`, size: 1 }];
  return { project, set: id, createdAt: new Date(0), complete: true, manifest, objects } as SetInfo;
}

describe("setCoverage", () => {
  const newest = set("20260103T000000Z-cccc", ["web"], { status: "partial", failed: ["db"] });
  const middle = set("20260102T000000Z-bbbb", ["web", "cache"]);
  const oldest = set("20260101T000000Z-aaaa", ["web", "db", "cache"]);
  const sets = [newest, middle, oldest];

  it("a partial set names each missing service and the newest set that holds it", () => {
    expect(setCoverage(sets, newest, ["web", "db", "cache", "proxy"], false)).toEqual({
      missing: [{ service: "db", heldBy: oldest.set }, { service: "cache", heldBy: middle.set }],
      notes: [],
    });
  });

  it("latest skips a newer partial set and says so; services never backed up are not missing", () => {
    const { missing, notes } = setCoverage(sets, middle, ["web", "db", "cache", "proxy"], true);
    expect(missing).toEqual([{ service: "db", heldBy: oldest.set }]);
    expect(notes).toEqual([expect.stringMatching(new RegExp(`^set ${newest.set} is newer but partial \\(db failed: stopped\\); restoring ${middle.set}`))]);
  });

  it("--service narrows on purpose: no services to cover, nothing missing", () => {
    expect(setCoverage(sets, newest, [], false).missing).toEqual([]);
  });
});

describe("locateItems", () => {
  it("keeps keys that exist and finds a copied set's artifacts beside its manifest", () => {
    expect(locateItems(set("20260101T000000Z-aaaa", ["web"])).items[0]!.key).toBe("app/20260101T000000Z-aaaa/web.tar.zst");
    const copied = set("20260101T000000Z-aaaa", ["web"], { project: "staging", keysOf: "app" });
    expect(copied.manifest!.items[0]!.key).toBe("app/20260101T000000Z-aaaa/web.tar.zst");
    expect(locateItems(copied).items[0]!.key).toBe("staging/20260101T000000Z-aaaa/web.tar.zst");
  });
});
