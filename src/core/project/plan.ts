import type { ComposeProject, ComposeService } from "../../compose/model.ts";
import type { ContainerDetails } from "../../docker/types.ts";
import type { Detection, Strategy } from "../../strategies/types.ts";
import { getStrategy } from "../../strategies/index.ts";
import { ConfigError } from "../../errors.ts";
import { detectService } from "./detect.ts";

/** One service to back up or restore: what, how, and in which container. */
export interface PlanItem {
  service: ComposeService;
  strategy: Strategy;
  detection: Detection;
  /** Undefined when no container of the service exists. */
  container?: ContainerDetails;
}

/**
 * Services with a strategy, in compose order, filtered by `--service`, each with its container
 * (a running one preferred). Naming a service that does not exist or has no strategy is an error.
 */
export function planItems(project: ComposeProject, containers: readonly ContainerDetails[], only: readonly string[] = []): PlanItem[] {
  for (const name of only) {
    if (!project.services.some((s) => s.name === name)) {
      throw new ConfigError(`no service "${name}" in project ${project.name}`, {
        hint: `services: ${project.services.map((s) => s.name).join(", ") || "none"}`,
      });
    }
  }
  const items: PlanItem[] = [];
  for (const service of project.services) {
    if (only.length && !only.includes(service.name)) continue;
    const found = detectService(service);
    if (!found.strategy || !found.source) {
      if (only.includes(service.name)) throw new ConfigError(`service "${service.name}" has nothing to back up`, { hint: "see sdbackup detect" });
      continue;
    }
    const detection: Detection = { strategy: found.strategy, source: found.source, confidence: found.confidence, paths: found.paths, warnings: found.warnings };
    const container = containerFor(service.name, containers);
    items.push({ service, strategy: getStrategy(found.strategy), detection, ...(container ? { container } : {}) });
  }
  return items;
}

export function containerFor(service: string, containers: readonly ContainerDetails[]): ContainerDetails | undefined {
  const mine = containers.filter((c) => c.service === service);
  return mine.find((c) => c.running) ?? mine[0];
}
