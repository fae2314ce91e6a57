import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../docker/types.ts";
import type { Logger } from "../../ui/logger.ts";
import { throwIfAborted } from "../../errors.ts";
import { LABEL, isTrue } from "../../compose/labels.ts";
import { createDowned } from "../../docker/stop-restart.ts";
import { containerFor } from "../project/plan.ts";

/** A container sdbackup stopped or paused for a consistent set, and for how long. */
export interface Downtime {
  service: string;
  container: string;
  action: "stop" | "pause";
  downtimeMs: number;
  /** Set when the container could not be brought back. */
  error?: string;
}

export interface Quiesced {
  /** Starts/unpauses exactly what was stopped, by id, with its own deadline. Never throws. */
  resume(): Promise<Downtime[]>;
}

/**
 * Stops (or, with `simpledeploy.backup.pause=true`, pauses) the running containers of services
 * labelled `simpledeploy.backup.stop=true`, except services in `keepRunning` (databases: their dumps
 * are transactional and need the server). Goes through {@link createDowned}: each container's way
 * back is registered before it is stopped, so a failure or interrupt half-way brings back
 * everything that went down, including a container whose stop was still in progress.
 */
export async function quiesce(
  services: readonly ComposeService[],
  containers: readonly ContainerDetails[],
  keepRunning: ReadonlySet<string>,
  deps: { docker: DockerApi; log: Logger; signal: AbortSignal },
): Promise<Quiesced> {
  const downed = createDowned(deps.docker, deps.log);
  const quiesced: Quiesced = {
    resume: async () => (await downed.restore()).map((b) => ({
      service: b.service, container: b.id, action: b.action, downtimeMs: b.downtimeMs, ...(b.error ? { error: b.error } : {}),
    })),
  };
  try {
    for (const service of services) {
      if (!isTrue(service.labels[LABEL.stop])) continue;
      if (keepRunning.has(service.name)) {
        deps.log.warn(`${service.name}: not stopped although labelled ${LABEL.stop}: its dump needs the server running`);
        continue;
      }
      const container = containerFor(service.name, containers);
      if (!container?.running || container.paused) continue;
      const action = isTrue(service.labels[LABEL.pause]) ? "pause" : "stop";
      throwIfAborted(deps.signal);
      deps.log.info(`${service.name}: ${action === "stop" ? "stopping" : "pausing"} ${container.name} for a consistent set`);
      await downed.down({ id: container.id, name: container.name, service: service.name }, action, deps.signal);
    }
  } catch (err) {
    await quiesced.resume();
    throw err;
  }
  return quiesced;
}
