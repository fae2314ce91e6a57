import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";
import { runCli } from "../../src/cli.ts";
import { scanOutputMode } from "../../src/commands/options.ts";
import type { Deps } from "../../src/deps.ts";
import type { DockerApi } from "../../src/docker/types.ts";
import { DockerError, exitCodeFor } from "../../src/errors.ts";
import { createLogger } from "../../src/ui/logger.ts";
import { errorDocument, reportError } from "../../src/ui/report-error.ts";

const MAIN = join(import.meta.dirname, "../../src/main.ts");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source on the test's Node (24), like the binary would run. */
export function sdbackup(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("spawn", () => opts.onSpawn?.(child.pid!));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface InProcessOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** The engine; by default any use of Docker fails the run with "docker was contacted". */
  docker?: () => Promise<DockerApi>;
  now?: () => Date;
}

/**
 * Runs the CLI in this process: the same runCli, error report and `--json` error document as
 * main.ts, without a Node start per case. stderr lines carry no timestamps (fixed clock).
 */
export async function sdbackupInProcess(args: string[], opts: InProcessOptions): Promise<CliRun & { dockerUsed: boolean }> {
  let stdout = "";
  let stderr = "";
  let dockerUsed = false;
  let printed = false;
  const stream = { isTTY: true, columns: 200, write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WriteStream;
  const log = createLogger({ ...scanOutputMode(args), stream, env: { NO_COLOR: "1", CI: "true" } });
  const deps: Deps = {
    env: opts.env ?? {},
    cwd: opts.cwd,
    log,
    signal: new AbortController().signal,
    docker: () => {
      dockerUsed = true;
      return opts.docker ? opts.docker() : Promise.reject(new DockerError("docker was contacted"));
    },
    out: (text) => {
      printed = true;
      stdout += text.endsWith("\n") ? text : text + "\n";
    },
    now: opts.now ?? (() => new Date()),
    stdinIsTTY: false,
  };
  try {
    const code = await runCli(args, deps, { onOutputMode: (mode) => log.configure(mode) });
    return { code, stdout, stderr, dockerUsed };
  } catch (err) {
    reportError(err, log);
    const code = exitCodeFor(err);
    if (log.mode.json && !printed) stdout += JSON.stringify({ error: errorDocument(err, code) }, null, 2) + "\n";
    return { code, stdout, stderr, dockerUsed };
  }
}

/**
 * Fails the running test when `run` printed one of `secrets`. Called where a run's output is
 * produced, so each test checks its own runs, never output collected by other tests.
 */
export function withoutSecrets(run: CliRun, secrets: readonly (string | undefined)[]): CliRun {
  for (const secret of secrets) if (secret) expect(`${run.stdout}\n${run.stderr}`, "a CLI run printed a secret").not.toContain(secret);
  return run;
}
