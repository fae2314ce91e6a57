import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describeStrategy } from "./conformance.ts";
import type { Stack } from "../helpers/compose.ts";

const run = promisify(execFile);
const dir = join(import.meta.dirname, "sqlite");

/** A canonical text of table t (count, then every row with its blob in hex). */
const SELECT = "select count(*) || '|' || coalesce(group_concat(id || '=' || v || '=' || hex(b), ','), '') from (select * from t order by id)";
const seedSql = (rows: number) =>
  `create table t (id integer primary key, v text, b blob); ` +
  `with recursive g(i) as (select 1 union all select i + 1 from g where i < ${rows}) insert into t select i, 'row ' || i, randomblob(16) from g; ` +
  `create index t_v on t (v);`;
const MUTATE_SQL = "delete from t where id % 3 = 0; update t set v = 'changed' where id < 20; insert into t (id, v) values (100000, 'new');";

/** Runs a script in a throwaway debian container that shares the service's volumes (it has sqlite3). */
async function sidecar(stack: Stack, script: string): Promise<string> {
  const id = await stack.containerId("app");
  const args = ["run", "--rm", "--label", "sdbackup.test=1", "--network", "none", "--volumes-from", id, "debian:bookworm", "sh", "-ec", script];
  const { stdout } = await run("docker", args, { maxBuffer: 64 << 20 });
  return stdout;
}

// With sqlite3 in the image: two databases in two directories, the first in WAL mode.
describeStrategy({
  strategy: "sqlite",
  name: "sqlite (sqlite3 in the image, two databases)",
  compose: join(dir, "compose.yaml"),
  service: "app",
  ready: async (stack) => void (await stack.exec("app", ["true"])),
  async seed(stack) {
    await stack.exec("app", ["sh", "-ec", "mkdir -p /data/sub && chown 1000:1000 /data/sub"]);
    await stack.exec("app", ["sqlite3", "/data/app.db", `pragma journal_mode=wal; ${seedSql(1000)}`]);
    await stack.exec("app", ["sqlite3", "/data/sub/other.db", seedSql(50)]);
    await stack.exec("app", ["chown", "1000:1000", "/data/sub/other.db"]);
  },
  snapshot: async (stack) => {
    const a = await stack.exec("app", ["sqlite3", "/data/app.db", SELECT]);
    const b = await stack.exec("app", ["sqlite3", "/data/sub/other.db", SELECT]);
    const owner = await stack.exec("app", ["stat", "-c", "%u:%g", "/data/sub/other.db"]);
    return `${a}\n${b}\n${owner}`;
  },
  mutate: async (stack) => {
    await stack.exec("app", ["sqlite3", "/data/app.db", MUTATE_SQL]);
    await stack.exec("app", ["sqlite3", "/data/sub/other.db", MUTATE_SQL]);
  },
  // A stale companion that cannot be removed: the restore must notice before it replaces anything.
  breakRestore: async (stack) => void (await stack.exec("app", ["mkdir", "-p", "/data/sub/other.db-shm/keep"])),
});

// No shell, no sqlite3: the container is paused and the files copied; the data lives in an uncheckpointed WAL.
describeStrategy({
  strategy: "sqlite",
  name: "sqlite (distroless image, WAL not checkpointed)",
  compose: join(dir, "compose-distroless.yaml"),
  service: "app",
  ready: async () => {},
  async seed(stack) {
    // A writer killed before it checkpoints leaves the rows only in app.db-wal.
    await sidecar(stack, `
      mkfifo /tmp/in
      sqlite3 /data/app.db < /tmp/in > /tmp/out & pid=$!
      exec 3>/tmp/in
      echo "pragma journal_mode=wal; pragma wal_autocheckpoint=0; ${seedSql(500)} select 'seeded';" >&3
      for i in $(seq 300); do grep -q seeded /tmp/out && break; sleep 0.1; done
      kill -9 $pid
      test -s /data/app.db-wal`);
  },
  // Reads a copy, so that opening the database does not checkpoint the WAL in place.
  snapshot: (stack) => sidecar(stack, `mkdir /tmp/c && cp /data/app.db* /tmp/c/ && sqlite3 /tmp/c/app.db "${SELECT}"`),
  mutate: (stack) => sidecar(stack, `sqlite3 /data/app.db "${MUTATE_SQL}"`),
});
