import { isDatabaseImage } from "../../src/strategies/index.ts";
import { join } from "node:path";
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStrategy, type StrategyFixture } from "./conformance.ts";
import type { Stack } from "../helpers/compose.ts";
import { removeContainers, requireDocker, shell, startContainer } from "../helpers/docker.ts";
import { connect } from "../../src/docker/client.ts";
import type { DockerApi } from "../../src/docker/types.ts";
import { redis } from "../../src/strategies/redis.ts";
import type { RunContext } from "../../src/strategies/types.ts";
import { createSecretRegistry } from "../../src/strategies/shared/secrets.ts";
import { CancelledError } from "../../src/errors.ts";
import { silentLogger } from "../../src/ui/logger.ts";

const dir = join(import.meta.dirname, "redis");
const SECRET = "Redis-Conformance-Secret-1";

/** Every key with its type, TTL presence and a digest of its value, in a canonical order. */
const SNAPSHOT_LUA = `
local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  local t = redis.call('TYPE', k)['ok']
  local v = ''
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'hash' then
    local h, f = redis.call('HGETALL', k), {}
    for i = 1, #h, 2 do f[#f + 1] = h[i] .. '=' .. h[i + 1] end
    table.sort(f)
    v = table.concat(f, ',')
  elseif t == 'list' then v = table.concat(redis.call('LRANGE', k, 0, -1), ',')
  elseif t == 'set' then
    local m = redis.call('SMEMBERS', k)
    table.sort(m)
    v = table.concat(m, ',')
  elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), ',')
  end
  local ttl = redis.call('PTTL', k) > 0 and 'ttl' or 'none'
  parts[#parts + 1] = k .. ':' .. t .. ':' .. ttl .. ':' .. redis.sha1hex(v)
end
return #keys .. ' ' .. redis.sha1hex(table.concat(parts, '\\n'))`;

function seedCommands(): string {
  const lines: string[] = [];
  for (let i = 1; i <= 500; i++) lines.push(`SET k:${i} "value ${i} \\x00\\xff\\n end"`);
  for (let i = 1; i <= 50; i++) {
    lines.push(`HSET h:${i} f1 a${i} f2 b${i} f3 c${i}`);
    lines.push(`RPUSH l:${i} x${i} y${i} z${i}`);
    lines.push(`SADD s:${i} m${i} n${i} o${i}`);
    lines.push(`ZADD z:${i} 1 one${i} 2.5 two${i}`);
    lines.push(`SET big:${i} ${"abcdefghij".repeat(1000)}${i}`);
  }
  lines.push("SET expiring v PX 86400000");
  return lines.join("\n") + "\n";
}

function fixture(opts: { name: string; compose: string; password?: string } & Partial<StrategyFixture>): StrategyFixture {
  const auth = opts.password ? ["-a", opts.password, "--no-auth-warning"] : [];
  const cli = (stack: Stack, argv: string[], input?: string) => stack.exec("cache", ["redis-cli", ...auth, ...argv], input);
  return {
    strategy: "redis",
    service: "cache",
    ...opts,
    async ready(stack) {
      const deadline = Date.now() + 60_000;
      let last = "";
      while (Date.now() < deadline) {
        last = await cli(stack, ["PING"]).catch((err: Error) => err.message);
        if (last.trim() === "PONG") return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`redis did not answer PING: ${last}`);
    },
    async seed(stack) {
      const out = await cli(stack, [], seedCommands());
      if (/ERR|NOAUTH/.test(out)) throw new Error(`seeding failed: ${out.slice(0, 200)}`);
    },
    snapshot: async (stack) => (await cli(stack, ["EVAL", SNAPSHOT_LUA, "0"])).trim(),
    async mutate(stack) {
      const out = await cli(stack, [], "DEL k:1 k:2 k:3 h:1 l:2\nSET fresh 1\nHSET h:5 f1 changed\nSADD s:7 extra\n");
      if (/ERR|NOAUTH/.test(out)) throw new Error(`mutate failed: ${out.slice(0, 200)}`);
    },
  };
}

describeStrategy(fixture({
  name: "redis",
  compose: join(dir, "compose.yaml"),
  missingTool: { override: join(dir, "missing-tool.yaml"), tool: "redis-cli" },
}));

describeStrategy(fixture({ name: "redis (appendonly yes)", compose: join(dir, "compose-aof.yaml") }));

describeStrategy(fixture({
  name: "redis (requirepass)",
  compose: join(dir, "compose-auth.yaml"),
  password: SECRET,
  secret: SECRET,
  wrongCredentials: join(dir, "wrong-password.yaml"),
}));

describeStrategy(fixture({ name: "redis (CONFIG renamed away, appendonly yes)", compose: join(dir, "compose-noconfig.yaml") }));

describe("redis backup while a background save is running", () => {
  let api: DockerApi;
  let id: string;
  const argvs: string[][] = [];
  const logs: string[] = [];

  const context = (signal: AbortSignal): RunContext => ({
    docker: { ...api, exec: (cid, argv, opts) => (argvs.push(argv), api.exec(cid, argv, opts)) },
    service: { name: "cache", image: "redis:7", environment: {}, labels: {}, volumes: [], secrets: [], profiles: [] },
    container: undefined as never,
    detection: { strategy: "redis", source: "image", confidence: 1, paths: [], warnings: [] },
    secrets: createSecretRegistry(), isDatabaseImage,
    signal,
    log: { ...silentLogger, info: (m) => void logs.push(m), warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
  });

  beforeAll(async () => {
    await requireDocker();
    api = await connect(process.env, AbortSignal.timeout(10_000));
    ({ id } = await startContainer({ image: "redis:7", cmd: ["redis-server", "--save", ""], volumes: ["/data"] }));
    for (let i = 0; i < 50 && !(await shell(id, "redis-cli PING")).includes("PONG"); i++) await new Promise((r) => setTimeout(r, 100));
    // 200 keys at 10 ms each: every save takes about two seconds
    await shell(id, "for i in $(seq 200); do echo SET k$i v$i; done | redis-cli > /dev/null && redis-cli CONFIG SET rdb-key-save-delay 10000");
  }, 60_000);

  afterAll(() => removeContainers([id]));

  it("waits for the running save, then takes its own", async () => {
    const before = Number((await shell(id, "redis-cli LASTSAVE | cat")).trim());
    expect(await shell(id, "redis-cli BGSAVE")).toContain("started");
    const ctx = { ...context(AbortSignal.timeout(60_000)), container: await api.inspect(id, { signal: AbortSignal.timeout(10_000) }) };
    const t0 = Date.now();
    const rdb = Buffer.concat(await (await redis.backup(ctx)).toArray());
    expect(rdb.subarray(0, 5).toString()).toBe("REDIS");
    expect(logs.join("\n")).toMatch(/already running/);
    expect(argvs.filter((a) => a.includes("BGSAVE")).length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - t0).toBeGreaterThan(3000); // the running save, then ours
    expect(Number((await shell(id, "redis-cli LASTSAVE | cat")).trim())).toBeGreaterThan(before);
  }, 60_000);

  it("an abort while waiting for the save rejects promptly and leaves no listener", async () => {
    const controller = new AbortController();
    const ctx = { ...context(controller.signal), container: await api.inspect(id, { signal: AbortSignal.timeout(10_000) }) };
    const t0 = Date.now();
    setTimeout(() => controller.abort(new CancelledError()), 500);
    await expect(redis.backup(ctx)).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(1800);
    expect(getEventListeners(controller.signal, "abort")).toEqual([]);
  }, 60_000);
});
