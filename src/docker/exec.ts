import type Dockerode from "dockerode";
import { finished, pipeline, type Duplex, type Readable, type TransformCallback } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { SdbackupError, StrategyError } from "../errors.ts";
import { DockerDemux } from "./demux.ts";
import { call, shortId, type Engine } from "./engine.ts";
import { StderrTail, redact, secretValues } from "./redact.ts";
import { killableArgv, killProcessGroup, readPidMarker } from "./terminate.ts";
import type { ExecOptions, ExecResult } from "./types.ts";

const MARKER_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 60_000;
const EXIT_WAIT_MS = 10_000;
const BROKEN_PIPE = new Set(["EPIPE", "ECONNRESET", "ERR_STREAM_WRITE_AFTER_END"]);

/** See {@link DockerApi.execStream}: stdout as a stream that ends only after a zero exit code. */
export function execStream(engine: Engine, id: string, argv: string[], opts: ExecOptions): Readable {
  return new ExecOutput(engine, id, argv, opts, true);
}

/** See {@link DockerApi.exec}: resolves whatever the exit code; rejects on engine errors and aborts. */
export async function execBuffered(engine: Engine, id: string, argv: string[], opts: ExecOptions): Promise<ExecResult> {
  const out = new ExecOutput(engine, id, argv, opts, false);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of out) chunks.push(chunk as Buffer);
  } catch (err) {
    // The process exited without reading all of its stdin: its exit code is the answer.
    const cause = err instanceof StrategyError ? (err.cause as { code?: string } | undefined) : undefined;
    if (out.exitCode === null || !BROKEN_PIPE.has(cause?.code ?? "")) throw err;
  }
  return { exitCode: out.exitCode ?? -1, stdout: Buffer.concat(chunks), stderr: out.stderrText() };
}

/**
 * One process in a container, exposed as its demultiplexed stdout. The engine connection is piped
 * into this Transform, so backpressure reaches the engine. The stream ends only after the exit code
 * is known; destroying it (or aborting the signal) terminates the process before `close`.
 */
class ExecOutput extends DockerDemux {
  exitCode: number | null = null;
  readonly #engine: Engine;
  readonly #id: string;
  readonly #argv: string[];
  readonly #opts: ExecOptions;
  readonly #failOnExit: boolean;
  readonly #secrets: string[];
  readonly #tail: StderrTail;
  readonly #startedAt = Date.now();
  readonly #ready: Promise<void>;
  readonly #onAbort = () => this.destroy(this.#opts.signal.reason as Error);
  #exec?: Dockerode.Exec;
  #socket?: Duplex;
  #pid?: number;
  /** The exit code was observed: there is nothing left to terminate. */
  #exited = false;

  constructor(engine: Engine, id: string, argv: string[], opts: ExecOptions, failOnExit: boolean) {
    const tail = new StderrTail();
    super((chunk) => tail.push(chunk));
    this.#tail = tail;
    this.#engine = engine;
    this.#id = id;
    this.#argv = [...argv];
    this.#opts = opts;
    this.#failOnExit = failOnExit;
    this.#secrets = secretValues(opts);
    if (opts.stdin) this.#watchStdin(opts.stdin);
    this.#ready = this.#start();
    if (opts.signal.aborted) this.destroy(opts.signal.reason as Error);
    else opts.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  stderrText(): string {
    return this.#tail.text(this.#secrets);
  }

  override _flush(callback: TransformCallback): void {
    super._flush((err) => {
      if (err) return callback(err);
      this.#waitForExit().then(
        (code) => callback(code !== 0 && this.#failOnExit ? this.#failure(code, "command failed") : null),
        (e: Error) => callback(e),
      );
    });
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#opts.signal.removeEventListener("abort", this.#onAbort);
    this.#settle(err).then(callback, callback);
  }

  async #start(): Promise<void> {
    const { signal, stdin } = this.#opts;
    if (signal.aborted) return;
    const killable = this.#opts.killable !== false;
    const where = `container ${shortId(this.#id)}`;
    try {
      const container = this.#engine.docker.getContainer(this.#id);
      const exec = await call(this.#engine, `exec in ${where}`, signal, () =>
        container.exec({
          Cmd: killable ? killableArgv(this.#argv) : this.#argv,
          Env: Object.entries(this.#opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
          AttachStdin: stdin !== undefined,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false, // a TTY would mangle binary output and merge stderr into stdout
          ...(this.#opts.user === undefined ? {} : { User: this.#opts.user }),
          ...(this.#opts.workingDir === undefined ? {} : { WorkingDir: this.#opts.workingDir }),
          abortSignal: signal,
        }),
      );
      this.#exec = exec;
      if (this.destroyed) return;
      // Not the caller's signal: once the engine has started the process, we need its PID to stop it.
      const startSignal = AbortSignal.timeout(START_TIMEOUT_MS);
      const socket = await call(this.#engine, `start exec in ${where}`, startSignal, async () => {
        return (await exec.start({ hijack: true, stdin: stdin !== undefined, abortSignal: startSignal })) as Duplex;
      });
      this.#socket = socket;
      socket.on("error", (e) => this.destroy(e));
      let head: Buffer = Buffer.alloc(0);
      let ended = false;
      if (killable) {
        const marker = await readPidMarker(socket, MARKER_TIMEOUT_MS);
        if (marker.pid !== undefined) this.#pid = marker.pid;
        if (marker.error) throw marker.error;
        this.#tail.push(marker.stderr);
        ({ head, ended } = marker);
      }
      if (this.destroyed) return;
      if (head.length > 0) this.write(head);
      if (ended) {
        this.end();
        return;
      }
      pipeline(socket, this, () => {}); // failures reach _destroy, which reports them
      // Half-closes the connection at the end of stdin: the process sees EOF.
      if (stdin) stdin.pipe(socket);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  /**
   * Fails the exec when stdin errors or closes before its end, from the start on (it may fail before
   * the process runs). A failed input must never reach the process as a clean EOF.
   */
  #watchStdin(stdin: Readable): void {
    const stop = finished(stdin, { writable: false }, (err) => {
      if (!err || this.destroyed) return;
      this.destroy(err instanceof SdbackupError ? err : this.#failure(null, "reading the command's input failed", err));
    });
    this.once("close", stop);
  }

  /**
   * Orders cleanup so that the process never sees a clean EOF on stdin after a failure (it could
   * commit half an input): stop feeding stdin, learn or end the process, only then drop the socket.
   */
  async #settle(err: Error | null): Promise<Error | null> {
    const { signal, stdin } = this.#opts;
    await this.#ready;
    if (stdin && this.#socket) stdin.unpipe(this.#socket);
    const aborted = signal.aborted && err === signal.reason;
    let result = err;
    if (err !== null && !aborted && !(err instanceof SdbackupError)) {
      const code = await this.#probeExit();
      result = this.#failure(code, code !== null && code !== 0 ? "command failed" : `exec output failed: ${err.message}`, err);
    }
    if (!this.#exited && this.#pid !== undefined) {
      // The engine handles a container's exec exits one at a time and waits for each exec's output
      // to drain, so undrained output would hold up the kill exec as well.
      this.#socket?.unpipe(this).on("data", () => {}).resume();
      await killProcessGroup(this.#engine, this.#id, this.#pid);
    }
    this.#socket?.destroy();
    return result;
  }

  async #waitForExit(): Promise<number> {
    const { signal } = this.#opts;
    const exec = this.#exec;
    const deadline = Date.now() + EXIT_WAIT_MS;
    for (let delay = 10; exec; delay = Math.min(delay * 2, 250)) {
      const info = await call(this.#engine, "inspect exec", signal, () => exec.inspect({ abortSignal: signal }));
      if (!info.Running && info.ExitCode !== null) return this.#exitedWith(info.ExitCode);
      if (Date.now() > deadline) break;
      await sleep(delay, undefined, { signal }).catch(() => {});
    }
    throw this.#failure(null, "the command's output ended but the process did not exit");
  }

  /** One look at the exec after a stream failure; null when it is still running or unknown. */
  async #probeExit(): Promise<number | null> {
    try {
      const info = await this.#exec?.inspect({ abortSignal: AbortSignal.timeout(5_000) });
      if (info && !info.Running && info.ExitCode !== null) return this.#exitedWith(info.ExitCode);
    } catch {
      // The engine connection failed as well; report what we have.
    }
    return null;
  }

  #exitedWith(code: number): number {
    this.#exited = true;
    this.exitCode = code;
    return code;
  }

  #failure(exitCode: number | null, message: string, cause?: unknown): StrategyError {
    return new StrategyError(message, {
      ...(cause === undefined ? {} : { cause }),
      exec: {
        ...(this.#opts.service === undefined ? {} : { service: this.#opts.service }),
        container: this.#id,
        argv: this.#argv.map((arg) => redact(arg, this.#secrets)),
        exitCode,
        stderrTail: this.stderrText(),
        durationMs: Date.now() - this.#startedAt,
      },
    });
  }
}
