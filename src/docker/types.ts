import type { Readable } from "node:stream";

/**
 * The narrow part of the Docker Engine API that sdbackup uses. Only `src/docker/` imports dockerode;
 * strategies and commands depend on this interface.
 *
 * Every method that can run long takes a `signal`; an aborted signal MUST make the call reject with
 * the signal's reason and MUST release the underlying HTTP connection.
 */
export interface ContainerSummary {
  id: string;
  /** Name without the leading slash. */
  name: string;
  image: string;
  /** `running`, `exited`, `paused`, … */
  state: string;
  labels: Record<string, string>;
  /** `com.docker.compose.service`, when set. */
  service?: string;
  /** `com.docker.compose.project`, when set. */
  project?: string;
}

export interface ContainerMount {
  type: string;
  /** Volume name for `volume` mounts, host path for `bind` mounts. */
  name?: string;
  source: string;
  destination: string;
  rw: boolean;
}

export interface ContainerDetails extends ContainerSummary {
  /** `KEY=value` pairs from the container config, parsed. */
  env: Record<string, string>;
  cmd: string[];
  entrypoint: string[];
  mounts: ContainerMount[];
  running: boolean;
  paused: boolean;
}

export interface ExecOptions {
  /** Extra environment for the process. Secrets go here, never into argv. */
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  /** Bytes written to the process' stdin; stdin is closed when this stream ends. */
  stdin?: Readable;
  /** Values to replace with `***` wherever argv or stderr is reported. */
  secrets?: string[];
  /** Service name used in error messages. */
  service?: string;
  /**
   * Default true: the command runs under `sh` so that its PID is known and aborting can terminate
   * it (a dropped exec connection does not stop the process). Pass false for images without `sh`;
   * then an abort only drops the connection.
   */
  killable?: boolean;
  signal: AbortSignal;
}

/** `auto`: fast where the engine is local and a probe says it works, else exec. */
export type TransportMode = "exec" | "fast" | "auto";
export type TransportName = "exec" | "fast";
export interface DumpOptions extends ExecOptions {
  transport: TransportMode;
  /**
   * The fast transport runs the command in a helper container that shares only the network: what
   * it needs there (`PGHOST=127.0.0.1`). Absent when the command cannot run that way (it needs the
   * server's unix socket, say): then only exec is used.
   */
  helperEnv?: Record<string, string>;
  /** The command the helper runs instead of `argv`, when it differs (no option file inside the server's container). */
  helperArgv?: string[];
  /**
   * Files (name → content, secrets allowed) the helper finds in {@link HELPER_DIR}: written 0600
   * into the transport's private 0700 directory before the helper starts and removed with it.
   */
  helperFiles?: Record<string, string>;
}

/** Where a fast-transport helper sees its private directory (the FIFO and `helperFiles`). */
export const HELPER_DIR = "/run/sdbackup-xfer";

export interface Dump {
  stream: Readable;
  transport: TransportName;
  /** Why auto mode fell back to exec, for the verbose log. */
  fallback?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

export interface ThrowawaySpec {
  image: string;
  /** Handed to the entrypoint only (a drill's fresh password, say): never printed. */
  env: Record<string, string>;
  labels: Record<string, string>;
}

export interface DockerApi {
  /** Containers (running or not) whose labels include every `label=value` given. */
  listContainers(labels: Record<string, string>, opts: { signal: AbortSignal }): Promise<ContainerSummary[]>;
  inspect(id: string, opts: { signal: AbortSignal }): Promise<ContainerDetails>;

  /**
   * Runs `argv` in the container without a TTY and returns its stdout as a stream.
   * The stream MUST end only after the exit code, read from exec inspect, is 0; otherwise it MUST
   * be destroyed with a {@link StrategyError} carrying the redacted argv, exit code and stderr tail.
   * Backpressure MUST reach the engine (no unbounded buffering). Destroying the stream or aborting
   * the signal MUST terminate the process inside the container.
   */
  execStream(id: string, argv: string[], opts: ExecOptions): Readable;

  /** Runs `argv` to completion, buffering output (for small outputs only). Never throws on exit code. */
  exec(id: string, argv: string[], opts: ExecOptions): Promise<ExecResult>;

  /**
   * Runs a dump command and streams its stdout by the transport `opts.transport` asks for, with
   * {@link execStream}'s guarantees (ends only after exit 0, redacted failures, abort stops it).
   * Absent where there is no fast path (test fakes): callers then use execStream.
   */
  dumpStream?(container: ContainerDetails, argv: string[], opts: DumpOptions): Promise<Dump>;

  /**
   * Runs a restore command that reads `opts.stdin`, by the transport `opts.transport` asks for; the
   * stream is the command's output (empty over fast) and ends only after its exit 0, with
   * {@link execStream}'s guarantees (redacted failures, abort stops it, a failed input never
   * reaches the command as a clean end). Absent where there is no fast path: callers use execStream.
   */
  loadStream?(container: ContainerDetails, argv: string[], opts: DumpOptions & { stdin: Readable }): Promise<Dump>;

  /** A tar stream of `path` (a file or a directory, the archive's top entry named after its basename). */
  getArchive(id: string, path: string, opts: { signal: AbortSignal }): Promise<Readable>;
  /** Extracts a tar stream into the directory `path`, which MUST exist. */
  putArchive(id: string, path: string, tar: Readable, opts: { signal: AbortSignal }): Promise<void>;

  /**
   * Runs `argv` in a throwaway container that mounts every volume and bind mount of `volumesFrom` at
   * the same paths (the way to change files in images without a shell, or in stopped containers).
   * Tries `images` in order until one can run `argv`; the container MUST be removed afterwards.
   */
  runWithVolumesOf(volumesFrom: string, images: readonly string[], argv: string[], opts: { signal: AbortSignal }): Promise<ExecResult & { image: string }>;
  /**
   * Starts a throwaway container (restore drills): the image's own entrypoint, `env`, `labels`, no
   * published ports and no network but loopback. Returns its id; the caller removes it.
   */
  startThrowaway(spec: ThrowawaySpec, opts: { signal: AbortSignal }): Promise<string>;
  /** Force-removes the containers labelled `label` (`key` or `key=value`) that `which` picks (default all), anonymous volumes included; how many. */
  removeLabelled(label: string, opts: { signal: AbortSignal; which?: (c: ContainerSummary) => boolean }): Promise<number>;
  /** `repo:tag` of every local image. */
  listImageTags(opts: { signal: AbortSignal }): Promise<string[]>;

  stop(id: string, opts: { signal: AbortSignal; timeoutSeconds?: number }): Promise<void>;
  start(id: string, opts: { signal: AbortSignal }): Promise<void>;
  pause(id: string, opts: { signal: AbortSignal }): Promise<void>;
  unpause(id: string, opts: { signal: AbortSignal }): Promise<void>;
}
