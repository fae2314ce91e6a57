import { Readable } from "node:stream";
import { writeManifest } from "../../src/manifest/store.ts";
import { MANIFEST_VERSION, type Manifest } from "../../src/manifest/schema.ts";
import type { Target } from "../../src/targets/types.ts";

/**
 * A complete set in `target`: one tiny artifact per service and a manifest with status ok, created
 * at the time in the set id. The artifacts are not real dumps (their sha256 is zeros): enough for
 * listing, selecting and pruning, not for verify or restore.
 */
export async function writeCompleteSet(target: Target, project: string, set: string, services: readonly string[]): Promise<Manifest> {
  const signal = new AbortController().signal;
  const items = [];
  for (const service of services) {
    const key = `${project}/${set}/${service}.tar.zst`;
    await target.put(key, Readable.from([Buffer.from(service)]), { signal });
    items.push({ service, strategy: "volume" as const, image: null, key, bytes: service.length, sha256: "0".repeat(64), compression: "zstd" as const, paths: [], startedAt: "", durationMs: 1 });
  }
  const createdAt = `${set.slice(0, 4)}-${set.slice(4, 6)}-${set.slice(6, 8)}T${set.slice(9, 11)}:${set.slice(11, 13)}:${set.slice(13, 15)}Z`;
  const manifest: Manifest = {
    schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project, set, createdAt, completedAt: createdAt,
    status: "ok", items, failed: [],
  };
  await writeManifest(target, manifest, signal);
  return manifest;
}
