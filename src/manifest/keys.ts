import { randomBytes } from "node:crypto";
import { MANIFEST_NAME } from "./schema.ts";

/**
 * Layout: `<project>/<set>/<service>.<ext>[.zst|.gz]` and `<project>/<set>/manifest.json`.
 * A set id is the UTC start time plus a random suffix, so ids sort by time and two runs in the
 * same second never collide: `20261121T030000Z-3f9a`.
 */
const SET_ID = /^(\d{8}T\d{6}Z)-[0-9a-f]{4,}$/;

export function newSetId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

export function isSetId(id: string): boolean {
  return SET_ID.test(id);
}

/** The time encoded in a set id. */
export function setIdTime(id: string): Date | undefined {
  const m = SET_ID.exec(id);
  if (!m) return undefined;
  const s = m[1]!;
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`);
}

export function setPrefix(project: string, set: string): string {
  return `${project}/${set}/`;
}

export function manifestKey(project: string, set: string): string {
  return `${setPrefix(project, set)}${MANIFEST_NAME}`;
}

export function artifactKey(project: string, set: string, service: string, ext: string, compressionExt: string): string {
  return `${setPrefix(project, set)}${service}.${ext}${compressionExt}`;
}

/**
 * The artifact name of one part of a service: `db.globals`, `db.db-appdb`. A database name that is
 * not `[A-Za-z0-9_-]` is hex-encoded (`db.dbx-…`), so any name makes a safe, unique key.
 */
export function partArtifactName(service: string, part: { kind: "globals" | "database"; name: string }): string {
  if (part.kind === "globals") return `${service}.globals`;
  return /^[A-Za-z0-9_-]+$/.test(part.name) ? `${service}.db-${part.name}` : `${service}.dbx-${Buffer.from(part.name, "utf8").toString("hex")}`;
}
