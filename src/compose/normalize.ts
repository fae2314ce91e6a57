import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ComposeError } from "../errors.ts";
import { parseDotenv } from "./dotenv.ts";
import { applyExtends, isMapping } from "./merge.ts";
import type { Raw } from "./merge.ts";
import type { ComposeProject, ComposeService, ComposeVolume, ServiceSecret, VolumeMount } from "./model.ts";
import { parseVolumeEntry } from "./volume-spec.ts";

export interface NormalizeContext {
  name: string;
  workingDir: string;
  files: string[];
  /** Project environment: process env first, then `.env`. Resolves bare `environment` keys. */
  lookup: (name: string) => string | undefined;
  home: string;
  warn: (msg: string) => void;
  /** Loads service `service` of another compose file for `extends: {file:}`. */
  extendsFile?: (file: string, service: string) => Raw;
}

/**
 * Turns the merged, interpolated compose data into a {@link ComposeProject}. Relative host paths
 * (bind mounts, `env_file`, secret files) resolve against the working directory, as compose does
 * for every file given with `-f`.
 */
export function buildProject(merged: Raw, ctx: NormalizeContext): ComposeProject {
  const volumes = topVolumes(merged.volumes, ctx);
  const secretFiles = topSecrets(merged.secrets, ctx);
  const raw = isMapping(merged.services) ? merged.services : {};
  if (Object.keys(raw).length === 0) throw fail(ctx, "no services defined");
  const services = Object.entries(applyExtends(raw, ctx.warn, ctx.extendsFile)).map(([name, svc]) =>
    toService(name, svc as Raw, ctx, volumes, secretFiles),
  );
  return { name: ctx.name, workingDir: ctx.workingDir, files: ctx.files, services, volumes };
}

// --- internal ---

function toService(
  name: string,
  svc: Raw,
  ctx: NormalizeContext,
  volumes: Record<string, ComposeVolume>,
  secretFiles: Map<string, string | undefined>,
): ComposeService {
  const out: ComposeService = {
    name,
    environment: environment(name, svc, ctx),
    labels: stringMap(svc.labels),
    volumes: mounts(name, svc.volumes, ctx, volumes),
    secrets: secrets(name, svc.secrets, ctx, secretFiles),
    profiles: Array.isArray(svc.profiles) ? svc.profiles.map(String) : [],
  };
  if (typeof svc.image === "string" && svc.image !== "") out.image = svc.image;
  if (typeof svc.container_name === "string" && svc.container_name !== "") out.containerName = svc.container_name;
  const context = typeof svc.build === "string" ? svc.build : isMapping(svc.build) ? (svc.build.context ?? ".") : undefined;
  if (typeof context === "string" && !/^[a-z][a-z0-9+.-]*:\/\//i.test(context) && !context.startsWith("git@")) out.buildContext = hostPath(context, ctx);
  if (typeof svc.command === "string") out.command = svc.command;
  else if (Array.isArray(svc.command)) out.command = svc.command.map((c) => (c === null ? "" : String(c)));
  if (typeof svc.entrypoint === "string") out.entrypoint = svc.entrypoint;
  else if (Array.isArray(svc.entrypoint)) out.entrypoint = svc.entrypoint.map((c) => (c === null ? "" : String(c)));
  return out;
}

/** `env_file` entries in order, then `environment` on top; bare keys come from the project env. */
function environment(name: string, svc: Raw, ctx: NormalizeContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of Array.isArray(svc.env_file) ? svc.env_file : []) {
    const spec = typeof entry === "string" ? { path: entry } : isMapping(entry) ? entry : {};
    if (typeof spec.path !== "string" || spec.path === "") throw fail(ctx, `service "${name}": env_file entries need a path`);
    const file = hostPath(spec.path, ctx);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
      if (missing && spec.required === false) continue;
      throw fail(ctx, `service "${name}": ${missing ? "env file not found" : "cannot read env file"}: ${file}`, cause);
    }
    Object.assign(env, parseDotenv(text, file, ctx.lookup));
  }
  for (const [key, value] of Object.entries(isMapping(svc.environment) ? svc.environment : {})) {
    const resolved = value === null ? ctx.lookup(key) : String(value);
    if (resolved !== undefined) env[key] = resolved;
  }
  return env;
}

function mounts(name: string, list: unknown, ctx: NormalizeContext, volumes: Record<string, ComposeVolume>): VolumeMount[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry) => {
    const m = parseVolumeEntry(entry);
    if (typeof m === "string") throw fail(ctx, `service "${name}": ${m}`);
    if (m.type === "bind" && m.source !== undefined) {
      m.source = hostPath(m.source, ctx);
      m.hostKind = hostKind(m.source);
    }
    if (m.type === "volume" && m.source !== undefined && !Object.hasOwn(volumes, m.source)) {
      throw fail(ctx, `service "${name}" refers to undefined volume "${m.source}"`, undefined, "declare it under the top-level volumes:");
    }
    return m;
  });
}

function secrets(name: string, list: unknown, ctx: NormalizeContext, files: Map<string, string | undefined>): ServiceSecret[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry) => {
    const spec = typeof entry === "string" ? { source: entry } : isMapping(entry) ? entry : {};
    const source = spec.source;
    if (typeof source !== "string" || source === "") throw fail(ctx, `service "${name}": secrets entries need a source`);
    if (!files.has(source)) {
      throw fail(ctx, `service "${name}" refers to undefined secret "${source}"`, undefined, "declare it under the top-level secrets:");
    }
    const target = typeof spec.target === "string" && spec.target !== "" ? spec.target : source;
    const secret: ServiceSecret = { source, target: isAbsolute(target) ? target : `/run/secrets/${target}` };
    const file = files.get(source);
    if (file !== undefined) secret.file = file;
    return secret;
  });
}

function topVolumes(value: unknown, ctx: NormalizeContext): Record<string, ComposeVolume> {
  const out: Record<string, ComposeVolume> = {};
  for (const [key, v] of Object.entries(isMapping(value) ? value : {})) {
    const spec = isMapping(v) ? v : {};
    const ext = spec.external;
    const external = ext === true || ext === "true" || isMapping(ext);
    // The legacy `external: {name: x}` form names the volume too.
    const explicit = typeof spec.name === "string" && spec.name ? spec.name : isMapping(ext) && typeof ext.name === "string" ? ext.name : undefined;
    out[key] = { name: explicit ?? (external ? key : `${ctx.name}_${key}`), external };
  }
  return out;
}

/** Secret name → absolute host file, or undefined for `environment:` / `external` secrets. */
function topSecrets(value: unknown, ctx: NormalizeContext): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const [key, v] of Object.entries(isMapping(value) ? value : {})) {
    const file = isMapping(v) && typeof v.file === "string" && v.file !== "" ? hostPath(v.file, ctx) : undefined;
    out.set(key, file);
  }
  return out;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(isMapping(value) ? value : {})) out[k] = v === null || v === undefined ? "" : String(v);
  return out;
}

function hostPath(p: string, ctx: NormalizeContext): string {
  if (p === "~" || p.startsWith("~/")) return join(ctx.home, p.slice(1));
  return resolve(ctx.workingDir, p);
}

function hostKind(path: string): NonNullable<VolumeMount["hostKind"]> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return "missing";
  return st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSocket() ? "socket" : "other";
}

function fail(ctx: NormalizeContext, message: string, cause?: unknown, hint?: string): ComposeError {
  const only = ctx.files.length === 1 ? ctx.files[0] : undefined;
  return new ComposeError(message, {
    context: { files: ctx.files },
    ...(only !== undefined ? { file: only } : {}),
    ...(cause !== undefined ? { cause } : {}),
    ...(hint !== undefined ? { hint } : {}),
  });
}
