/**
 * Every failure the user can see is an {@link SdbackupError}: a stable `code`, a message, an optional
 * `hint` telling the user what to do, and the `cause` chain. `main.ts` maps `exitCode` to the process
 * exit status; nothing else exits.
 */

/** Documented exit codes (docs/exit-codes.md). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const SEE_LIST = "run sdbackup list to see the sets in the target";

/**
 * The one table of error codes: each code's exit status and the hint shown when an error brings
 * none. The classes below take their exit code from here; docs/exit-codes.md lists the same rows
 * (a unit test compares them).
 */
export const ERROR_CODES = {
  E_CONFIG: { exitCode: ExitCode.usage },
  E_COMPOSE: { exitCode: ExitCode.usage },
  E_UNKNOWN_SET: { exitCode: ExitCode.usage, hint: SEE_LIST },
  E_DOCKER: { exitCode: ExitCode.failed },
  E_STRATEGY: { exitCode: ExitCode.failed },
  E_TARGET: { exitCode: ExitCode.failed },
  E_NOT_FOUND: { exitCode: ExitCode.failed },
  E_INTEGRITY: { exitCode: ExitCode.failed },
  E_NO_SET: { exitCode: ExitCode.failed, hint: SEE_LIST },
  E_INTERNAL: { exitCode: ExitCode.failed, hint: "this is a bug in sdbackup, please report it" },
  E_TIMEOUT: { exitCode: ExitCode.failed },
  E_CANCELLED: { exitCode: ExitCode.interrupted },
} as const satisfies Record<string, { exitCode: ExitCodeValue; hint?: string }>;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class SdbackupError extends Error {
  override name = "SdbackupError";
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly context?: Record<string, unknown>;
  readonly exitCode: ExitCodeValue;

  /** Use a subclass: the code decides the exit status and the default hint ({@link ERROR_CODES}). */
  protected constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    const spec: { exitCode: ExitCodeValue; hint?: string } = ERROR_CODES[code];
    this.code = code;
    this.exitCode = spec.exitCode;
    const hint = opts.hint ?? spec.hint;
    if (hint !== undefined) this.hint = hint;
    if (opts.context !== undefined) this.context = opts.context;
  }
}

/** Bad flags, bad labels, bad environment: the user must change the invocation (exit 2). */
export class ConfigError extends SdbackupError {
  override name = "ConfigError";
  constructor(message: string, opts?: ErrorOptions) {
    super("E_CONFIG", message, opts);
  }
}

/** A compose file that cannot be read, parsed or interpolated (exit 2). */
export class ComposeError extends SdbackupError {
  override name = "ComposeError";
  readonly file?: string;
  readonly line?: number;
  constructor(message: string, opts: ErrorOptions & { file?: string; line?: number } = {}) {
    const where = opts.file ? `${opts.file}${opts.line ? `:${opts.line}` : ""}: ` : "";
    super("E_COMPOSE", where + message, opts);
    if (opts.file !== undefined) this.file = opts.file;
    if (opts.line !== undefined) this.line = opts.line;
  }
}

/** The Docker engine is unreachable or refused an API call (exit 1). */
export class DockerError extends SdbackupError {
  override name = "DockerError";
  constructor(message: string, opts?: ErrorOptions) {
    super("E_DOCKER", message, opts);
  }
}

/** Details of a command that ran inside a container. `argv` is already redacted. */
export interface ExecFailure {
  service?: string;
  container: string;
  argv: string[];
  exitCode: number | null;
  stderrTail: string;
  durationMs?: number;
}

const EXIT_MEANINGS: Record<number, string> = {
  126: "not executable",
  127: "command not found",
  137: "killed",
  143: "terminated",
};

/** A dump or restore command failed inside a container (exit 1). */
export class StrategyError extends SdbackupError {
  override name = "StrategyError";
  readonly exec?: ExecFailure;
  /** "pg_dump exited 127 (command not found) in service db" */
  readonly shortMessage: string;

  constructor(message: string, opts: ErrorOptions & { exec?: ExecFailure } = {}) {
    const ex = opts.exec;
    let short = message;
    let hint = opts.hint;
    if (ex) {
      const tool = ex.argv[0] ?? "command";
      const meaning = ex.exitCode !== null ? EXIT_MEANINGS[ex.exitCode] : undefined;
      const where = ex.service ? ` in service ${ex.service}` : ` in container ${ex.container.slice(0, 12)}`;
      short = `${message}: ${tool} exited ${ex.exitCode ?? "?"}${meaning ? ` (${meaning})` : ""}${where}`;
      if (!hint && ex.exitCode === 127) hint = `the image has no ${tool}; set simpledeploy.backup.strategy or use an image that ships it`;
    }
    const lines = ex ? relevantStderr(ex.stderrTail) : [];
    const full = lines.length ? `${short}\n  command: ${ex!.argv.join(" ")}\n  ${lines.join("\n  ")}` : short;
    super("E_STRATEGY", full, { ...opts, ...(hint ? { hint } : {}) });
    this.shortMessage = short;
    if (ex) this.exec = ex;
  }
}

/**
 * A target (local directory, S3 bucket) failed or refused an operation (exit 1). `code` is
 * `E_TARGET` unless overridden, e.g. `E_NOT_FOUND` for a missing object.
 */
export class TargetError extends SdbackupError {
  override name = "TargetError";
  constructor(message: string, opts: ErrorOptions & { code?: "E_TARGET" | "E_NOT_FOUND" } = {}) {
    super(opts.code ?? "E_TARGET", message, opts);
  }
}

/** The target holds no object `key` (`E_NOT_FOUND`): what every target's `get` MUST throw then. */
export function objectNotFound(display: string, key: string, opts: ErrorOptions = {}): TargetError {
  return new TargetError(`${display}: no object ${key}`, { ...opts, code: "E_NOT_FOUND" });
}

/** An artifact does not match its manifest (checksum, size, format) (exit 1). */
export class IntegrityError extends SdbackupError {
  override name = "IntegrityError";
  constructor(message: string, opts?: ErrorOptions) {
    super("E_INTEGRITY", message, opts);
  }
}

/**
 * No backup set matches what was asked for. `E_NO_SET` (exit 1): nothing qualifies, e.g. no
 * complete set yet, or the named set is incomplete. `E_UNKNOWN_SET` (exit 2): the id the user typed
 * names no set, so the invocation must change.
 */
export class NoSetError extends SdbackupError {
  override name = "NoSetError";
  constructor(message: string, opts: ErrorOptions & { code?: "E_NO_SET" | "E_UNKNOWN_SET" } = {}) {
    super(opts.code ?? "E_NO_SET", message, opts);
  }
}

/** The user interrupted (SIGINT/SIGTERM) or the operation was aborted (exit 130). */
export class CancelledError extends SdbackupError {
  override name = "CancelledError";
  constructor(message = "interrupted", opts?: ErrorOptions) {
    super("E_CANCELLED", message, opts);
  }
}

/**
 * The run's total time limit (`--timeout`) elapsed (exit 1, not 130: nobody interrupted it). Work
 * is aborted and cleaned up the way an interrupt is; nothing is committed.
 */
export class TimeoutError extends SdbackupError {
  override name = "TimeoutError";
  constructor(message: string, opts?: ErrorOptions) {
    super("E_TIMEOUT", message, opts);
  }
}

/** Something that should never happen: a bug in sdbackup (exit 1). */
export class InternalError extends SdbackupError {
  override name = "InternalError";
  constructor(message: string, opts?: ErrorOptions) {
    super("E_INTERNAL", message, opts);
  }
}

/** Maps any thrown value to an exit code; unknown errors are failures. */
export function exitCodeFor(err: unknown): ExitCodeValue {
  if (err instanceof SdbackupError) return err.exitCode;
  if (isAbortError(err)) return ExitCode.interrupted;
  return ExitCode.failed;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof CancelledError || (err instanceof Error && err.name === "AbortError");
}

/** Throws the signal's reason as a CancelledError when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof SdbackupError ? reason : new CancelledError("aborted", { cause: reason });
}

export function errorMessage(err: unknown): string {
  if (err instanceof StrategyError) return err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

// --- internal ---

/** Lines that explain a failure; noise such as progress output is dropped. At most 20 lines. */
function relevantStderr(tail: string): string[] {
  const lines = tail.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  const hits = lines.filter((l) => /error|fail|fatal|denied|not found|no such|invalid|could not|unable/i.test(l));
  return (hits.length ? hits : lines).slice(-20);
}
