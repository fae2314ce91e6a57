import type { Engine } from "./engine.ts";
import { call } from "./engine.ts";
import type { ContainerSummary, ThrowawaySpec } from "./types.ts";
import { summary } from "./containers.ts";

/**
 * Throwaway servers for restore drills: created from an image with the image's own entrypoint and
 * command, no published ports and no network (`NetworkDisabled`: loopback only, which is all a
 * restore through `docker exec` needs), labelled so that leftovers of a crashed run can be found.
 */
export async function startThrowaway(engine: Engine, spec: ThrowawaySpec, signal: AbortSignal): Promise<string> {
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const container = await call(engine, `create a throwaway container from ${spec.image}`, signal, () =>
    engine.docker.createContainer({ Image: spec.image, Env: env, Labels: spec.labels, NetworkDisabled: true, HostConfig: { NetworkMode: "none", AutoRemove: false } }),
  );
  try {
    await call(engine, `start the throwaway container from ${spec.image}`, signal, () => container.start());
  } catch (err) {
    await container.remove({ force: true, v: true }).catch(() => {});
    throw err;
  }
  return container.id;
}

/** Force-removes the containers carrying `label` (`key` or `key=value`) that `which` picks, anonymous volumes too; how many. */
export async function removeLabelled(engine: Engine, label: string, signal: AbortSignal, which: (c: ContainerSummary) => boolean = () => true): Promise<number> {
  const all = await call(engine, `list containers labelled ${label}`, signal, () => engine.docker.listContainers({ all: true, filters: { label: [label] } }));
  const list = all.filter((c) => which(summary(c.Id, c.Names[0] ?? c.Id, c.Image, c.State, c.Labels)));
  for (const c of list) {
    await call(engine, `remove throwaway container ${c.Id.slice(0, 12)}`, signal, () => engine.docker.getContainer(c.Id).remove({ force: true, v: true }));
  }
  return list.length;
}
