import { access } from "node:fs/promises";
import { basename, isAbsolute, resolve } from "node:path";
import type { ComposeProject } from "../../compose/model.ts";
import type { ContainerDetails } from "../../docker/types.ts";
import type { Deps } from "../../deps.ts";
import { discoverComposeFiles, loadCompose } from "../../compose/load.ts";
import { projectFromContainers } from "../../compose/from-containers.ts";
import { normalizeProjectName } from "../../compose/project-name.ts";
import { ConfigError } from "../../errors.ts";

export interface ProjectOptions {
  file?: string[];
  app?: string;
  profile?: string[];
}

export interface ResolvedProject {
  project: ComposeProject;
  /** Where the model came from, for `detect` output. */
  origin: "files" | "containers";
  /** The project's containers, when finding the project already had to list them. */
  containers?: ContainerDetails[];
}

const PROJECT_LABEL = "com.docker.compose.project";
const CONFIG_FILES_LABEL = "com.docker.compose.project.config_files";
const WORKING_DIR_LABEL = "com.docker.compose.project.working_dir";

/**
 * `-f` files win; otherwise `--app` finds the running project by its compose labels and reads the
 * compose files recorded there (falling back to the containers themselves when they are not
 * readable); otherwise the compose file in the working directory.
 */
export async function resolveProject(opts: ProjectOptions, deps: Deps): Promise<ResolvedProject> {
  if (opts.file?.length) {
    const project = await loadCompose({ files: opts.file, cwd: deps.cwd, env: deps.env, ...nameOpt(opts.app), ...profileOpt(opts) });
    return { project, origin: "files" };
  }
  if (opts.app) return fromRunningProject(opts.app, deps, opts);
  const project = await loadCompose({ cwd: deps.cwd, env: deps.env, ...profileOpt(opts) });
  return { project, origin: "files" };
}

/** Containers of a project by compose labels (v1 and v2 both set them), inspected. */
export async function projectContainers(project: string, deps: Deps): Promise<ContainerDetails[]> {
  const docker = await deps.docker();
  const list = await docker.listContainers({ [PROJECT_LABEL]: project }, { signal: deps.signal });
  return Promise.all(list.map((c) => docker.inspect(c.id, { signal: deps.signal })));
}

// --- internal ---

/**
 * `--app` names a project that has containers, or the one whose compose file is in the working
 * directory. Anything else is a usage error listing the names that do exist: silently using the
 * directory's project under a mistyped name would back up (or restore into) the wrong thing.
 */
async function fromRunningProject(app: string, deps: Deps, opts: ProjectOptions): Promise<ResolvedProject> {
  const name = normalizeProjectName(app);
  const containers = await projectContainers(name, deps);
  if (containers.length === 0) {
    const here = await projectHere(opts, deps);
    if (here?.name === name) return { project: here, origin: "files" };
    throw await unknownApp(name, here?.name, deps);
  }
  const labels = containers[0]!.labels;
  const workingDir = labels[WORKING_DIR_LABEL] ?? deps.cwd;
  const files = await locateConfigFiles(labels[CONFIG_FILES_LABEL] ?? "", workingDir);
  if (files.length > 0) {
    try {
      const project = await loadCompose({ files, cwd: workingDir, env: deps.env, projectName: name, ...profileOpt(opts) });
      return { project, origin: "files", containers };
    } catch (err) {
      deps.log.warn(`could not load ${files.join(", ")} (${err instanceof Error ? err.message : String(err)}); using the containers' own configuration`);
    }
  }
  return { project: projectFromContainers(name, workingDir, containers), origin: "containers", containers };
}

/**
 * Compose v2 records absolute paths; v1 records the `-f` arguments as typed, relative to a directory
 * it does not record, while `working_dir` is the first file's directory. So a relative path is tried
 * against the working dir, then by its name inside it. Any file not found means none are used.
 */
async function locateConfigFiles(label: string, workingDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const raw of label.split(",").map((f) => f.trim()).filter(Boolean)) {
    const candidates = isAbsolute(raw) ? [raw] : [resolve(workingDir, raw), resolve(workingDir, basename(raw))];
    const hit = await firstReadable(candidates);
    if (!hit) return [];
    found.push(hit);
  }
  return found;
}

async function firstReadable(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    if (await access(p).then(() => true, () => false)) return p;
  }
  return undefined;
}

/**
 * What a command that reads only the target (prune, verify) is about, found without Docker like
 * the others find their project: `--app` as given (its sets may outlive its containers), else the
 * `-f` files' project, else the compose project in the working directory; neither means every
 * project in the target. `project` is the model when files were read.
 */
export async function targetScope(opts: ProjectOptions, deps: Deps): Promise<{ name?: string; project?: ComposeProject }> {
  if (opts.app) return { name: normalizeProjectName(opts.app) };
  const project = opts.file?.length
    ? await loadCompose({ files: opts.file, cwd: deps.cwd, env: deps.env, ...profileOpt(opts) })
    : await projectHere(opts, deps);
  return project ? { name: project.name, project } : {};
}

/** The project of the compose file in the working directory (or COMPOSE_FILE), read without Docker. */
export async function projectHere(opts: ProjectOptions, deps: Deps): Promise<ComposeProject | undefined> {
  if (discoverComposeFiles(deps.cwd).length === 0 && !deps.env.COMPOSE_FILE) return undefined;
  return loadCompose({ cwd: deps.cwd, env: deps.env, ...profileOpt(opts) });
}

/** Names of the compose projects with a running container, sorted. */
export async function runningProjects(deps: Deps): Promise<string[]> {
  const docker = await deps.docker();
  const all = await docker.listContainers({}, { signal: deps.signal });
  return [...new Set(all.filter((c) => c.state === "running" && c.project).map((c) => c.project!))].sort();
}

async function unknownApp(name: string, here: string | undefined, deps: Deps): Promise<ConfigError> {
  const running = await runningProjects(deps);
  const known = [`running compose projects: ${running.join(", ") || "none"}`, ...(here ? [`the project in ${deps.cwd}: ${here}`] : [])];
  return new ConfigError(`no compose project "${name}" (${known.join("; ")})`, {
    hint: here
      ? "check the name; to read this directory's compose file under another name, pass -f with --app"
      : "check the name, start the project, run sdbackup in its directory, or pass -f compose.yaml",
  });
}

function profileOpt(opts: ProjectOptions): { profiles?: string[] } {
  return opts.profile?.length ? { profiles: opts.profile } : {};
}

function nameOpt(app: string | undefined): { projectName?: string } {
  return app ? { projectName: app } : {};
}
