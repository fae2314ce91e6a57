import type Dockerode from "dockerode";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerDetails, ContainerMount, ContainerSummary } from "./types.ts";
import { call, shortId, statusOf, engineMessage, type Engine } from "./engine.ts";

const SERVICE_LABEL = "com.docker.compose.service";
const PROJECT_LABEL = "com.docker.compose.project";

type Signal = { signal: AbortSignal };

export async function listContainers(engine: Engine, labels: Record<string, string>, { signal }: Signal): Promise<ContainerSummary[]> {
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  const list = await call(engine, "list containers", signal, () =>
    engine.docker.listContainers({ all: true, filters, abortSignal: signal }),
  );
  return list.map((c) => summary(c.Id, c.Names[0] ?? c.Id, c.Image, c.State, c.Labels));
}

export async function inspectContainer(engine: Engine, id: string, { signal }: Signal): Promise<ContainerDetails> {
  const info = await call(engine, `inspect container ${shortId(id)}`, signal, () =>
    engine.docker.getContainer(id).inspect({ abortSignal: signal }),
  );
  const config = info.Config;
  return {
    ...summary(info.Id, info.Name, config.Image, info.State.Status, config.Labels ?? {}),
    env: parseEnv(config.Env ?? []),
    cmd: asList(config.Cmd),
    entrypoint: asList(config.Entrypoint),
    mounts: (info.Mounts ?? []).map(mount),
    // As in Docker: `running` stays true while the container is paused.
    running: info.State.Running,
    paused: info.State.Paused,
  };
}

/** Idempotent: a container that is already stopped is fine (the engine answers 304). */
export async function stopContainer(engine: Engine, id: string, opts: Signal & { timeoutSeconds?: number }): Promise<void> {
  const t = opts.timeoutSeconds === undefined ? {} : { t: opts.timeoutSeconds };
  await lifecycle(engine, "stop", id, opts.signal, (c) => c.stop({ ...t, abortSignal: opts.signal }), (err) => statusOf(err) === 304);
}

/** Idempotent: a container that is already running is fine (304). */
export async function startContainer(engine: Engine, id: string, { signal }: Signal): Promise<void> {
  await lifecycle(engine, "start", id, signal, (c) => c.start({ abortSignal: signal }), (err) => statusOf(err) === 304);
}

/**
 * Idempotent: pausing a paused container is fine (the engine answers "already paused"). The cgroup
 * freezer gives up ("unable to freeze") when a process does not stop in time, which a busy host
 * makes common; runc thaws the container then, so trying again a few times is safe.
 */
export async function pauseContainer(engine: Engine, id: string, { signal }: Signal, retryDelayMs = 1000): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lifecycle(engine, "pause", id, signal, (c) => c.pause({ abortSignal: signal }), (err) => conflict(err, /already paused/i));
    } catch (err) {
      if (attempt >= PAUSE_ATTEMPTS || signal.aborted || !/unable to freeze/i.test(engineMessage(err))) throw err;
      await sleep(retryDelayMs * attempt, undefined, { signal });
    }
  }
}

const PAUSE_ATTEMPTS = 4;

/** Idempotent: unpausing a container that is not paused is fine ("is not paused"). */
export async function unpauseContainer(engine: Engine, id: string, { signal }: Signal): Promise<void> {
  await lifecycle(engine, "unpause", id, signal, (c) => c.unpause({ abortSignal: signal }), (err) => conflict(err, /not paused/i));
}

/** `["K=V", "FLAG"]` → `{ K: "V", FLAG: "" }`; only the first `=` separates. */
export function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq === -1) env[pair] = "";
    else env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

// --- internal ---

async function lifecycle(
  engine: Engine,
  verb: string,
  id: string,
  signal: AbortSignal,
  fn: (c: Dockerode.Container) => Promise<unknown>,
  alreadyDone: (err: unknown) => boolean,
): Promise<void> {
  await call(engine, `${verb} container ${shortId(id)}`, signal, async () => {
    try {
      await fn(engine.docker.getContainer(id));
    } catch (err) {
      if (!signal.aborted && alreadyDone(err)) return;
      throw err;
    }
  });
}

/** Engines answer these conflicts with 409 or, like 20.10, with 500: the message is what is stable. */
function conflict(err: unknown, message: RegExp): boolean {
  const status = statusOf(err);
  return (status === 409 || status === 500) && message.test(engineMessage(err));
}

export function summary(id: string, name: string, image: string, state: string, labels: Record<string, string>): ContainerSummary {
  const s: ContainerSummary = { id, name: name.replace(/^\//, ""), image, state, labels };
  const service = labels[SERVICE_LABEL];
  const project = labels[PROJECT_LABEL];
  if (service !== undefined) s.service = service;
  if (project !== undefined) s.project = project;
  return s;
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === "string" && value !== "" ? [value] : [];
}

interface RawMount {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  RW?: boolean;
}

function mount(m: RawMount): ContainerMount {
  const out: ContainerMount = { type: m.Type ?? "", source: m.Source ?? "", destination: m.Destination ?? "", rw: m.RW ?? true };
  if (m.Name) out.name = m.Name;
  else if (m.Type === "bind" && m.Source) out.name = m.Source;
  return out;
}
