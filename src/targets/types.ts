import type { Readable } from "node:stream";

/**
 * A Target stores artifacts and manifests under slash-separated keys such as
 * `myapp/20261121T030000Z-ab12/db.pgdump.zst`. The contract, in the spirit of restic's backend:
 *
 * - Keys are relative, slash-separated, with no empty, `.` or `..` segment and no leading slash.
 *   Every method MUST reject such a key with a TargetError before any I/O.
 * - An already-aborted signal MUST make every method reject before any I/O.
 * - Implementations never retry a `put` body (a dump stream cannot be rewound); retries happen at the
 *   item level by running the strategy again.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
}

export interface TargetCapabilities {
  /** `put` becomes visible all at once (rename, multipart completion). */
  atomicPut: boolean;
  /** Concurrent `put` calls the target handles well. */
  maxConcurrency: number;
}

export interface Target {
  /** URL scheme this target was made from (`file`, `s3`). */
  readonly scheme: string;
  /** The location with credentials removed, safe for logs and JSON. */
  readonly display: string;
  readonly capabilities: TargetCapabilities;

  /**
   * Stores the whole of `body` under `key`, replacing any object there.
   * put MUST leave no visible object (and no partial upload) when `body` errors or the signal aborts,
   * and MUST then reject. It resolves only when the object is durable (fsynced, upload completed).
   * When `body` errors, put SHOULD reject with that same error so that the caller sees why its
   * source failed; storage failures reject with a TargetError and an abort with a CancelledError.
   */
  put(key: string, body: Readable, opts: { signal: AbortSignal }): Promise<{ bytes: number }>;

  /** A stream of the object's bytes. MUST reject with a TargetError with code E_NOT_FOUND when absent. */
  get(key: string, opts: { signal: AbortSignal }): Promise<Readable>;

  /** Every object whose key starts with `prefix`, across all pages, in no particular order. */
  list(prefix: string, opts: { signal: AbortSignal }): AsyncIterable<ObjectInfo>;

  /** remove is idempotent: removing a missing key MUST succeed. */
  remove(key: string, opts: { signal: AbortSignal }): Promise<void>;

  /**
   * Removes what puts of dead runs left under `prefix` (temporary objects, unfinished multipart
   * uploads) that has not changed since `before`, and returns what it removed, for one log line.
   * It MUST NOT touch a committed object nor anything newer than `before` (another run's put may
   * be writing it). Absent where a put leaves nothing behind even when killed (memory).
   */
  sweep?(prefix: string, before: Date, opts: { signal: AbortSignal }): Promise<string[]>;
}

/** How a URL scheme becomes a Target. `redact` MUST remove every credential from the URL. */
export interface TargetFactory {
  readonly schemes: readonly string[];
  redact(url: string): string;
  create(url: string, env: NodeJS.ProcessEnv, opts?: TargetOptions): Promise<Target>;
}

/** Run settings a target MAY apply to its own requests. */
export interface TargetOptions {
  /** No byte moving for this long means the store stopped answering (backup's --stall-timeout). */
  stallTimeoutMs?: number;
}
