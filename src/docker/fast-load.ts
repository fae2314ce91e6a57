// The fast transport in reverse: a restore command (pg_restore) runs in a helper container started
// from the database's own image inside the database container's network namespace and reads its
// stdin from a FIFO in a private host directory that this process writes, so restore bytes never
// cross the exec stream. Same guarantees as fast-dump.ts and the exec path.
import type Dockerode from "dockerode";
import { closeSync, constants, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { Socket } from "node:net";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { call, type Engine } from "./engine.ts";
import { createHelper, helperFailure, makeFifoDir, MOUNT, NOT_VISIBLE, readHelperStderr, type FastDumpOptions } from "./fast-dump.ts";
import { secretValues, StderrTail } from "./redact.ts";
import type { ContainerDetails } from "./types.ts";

const SCRIPT = `[ -p ${MOUNT}/in ] || { echo "sdbackup: ${MOUNT}/in is not visible in the helper container" >&2; exit ${NOT_VISIBLE}; }; exec "$@" < ${MOUNT}/in`;

/** Runs `argv` in a helper container fed `stdin` through a FIFO; the stream returned is empty. */
export function fastLoad(engine: Engine, container: ContainerDetails, argv: string[], stdin: Readable, opts: FastDumpOptions): FastInput {
  return new FastInput(engine, container, argv, stdin, opts);
}

/**
 * Ends only after the helper exited 0 (its exit code is the answer, as with exec: a command that
 * stops reading early decides). A non-zero exit destroys it with a StrategyError (redacted argv,
 * exit code, stderr tail from the helper's logs). On any failure or abort the helper is killed
 * before the FIFO's write end closes, so the command never sees a clean end of an input that
 * failed; the helper and the FIFO directory are removed in every case.
 */
export class FastInput extends Readable {
  readonly #engine: Engine;
  readonly #argv: string[];
  readonly #stdin: Readable;
  readonly #opts: FastDumpOptions;
  readonly #secrets: string[];
  readonly #startedAt = Date.now();
  readonly #onAbort = () => this.destroy(this.#opts.signal.reason as Error);
  readonly #stop = new AbortController();
  readonly #started: Promise<string>;
  #dir?: string;
  #socket?: Socket;
  #helper?: Dockerode.Container;
  #tail = new StderrTail();
  #cleaned?: Promise<void>;

  constructor(engine: Engine, container: ContainerDetails, argv: string[], stdin: Readable, opts: FastDumpOptions) {
    super();
    this.#engine = engine;
    this.#argv = [...argv];
    this.#stdin = stdin;
    this.#opts = opts;
    this.#secrets = secretValues(opts);
    const signal = AbortSignal.any([opts.signal, this.#stop.signal]);
    this.#started = this.#start(container, signal);
    this.#started.then((fifo) => this.#finish(fifo, signal)).then(
      () => void this.push(null),
      (err: Error) => void this.destroy(err),
    );
    if (opts.signal.aborted) this.destroy(opts.signal.reason as Error);
    else opts.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  override _read(): void {}

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#opts.signal.removeEventListener("abort", this.#onAbort);
    this.#stop.abort(err ?? new Error("destroyed"));
    this.#cleanup().then(() => callback(err), () => callback(err));
  }

  /** The FIFO directory and a started helper; resolves the FIFO's path. */
  async #start(container: ContainerDetails, signal: AbortSignal): Promise<string> {
    const { dir, fifo } = await makeFifoDir("in", this.#opts.helperFiles);
    this.#dir = dir;
    if (this.destroyed) throw new Error("destroyed");
    const helper = await createHelper(this.#engine, container, { script: SCRIPT, name: "sdbackup-load", argv: this.#argv, dir, opts: this.#opts }, signal);
    this.#helper = helper;
    if (this.destroyed) throw new Error("destroyed"); // _destroy's cleanup waits for this start, then removes the helper
    await call(this.#engine, "start transport helper", signal, () => helper.start({ abortSignal: signal }));
    return fifo;
  }

  /** Feeds the FIFO until the helper exits; its exit code is the answer. */
  async #finish(fifo: string, signal: AbortSignal): Promise<void> {
    const exit = this.#helper!.wait().then((r) => (r as { StatusCode: number }).StatusCode);
    let exited = false;
    void exit.then(() => (exited = true), () => (exited = true));
    const fed = this.#feed(fifo, () => exited, signal);
    fed.catch(() => {}); // the exit code decides first
    const code = await exit;
    if (code !== 0) {
      await readHelperStderr(this.#helper, this.#tail);
      throw helperFailure({ helper: this.#helper, argv: this.#argv, secrets: this.#secrets, tail: this.#tail, service: this.#opts.service, startedAt: this.#startedAt }, code);
    }
    // Exit 0, but an input that failed meanwhile still fails the restore.
    if (this.#stdin.errored) throw this.#stdin.errored;
  }

  /** Opens the write end once the helper's shell opened the read end, then pipes stdin into it. */
  async #feed(fifo: string, exited: () => boolean, signal: AbortSignal): Promise<void> {
    let fd: number | undefined;
    while (fd === undefined) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENXIO" || exited()) throw err;
        await sleep(20, undefined, { signal });
      }
    }
    if (this.destroyed) return closeSync(fd);
    const socket = (this.#socket = new Socket({ fd, readable: false, writable: true }));
    await new Promise<void>((resolve, reject) => {
      this.#stdin.on("error", (err) => {
        this.#stdin.unpipe(socket);
        this.destroy(err); // kills the helper, then closes the write end (#removeAll)
        reject(err);
      });
      socket.on("error", reject);
      socket.on("finish", resolve);
      this.#stdin.pipe(socket);
    });
  }

  #cleanup(): Promise<void> {
    return (this.#cleaned ??= this.#removeAll());
  }

  // The helper goes first: only a dead command may see the FIFO's write end close.
  async #removeAll(): Promise<void> {
    await this.#started.catch(() => {});
    this.#stdin.unpipe();
    await this.#helper?.remove({ force: true, v: true }).catch(() => {});
    this.#socket?.destroy();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true }).catch(() => {});
  }
}
