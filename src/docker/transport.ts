// How dump bytes leave a container: the exec stream (any engine) or the fast FIFO transport
// (fast-dump.ts, and fast-load.ts for restores; local engines only). One function decides, so
// strategies never care.
import type Dockerode from "dockerode";
import { randomUUID } from "node:crypto";
import { basename, dirname } from "node:path";
import { hostname, tmpdir } from "node:os";
import { rm } from "node:fs/promises";
import { ConfigError, DockerError } from "../errors.ts";
import { engineMessage, type Engine } from "./engine.ts";
import { execStream } from "./exec.ts";
import { DIR_LABEL, fastDump, makeFifoDir, MOUNT, OWNER_LABEL, ownerTag, TRANSPORT_LABEL, XFER_PREFIX } from "./fast-dump.ts";
import { fastLoad } from "./fast-load.ts";
import type { Readable } from "node:stream";
import type { ContainerDetails, Dump, DumpOptions, TransportMode } from "./types.ts";

export const TRANSPORT_MODES: readonly TransportMode[] = ["auto", "fast", "exec"];

/** Helpers of a crashed run older than this are removed even when their owner cannot be checked. */
const STALE_MS = 24 * 3600_000;

/** One engine's transport for dumps: a run id for its helpers, the leftover sweep and probes done once. */
export function createTransport(engine: Engine): (container: ContainerDetails, argv: string[], opts: DumpOptions) => Promise<Dump> {
  const choose = chooser(engine);
  return async (container, argv, opts) => {
    const way = await choose(container, opts);
    if (way.runId === undefined) return { stream: execStream(engine, container.id, argv, opts), transport: "exec", ...(way.fallback ? { fallback: way.fallback } : {}) };
    return { stream: fastDump(engine, container, opts.helperArgv ?? argv, { ...opts, runId: way.runId }), transport: "fast" };
  };
}

/** The same for restores: the command reads `stdin`; the stream returned ends after its exit 0. */
export function createLoadTransport(engine: Engine): (container: ContainerDetails, argv: string[], opts: DumpOptions & { stdin: Readable }) => Promise<Dump> {
  const choose = chooser(engine);
  return async (container, argv, opts) => {
    const way = await choose(container, opts);
    if (way.runId === undefined) return { stream: execStream(engine, container.id, argv, opts), transport: "exec", ...(way.fallback ? { fallback: way.fallback } : {}) };
    const { stdin, ...rest } = opts;
    return { stream: fastLoad(engine, container, opts.helperArgv ?? argv, stdin, { ...rest, runId: way.runId }), transport: "fast" };
  };
}

/**
 * Fast (a run id for the helpers) or exec (and why, when auto fell back). `--transport fast` where
 * it cannot work is an error; a command without `helperEnv` needs the container's own sockets.
 */
function chooser(engine: Engine): (container: ContainerDetails, opts: DumpOptions) => Promise<{ runId?: string; fallback?: string }> {
  const runId = randomUUID().slice(0, 8);
  let swept: Promise<void> | undefined;
  const probes = new Map<string, Promise<string | undefined>>();
  return async (container, opts) => {
    if (opts.transport === "exec") return {};
    if (!isLocalEngine(engine.endpoint)) {
      if (opts.transport === "fast") throw new ConfigError(`--transport fast: the engine at ${engine.endpoint} is not on this machine`, { hint: "use --transport auto (or exec)" });
      return { fallback: "the engine is not on this machine" };
    }
    // The strategy's choice, not the engine's limit: such a command uses exec under --transport fast too.
    if (!opts.helperEnv) return { fallback: "this command needs the container's own sockets" };
    swept ??= removeLeftovers(engine).then(() => {}, () => {});
    await swept;
    let probe = probes.get(container.image);
    if (!probe) probes.set(container.image, (probe = probeImage(engine, container.image, opts.signal)));
    const reason = await probe;
    if (reason) {
      if (opts.transport === "fast") throw new DockerError(`--transport fast: ${reason}`, { hint: "use --transport auto (or exec)" });
      return { fallback: reason };
    }
    return { runId };
  };
}

/** A unix socket, or tcp to this machine: the engine sees this host's paths (probed to be sure). */
export function isLocalEngine(endpoint: string): boolean {
  if (endpoint.startsWith("unix://")) return true;
  const host = /^tcp:\/\/\[?([^\]]+?)\]?:\d+$/.exec(endpoint)?.[1];
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

/**
 * Removes helper containers (and their FIFO directories) that a crashed or killed run left: those
 * whose owning process on this host is gone, and any older than a day.
 */
export async function removeLeftovers(engine: Engine): Promise<number> {
  const list = await engine.docker.listContainers({ all: true, filters: { label: [TRANSPORT_LABEL] } });
  let removed = 0;
  for (const c of list) {
    const [host, pid] = (c.Labels[OWNER_LABEL] ?? "").split("/");
    const mine = host === hostname();
    const dead = mine ? Number(pid) !== process.pid && !alive(Number(pid)) : Date.now() - c.Created * 1000 > STALE_MS;
    if (!dead) continue;
    await engine.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
    const dir = c.Labels[DIR_LABEL] ?? "";
    if (mine && dirname(dir) === tmpdir() && basename(dir).startsWith(XFER_PREFIX)) await rm(dir, { recursive: true, force: true }).catch(() => {});
    removed++;
  }
  return removed;
}

// --- internal ---

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/**
 * Whether a helper from `image` sees a FIFO made here (it does not on remote, VM-based desktop or
 * some rootless engines, or in images without `sh`): undefined when it does, else the reason.
 */
async function probeImage(engine: Engine, image: string, signal: AbortSignal): Promise<string | undefined> {
  let fifo: { dir: string } | undefined;
  let helper: Dockerode.Container | undefined;
  try {
    fifo = await makeFifoDir();
    helper = await engine.docker.createContainer({
      Image: image, Entrypoint: ["sh", "-c", `[ -p ${MOUNT}/out ]`], User: "0:0", NetworkDisabled: true,
      Labels: { [TRANSPORT_LABEL]: "probe", [OWNER_LABEL]: ownerTag(), [DIR_LABEL]: fifo.dir },
      HostConfig: { Binds: [`${fifo.dir}:${MOUNT}`], AutoRemove: false },
    });
    const started = helper;
    const onAbort = () => void started.remove({ force: true, v: true }).catch(() => {});
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await started.start();
      const { StatusCode } = (await started.wait()) as { StatusCode: number };
      if (signal.aborted) throw signal.reason;
      return StatusCode === 0 ? undefined : `a helper container from ${image} cannot see this machine's FIFO (exit ${StatusCode})`;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    return `the transport probe failed: ${engineMessage(err)}`;
  } finally {
    await helper?.remove({ force: true, v: true }).catch(() => {});
    if (fifo) await rm(fifo.dir, { recursive: true, force: true }).catch(() => {});
  }
}
