import type { ContainerDetails } from "../docker/types.ts";
import type { ComposeProject, ComposeService, VolumeMount } from "./model.ts";

/**
 * Builds a project from running (or stopped) containers when the compose files that created them
 * cannot be read: image, labels, environment and mounts come from the containers themselves.
 * With several replicas of one service, the first container stands for the service.
 */
export function projectFromContainers(name: string, workingDir: string, containers: readonly ContainerDetails[]): ComposeProject {
  const services = new Map<string, ComposeService>();
  for (const c of containers) {
    const svc = c.service ?? c.name;
    if (services.has(svc)) continue;
    services.set(svc, {
      name: svc,
      image: c.image,
      containerName: c.name,
      environment: { ...c.env },
      labels: { ...c.labels },
      volumes: c.mounts.map(toMount),
      secrets: [],
      profiles: [],
    });
  }
  const sorted = [...services.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { name, workingDir, files: [], services: sorted, volumes: {} };
}

function toMount(m: ContainerDetails["mounts"][number]): VolumeMount {
  const type = m.type === "volume" ? "volume" : m.type === "tmpfs" ? "tmpfs" : "bind";
  return { type, source: type === "volume" ? m.name : m.source, target: m.destination, readOnly: !m.rw };
}
