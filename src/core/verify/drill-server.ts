import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { isDatabaseImage } from "../../strategies/index.ts";
import type { DockerApi } from "../../docker/types.ts";
import type { ManifestItem } from "../../manifest/schema.ts";
import type { RunContext, Strategy } from "../../strategies/types.ts";
import type { Logger } from "../../ui/logger.ts";
import { createSecretRegistry } from "../../strategies/shared/secrets.ts";
import { waitReady } from "../restore/preflight.ts";
import { transportFor } from "../restore/run-restore.ts";

/** Every drill container carries it; the value is the run's id, so each run removes its own. */
export const DRILL_LABEL = "sdbackup.drill";
const OWNER_LABEL = `${DRILL_LABEL}.owner`;

/**
 * A leftover is a drill container whose run is over: started on this host by a process that no
 * longer exists. Drills running at the same time (other processes, other hosts on one engine)
 * keep theirs; another host's leftovers are that host's next drill's to remove.
 */
export function isLeftover(labels: Record<string, string>): boolean {
  const [host, pid] = (labels[OWNER_LABEL] ?? "").split("/");
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return !labels[OWNER_LABEL];
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export interface DrillServer {
  /** The context a real restore would get, pointed at the throwaway container. */
  ctx: RunContext;
  /** Same context for one part of the service (a postgres database). */
  forItem(item: ManifestItem): RunContext;
}

/**
 * Starts a throwaway server of `strategy` from `image` and waits until it accepts connections.
 * Its environment is the strategy's `drill.env` with a password generated here: the live
 * service's secrets are never needed, read or stored (docs/cli.md, "Restore drills").
 */
export async function startDrillServer(
  opts: { docker: DockerApi; strategy: Strategy; image: string; project: string; service: string; runId: string; waitMs: number; signal: AbortSignal; log: Logger },
): Promise<DrillServer> {
  const { docker, strategy, signal, log } = opts;
  const password = randomBytes(18).toString("base64url");
  const environment = strategy.drill?.env(password) ?? {};
  const labels = { [DRILL_LABEL]: opts.runId, [`${DRILL_LABEL}.project`]: opts.project, [`${DRILL_LABEL}.service`]: opts.service, [OWNER_LABEL]: `${hostname()}/${process.pid}` };
  log.info(`${opts.service}: starting a throwaway ${strategy.name} server from ${opts.image}`);
  const id = await docker.startThrowaway({ image: opts.image, env: environment, labels }, { signal });
  const secrets = createSecretRegistry();
  secrets.add(password);
  const ctx: RunContext = {
    docker, signal, log, secrets, isDatabaseImage,
    service: { name: opts.service, image: opts.image, environment, labels: {}, volumes: [], secrets: [], profiles: [] },
    container: await docker.inspect(id, { signal }),
    detection: { strategy: strategy.name, source: "label", confidence: 1, paths: [], warnings: [] },
  };
  await waitReady([{ service: opts.service, strategy, ctx }], opts.waitMs, signal, log);
  // Restores stop and start containers (redis): each item sees the container as it is then. Bytes
  // travel as a real restore's do (`--transport auto`), so a drill costs what the restore it proves.
  const forItem = (item: ManifestItem): RunContext => ({
    ...ctx, detection: { ...ctx.detection, paths: item.paths }, ...(item.part ? { part: item.part } : {}),
    transport: { mode: transportFor("auto", item) },
  });
  return { ctx, forItem };
}
