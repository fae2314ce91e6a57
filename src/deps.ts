import type { DockerApi } from "./docker/types.ts";
import type { Logger } from "./ui/logger.ts";

/**
 * What commands get from the outside world. Nothing below `cli.ts` reads `process.env`, the
 * working directory or the clock directly, so tests can hand in their own.
 */
export interface Deps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM with a CancelledError as reason. */
  signal: AbortSignal;
  /** Connects lazily: dockerode is loaded only by commands that talk to Docker. */
  docker(): Promise<DockerApi>;
  /** Data output (stdout). */
  out(text: string): void;
  now(): Date;
  /** Whether stdin is a terminal a human can answer confirmations on. */
  stdinIsTTY: boolean;
}
