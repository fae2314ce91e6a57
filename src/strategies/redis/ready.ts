import type { RunContext } from "../types.ts";
import { DockerError, StrategyError } from "../../errors.ts";
import { RedisReplyError, redisCall, redisConnection } from "./cli.ts";

/**
 * `PING` with the credentials restore will use: `PONG` is ready; `LOADING` (a dataset still being
 * read), a refused connection or a restarting container is "not yet"; a refused password or a
 * missing redis-cli rejects, since waiting cannot fix either (see `Strategy.ready`).
 */
export async function redisReady(ctx: RunContext): Promise<string | undefined> {
  const conn = await redisConnection(ctx);
  try {
    const reply = await redisCall(ctx, conn, ["PING"]);
    return reply === "PONG" ? undefined : reply || "no reply to PING";
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (err instanceof RedisReplyError) {
      if (/^(NOAUTH|WRONGPASS|NOPERM)\b/.test(err.reply)) throw err;
      return err.reply;
    }
    if (err instanceof StrategyError && err.exec?.exitCode !== 127) return err.exec?.stderrTail.trim().split("\n").pop() || err.shortMessage;
    if (err instanceof DockerError) return err.message;
    throw err;
  }
}
