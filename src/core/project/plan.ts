import type { ComposeProject, ComposeService } from "../../compose/model.ts";
import type { ContainerDetails } from "../../docker/types.ts";
import type { ArtifactPart, Detection, Strategy } from "../../strategies/types.ts";
import { getStrategy } from "../../strategies/index.ts";
import { ConfigError } from "../../errors.ts";
import { LABEL, isTrue } from "../../compose/labels.ts";
import { detectProject, type ServiceDetection } from "./detect.ts";
import { isDatabaseDataDir } from "./recognise.ts";

/** One service to back up or restore: what, how, and in which container. */
export interface PlanItem {
  service: ComposeService;
  strategy: Strategy;
  detection: Detection;
  /** Undefined when no container of the service exists. */
  container?: ContainerDetails;
  /** One artifact of a service its strategy splits (see `Strategy.parts`). */
  part?: ArtifactPart;
}

export interface PlanOptions {
  /** `--service` names; empty means every service with data. */
  only?: readonly string[];
  /** Consistent mode: services labelled `simpledeploy.backup.stop` are stopped during the set. */
  consistent?: boolean;
  /** Told about services left out because their profile is not active and they have no container. */
  info?: (msg: string) => void;
}

/**
 * Services with a strategy, in compose order, filtered by `--service`, each with its container
 * (a running one preferred). Naming a service that does not exist or has no strategy is an error.
 * A service whose profiles are inactive and that has no container is skipped (compose did not
 * start it), unless `--service` names it. A volume item that would copy a database's data
 * directory out of a running container that is not stopped for the set is refused.
 */
export function planItems(project: ComposeProject, containers: readonly ContainerDetails[], opts: PlanOptions | readonly string[] = {}): PlanItem[] {
  const { only = [], consistent = false, info } = Array.isArray(opts) ? { only: opts as readonly string[] } : (opts as PlanOptions);
  for (const name of only) {
    if (!project.services.some((s) => s.name === name)) {
      throw new ConfigError(`no service "${name}" in project ${project.name}`, {
        hint: `services: ${project.services.map((s) => s.name).join(", ") || "none"}`,
      });
    }
  }
  const rows = new Map(detectProject(project).map((d) => [d.service, d]));
  const items: PlanItem[] = [];
  for (const service of project.services) {
    if (only.length && !only.includes(service.name)) continue;
    const found = rows.get(service.name)!;
    if (!found.strategy || !found.source) {
      if (only.includes(service.name)) throw new ConfigError(`service "${service.name}" has nothing to back up`, { hint: "see sdbackup detect" });
      continue;
    }
    const container = containerFor(service.name, containers);
    if (!found.active && !container && !only.includes(service.name)) {
      info?.(`${service.name}: skipped, profile ${service.profiles.join(", ")} is not active and it has no container`);
      continue;
    }
    if (found.strategy === "volume" && container?.running) refuseLiveDatabaseFiles(service, found, container, consistent);
    const detection: Detection = { strategy: found.strategy, source: found.source, confidence: found.confidence, paths: found.paths, warnings: found.warnings };
    items.push({ service, strategy: getStrategy(found.strategy), detection, ...(container ? { container } : {}) });
  }
  return items;
}

export function containerFor(service: string, containers: readonly ContainerDetails[]): ContainerDetails | undefined {
  const mine = containers.filter((c) => c.service === service);
  return mine.find((c) => c.running) ?? mine[0];
}

// --- internal ---

/** Copying a running server's files gives a torn copy that may not start; a dump or a stop is needed. */
function refuseLiveDatabaseFiles(service: ComposeService, found: ServiceDetection, container: ContainerDetails, consistent: boolean): void {
  const stopped = consistent && isTrue(service.labels[LABEL.stop] ?? container.labels[LABEL.stop]);
  const live = found.paths.filter(isDatabaseDataDir);
  if (stopped || live.length === 0) return;
  throw new ConfigError(`service "${service.name}": refusing to copy the database files in ${live.join(", ")} while its container runs`, {
    hint: `label it ${LABEL.strategy}=postgres|mariadb|mysql|mongo|redis to dump the database, or ${LABEL.stop}=true and run with --consistent to stop it during the copy`,
  });
}
