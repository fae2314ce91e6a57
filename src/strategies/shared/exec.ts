import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { RunContext } from "../types.ts";
import { LABEL } from "../../compose/labels.ts";

/** Streams `input` into `argv`'s stdin inside the container and waits for a zero exit. */
export async function runWithInput(ctx: RunContext, argv: string[], env: Record<string, string>, input: Readable): Promise<void> {
  const out = ctx.docker.execStream(ctx.container.id, argv, {
    env,
    stdin: input,
    secrets: ctx.secrets.values(),
    service: ctx.service.name,
    signal: ctx.signal,
  });
  out.resume();
  await finished(out);
}

/** Runs a dump command and returns its stdout; the stream errors instead of ending on failure. */
export function dumpStream(ctx: RunContext, argv: string[], env: Record<string, string>): Readable {
  return ctx.docker.execStream(ctx.container.id, argv, {
    env,
    secrets: ctx.secrets.values(),
    service: ctx.service.name,
    signal: ctx.signal,
  });
}

/** `simpledeploy.backup.password-env` names the variable that holds the password. */
export function passwordKeys(ctx: RunContext, defaults: readonly string[]): string[] {
  const override = ctx.service.labels[LABEL.passwordEnv] ?? ctx.container.labels[LABEL.passwordEnv];
  return override ? [override] : [...defaults];
}
