import { IntegrityError } from "../errors.ts";

/**
 * A set manifest is the commit point of a backup: it is written last, after every artifact it names
 * is durable. Restore, list, verify and prune trust only manifests. Version bumps are additive
 * where possible; readers reject versions they do not know.
 */
export const MANIFEST_VERSION = 1;
export const MANIFEST_NAME = "manifest.json";

import type { Compression } from "../pipeline/compress.ts";
import type { Encryption } from "../pipeline/encrypt.ts";
export type { Compression, Encryption };

export interface ManifestItem {
  service: string;
  /**
   * A strategy name as written by the tool that made the set; resolved through the registry when
   * the artifact is used, so a set naming a strategy this version lacks fails there, clearly.
   */
  strategy: string;
  image: string | null;
  /**
   * Target key of the artifact, always in the manifest's own set: as read, it is the one beside
   * the manifest ({@link parseManifest} refuses any other).
   */
  key: string;
  /** Size of the stored (compressed) artifact. */
  bytes: number;
  /** Size of the dump before compression and encryption; restore inflates no more (with slack). */
  rawBytes?: number;
  /** sha256 of the stored bytes, hex (after encryption: integrity checks need no key). */
  sha256: string;
  compression: Compression;
  /** Absent for a plaintext artifact. Public keys only: enough to say which key opens it. */
  encryption?: Encryption;
  /** Paths inside the container (volume, sqlite); the artifact's layout depends on them. */
  paths: string[];
  /** Which part of the service this artifact is (postgres: globals, or one database); absent for whole-service artifacts. */
  part?: { kind: "globals" | "database"; name: string; owner?: string };
  /**
   * The databases a dump holds when its backup named them (mysql, mariadb); restore and verify
   * refuse an artifact that holds others. Absent: every database of the server, or an older set.
   */
  databases?: string[];
  /** What the backup saw (tables and rows, keys, files), for restore drills; absent in older sets. */
  inventory?: Inventory;
  startedAt: string;
  durationMs: number;
}

/**
 * A count per thing a restore must bring back: `schema.table` rows, `db0` keys, `files`/`bytes`;
 * `digest` fingerprints what counts cannot (a volume's sorted path list). `exact` says the data
 * could not change while it was taken (an idle or stopped service), so a drill must match it exactly.
 */
export interface Inventory {
  counts: Record<string, number>;
  digest?: string;
  exact?: boolean;
  /** How it was taken, in a few words ("row counts before the dump"). */
  how?: string;
}

export interface FailedItem {
  service: string;
  strategy: string;
  error: string;
}

export interface StoppedService {
  service: string;
  container: string;
  downtimeMs: number;
}

export interface Manifest {
  schemaVersion: typeof MANIFEST_VERSION;
  tool: { name: "sdbackup"; version: string };
  project: string;
  set: string;
  createdAt: string;
  completedAt: string;
  status: "ok" | "partial";
  items: ManifestItem[];
  failed: FailedItem[];
  /** Taken with the labelled services stopped or paused (consistent mode). */
  consistent?: boolean;
  stopped?: StoppedService[];
}

/**
 * Parses and checks the manifest stored at `key` (`<project>/<set>/manifest.json`); anything
 * unexpected is an IntegrityError naming the key. It must describe that set, and every artifact it
 * names must lie in that set: a key into another set, `..` or an absolute path is refused here, the
 * one place every reader (list, verify, restore, drills, prune) goes through.
 */
export function parseManifest(text: string, key: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new IntegrityError(`manifest ${key} is not valid JSON`, { cause: err });
  }
  const m = raw as Partial<Manifest> | null;
  if (!m || typeof m !== "object") throw new IntegrityError(`manifest ${key} is not an object`);
  if (m.schemaVersion !== MANIFEST_VERSION) {
    throw new IntegrityError(`manifest ${key} has schema version ${String(m.schemaVersion)}, this sdbackup reads ${MANIFEST_VERSION}`, {
      hint: "use the sdbackup version that wrote it, or a newer one",
    });
  }
  const fields: [string, unknown, string][] = [["project", m.project, "string"], ["set", m.set, "string"], ["createdAt", m.createdAt, "string"]];
  for (const [name, value, type] of fields) {
    if (typeof value !== type) throw new IntegrityError(`manifest ${key}: field ${name} is missing or not a ${type}`);
  }
  if (!Array.isArray(m.items)) throw new IntegrityError(`manifest ${key}: items is not a list`);
  const [storedProject, storedSet] = key.split("/");
  if (m.set !== storedSet) throw new IntegrityError(`manifest ${key} describes set ${m.set}, not the set it is stored in`, { hint: ALTERED });
  for (const item of m.items) {
    if (typeof item?.key !== "string" || typeof item.sha256 !== "string" || typeof item.bytes !== "number" || typeof item.service !== "string") {
      throw new IntegrityError(`manifest ${key}: an item lacks key, service, bytes or sha256`);
    }
    const own = ownKey(item.key, [storedProject!, m.project!], storedSet);
    if (own === undefined) throw new IntegrityError(`manifest ${key}: item ${item.service} has key ${JSON.stringify(item.key)}, outside its set ${storedProject}/${storedSet}/`, { hint: ALTERED });
    item.key = own;
    item.paths ??= [];
    if (item.databases !== undefined && !(Array.isArray(item.databases) && item.databases.every((d) => typeof d === "string"))) {
      throw new IntegrityError(`manifest ${key}: item ${item.service} has databases that are not a list of names`);
    }
    const enc = item.encryption;
    if (enc !== undefined && (enc?.format !== "age" || !Array.isArray(enc.recipients))) {
      throw new IntegrityError(`manifest ${key}: item ${item.service} has an encryption this sdbackup does not know`, { hint: "use the sdbackup version that wrote it, or a newer one" });
    }
  }
  m.failed ??= [];
  return m as Manifest;
}

// --- internal ---

const ALTERED = "the manifest was altered or damaged; sdbackup reads a set's artifacts only from the set's own directory";

/**
 * Where an item's artifact lies: `<project>/<set>/<name>` beside its manifest, or undefined when the
 * key points anywhere else (another set, `..`, an absolute path, a sub-directory). The project may
 * be the one that wrote the set: a set copied under another project's name keeps its keys.
 */
function ownKey(key: string, projects: readonly string[], set: string | undefined): string | undefined {
  const [project, inSet, name, ...more] = key.split("/");
  const nameOk = name !== undefined && name !== "" && name !== "." && name !== ".." && name !== MANIFEST_NAME && !/[\\\0]/.test(name);
  if (more.length || !nameOk || inSet !== set || !projects.includes(project!)) return undefined;
  return `${projects[0]}/${set}/${name}`;
}
