import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../docker/types.ts";
import type { Logger } from "../../ui/logger.ts";
import { DockerError, errorMessage, throwIfAborted } from "../../errors.ts";
import { LABEL, isTrue } from "../../compose/labels.ts";
import { critical } from "../../runtime/critical.ts";
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
 * are transactional and need the server). Each container's resume is registered before it is
 * stopped, so a failure or interrupt half-way still brings back everything that went down.
 */
export async function quiesce(
  services: readonly ComposeService[],
  containers: readonly ContainerDetails[],
  keepRunning: ReadonlySet<string>,
  deps: { docker: DockerApi; log: Logger; signal: AbortSignal },
): Promise<Quiesced> {
  const down: { service: string; container: ContainerDetails; action: "stop" | "pause"; since: number }[] = [];
  const quiesced: Quiesced = { resume: () => critical(() => resumeAll(down, deps)) };
  try {
    for (const service of services) {
      if (!isTrue(service.labels[LABEL.stop])) continue;
      if (keepRunning.has(service.name)) {
        deps.log.warn(`${service.name}: not stopped although labelled ${LABEL.stop}: its dump needs the server running`);
        continue;
      }
      const container = containerFor(service.name, containers);
      if (!container?.running || container.paused) continue;
      throwIfAborted(deps.signal);
      const action = isTrue(service.labels[LABEL.pause]) ? "pause" : "stop";
      down.push({ service: service.name, container, action, since: performance.now() });
      deps.log.info(`${service.name}: ${action === "stop" ? "stopping" : "pausing"} ${container.name} for a consistent set`);
      if (action === "stop") await deps.docker.stop(container.id, { signal: deps.signal });
      else await deps.docker.pause(container.id, { signal: deps.signal });
    }
  } catch (err) {
    await quiesced.resume();
    throw err;
  }
  return quiesced;
}

// --- internal ---

async function resumeAll(
  down: { service: string; container: ContainerDetails; action: "stop" | "pause"; since: number }[],
  deps: { docker: DockerApi; log: Logger },
): Promise<Downtime[]> {
  const signal = AbortSignal.timeout(120_000);
  const results: Downtime[] = [];
  for (const d of down.reverse()) {
    const entry: Downtime = { service: d.service, container: d.container.id, action: d.action, downtimeMs: 0 };
    try {
      const now = await deps.docker.inspect(d.container.id, { signal }).catch((err: unknown) => {
        throw new DockerError(`container ${d.container.name} of service ${d.service} is gone (recreated while it was stopped?); not starting a stale id`, { cause: err });
      });
      if (d.action === "pause") await deps.docker.unpause(now.id, { signal });
      else if (!now.running) await deps.docker.start(now.id, { signal });
      deps.log.info(`${d.service}: ${d.action === "stop" ? "started" : "unpaused"} ${d.container.name} again`);
    } catch (err) {
      entry.error = errorMessage(err);
      deps.log.error(`${d.service}: could not bring ${d.container.name} back: ${entry.error}`);
    }
    entry.downtimeMs = Math.round(performance.now() - d.since);
    results.push(entry);
  }
  return results.reverse();
}
