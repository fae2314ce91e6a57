import { isAbsolute, resolve } from "node:path";
import { isMapping, type Raw } from "./merge.ts";
import { unmark } from "./parse.ts";
import { isHostPath } from "./volume-spec.ts";

/**
 * Makes the relative host paths of one compose model absolute against `dir`: bind-mount sources,
 * `env_file`, `build` contexts, `extends.file`, and top-level `secrets`/`configs` files. Files that
 * are included or extended resolve their paths against their own directory, not the project's;
 * doing it before merging keeps that knowledge, which is lost once the models are combined.
 * `~` stays as written (the normaliser expands it). Returns a new object; `doc` is not changed.
 */
export function absolutizePaths(doc: Raw, dir: string): Raw {
  const out: Raw = { ...doc };
  for (const rawKey of Object.keys(doc)) {
    const { key } = unmark(rawKey);
    const value = doc[rawKey];
    if (key === "services" && isMapping(value)) out[rawKey] = mapValues(value, (svc) => (isMapping(svc) ? service(svc, dir) : svc));
    else if ((key === "secrets" || key === "configs") && isMapping(value)) {
      out[rawKey] = mapValues(value, (spec) => (isMapping(spec) && typeof spec.file === "string" ? { ...spec, file: abs(spec.file, dir) } : spec));
    }
  }
  return out;
}

/** A relative path against `dir`; absolute, `~` and URL-like values stay as they are. */
export function abs(p: string, dir: string): string {
  if (p === "" || isAbsolute(p) || p === "~" || p.startsWith("~/") || /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith("git@")) return p;
  return resolve(dir, p);
}

// --- internal ---

function mapValues(m: Raw, fn: (v: unknown) => unknown): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(m)) out[k] = fn(v);
  return out;
}

function service(svc: Raw, dir: string): Raw {
  const out: Raw = { ...svc };
  for (const rawKey of Object.keys(svc)) {
    const { key } = unmark(rawKey);
    const v = svc[rawKey];
    if (key === "volumes" && Array.isArray(v)) out[rawKey] = v.map((e) => volume(e, dir));
    else if (key === "env_file") out[rawKey] = (Array.isArray(v) ? v : [v]).map((e) => (typeof e === "string" ? abs(e, dir) : isMapping(e) && typeof e.path === "string" ? { ...e, path: abs(e.path, dir) } : e));
    else if (key === "build") out[rawKey] = typeof v === "string" ? abs(v, dir) : isMapping(v) && typeof v.context === "string" ? { ...v, context: abs(v.context, dir) } : v;
    else if (key === "extends" && isMapping(v) && typeof v.file === "string") out[rawKey] = { ...v, file: abs(v.file, dir) };
  }
  return out;
}

function volume(entry: unknown, dir: string): unknown {
  if (typeof entry === "string") {
    const colon = entry.indexOf(":");
    if (colon <= 0) return entry;
    const source = entry.slice(0, colon);
    return isHostPath(source) ? abs(source, dir) + entry.slice(colon) : entry;
  }
  if (!isMapping(entry) || typeof entry.source !== "string") return entry;
  const bind = entry.type === "bind" || (entry.type === undefined && isHostPath(entry.source));
  return bind ? { ...entry, source: abs(entry.source, dir) } : entry;
}
