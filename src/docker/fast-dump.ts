// The fast transport: a dump command runs in a helper container started from the database's own
// image inside the database container's network namespace, and writes into a FIFO in a private
// host directory that this process reads directly, so dump bytes never cross the exec stream.
import type Dockerode from "dockerode";
import { execFile } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { promisify } from "node:util";
import { StrategyError } from "../errors.ts";
import { call, shortId, type Engine } from "./engine.ts";
import { stripFrames } from "./helper-container.ts";
import { redact, secretValues, StderrTail } from "./redact.ts";
import { HELPER_DIR, type ContainerDetails, type DumpOptions, type ExecOptions } from "./types.ts";

/** Label on every helper container: the run that owns it (see transport.ts, leftovers). */
export const TRANSPORT_LABEL = "sdbackup.transport";
export const OWNER_LABEL = "sdbackup.transport.owner";
export const DIR_LABEL = "sdbackup.transport.dir";
export const XFER_PREFIX = "sdbackup-xfer-";
export const MOUNT = HELPER_DIR;
/** Exit code of the helper script when the FIFO is not visible inside the container. */
export const NOT_VISIBLE = 90;
// The FIFO check guards against engines that cannot see this host's paths (a VM, another host).
const SCRIPT = `[ -p ${MOUNT}/out ] || { echo "sdbackup: ${MOUNT}/out is not visible in the helper container" >&2; exit ${NOT_VISIBLE}; }; exec "$@" > ${MOUNT}/out`;

export interface FastDumpOptions extends ExecOptions {
  /** Identifies this run on its helper containers. */
  runId: string;
  /** The helper's own environment on top of `env` (e.g. `PGHOST=127.0.0.1`: no shared socket dir). */
  helperEnv?: Record<string, string>;
  helperFiles?: DumpOptions["helperFiles"];
}

/** A private 0700 directory with the FIFO `name` (mode 0600) in it: `out` for dumps, `in` for restores (fast-load.ts). */
export async function makeFifoDir(name: "out" | "in" = "out", files: Record<string, string> = {}): Promise<{ dir: string; fifo: string }> {
  const dir = await mkdtemp(join(tmpdir(), XFER_PREFIX)); // mkdtemp creates it 0700
  const fifo = join(dir, name);
  try {
    await promisify(execFile)("mkfifo", ["-m", "0600", fifo]);
    for (const [file, content] of Object.entries(files)) await writeFile(join(dir, basename(file)), content, { mode: 0o600, flag: "wx" });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, fifo };
}

/** Starts `argv` in a helper container and returns its stdout, read from the FIFO. */
export function fastDump(engine: Engine, container: ContainerDetails, argv: string[], opts: FastDumpOptions): FastOutput {
  return new FastOutput(engine, container, argv, opts);
}

/**
 * The dump's bytes from the FIFO. It ends only after the helper exited 0; a non-zero exit destroys
 * it with a StrategyError (redacted argv, exit code, stderr tail from the helper's logs). Destroying
 * it (or aborting the signal) removes the helper container, and the FIFO directory goes with it.
 */
export class FastOutput extends Transform {
  readonly #engine: Engine;
  readonly #argv: string[];
  readonly #opts: FastDumpOptions;
  readonly #secrets: string[];
  readonly #startedAt = Date.now();
  readonly #onAbort = () => this.destroy(this.#opts.signal.reason as Error);
  readonly #ready: Promise<void>;
  #dir?: string;
  #fifo?: string;
  #socket?: Socket;
  #helper?: Dockerode.Container;
  #exit?: Promise<number>;
  #tail = new StderrTail();
  /** Aborted by destroy: an engine call still in flight (a start that hangs) must not hold cleanup. */
  readonly #stop = new AbortController();
  #cleaned?: Promise<void>;

  constructor(engine: Engine, container: ContainerDetails, argv: string[], opts: FastDumpOptions) {
    super();
    this.#engine = engine;
    this.#argv = [...argv];
    this.#opts = opts;
    this.#secrets = secretValues(opts);
    this.#ready = this.#start(container);
    if (opts.signal.aborted) this.destroy(opts.signal.reason as Error);
    else opts.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }

  // The end comes after the cleanup: whoever waits for the dump must not exit before it.
  // A short dump can end the FIFO before the engine has answered the start call: wait for the start.
  override _flush(callback: TransformCallback): void {
    this.#ready.then(() => this.#exit ?? Promise.resolve(-1)).then(
      async (code) => callback(code === 0 ? (await this.#cleanup(), null) : this.#failure(code)),
      (err: Error) => callback(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#opts.signal.removeEventListener("abort", this.#onAbort);
    this.#stop.abort(err ?? new Error("destroyed"));
    this.#cleanup().then(() => callback(err), () => callback(err));
  }

  async #start(container: ContainerDetails): Promise<void> {
    const signal = AbortSignal.any([this.#opts.signal, this.#stop.signal]);
    try {
      ({ dir: this.#dir, fifo: this.#fifo } = await makeFifoDir("out", this.#opts.helperFiles));
      if (this.destroyed) return;
      // Non-blocking: the open returns at once; libuv waits for the writer instead of a thread.
      const fd = openSync(this.#fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      this.#socket = new Socket({ fd, readable: true, writable: false });
      this.#socket.on("error", (e) => this.destroy(e));
      this.#socket.pipe(this);
      const helper = await createHelper(this.#engine, container, { script: SCRIPT, name: "sdbackup-dump", argv: this.#argv, dir: this.#dir!, opts: this.#opts }, signal);
      this.#helper = helper;
      if (this.destroyed) return; // _destroy's cleanup waits for this start, then removes the helper
      await call(this.#engine, "start transport helper", signal, () => helper.start({ abortSignal: signal }));
      this.#exit = this.#watchExit(helper);
      this.#exit.catch(() => {}); // read by _flush, or by the watcher's own failure path
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  async #watchExit(helper: Dockerode.Container): Promise<number> {
    let code: number;
    try {
      code = ((await helper.wait()) as { StatusCode: number }).StatusCode;
    } catch (err) {
      this.destroy(err as Error);
      throw err;
    }
    if (code !== 0) {
      await this.#readLogs();
      this.destroy(this.#failure(code));
    } else if (this.#fifo) {
      // A writer that never opened the FIFO leaves the reader waiting: open and close the write end
      // once so that the reader sees end-of-file after whatever the pipe still buffers.
      try {
        closeSync(openSync(this.#fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: the reader is gone already.
      }
    }
    return code;
  }

  async #readLogs(): Promise<void> {
    await readHelperStderr(this.#helper, this.#tail);
  }

  #cleanup(): Promise<void> {
    return (this.#cleaned ??= this.#removeAll());
  }

  async #removeAll(): Promise<void> {
    await this.#ready.catch(() => {});
    this.#socket?.destroy();
    await this.#helper?.remove({ force: true, v: true }).catch(() => {});
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true }).catch(() => {});
  }

  #failure(exitCode: number): StrategyError {
    return helperFailure({ helper: this.#helper, argv: this.#argv, secrets: this.#secrets, tail: this.#tail, service: this.#opts.service, startedAt: this.#startedAt }, exitCode);
  }

}

/** Appends a helper's stderr (from its logs) to `tail`; a helper already gone leaves the exit code as the report. */
export async function readHelperStderr(helper: Dockerode.Container | undefined, tail: StderrTail): Promise<void> {
  try {
    const logs = (await helper?.logs({ stdout: false, stderr: true, follow: false })) as unknown as Buffer | undefined;
    if (logs) tail.push(Buffer.from(stripFrames(logs)));
  } catch {
    // The helper is gone; the exit code is the report.
  }
}

/** A helper's failure as the exec path reports one: redacted argv, exit code, stderr tail. */
export function helperFailure(h: { helper: Dockerode.Container | undefined; argv: string[]; secrets: string[]; tail: StderrTail; service: string | undefined; startedAt: number }, exitCode: number): StrategyError {
  return new StrategyError("command failed", {
    exec: {
      ...(h.service === undefined ? {} : { service: h.service }),
      container: h.helper?.id ?? "transport helper",
      argv: h.argv.map((arg) => redact(arg, h.secrets)),
      exitCode,
      stderrTail: h.tail.text(h.secrets),
      durationMs: Date.now() - h.startedAt,
    },
  });
}

/** `<hostname>/<pid>`: whose helper a container is, so a later run can tell a live owner. */
/**
 * The helper container both directions use: the database's own image in its network namespace,
 * root (to open the FIFO whatever the image's user), the private directory bind-mounted, labelled so
 * a crashed run's helper is found again. `script` runs `argv` against the FIFO.
 */
export async function createHelper(
  engine: Engine,
  container: ContainerDetails,
  h: { script: string; name: string; argv: string[]; dir: string; opts: FastDumpOptions },
  signal: AbortSignal,
): Promise<Dockerode.Container> {
  const env = { ...h.opts.env, ...h.opts.helperEnv };
  return call(engine, `create transport helper for ${shortId(container.id)}`, signal, () =>
    engine.docker.createContainer({
      Image: container.image,
      Entrypoint: ["sh", "-c", h.script, h.name],
      Cmd: h.argv,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      User: "0:0",
      Labels: { [TRANSPORT_LABEL]: h.opts.runId, [OWNER_LABEL]: ownerTag(), [DIR_LABEL]: h.dir },
      HostConfig: { NetworkMode: `container:${container.id}`, Binds: [`${h.dir}:${MOUNT}`], AutoRemove: false },
      abortSignal: signal,
    } as Dockerode.ContainerCreateOptions),
  );
}

export function ownerTag(): string {
  return `${hostname()}/${process.pid}`;
}
