import { Readable } from "node:stream";
import type { ObjectInfo, Target } from "../targets/types.ts";
import { IntegrityError } from "../errors.ts";
import { MANIFEST_NAME, parseManifest, type Manifest } from "./schema.ts";
import { isSetId, manifestKey, setIdTime } from "./keys.ts";
import { newestFirst } from "./order.ts";

/** A set as found on a target: complete when its manifest exists and parses. */
export interface SetInfo {
  project: string;
  set: string;
  createdAt: Date;
  complete: boolean;
  manifest?: Manifest;
  /** Every object under the set's prefix, manifest included. */
  objects: ObjectInfo[];
  /** Why a set with a manifest is still not usable (unreadable manifest). */
  problem?: string;
}

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Writes the manifest: the commit point, so it MUST be called after every artifact is durable. */
export async function writeManifest(target: Target, manifest: Manifest, signal: AbortSignal): Promise<string> {
  const key = manifestKey(manifest.project, manifest.set);
  await target.put(key, Readable.from([Buffer.from(JSON.stringify(manifest, null, 2) + "\n")]), { signal });
  return key;
}

export async function readManifest(target: Target, key: string, signal: AbortSignal): Promise<Manifest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await target.get(key, { signal })) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_BYTES) throw new IntegrityError(`manifest ${key} is larger than ${MAX_MANIFEST_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return parseManifest(Buffer.concat(chunks).toString("utf8"), key);
}

/** Every set of `project` (or of all projects), newest first ({@link newestFirst}). */
export async function listSets(target: Target, project: string | undefined, signal: AbortSignal): Promise<SetInfo[]> {
  const groups = new Map<string, { project: string; set: string; objects: ObjectInfo[] }>();
  for await (const obj of target.list(project ? `${project}/` : "", { signal })) {
    const [proj, set, ...rest] = obj.key.split("/");
    if (!proj || !set || rest.length === 0 || !isSetId(set)) continue;
    const id = `${proj}/${set}`;
    const group = groups.get(id) ?? { project: proj, set, objects: [] };
    group.objects.push(obj);
    groups.set(id, group);
  }
  const sets = await Promise.all(
    [...groups.values()].map(async (g): Promise<SetInfo> => {
      const createdAt = setIdTime(g.set) ?? new Date(0);
      const hasManifest = g.objects.some((o) => o.key === manifestKey(g.project, g.set));
      if (!hasManifest) return { ...g, createdAt, complete: false };
      try {
        const manifest = await readManifest(target, manifestKey(g.project, g.set), signal);
        return { ...g, createdAt: new Date(manifest.createdAt), complete: true, manifest };
      } catch (err) {
        if (signal.aborted) throw err;
        return { ...g, createdAt, complete: false, problem: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return newestFirst(sets, (s) => s);
}

export { MANIFEST_NAME };
