import type { RunContext } from "../types.ts";
import { DockerError, StrategyError } from "../../errors.ts";

/**
 * One readiness probe (see `Strategy.ready`): runs `argv` once in the service's container.
 * Exit 0 is ready; 127 (no such tool) rejects, since waiting cannot fix it; any other exit, or a
 * container the engine cannot exec in yet (restarting), is "not ready" with the last line it said.
 */
export async function probe(ctx: RunContext, argv: string[], env: Record<string, string> = {}): Promise<string | undefined> {
  let r;
  try {
    r = await ctx.docker.exec(ctx.container.id, argv, { env, secrets: ctx.secrets.values(), service: ctx.service.name, signal: ctx.signal });
  } catch (err) {
    if (err instanceof DockerError && !ctx.signal.aborted) return err.message;
    throw err;
  }
  if (r.exitCode === 0) return undefined;
  if (r.exitCode === 127) {
    throw new StrategyError(`cannot tell whether service ${ctx.service.name} is ready`, {
      exec: { service: ctx.service.name, container: ctx.container.id, argv, exitCode: r.exitCode, stderrTail: r.stderr },
    });
  }
  const said = `${r.stderr}\n${r.stdout.toString("utf8")}`.split("\n").map((l) => l.trim()).filter(Boolean);
  return said.at(-1) ?? `${argv[0]} exited ${r.exitCode}`;
}

/** A shell loop running the first of `tools` on the PATH with `args`; exit 127 when none is. */
export function firstTool(tools: readonly string[], args: readonly string[]): string[] {
  const script = `for t in ${tools.join(" ")}; do command -v "$t" >/dev/null 2>&1 && exec "$t" "$@"; done; echo "none of ${tools.join(", ")} found" >&2; exit 127`;
  return ["sh", "-c", script, "sh", ...args];
}
