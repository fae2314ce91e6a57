import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ComposeError } from "../errors.ts";
import { parseDotenv } from "./dotenv.ts";
import { applyExtends, canonicalizeFile, isMapping, mergeFiles, type Raw } from "./merge.ts";
import { parseComposeYaml } from "./parse.ts";
import { abs, absolutizePaths } from "./paths.ts";

// Reading compose files into merged models: `include:` (each entry its own little project) and
// `extends: {file:}` (a service taken from another file), both resolved like compose v2 does.

export interface ModelContext {
  /** Variable lookup for interpolation of these files. */
  lookup: (name: string) => string | undefined;
  /** The process environment: wins over an included project's env files. */
  env: NodeJS.ProcessEnv;
  /** Directory that relative `include` paths resolve against (the project directory). */
  dir: string;
  onUnset: (name: string) => void;
  /** Files being loaded, outermost first, to refuse include cycles. */
  stack?: string[];
}

/** Resources that an included project adds to the one including it; a name in both is an error. */
const SECTIONS = ["services", "volumes", "networks", "secrets", "configs"] as const;

/**
 * Parses and merges `files` in order, then adds the projects their `include:` entries name. An
 * included project resolves its relative paths against its own `project_directory` (by default
 * the directory of its first file) and interpolates with its own `env_file` (by default the `.env`
 * there), the process environment first.
 */
export function loadModel(files: string[], ctx: ModelContext): Raw {
  const stack = ctx.stack ?? [];
  const docs: Raw[] = [];
  const includes: unknown[] = [];
  for (const file of files) {
    if (stack.includes(file)) throw new ComposeError(`include cycle: ${[...stack, file].join(" → ")}`, { file });
    for (const doc of readComposeDocs(file, ctx)) {
      const { include, ...rest } = doc;
      if (Array.isArray(include)) includes.push(...include);
      else if (include !== undefined && include !== null) throw new ComposeError("include must be a list", { file });
      docs.push(rest);
    }
  }
  if (docs.length === 0) throw new ComposeError("empty compose file: no services", { file: files[0] ?? "" });
  const merged = mergeFiles(docs);
  for (const entry of includes) addIncluded(merged, includedModel(entry, { ...ctx, stack: [...stack, ...files] }), files[0] ?? "");
  return merged;
}

/** Parses one file into canonical models, `extends.file` made absolute against the file's directory. */
export function readComposeDocs(file: string, ctx: Pick<ModelContext, "lookup" | "onUnset">): Raw[] {
  const parsed = parseComposeYaml(readComposeFile(file), file, ctx);
  return parsed.map((doc) => {
    const canonical = canonicalizeFile(doc, file);
    if (!isMapping(canonical.services)) return canonical;
    const services: Raw = {};
    for (const [name, svc] of Object.entries(canonical.services)) {
      const ext = isMapping(svc) ? svc.extends : undefined;
      services[name] = isMapping(ext) && typeof ext.file === "string" ? { ...(svc as Raw), extends: { ...ext, file: abs(ext.file, dirname(file)) } } : svc;
    }
    return { ...canonical, services };
  });
}

/**
 * Loads the service `name` of another compose file for `extends: {file, service}`: its paths
 * resolved against that file's directory, its own `extends` applied first.
 */
export function externalService(file: string, name: string, ctx: Pick<ModelContext, "lookup" | "onUnset">, warn: (msg: string) => void, depth = 0): Raw {
  if (depth > 16) throw new ComposeError(`extends: files extend each other more than 16 levels deep`, { file });
  const docs = readComposeDocs(file, ctx).map((d) => absolutizePaths(d, dirname(file)));
  const services = mergeFiles(docs).services;
  if (!isMapping(services) || !isMapping(services[name])) {
    throw new ComposeError(`extends: no service "${name}" in ${file}`, { file, hint: "check extends.service and extends.file" });
  }
  const resolved = applyExtends(services, warn, (f, s) => externalService(f, s, ctx, warn, depth + 1));
  return resolved[name] as Raw;
}

// --- internal ---

function readComposeFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ComposeError(`compose file not found: ${file}`, { cause, hint: "check the -f / COMPOSE_FILE / include path" });
    if (code === "EISDIR") throw new ComposeError(`compose file is a directory: ${file}`, { cause });
    throw new ComposeError(`cannot read compose file ${file}`, { cause, file });
  }
}

/** Short syntax (`- path`) or long (`path`, `project_directory`, `env_file`). */
function includedModel(entry: unknown, ctx: ModelContext): Raw {
  const spec: Raw = typeof entry === "string" ? { path: entry } : isMapping(entry) ? entry : {};
  const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).filter((p): p is string => typeof p === "string" && p !== "");
  if (paths.length === 0) throw new ComposeError("include entries need a path", { context: { dir: ctx.dir } });
  const files = paths.map((p) => resolve(ctx.dir, p));
  const projectDir = typeof spec.project_directory === "string" && spec.project_directory !== "" ? resolve(ctx.dir, spec.project_directory) : dirname(files[0]!);
  const envFiles = spec.env_file === undefined ? [] : (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((f) => resolve(ctx.dir, String(f)));
  const own = readEnvFiles(envFiles.length ? envFiles : [resolve(projectDir, ".env")], envFiles.length > 0, ctx.env);
  const lookup = (name: string) => ctx.env[name] ?? own[name];
  const model = loadModel(files, { ...ctx, lookup, dir: projectDir });
  return absolutizePaths(model, projectDir);
}

function readEnvFiles(files: string[], required: boolean, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (cause) {
      if (!required && (cause as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new ComposeError(`cannot read include env_file ${file}`, { file, cause });
    }
    Object.assign(out, parseDotenv(text, file, (name) => env[name] ?? out[name]));
  }
  return out;
}

function addIncluded(into: Raw, model: Raw, file: string): void {
  for (const section of SECTIONS) {
    const add = model[section];
    if (!isMapping(add)) continue;
    const have = isMapping(into[section]) ? (into[section] as Raw) : {};
    for (const [name, value] of Object.entries(add)) {
      if (Object.hasOwn(have, name)) {
        throw new ComposeError(`${section}.${name} conflicts with a resource of the same name from include`, { file, hint: "rename one of them; compose refuses this too" });
      }
      have[name] = value;
    }
    into[section] = have;
  }
}
