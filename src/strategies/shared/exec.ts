import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { RunContext } from "../types.ts";
import type { DumpOptions } from "../../docker/types.ts";
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

/**
 * {@link dumpStream} by the transport `ctx.transport` asks for (docker/transport.ts), recording the
 * one used. `helperEnv` is what the command needs to run beside the server instead of inside it
 * (`PGHOST=127.0.0.1`); without it the dump goes through exec. `helper`: the command to run there
 * when it differs from `argv`, and files it reads (mysql: TCP, its option file in the helper's dir).
 */
export async function transportDump(ctx: RunContext, argv: string[], env: Record<string, string>, helperEnv?: Record<string, string>, helper?: Pick<DumpOptions, "helperArgv" | "helperFiles">): Promise<Readable> {
  const mode = ctx.transport?.mode ?? "auto";
  if (!ctx.docker.dumpStream || mode === "exec") {
    if (ctx.transport) ctx.transport.used = "exec";
    return dumpStream(ctx, argv, env);
  }
  const opts = { env, secrets: ctx.secrets.values(), service: ctx.service.name, signal: ctx.signal, transport: mode };
  const dump = await ctx.docker.dumpStream(ctx.container, argv, helperEnv ? { ...opts, helperEnv, ...helper } : opts);
  if (dump.fallback) ctx.log.debug(`${ctx.service.name}: exec transport (${dump.fallback})`);
  if (ctx.transport) ctx.transport.used = dump.transport;
  return dump.stream;
}

/**
 * {@link runWithInput} by the transport `ctx.transport` asks for (docker/transport.ts; exec when
 * absent), recording the one used; `helperEnv` as for {@link transportDump}.
 */
export async function transportLoad(ctx: RunContext, argv: string[], env: Record<string, string>, input: Readable, helperEnv?: Record<string, string>): Promise<void> {
  // Only where the caller asks (restore does; drills keep exec into their throwaway server).
  const mode = ctx.transport?.mode ?? "exec";
  if (!ctx.docker.loadStream || mode === "exec") {
    if (ctx.transport) ctx.transport.used = "exec";
    return runWithInput(ctx, argv, env, input);
  }
  const opts = { env, stdin: input, secrets: ctx.secrets.values(), service: ctx.service.name, signal: ctx.signal, transport: mode };
  const load = await ctx.docker.loadStream(ctx.container, argv, helperEnv ? { ...opts, helperEnv } : opts);
  if (load.fallback) ctx.log.debug(`${ctx.service.name}: exec transport (${load.fallback})`);
  if (ctx.transport) ctx.transport.used = load.transport;
  load.stream.resume();
  await finished(load.stream);
}

/** `simpledeploy.backup.password-env` names the variable that holds the password. */
export function passwordKeys(ctx: RunContext, defaults: readonly string[]): string[] {
  const override = ctx.service.labels[LABEL.passwordEnv] ?? ctx.container.labels[LABEL.passwordEnv];
  return override ? [override] : [...defaults];
}
