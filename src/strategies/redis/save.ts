import { setTimeout as sleep } from "node:timers/promises";
import type { RunContext } from "../types.ts";
import { StrategyError, errorMessage, throwIfAborted } from "../../errors.ts";
import { RedisReplyError, info, integerReply, redisCall, type RedisConnection } from "./cli.ts";

/** A save of a large dataset can take long; the run's signal still interrupts it at any time. */
export const SAVE_TIMEOUT_MS = 30 * 60_000;
const READY_TIMEOUT_MS = 120_000;

/**
 * Makes the server write a snapshot that starts after this call: `BGSAVE`, then `LASTSAVE` polled
 * until it moves past the value read before. A background save already running is waited for and
 * followed by our own; when `BGSAVE` is refused (renamed, ACL, fork failure) it falls back to a
 * blocking `SAVE`. LASTSAVE has a one-second resolution, so the BGSAVE is issued only in a later
 * second than the previous save, or a quick save would be indistinguishable from it.
 */
export async function freshSnapshot(ctx: RunContext, conn: RedisConnection, timeoutMs = SAVE_TIMEOUT_MS): Promise<void> {
  const deadline = { at: Date.now() + timeoutMs, ms: timeoutMs };
  for (;;) {
    const before = await integerReply(ctx, conn, ["LASTSAVE"]);
    await waitForSecondAfter(ctx, conn, before);
    let reply: string;
    try {
      reply = await redisCall(ctx, conn, ["BGSAVE", "SCHEDULE"]);
    } catch (err) {
      if (!(err instanceof RedisReplyError)) throw err;
      if (/already in progress/i.test(err.reply)) {
        ctx.log.info(`${ctx.service.name}: a background save is already running; waiting for it`);
        await waitForIdle(ctx, conn, deadline);
        continue;
      }
      if (/^(NOAUTH|WRONGPASS)/.test(err.reply)) throw err;
      ctx.log.warn(`${ctx.service.name}: BGSAVE was refused (${err.reply}); falling back to SAVE, which blocks the server while it runs`);
      await redisCall(ctx, conn, ["SAVE"]);
      return;
    }
    ctx.log.debug(`${ctx.service.name}: ${reply}`);
    await waitForLastSave(ctx, conn, before, deadline);
    return;
  }
}

/** Waits until the server answers PING again after a start (it answers LOADING while it loads). */
export async function waitForRedis(ctx: RunContext, conn: RedisConnection): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  let down = 0;
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 2, 1000)) {
    try {
      if ((await redisCall(ctx, conn, ["PING"])) === "PONG") return;
    } catch (err) {
      throwIfAborted(ctx.signal);
      if (err instanceof RedisReplyError && /^(NOAUTH|WRONGPASS)/.test(err.reply)) throw err;
      last = err;
      // A server that cannot load its files exits at once: no need to wait out the timeout.
      const state = await ctx.docker.inspect(ctx.container.id, { signal: ctx.signal }).then((c) => c.state, () => "unknown");
      if (state !== "running" && ++down >= 3) {
        throw new StrategyError(`Redis in service ${ctx.service.name} exited after the restore (container ${state})`, {
          hint: "see the container's logs: Redis refuses to start when it cannot load its RDB or AOF",
        });
      }
    }
    await pause(delay, ctx.signal);
  }
  throw new StrategyError(`Redis in service ${ctx.service.name} did not answer after the restore: ${last ? errorMessage(last) : "no PONG"}`, {
    hint: "see the container's logs: Redis refuses to start when it cannot load its RDB or AOF",
  });
}

// --- internal ---

async function waitForLastSave(ctx: RunContext, conn: RedisConnection, before: number, deadline: Deadline): Promise<void> {
  let sawRunning = false;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    if ((await integerReply(ctx, conn, ["LASTSAVE"])) > before) return;
    const p = await info(ctx, conn, "persistence");
    if (p.rdb_bgsave_in_progress === "1") sawRunning = true;
    else if (sawRunning && p.rdb_last_bgsave_status === "err" && (await integerReply(ctx, conn, ["LASTSAVE"])) <= before) {
      throw new StrategyError(`the background save failed in service ${ctx.service.name}`, {
        hint: "see the Redis log: usually no disk space or no memory to fork (vm.overcommit_memory)",
      });
    }
    if (Date.now() > deadline.at) throw timeout(ctx, deadline);
    await pause(delay, ctx.signal);
  }
}

async function waitForIdle(ctx: RunContext, conn: RedisConnection, deadline: Deadline): Promise<void> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    if ((await info(ctx, conn, "persistence")).rdb_bgsave_in_progress !== "1") return;
    if (Date.now() > deadline.at) throw timeout(ctx, deadline);
    await pause(delay, ctx.signal);
  }
}

async function waitForSecondAfter(ctx: RunContext, conn: RedisConnection, lastSave: number): Promise<void> {
  const [sec, usec] = (await redisCall(ctx, conn, ["TIME"])).split("\n").map(Number);
  if (sec === undefined || !Number.isFinite(sec) || sec > lastSave) return;
  await pause((lastSave - sec) * 1000 + Math.ceil((1_000_000 - (usec ?? 0)) / 1000) + 10, ctx.signal);
}

interface Deadline {
  at: number;
  ms: number;
}

function timeout(ctx: RunContext, deadline: Deadline): StrategyError {
  return new StrategyError(`the snapshot of service ${ctx.service.name} did not finish within ${Math.ceil(deadline.ms / 1000)} s`);
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => throwIfAborted(signal));
}
