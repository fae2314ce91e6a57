import { ComposeError } from "../errors.ts";
import { unmark } from "./parse.ts";
import { volumeTarget } from "./volume-spec.ts";

export type Raw = Record<string, unknown>;

export function isMapping(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Brings one parsed file into the shape merging needs: `x-*` extension fields and `version` dropped,
 * `services` checked to be a mapping of mappings, `environment` and `labels` as maps (a bare
 * environment key maps to null, to be looked up later; a bare label is ""), `env_file` as a list.
 */
export function canonicalizeFile(doc: Raw, file: string): Raw {
  const out: Raw = {};
  for (const [rawKey, value] of Object.entries(doc)) {
    const { key } = unmark(rawKey);
    if (key.startsWith("x-") || key === "version") continue;
    out[rawKey] = key === "services" ? canonicalServices(value, file) : value;
  }
  return out;
}

/**
 * Merges canonical files in order like compose: later scalars win, mappings merge key by key,
 * service `volumes` merge by target and `secrets`/`configs` by source, `command`/`entrypoint`
 * are replaced, `profiles` are unioned, other service lists are appended. `!reset` removes a key
 * and `!override` replaces it without merging.
 */
export function mergeFiles(docs: Raw[]): Raw {
  return docs.reduce<Raw>((acc, doc) => mergeMap(acc, doc, []), {});
}

/**
 * Resolves `extends:` between services of the merged project. A base in another file comes from
 * `external` (its paths already resolved against that file); without it, `warn` is told and the
 * service keeps only its own settings.
 */
export function applyExtends(services: Raw, warn: (msg: string) => void, external?: (file: string, service: string) => Raw): Raw {
  const done = new Map<string, Raw>();
  const resolving = new Set<string>();
  const resolve = (name: string): Raw => {
    const cached = done.get(name);
    if (cached) return cached;
    const { extends: ext, ...own } = services[name] as Raw;
    let result = own;
    if (ext !== undefined && ext !== null) {
      const spec: Raw | undefined = typeof ext === "string" ? { service: ext } : isMapping(ext) ? ext : undefined;
      const base = spec?.service;
      if (typeof base !== "string") throw new ComposeError(`service "${name}": extends needs a service name`);
      if (typeof spec?.file === "string" && external) {
        result = mergeMap(external(spec.file, base), own, ["services", name]);
      } else if (spec?.file !== undefined) {
        warn(`service "${name}" extends "${base}" from another file, which is not supported: only its own settings are used`);
      } else {
        if (!isMapping(services[base])) throw new ComposeError(`service "${name}" extends undefined service "${base}"`);
        if (resolving.has(name)) throw new ComposeError(`service "${name}" extends itself through a cycle`);
        resolving.add(name);
        result = mergeMap(resolve(base), own, ["services", name]);
        resolving.delete(name);
      }
    }
    done.set(name, result);
    return result;
  };
  const out: Raw = {};
  for (const name of Object.keys(services)) out[name] = resolve(name);
  return out;
}

// --- internal ---

function canonicalServices(value: unknown, file: string): Raw {
  if (value === null || value === undefined || value === "") return {};
  if (!isMapping(value)) throw new ComposeError(`"services" must be a mapping, got ${describe(value)}`, { file });
  const out: Raw = {};
  for (const [rawName, svc] of Object.entries(value)) {
    const { key: name, mark } = unmark(rawName);
    if (mark === "reset") out[rawName] = null;
    else if (!isMapping(svc)) throw new ComposeError(`service "${name}" must be a mapping, got ${describe(svc)}`, { file });
    else out[rawName] = canonicalService(svc, name, file);
  }
  return out;
}

function canonicalService(svc: Raw, name: string, file: string): Raw {
  const out: Raw = {};
  for (const [rawKey, value] of Object.entries(svc)) {
    const { key } = unmark(rawKey);
    if (key.startsWith("x-")) continue;
    const where = `services.${name}.${key}`;
    if (key === "environment") out[rawKey] = toMap(value, null, where, file);
    else if (key === "labels") out[rawKey] = toMap(value, "", where, file);
    else if (key === "env_file") out[rawKey] = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
    else out[rawKey] = value;
  }
  return out;
}

/** `[K=v, K]` or `{K: v, K: null}` to a map of strings; `bare` is what a key without a value gets. */
function toMap(value: unknown, bare: null | "", where: string, file: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (value === null || value === undefined || value === "") return out;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!isScalar(item) || item === null) throw new ComposeError(`${where} entries must be KEY=VALUE strings`, { file });
      const s = String(item);
      const eq = s.indexOf("=");
      if (eq < 0) setEntry(out, s, bare);
      else setEntry(out, s.slice(0, eq), s.slice(eq + 1));
    }
    return out;
  }
  if (!isMapping(value)) throw new ComposeError(`${where} must be a mapping or a list, got ${describe(value)}`, { file });
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) setEntry(out, k, bare);
    else if (isScalar(v)) setEntry(out, k, String(v));
    else throw new ComposeError(`${where}.${k} must be a string, number or boolean`, { file });
  }
  return out;
}

/** Skips `__proto__`, which would replace the object's prototype instead of adding a key. */
function setEntry(out: Record<string, string | null>, key: string, value: string | null): void {
  if (key !== "__proto__") out[key] = value;
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || ["string", "number", "boolean", "bigint"].includes(typeof v);
}

function describe(v: unknown): string {
  return v === null || v === undefined || v === "" ? "nothing" : Array.isArray(v) ? "a list" : `a ${typeof v}`;
}

function mergeMap(base: Raw, over: Raw, path: string[]): Raw {
  const out: Raw = { ...base };
  for (const [rawKey, value] of Object.entries(over)) {
    const { key, mark } = unmark(rawKey);
    if (key === "__proto__") continue;
    if (mark === "reset") {
      delete out[key];
      continue;
    }
    const prev = mark === "override" || !Object.hasOwn(out, key) ? undefined : out[key];
    out[key] = mergeValue(prev, value, [...path, key]);
  }
  return out;
}

function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (isMapping(over)) return mergeMap(isMapping(base) ? base : {}, over, path);
  if (!Array.isArray(over)) return over;
  if (!Array.isArray(base)) return [...over];
  if (path.length !== 3 || path[0] !== "services") return [...over];
  switch (path[2]) {
    case "volumes":
      return mergeKeyed(base, over, volumeTarget);
    case "secrets":
    case "configs":
      return mergeKeyed(base, over, (e) => (typeof e === "string" ? e : isMapping(e) ? String(e.source) : undefined));
    case "command":
    case "entrypoint":
      return [...over];
    case "profiles":
      return [...new Set([...base, ...over])];
    default:
      return [...base, ...over];
  }
}

function mergeKeyed(base: unknown[], over: unknown[], keyOf: (entry: unknown) => string | undefined): unknown[] {
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => {
    const k = keyOf(e);
    if (k !== undefined) index.set(k, i);
  });
  for (const e of over) {
    const k = keyOf(e);
    const at = k === undefined ? undefined : index.get(k);
    if (at !== undefined) out[at] = e;
    else {
      if (k !== undefined) index.set(k, out.length);
      out.push(e);
    }
  }
  return out;
}
