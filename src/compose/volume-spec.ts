import type { VolumeMount } from "./model.ts";

const TYPES = new Set<VolumeMount["type"]>(["volume", "bind", "tmpfs", "npipe", "image", "cluster"]);

/**
 * Reads one entry of a service's `volumes:` (short `src:dst[:opts]` string or long mapping) without
 * resolving paths. A source starting with `.`, `/` or `~` is a bind mount, anything else a named
 * volume; a lone path is an anonymous volume. Returns an error message instead of throwing so the
 * caller can say which service it belongs to.
 */
export function parseVolumeEntry(entry: unknown): VolumeMount | string {
  if (typeof entry === "string") return parseShort(entry);
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return "a volume must be a string or a mapping";
  const long = entry as Record<string, unknown>;
  const target = long.target;
  if (typeof target !== "string" || target === "") return "a volume needs a target";
  const source = typeof long.source === "string" && long.source !== "" ? long.source : undefined;
  const rawType = typeof long.type === "string" ? long.type : source && isHostPath(source) ? "bind" : "volume";
  if (!TYPES.has(rawType as VolumeMount["type"])) return `unknown volume type "${rawType}"`;
  const mount: VolumeMount = { type: rawType as VolumeMount["type"], target, readOnly: long.read_only === true };
  if (source !== undefined && rawType !== "tmpfs") mount.source = source;
  return mount;
}

/** The container path an entry mounts at, the key compose merges volumes by. */
export function volumeTarget(entry: unknown): string | undefined {
  const parsed = parseVolumeEntry(entry);
  return typeof parsed === "string" ? undefined : parsed.target;
}

export function isHostPath(source: string): boolean {
  return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
}

// --- internal ---

/** Mirrors compose-go's `ParseVolume` (without Windows drive letters). */
function parseShort(spec: string): VolumeMount | string {
  if (spec === "") return "empty volume spec";
  const parts = spec.split(":");
  if (parts.some((p) => p === "")) return `empty section between colons in "${spec}"`;
  if (parts.length > 3) return `too many colons in "${spec}"`;
  const [first, second, options] = parts as [string, string | undefined, string | undefined];
  if (second === undefined) return { type: "volume", target: first, readOnly: false };
  let readOnly = false;
  for (const opt of options?.split(",") ?? []) {
    if (opt === "ro") readOnly = true;
    else if (opt === "rw") readOnly = false;
  }
  return { type: isHostPath(first) ? "bind" : "volume", source: first, target: second, readOnly };
}
