import { isDatabaseImage } from "../../../src/strategies/index.ts";
import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import type { ComposeService } from "../../../src/compose/model.ts";
import type { ContainerDetails, DockerApi, ExecOptions } from "../../../src/docker/types.ts";
import type { RunContext } from "../../../src/strategies/types.ts";
import { IntegrityError, StrategyError } from "../../../src/errors.ts";
import { createSecretRegistry } from "../../../src/strategies/shared/secrets.ts";
import { silentLogger } from "../../../src/ui/logger.ts";
import { RedisReplyError, redisCall, redisConnection, serverArgs, serverOption } from "../../../src/strategies/redis/cli.ts";
import { freshSnapshot } from "../../../src/strategies/redis/save.ts";
import { crc64 } from "../../../src/strategies/redis/rdb-check.ts";
import { redis as redisStrategy } from "../../../src/strategies/redis.ts";
import type { Strategy } from "../../../src/strategies/types.ts";

const redis: Strategy = redisStrategy;

/*
 * A scripted exec stands in for redis-cli: these tests pin down the commands sdbackup sends and how
 * it reads replies. That Redis really behaves this way is what test/strategies/redis.test.ts checks.
 */

type Reply = { stdout?: string; stderr?: string; exitCode?: number };

function scripted(replies: Record<string, Reply | (() => Reply)>) {
  const calls: { argv: string[]; env: Record<string, string> }[] = [];
  const docker: Partial<DockerApi> = {
    async exec(_id, argv, o: ExecOptions) {
      calls.push({ argv, env: o.env ?? {} });
      const key = argv.slice(argv.indexOf("redis-cli") + 1).filter((a, i, all) => !["--user", "-p"].includes(a) && !["--user", "-p"].includes(all[i - 1]!)).join(" ");
      const r = replies[key];
      const reply = typeof r === "function" ? r() : r;
      if (!reply) throw new Error(`unexpected command: ${key}`);
      return { exitCode: reply.exitCode ?? 0, stdout: Buffer.from(reply.stdout ?? ""), stderr: reply.stderr ?? "" };
    },
  };
  return { docker: docker as DockerApi, calls };
}

function ctx(docker: DockerApi, svc: Partial<ComposeService> = {}, cmd: string[] = ["redis-server"]): RunContext {
  const service: ComposeService = { name: "cache", image: "redis:7", environment: {}, labels: {}, volumes: [], secrets: [], profiles: [], ...svc };
  const container = { id: "abc", name: "app-cache-1", image: "redis:7", state: "running", labels: {}, env: {}, cmd, entrypoint: [], mounts: [], running: true, paused: false } satisfies ContainerDetails;
  return {
    docker, service, container, secrets: createSecretRegistry(), isDatabaseImage, signal: AbortSignal.timeout(5_000), log: silentLogger,
    detection: { strategy: "redis", source: "image", confidence: 0.95, paths: [], warnings: [] },
  };
}

describe("redis server command line", () => {
  it("reads the compose command (list or shell form), else the container's Cmd", () => {
    const none = scripted({}).docker;
    expect(serverArgs(ctx(none, { command: ["redis-server", "--requirepass", "x"] }))).toEqual(["redis-server", "--requirepass", "x"]);
    expect(serverArgs(ctx(none, { command: "redis-server  --port 6380" }))).toEqual(["redis-server", "--port", "6380"]);
    expect(serverArgs(ctx(none, {}, ["redis-server", "--appendonly", "yes"]))).toEqual(["redis-server", "--appendonly", "yes"]);
    expect(serverOption(["redis-server", "--dir", "/a", "--dir", "/b"], "dir")).toBe("/b");
    expect(serverOption(["redis-server"], "dir")).toBeUndefined();
  });
});

describe("redisConnection", () => {
  const none = scripted({}).docker;

  it("takes --requirepass from the command line and passes it only as REDISCLI_AUTH", async () => {
    const c = ctx(none, { command: ["redis-server", "--requirepass", "cmd-secret"], environment: { REDIS_PASSWORD: "env-secret" } });
    expect(await redisConnection(c)).toEqual({ args: [], env: { REDISCLI_AUTH: "cmd-secret" } });
    expect(c.secrets.values()).toContain("cmd-secret");
  });

  it("resolves a $VAR given to --requirepass, then REDIS_PASSWORD, and honours the password-env label", async () => {
    expect((await redisConnection(ctx(none, { command: "redis-server --requirepass ${REDIS_PASSWORD}", environment: { REDIS_PASSWORD: "p1" } }))).env).toEqual({ REDISCLI_AUTH: "p1" });
    expect((await redisConnection(ctx(none, { environment: { REDIS_PASSWORD: "p2" } }))).env).toEqual({ REDISCLI_AUTH: "p2" });
    const labelled = ctx(none, { command: ["redis-server", "--requirepass", "real"], environment: { OTHER: "p3" }, labels: { "simpledeploy.backup.password-env": "OTHER" } });
    expect((await redisConnection(labelled)).env).toEqual({ REDISCLI_AUTH: "p3" });
    expect((await redisConnection(ctx(none))).env).toEqual({});
  });

  it("adds the ACL user and a non-default port as arguments", async () => {
    const c = ctx(none, { command: ["redis-server", "--port", "6380"], labels: { "simpledeploy.backup.user": "backup" } });
    expect((await redisConnection(c)).args).toEqual(["--user", "backup", "-p", "6380"]);
  });
});

describe("redisCall", () => {
  it("turns an error reply (exit 0 on a non-TTY) into a RedisReplyError naming the service", async () => {
    const { docker } = scripted({ LASTSAVE: { stdout: "NOAUTH Authentication required.\n", stderr: "AUTH failed: WRONGPASS invalid username-password pair\n" } });
    const err = await redisCall(ctx(docker), { args: [], env: { REDISCLI_AUTH: "x" } }, ["LASTSAVE"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisReplyError);
    expect((err as RedisReplyError).message).toBe("Redis in service cache refused LASTSAVE: NOAUTH Authentication required. (AUTH failed: WRONGPASS invalid username-password pair)");
    expect((err as RedisReplyError).hint).toMatch(/password/);
  });

  it("reports a missing redis-cli with the exit code's meaning", async () => {
    const { docker } = scripted({ PING: { exitCode: 127, stderr: "sh: 1: exec: redis-cli: not found" } });
    const err = await redisCall(ctx(docker), { args: [], env: {} }, ["PING"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrategyError);
    expect((err as StrategyError).shortMessage).toBe("redis PING failed: redis-cli exited 127 (command not found) in service cache");
  });
});

describe("freshSnapshot", () => {
  const conn = { args: [], env: {} };
  const sequence = (values: string[]) => () => ({ stdout: `${values.length > 1 ? values.shift() : values[0]}\n` });

  it("BGSAVE, then polls LASTSAVE until it moves past the value read before", async () => {
    const { docker, calls } = scripted({
      LASTSAVE: sequence(["100", "100", "100", "105"]),
      TIME: { stdout: "104\n500\n" },
      "BGSAVE SCHEDULE": { stdout: "Background saving started\n" },
      "INFO persistence": { stdout: "# Persistence\r\nrdb_bgsave_in_progress:1\r\nrdb_last_bgsave_status:ok\r\n" },
    });
    await freshSnapshot(ctx(docker), conn);
    expect(calls.map((c) => c.argv.slice(1).join(" "))).toEqual([
      "LASTSAVE", "TIME", "BGSAVE SCHEDULE", "LASTSAVE", "INFO persistence", "LASTSAVE", "INFO persistence", "LASTSAVE",
    ]);
  });

  it("waits for the next second when the last save happened in the current one", async () => {
    const { docker } = scripted({
      LASTSAVE: sequence(["100", "101"]),
      TIME: { stdout: "100\n999000\n" },
      "BGSAVE SCHEDULE": { stdout: "Background saving started\n" },
    });
    const t0 = Date.now();
    await freshSnapshot(ctx(docker), conn);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5);
  });

  it("falls back to SAVE when BGSAVE is refused, and fails fast when a started save fails", async () => {
    const refused = scripted({ LASTSAVE: { stdout: "1\n" }, TIME: { stdout: "9\n0\n" }, "BGSAVE SCHEDULE": { stdout: "ERR unknown command 'BGSAVE'\n" }, SAVE: { stdout: "OK\n" } });
    await freshSnapshot(ctx(refused.docker), conn);
    expect(refused.calls.at(-1)!.argv).toEqual(["redis-cli", "SAVE"]);

    const infos = ["rdb_bgsave_in_progress:1\nrdb_last_bgsave_status:ok", "rdb_bgsave_in_progress:0\nrdb_last_bgsave_status:err"];
    const failing = scripted({ LASTSAVE: { stdout: "1\n" }, TIME: { stdout: "9\n0\n" }, "BGSAVE SCHEDULE": { stdout: "Background saving started\n" }, "INFO persistence": sequence(infos) });
    await expect(freshSnapshot(ctx(failing.docker), conn)).rejects.toThrow(/background save failed in service cache/);
  });

  it("gives up after the timeout", async () => {
    const { docker } = scripted({ LASTSAVE: { stdout: "1\n" }, TIME: { stdout: "9\n0\n" }, "BGSAVE SCHEDULE": { stdout: "Background saving scheduled\n" }, "INFO persistence": { stdout: "rdb_bgsave_in_progress:0\n" } });
    await expect(freshSnapshot(ctx(docker), conn, 300)).rejects.toThrow(/did not finish within 1 s/);
  });
});

describe("redis validate", () => {
  // A real RDB of redis:7 holding a=b: magic, aux fields, one key, 0xFF and the CRC-64.
  const RDB = Buffer.from("524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65c231d60b6bfa08757365642d6d656dc2c0540e00fa08616f662d62617365c000fe00fb01000001610162ff991b3ef5ee138023", "hex");

  it("wants the REDIS magic", async () => {
    await expect(redis.validate(Readable.from([RDB]), { paths: [] })).resolves.toBeUndefined();
    await expect(redis.validate(Readable.from([Buffer.from("SQLite format 3")]), { paths: [] })).rejects.toBeInstanceOf(IntegrityError);
    await expect(redis.validate(Readable.from([]), { paths: [] })).rejects.toThrow(/empty artifact/);
  });

  it("refuses a cut RDB and one whose checksum does not match (issue 11 case 2); a zero checksum is rdbchecksum no", async () => {
    await expect(redis.validate(Readable.from([Buffer.from("REDIS0011\xfa")]), { paths: [] })).rejects.toThrow(/cut short/);
    await expect(redis.validate(Readable.from([RDB.subarray(0, RDB.length - 3)]), { paths: [] })).rejects.toThrow(/cut short/);
    const flipped = Buffer.from(RDB);
    flipped[60]! ^= 1;
    await expect(redis.validate(Readable.from([flipped]), { paths: [] })).rejects.toThrow(/checksum does not match/);
    const unchecked = Buffer.from(RDB);
    unchecked.fill(0, unchecked.length - 8);
    await expect(redis.validate(Readable.from([unchecked]), { paths: [] })).resolves.toBeUndefined();
  });

  it("computes CRC-64/Jones like Redis", () => {
    expect(crc64(Buffer.from("123456789")).toString(16)).toBe("e9c6d914c4b8d9ca");
  });
});
