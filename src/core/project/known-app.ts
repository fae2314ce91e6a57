import type { Deps } from "../../deps.ts";
import { ConfigError } from "../../errors.ts";
import type { Target } from "../../targets/types.ts";
import { projectHere, runningProjects } from "./project.ts";

/**
 * For commands that read only the target (list, verify): an `--app` under which the target holds
 * no set is either a project not backed up yet or a typo. It is accepted when a compose project of
 * that name runs or lives in the working directory; otherwise it is a usage error that names the
 * projects the target does hold, so a typo never reads as "no backups".
 */
export async function assertKnownApp(app: string, target: Target, deps: Deps): Promise<void> {
  const here = await projectHere({}, deps).catch(() => undefined);
  if (here?.name === app) return;
  // Docker is optional for these commands: without an engine, only the target can vouch for a name.
  const running = await runningProjects(deps).catch(() => [] as string[]);
  if (running.includes(app)) return;
  const stored = await projectsIn(target, deps.signal);
  const known = [`projects in ${target.display}: ${stored.join(", ") || "none"}`, `running compose projects: ${running.join(", ") || "none"}`];
  throw new ConfigError(`no sets of project "${app}" and no such compose project (${known.join("; ")})`, {
    hint: "check the --app name (and --target)",
  });
}

// --- internal ---

async function projectsIn(target: Target, signal: AbortSignal): Promise<string[]> {
  const names = new Set<string>();
  for await (const o of target.list("", { signal })) {
    const first = o.key.split("/")[0];
    if (first && !first.startsWith(".")) names.add(first);
  }
  return [...names].sort();
}
