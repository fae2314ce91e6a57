import { matchesGlob, posix } from "node:path";
import type { ComposeProject, ComposeService, VolumeMount } from "../../compose/model.ts";
import { LABEL, splitList } from "../../compose/labels.ts";

/** One mount of a service and whether its contents are backed up, with the reason either way. */
export interface MountCoverage {
  target: string;
  /** Volume name or absolute host path; null for anonymous volumes and tmpfs. */
  source: string | null;
  type: VolumeMount["type"];
  included: boolean;
  reason: string;
}

/**
 * Who backs up each named volume: a database service mounting it read-write, else the first
 * service mounting it read-write, else the first mounting it at all.
 */
export type VolumeOwners = Map<string, { service: string; database: boolean }>;

/**
 * The owner of every named volume of the active services. A database service owns its volume
 * for its dump; any other service mounting that volume must not archive the live files.
 */
export function volumeOwners(services: readonly ComposeService[], isDatabase: (s: ComposeService) => boolean): VolumeOwners {
  const owners: VolumeOwners = new Map();
  const databases = new Set(services.filter(isDatabase).map((s) => s.name));
  for (const pass of ["database", "rw", "any"] as const) {
    for (const s of services) {
      if (pass === "database" && !databases.has(s.name)) continue;
      for (const m of s.volumes) {
        const key = ownerKey(m);
        if (key === undefined || owners.has(key)) continue;
        if (pass !== "any" && m.readOnly) continue;
        owners.set(key, { service: s.name, database: databases.has(s.name) });
      }
    }
  }
  return owners;
}

/**
 * Classifies a service's mounts. Data: named volumes it owns and writable directory bind mounts.
 * Not data: tmpfs, anonymous volumes (caches), read-only mounts, sockets, single files, system
 * paths, the service's own build context (source code), and volumes another service owns.
 * `simpledeploy.backup.exclude` (paths or globs, matched against the container path and the host
 * path) takes mounts out. A database service's own mounts are covered by its dump.
 */
export function classifyMounts(service: ComposeService, owners: VolumeOwners, database: string | undefined): MountCoverage[] {
  const excludes = splitList(service.labels[LABEL.exclude]);
  return service.volumes.map((m) => {
    const base = { target: m.target, source: m.source ?? null, type: m.type };
    const out = (reason: string): MountCoverage => ({ ...base, included: false, reason });
    if (database) return out(`mount of a database service: the ${database} dump covers its data`);
    const why = exclusion(service, m, owners);
    if (why) return out(why);
    const glob = excludes.find((g) => matches(g, m.target) || (m.type === "bind" && m.source !== undefined && matches(g, m.source)));
    if (glob) return out(`excluded by ${LABEL.exclude} (${glob})`);
    return { ...base, included: true, reason: m.type === "volume" ? `named volume ${m.source}` : "writable directory bind mount" };
  });
}

/** The container paths of the included mounts, each once. */
export function includedPaths(coverage: readonly MountCoverage[]): string[] {
  return [...new Set(coverage.filter((c) => c.included).map((c) => c.target))];
}

/** The owners map of a whole project, for callers that classify one service at a time. */
export function projectOwners(project: Pick<ComposeProject, "services">, isDatabase: (s: ComposeService) => boolean): VolumeOwners {
  return volumeOwners(project.services, isDatabase);
}

// --- internal ---

const SYSTEM_PATHS = ["/etc", "/proc", "/sys", "/dev", "/run", "/var/run", "/usr", "/lib", "/boot"];
/**
 * The host's scratch directories are not data, but a directory below them is whatever it holds: a
 * project checked out under /tmp (CI clones, try-outs) keeps its `./data` binds as data.
 */
const SCRATCH_PATHS = ["/tmp", "/var/tmp", "/tmp/.X11-unix"];

/** File names that are files even when the host path does not exist yet (docker would make a directory). */
const FILE_NAME = /\.(conf|cfg|cnf|ini|json|ya?ml|toml|xml|env|sh|py|js|ts|rb|php|lua|sql|txt|pem|crt|key|cert|htpasswd|properties|db|sqlite3?|lock|log)$|^(Caddyfile|Dockerfile|Corefile|Makefile|nginx\.conf|localtime|timezone|hosts)$/i;

function exclusion(service: ComposeService, m: VolumeMount, owners: VolumeOwners): string | undefined {
  switch (m.type) {
    case "tmpfs":
      return "tmpfs (scratch space)";
    case "volume": {
      if (m.source === undefined) return "anonymous volume (a cache)";
      const owner = owners.get(m.source);
      if (owner && owner.service !== service.name) {
        return owner.database ? `volume ${m.source} holds the files of database ${owner.service}, covered by its dump` : `volume ${m.source} is backed up with ${owner.service}`;
      }
      return m.readOnly && !owner ? "read-only" : undefined;
    }
    case "bind":
      return bindExclusion(service, m, owners);
    default:
      return `${m.type} mount`;
  }
}

/** Named volumes by name, host directories by path; anonymous volumes and tmpfs have no owner. */
function ownerKey(m: VolumeMount): string | undefined {
  if (m.source === undefined) return undefined;
  return m.type === "volume" ? m.source : m.type === "bind" ? `bind:${m.source}` : undefined;
}

function bindExclusion(service: ComposeService, m: VolumeMount, owners: VolumeOwners): string | undefined {
  const source = m.source;
  if (source === undefined) return "bind mount without a host path";
  if (m.hostKind === "socket" || /\.sock$/.test(source) || /\.sock$/.test(m.target)) return "a socket";
  if (m.readOnly) return "read-only";
  if (SYSTEM_PATHS.some((p) => source === p || source.startsWith(`${p}/`)) || source === "/") return "a system path";
  if (SCRATCH_PATHS.includes(source.replace(/\/+$/, ""))) return "the host's scratch directory";
  if (m.hostKind === "file" || (m.hostKind !== "dir" && (FILE_NAME.test(posix.basename(source)) || FILE_NAME.test(posix.basename(m.target))))) return "a single file";
  if (m.hostKind === "other") return "not a directory";
  const owner = owners.get(`bind:${source}`);
  if (owner && owner.service !== service.name) {
    return owner.database ? `${source} holds the files of database ${owner.service}, covered by its dump` : `${source} is backed up with ${owner.service}`;
  }
  const ctx = service.buildContext;
  if (ctx !== undefined && (source === ctx || source.startsWith(`${ctx.replace(/\/+$/, "")}/`))) return "inside the service's build context (source code)";
  return undefined;
}

function matches(glob: string, path: string): boolean {
  const p = path.replace(/\/+$/, "");
  const g = glob.replace(/\/+$/, "");
  return p === g || matchesGlob(p, g);
}
