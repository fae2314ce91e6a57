import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, InternalError } from "../errors.ts";
import { localFactory } from "./local.ts";
import { memoryFactory } from "./memory.ts";
import { stripCredentials } from "./shared/redact.ts";
import { s3Factory } from "./s3.ts";
import { rcloneFactory } from "./rclone.ts";
import type { Target, TargetFactory, TargetOptions } from "./types.ts";

/** Where backups go when neither `--target` nor `SDBACKUP_TARGET` says. */
export const DEFAULT_TARGET = "./backups";

/** Every target kind. The s3 entry loads the AWS SDK only inside `create`. */
export const targetFactories: readonly TargetFactory[] = [localFactory, s3Factory, rcloneFactory, memoryFactory];

/** Scheme → factory. Throws at startup when two factories claim the same scheme. */
export function buildRegistry(factories: readonly TargetFactory[]): ReadonlyMap<string, TargetFactory> {
  const registry = new Map<string, TargetFactory>();
  for (const factory of factories) {
    for (const scheme of factory.schemes) {
      if (registry.has(scheme)) throw new InternalError(`target scheme "${scheme}" is registered twice`);
      registry.set(scheme, factory);
    }
  }
  return registry;
}

const registry = buildRegistry(targetFactories);

/**
 * The target location as a URL: `flag`, else `SDBACKUP_TARGET`, else `./backups`. A plain path
 * (absolute, relative to `cwd`, or starting with `~/`) becomes a `file://` URL.
 */
export function resolveTargetUrl(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const raw = targetList(flag, env)[0]!;
  if (schemeOf(raw) !== undefined) return raw;
  const home = env.HOME;
  const expanded = home && (raw === "~" || raw.startsWith("~/")) ? path.join(home, raw.slice(1)) : raw;
  return pathToFileURL(path.resolve(cwd, expanded)).href;
}

/** Opens the target at `url` (or plain path). An unknown scheme is a ConfigError naming the valid ones. */
export async function openTarget(url: string, opts: { env: NodeJS.ProcessEnv; cwd: string }): Promise<Target> {
  const resolved = resolveTargetUrl(url, opts.env, opts.cwd);
  return factoryFor(resolved).create(resolved, opts.env);
}

/** A target opened from the command line, and how to show it (never with credentials). */
export interface OpenedTarget {
  target: Target;
  /** The resolved URL, redacted: what logs, JSON and hints show. */
  display: string;
}

/**
 * The one way commands open their target: `--target` (else `SDBACKUP_TARGET`, else `./backups`),
 * resolved once. An empty `--target ''` is a usage error, not the default: it is usually an unset
 * shell variable, and backing up somewhere else than meant must not pass silently.
 */
export async function openTargetFlag(flag: string | undefined, opts: { env: NodeJS.ProcessEnv; cwd: string } & TargetOptions): Promise<OpenedTarget> {
  if (flag !== undefined && flag.trim() === "") throw new ConfigError("--target is empty", { hint: "give --target a value (an unset shell variable?)" });
  const url = resolveTargetUrl(flag, opts.env, opts.cwd);
  const target = await factoryFor(url).create(url, opts.env, opts.stallTimeoutMs !== undefined ? { stallTimeoutMs: opts.stallTimeoutMs } : {});
  return { target, display: redactTarget(url) };
}

/**
 * Every target of a backup to several at once (each resolved like {@link openTargetFlag}): repeated
 * `--target` flags, else the whitespace-separated list in `SDBACKUP_TARGET` (URLs hold no spaces; a
 * path with one needs a file:// URL with %20), else `./backups`. Other commands use the first.
 */
export async function openTargetFlags(flag: string | undefined, opts: { env: NodeJS.ProcessEnv; cwd: string } & TargetOptions): Promise<OpenedTarget[]> {
  const urls = targetList(flag, opts.env).map((raw) => resolveTargetUrl(raw, opts.env, opts.cwd));
  const twice = urls.find((u, i) => urls.indexOf(u) !== i);
  if (twice !== undefined) throw new ConfigError(`target ${redactTarget(twice)} is given twice`);
  return Promise.all(urls.map((url) => openTargetFlag(url, opts)));
}

/** `url` without credentials, for logs and JSON; unknown schemes get a generic redaction. */
export function redactTarget(url: string): string {
  const scheme = schemeOf(url);
  const factory = scheme === undefined ? undefined : registry.get(scheme);
  return factory ? factory.redact(url) : stripCredentials(url);
}

// --- internal ---

/** Repeated `--target` flags arrive joined by newlines (see commands/options.ts). */
function targetList(flag: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (flag) return flag.split("\n").filter((f) => f.trim() !== "");
  const listed = (env.SDBACKUP_TARGET ?? "").split(/\s+/).filter(Boolean);
  return listed.length ? listed : [DEFAULT_TARGET];
}

/**
 * `s3` for `s3://…`, `rclone` for `rclone:remote:path` (a registered scheme needs no `//`);
 * undefined for plain paths (including `C:\…`-like ones).
 */
function schemeOf(url: string): string | undefined {
  const withSlashes = /^([a-z][a-z0-9+.-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (withSlashes !== undefined) return withSlashes;
  const bare = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  return bare !== undefined && registry.has(bare) ? bare : undefined;
}

function factoryFor(url: string): TargetFactory {
  const scheme = schemeOf(url);
  const factory = scheme === undefined ? undefined : registry.get(scheme);
  if (factory) return factory;
  const valid = [...registry.keys()].join(", ");
  throw new ConfigError(`unknown target scheme "${scheme}" in ${stripCredentials(url)}; valid schemes: ${valid}`, {
    hint: "use a path such as ./backups, a file:// URL or s3://bucket/prefix",
  });
}
