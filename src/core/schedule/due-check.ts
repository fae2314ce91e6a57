import type { ComposeProject } from "../../compose/model.ts";
import type { Deps } from "../../deps.ts";
import { discoverComposeFiles, loadCompose } from "../../compose/load.ts";
import { normalizeProjectName } from "../../compose/project-name.ts";
import { ConfigError } from "../../errors.ts";
import { listSets } from "../../manifest/store.ts";
import { openTargetFlag } from "../../targets/index.ts";
import { LABEL } from "../../compose/labels.ts";
import { resolveProject, type ProjectOptions } from "../project/project.ts";
import { formatSchedule, isDue, parseSchedule, projectSchedule } from "./schedule.ts";

/** What `backup --if-due --json` prints when there is nothing to do. */
export interface NotDueResult {
  project: string;
  status: "not-due";
  lastSet: { set: string; createdAt: string };
  schedule: string;
  previousRun: string;
  nextRun: string;
}

/**
 * The `--if-due` gate, stateless: the newest complete set in the target (any status: a partial set
 * was a run that happened and was reported) against `--cron` or the project's schedule label. Returns undefined
 * when a backup is due. Docker is not contacted when the compose files can be read directly.
 */
export async function checkIfDue(opts: ProjectOptions & { target?: string; cron?: string }, deps: Deps): Promise<NotDueResult | undefined> {
  const project = await projectWithoutDocker(opts, deps);
  const found = opts.cron !== undefined ? { schedule: parseSchedule(opts.cron, "--cron") } : projectSchedule(project.services);
  if (!found) {
    throw new ConfigError(`--if-due needs a schedule, and no service of project ${project.name} has a ${LABEL.schedule} label`, {
      hint: `add ${LABEL.schedule}="0 3 * * *" to a service (docs/scheduling.md), pass --cron EXPR, or drop --if-due`,
    });
  }
  const target = (await openTargetFlag(opts.target, deps)).target;
  const sets = await listSets(target, project.name, deps.signal);
  // listSets gives the one order, newest first; partial sets count as a run that happened.
  const newest = sets.find((s) => s.complete);
  const check = isDue(found.schedule, newest?.createdAt, deps.now());
  const schedule = formatSchedule(found.schedule);
  if (check.due || !newest) {
    deps.log.info(`backup due (schedule ${schedule}): ${check.reason}`);
    return undefined;
  }
  deps.log.info(`not due (schedule ${schedule}): ${check.reason}`);
  return {
    project: project.name, status: "not-due",
    lastSet: { set: newest.set, createdAt: newest.createdAt.toISOString() },
    schedule, previousRun: check.previousRun.toISOString(), nextRun: check.nextRun.toISOString(),
  };
}

/**
 * The compose project, read from files without Docker where that is unambiguous: `-f`, or no
 * `--app`, or `--app` naming the project of the compose file in the working directory. Otherwise
 * (another directory, no compose file) the running project's labels are asked for, as usual.
 */
export async function projectWithoutDocker(opts: ProjectOptions, deps: Deps): Promise<ComposeProject> {
  if (opts.app && !opts.file?.length && discoverComposeFiles(deps.cwd).length > 0) {
    const here = await loadCompose({ cwd: deps.cwd, env: deps.env }).catch(() => undefined);
    if (here && here.name === normalizeProjectName(opts.app)) return here;
  }
  return (await resolveProject(opts, deps)).project;
}
