import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { ComposeError, ConfigError } from "../errors.ts";
import { parseDotenv } from "./dotenv.ts";
import { unsetWarning } from "./interpolate.ts";
import { externalService, loadModel } from "./include.ts";
import type { ComposeProject } from "./model.ts";
import { buildProject } from "./normalize.ts";
import { activeProfiles } from "./profiles.ts";
import { normalizeProjectName } from "./project-name.ts";

export interface LoadOptions {
  /** `-f` files in order; relative paths resolve against `cwd`. Empty: `COMPOSE_FILE`, then discovery. */
  files?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--app`: beats `COMPOSE_PROJECT_NAME`, `name:` and the directory name. */
  projectName?: string;
  /** `--profile` names; added to `COMPOSE_PROFILES`. */
  profiles?: string[];
}

/** Compose's file names in its order of preference, and the override files it adds on discovery. */
const FILE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
const OVERRIDE_NAMES = ["compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"];

/**
 * The compose files `docker compose` would use in `dir`: the first of `compose.yaml`, `compose.yml`,
 * `docker-compose.yml`, `docker-compose.yaml`, plus the first `*.override.y(a)ml` next to it.
 * Absolute paths; [] when there is none. Unlike compose, parent directories are not searched.
 */
export function discoverComposeFiles(dir: string): string[] {
  const main = firstFile(dir, FILE_NAMES);
  if (main === undefined) return [];
  const override = firstFile(dir, OVERRIDE_NAMES);
  return override === undefined ? [main] : [main, override];
}

/**
 * Loads a compose project like `docker compose config` would: files merged in order, values
 * interpolated from the process environment and the project's `.env` (process env wins), then
 * normalised into a {@link ComposeProject}. Unset plain variables become "" and are reported in
 * `warnings`. Every failure is a {@link ComposeError}, or a {@link ConfigError} when no compose
 * file can be found.
 */
export async function loadCompose(opts: LoadOptions): Promise<ComposeProject> {
  const cwd = resolve(opts.cwd);
  const explicit = (opts.files ?? []).filter((f) => f !== "");
  // Like compose: with -f the .env next to the first file counts, otherwise the one in cwd.
  const envDir = explicit.length > 0 ? dirname(resolve(cwd, explicit[0]!)) : cwd;
  const dotenv = readDotenv(envDir, opts.env);
  const lookup = (name: string): string | undefined => opts.env[name] ?? dotenv[name];
  const files = explicit.length > 0 ? explicit.map((f) => resolve(cwd, f)) : filesFromEnv(lookup, cwd);
  if (files.length === 0) {
    throw new ConfigError(`no compose file found in ${cwd}`, {
      hint: `run in the project directory, pass -f FILE, or name a running project with --app`,
    });
  }
  const workingDir = dirname(files[0]!);
  const warnings = new Set<string>();
  const onUnset = (name: string) => void warnings.add(unsetWarning(name));

  const merged = loadModel(files, { lookup, env: opts.env, dir: workingDir, onUnset });

  const warn = (msg: string) => void warnings.add(msg);
  const name = projectName(opts.projectName, lookup("COMPOSE_PROJECT_NAME"), merged.name, workingDir);
  const project = buildProject(merged, {
    name,
    workingDir,
    files,
    lookup,
    home: opts.env.HOME || homedir(),
    warn,
    extendsFile: (file, service) => externalService(file, service, { lookup, onUnset }, warn),
  });
  project.activeProfiles = activeProfiles(opts.profiles ?? [], lookup("COMPOSE_PROFILES"));
  if (warnings.size > 0) project.warnings = [...warnings];
  return project;
}

// --- internal ---

function firstFile(dir: string, names: string[]): string | undefined {
  for (const n of names) {
    const p = join(resolve(dir), n);
    if (statSync(p, { throwIfNoEntry: false })?.isFile()) return p;
  }
  return undefined;
}

function filesFromEnv(lookup: (name: string) => string | undefined, cwd: string): string[] {
  const list = lookup("COMPOSE_FILE");
  if (!list) return discoverComposeFiles(cwd);
  const sep = lookup("COMPOSE_PATH_SEPARATOR") || ":";
  return list
    .split(sep)
    .filter((f) => f !== "")
    .map((f) => resolve(cwd, f));
}

function readDotenv(dir: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const file = join(dir, ".env");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return {};
    throw new ComposeError(`cannot read ${file}`, { file, cause });
  }
  return parseDotenv(text, file, (name) => env[name]);
}

function projectName(app: string | undefined, fromEnv: string | undefined, fromFile: unknown, workingDir: string): string {
  const fileName = typeof fromFile === "string" ? fromFile : undefined;
  const candidates: Array<[string | undefined, string]> = [
    [app, "--app"],
    [fromEnv, "COMPOSE_PROJECT_NAME"],
    [fileName, "name: in the compose file"],
    [basename(workingDir), "the directory name"],
  ];
  for (const [raw, source] of candidates) {
    if (raw === undefined || raw.trim() === "") continue;
    const name = normalizeProjectName(raw);
    if (name) return name;
    throw new ConfigError(`project name "${raw}" from ${source} has no letters or digits`, { hint: "pass --app NAME" });
  }
  throw new ConfigError("cannot derive a project name", { hint: "pass --app NAME" });
}
