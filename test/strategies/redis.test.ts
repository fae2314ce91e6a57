import { join } from "node:path";
import { describeStrategy, type StrategyFixture } from "./conformance.ts";
import type { Stack } from "../helpers/compose.ts";

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
