/**
 * The contract of a notifier: a plugin that turns one URL scheme family into a {@link Channel} and
 * tells someone how an unattended run went. Notifiers are plain objects that `satisfies Notifier`,
 * registered in the one array in `index.ts`.
 */

/** What a run ended as. `skipped` is a run with nothing to do (`backup --if-due`, not due). */
export type RunStatus = "ok" | "partial" | "failed" | "skipped";

/** The commands that notify. */
export type RunCommand = "backup" | "prune" | "verify" | "restore";

/** Known before the run: what a healthchecks-style "start" ping needs. */
export interface RunStart {
  command: RunCommand;
  /** The compose project when known before the run (`--app`), else null. */
  project: string | null;
  host: string;
  startedAt: string;
  /** Pairs the start and finish pings of one run (healthchecks `rid`). */
  runId: string;
}

/** How a run ended. Every string in here has already been scrubbed of secrets. */
export interface RunEvent extends RunStart {
  status: RunStatus;
  exitCode: number;
  finishedAt: string;
  durationMs: number;
  /** One line for a title or subject, e.g. "sdbackup backup shop: failed". */
  title: string;
  /** A few lines a human reads first: what failed and why. */
  summary: string;
  error?: { code: string; message: string; hint?: string };
  /** The command's JSON result document (what `--json` prints), when the run produced one. */
  result?: unknown;
  /** The last lines the run logged, oldest first. */
  logTail: string;
}

/** One HTTP request; MUST time out and MAY be retried, see `http.ts`. */
export interface HttpRequest {
  method?: "POST" | "PUT";
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends requests; injected so tests can shorten timeouts. Resolves with the attempts made; rejects on final failure. */
export type Send = (req: HttpRequest) => Promise<{ attempts: number }>;

/**
 * One configured destination, made from one `--notify` URL.
 * - `display` MUST NOT contain credentials, tokens or ping keys: it appears in logs and JSON.
 * - `secrets` lists URL parts (passwords, tokens, ping keys) that MUST never appear in any payload
 *   or message; callers scrub them along with the environment's secret values.
 * - `start` is sent before the run (healthchecks); `finish` after it, with the event.
 */
export interface Channel {
  readonly notifier: NotifierName;
  readonly display: string;
  readonly secrets: readonly string[];
  /** Sent on every run whatever `--notify-on` says: the receiver alerts on pings that stop coming. */
  readonly everyRun: boolean;
  start?(run: RunStart, send: Send): Promise<number>;
  finish(event: RunEvent, send: Send): Promise<number>;
}

export type NotifierName = "webhook" | "healthchecks" | "ntfy";

/**
 * A notifier handles the URL schemes it lists (lower case, each in exactly one notifier: a duplicate
 * throws at startup). `create` MUST validate the URL and throw a ConfigError naming the redacted
 * URL when it cannot be used; it does no I/O.
 */
export interface Notifier {
  readonly name: NotifierName;
  readonly schemes: readonly string[];
  /** One line for `--help` and the docs. */
  readonly syntax: string;
  create(url: URL): Channel;
}

/** What happened to one notification; reported on stderr and in the JSON result, never in the exit code. */
export interface NotifyOutcome {
  notifier: NotifierName;
  to: string;
  phase: "start" | "finish";
  ok: boolean;
  attempts: number;
  error?: string;
}
