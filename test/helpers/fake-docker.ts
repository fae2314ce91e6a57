import { PassThrough, Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerDetails, ContainerSummary, DockerApi, ExecOptions, ExecResult } from "../../src/docker/types.ts";
import { DockerError, StrategyError } from "../../src/errors.ts";

/**
 * A scriptable Docker engine behind the narrow DockerApi, for orchestration tests without Docker.
 * Containers keep state (stop, start, pause change it); every exec goes through one script that
 * answers with stdout, stderr and an exit code, or hangs until the caller aborts. Calls are
 * recorded in order, and execs still in flight can be listed, so a test can assert that an abort
 * left nothing running. It keeps the contract of types.ts: execStream ends only after exit 0 and
 * otherwise fails with a StrategyError; aborting rejects with the signal's reason.
 */

export interface ExecCall {
  id: string;
  argv: string[];
  env: Record<string, string>;
  /** `helper` for runWithVolumesOf, where `id` is the container whose volumes it mounts. */
  kind: "exec" | "execStream" | "helper";
  /** Everything written to stdin (read whole before the script runs, like a process reading its input). */
  stdin?: Buffer;
}

export interface ExecReply {
  stdout?: string | Buffer | (string | Buffer)[];
  stderr?: string;
  /** Default 0. */
  exitCode?: number;
  /** Never exits (execStream: after writing `stdout`): the call ends only when its signal aborts or its stream is destroyed. */
  hang?: boolean;
  /** Waits this long before answering (aborts still end it). */
  delayMs?: number;
}

export type ExecScript = (call: ExecCall) => ExecReply | Promise<ExecReply>;

export type LifecycleOp = "stop" | "start" | "pause" | "unpause";

export interface FakeDockerOptions {
  containers?: ContainerDetails[];
  exec?: ExecScript;
  /**
   * Asked at each stop/start/pause/unpause: an Error fails the call before it changes anything; a
   * promise holds the call (like a slow `docker stop`) until it settles.
   */
  onLifecycle?: (op: LifecycleOp, id: string) => Error | Promise<void> | undefined;
  /** Tar streams getArchive returns, by path. */
  archives?: Record<string, Buffer>;
  images?: string[];
}

export interface FakeDocker {
  api: DockerApi;
  /** `stop web-id`, `exec db-id pg_dump …`, … in call order. */
  calls: string[];
  execs: ExecCall[];
  /** Execs that have not finished (neither exited nor been aborted or destroyed). */
  active(): ExecCall[];
  /** The live state of a container. */
  container(id: string): ContainerDetails;
  puts: { id: string; path: string; data: Buffer }[];
}

export function createFakeDocker(opts: FakeDockerOptions = {}): FakeDocker {
  const state = new Map((opts.containers ?? []).map((c) => [c.id, structuredClone(c)]));
  const calls: string[] = [];
  const execs: ExecCall[] = [];
  const active = new Set<ExecCall>();
  const puts: FakeDocker["puts"] = [];
  const script: ExecScript = opts.exec ?? (() => ({}));

  const find = (id: string) => {
    const c = state.get(id);
    if (!c) throw new DockerError(`no such container: ${id}`);
    return c;
  };
  const begin = (kind: ExecCall["kind"], id: string, argv: string[], o: { env?: Record<string, string> }) => {
    const call: ExecCall = { id, argv: [...argv], env: { ...o.env }, kind };
    calls.push(`${kind === "helper" ? "helper" : "exec"} ${id} ${argv.join(" ")}`);
    execs.push(call);
    active.add(call);
    return call;
  };
  /** Reads stdin, asks the script, waits its delay. An aborted call never started. */
  const answer = async (call: ExecCall, o: { stdin?: Readable; signal: AbortSignal }): Promise<ExecReply> => {
    if (call.kind !== "helper" && !find(call.id).running) throw new DockerError(`container ${call.id} is not running`);
    if (o.stdin) call.stdin = await collect(o.stdin);
    const reply = await script(call);
    if (reply.delayMs) await sleep(reply.delayMs, undefined, { signal: o.signal }).catch(() => Promise.reject(o.signal.reason));
    return reply;
  };
  const lifecycle = async (op: LifecycleOp, id: string, signal: AbortSignal, change: (c: ContainerDetails) => void) => {
    if (signal.aborted) throw signal.reason;
    calls.push(`${op} ${id}`);
    const c = find(id);
    const answer = opts.onLifecycle?.(op, id);
    if (answer instanceof Error) throw answer;
    await (answer ?? new Promise((r) => setImmediate(r)));
    change(c);
    c.state = c.paused ? "paused" : c.running ? "running" : "exited";
  };

  const api: DockerApi = {
    async listContainers(labels, { signal }) {
      if (signal.aborted) throw signal.reason;
      return [...state.values()].filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)).map(summary);
    },
    async inspect(id, { signal }) {
      if (signal.aborted) throw signal.reason;
      return structuredClone(find(id));
    },
    execStream(id, argv, o: ExecOptions) {
      const out = new PassThrough();
      if (o.signal.aborted) return out.destroy(o.signal.reason as Error);
      const call = begin("execStream", id, argv, o);
      const onAbort = () => out.destroy(o.signal.reason as Error);
      o.signal.addEventListener("abort", onAbort, { once: true });
      out.once("close", () => {
        o.signal.removeEventListener("abort", onAbort);
        active.delete(call);
      });
      const run = async () => {
        const signal = AbortSignal.any([o.signal, closed(out)]);
        const reply = await answer(call, { signal, ...(o.stdin ? { stdin: o.stdin } : {}) });
        for (const chunk of chunks(reply.stdout)) {
          if (out.destroyed) return;
          if (!out.write(chunk)) await new Promise((r) => out.once("drain", r).once("close", r));
        }
        if (reply.hang) await untilAborted(signal);
        const code = reply.exitCode ?? 0;
        if (code === 0) return void out.end();
        const exec = { container: id, argv, exitCode: code, stderrTail: reply.stderr ?? "", ...(o.service ? { service: o.service } : {}) };
        out.destroy(new StrategyError("command failed", { exec }));
      };
      run().catch((err: unknown) => out.destroy(err as Error));
      return out;
    },
    async exec(id, argv, o) {
      if (o.signal.aborted) throw o.signal.reason;
      const call = begin("exec", id, argv, o);
      try {
        const reply = await answer(call, o);
        if (reply.hang) await untilAborted(o.signal);
        return result(reply);
      } finally {
        active.delete(call);
      }
    },
    async runWithVolumesOf(from, images, argv, { signal }) {
      if (signal.aborted) throw signal.reason;
      const call = begin("helper", from, argv, {});
      try {
        const reply = await answer(call, { signal });
        if (reply.hang) await untilAborted(signal);
        return { ...result(reply), image: images[0] ?? "" };
      } finally {
        active.delete(call);
      }
    },
    async getArchive(id, path, { signal }) {
      if (signal.aborted) throw signal.reason;
      find(id);
      calls.push(`getArchive ${id} ${path}`);
      const tar = opts.archives?.[path];
      if (!tar) throw new DockerError(`no such path in ${id}: ${path}`);
      return Readable.from([tar]);
    },
    async putArchive(id, path, tar, { signal }) {
      if (signal.aborted) throw signal.reason;
      find(id);
      calls.push(`putArchive ${id} ${path}`);
      puts.push({ id, path, data: await collect(tar) });
    },
    listImageTags: async () => [...(opts.images ?? [])],
    // Drills are exercised against the real engine (test/strategies/conformance.ts).
    startThrowaway: async () => {
      throw new DockerError("the fake engine starts no throwaway containers");
    },
    removeLabelled: async () => 0,
    stop: (id, { signal }) => lifecycle("stop", id, signal, (c) => ((c.running = false), (c.paused = false))),
    start: (id, { signal }) => lifecycle("start", id, signal, (c) => (c.running = true)),
    pause: (id, { signal }) => lifecycle("pause", id, signal, (c) => (c.paused = true)),
    unpause: (id, { signal }) => lifecycle("unpause", id, signal, (c) => (c.paused = false)),
  };
  return { api, calls, execs, active: () => [...active], container: (id) => find(id), puts };
}

// --- internal ---

function summary(c: ContainerDetails): ContainerSummary {
  const { id, name, image, state, labels, service, project } = c;
  return { id, name, image, state, labels: { ...labels }, ...(service ? { service } : {}), ...(project ? { project } : {}) };
}

function result(reply: ExecReply): ExecResult {
  return { exitCode: reply.exitCode ?? 0, stdout: Buffer.concat(chunks(reply.stdout)), stderr: reply.stderr ?? "" };
}

function chunks(stdout: ExecReply["stdout"]): Buffer[] {
  const list = stdout === undefined ? [] : Array.isArray(stdout) ? stdout : [stdout];
  return list.map((c) => (typeof c === "string" ? Buffer.from(c) : c));
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(parts);
}

function untilAborted(signal: AbortSignal): Promise<never> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
}

/** Aborted when the stream closes: a destroyed exec stream stops the process, as the real one does. */
function closed(stream: PassThrough): AbortSignal {
  const ac = new AbortController();
  stream.once("close", () => ac.abort(new Error("exec stream closed")));
  return ac.signal;
}
