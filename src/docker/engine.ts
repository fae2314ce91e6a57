import type Dockerode from "dockerode";
import type { Readable } from "node:stream";
import { DockerError, SdbackupError } from "../errors.ts";

/** What the functions of this folder share: the client and where it points (for messages). */
export interface Engine {
  docker: Dockerode;
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`: safe to print. */
  endpoint: string;
}

export const UNREACHABLE_HINT = "is the Docker engine running? check DOCKER_HOST / permissions on the socket";

const CONNECT_ERRORS = new Set(["ENOENT", "ECONNREFUSED", "EACCES", "EPERM", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "ECONNRESET", "EAI_AGAIN"]);

/** The HTTP status of a failed engine call, when it got that far. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** The engine's own words: docker-modem formats them as `(HTTP code 404) reason - message`. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === "string") return json.message.trim();
  const text = err instanceof Error ? err.message : String(err);
  const m = /^\(HTTP code \d+\) [^-]*- ([\s\S]*)$/.exec(text);
  return (m?.[1] ?? text).trim();
}

/**
 * Maps anything a dockerode call threw to what the caller should see: the signal's reason after an
 * abort, sdbackup errors unchanged, and otherwise a {@link DockerError} naming the action.
 */
export function toDockerError(err: unknown, action: string, engine: Pick<Engine, "endpoint">, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason;
  if (err instanceof SdbackupError) return err;
  const status = statusOf(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (status === undefined && typeof code === "string" && CONNECT_ERRORS.has(code)) {
    return new DockerError(`cannot reach the Docker engine at ${engine.endpoint} (${code})`, { hint: UNREACHABLE_HINT, cause: err });
  }
  const context = status === undefined ? undefined : { statusCode: status };
  return new DockerError(`${action}: ${engineMessage(err)}`, { cause: err, ...(context ? { context } : {}) });
}

/** Runs one engine call with the signal checked first and errors mapped by {@link toDockerError}. */
export async function call<T>(engine: Pick<Engine, "endpoint">, action: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw signal.reason;
  try {
    return await fn();
  } catch (err) {
    throw toDockerError(err, action, engine, signal);
  }
}

/**
 * Destroys `stream` with the signal's reason when the signal aborts. The listener goes away when
 * the stream closes, so long-lived signals collect no listeners.
 */
export function destroyOnAbort(stream: Readable, signal: AbortSignal): void {
  if (signal.aborted) {
    stream.destroy(signal.reason);
    return;
  }
  const onAbort = () => stream.destroy(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  stream.once("close", () => signal.removeEventListener("abort", onAbort));
}

/** A short id for messages. */
export function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
