// One postgres compose stack per test file (test/strategies/postgres/compose.yaml by default), with
// a scratch target and working directory: started and seeded in beforeAll, removed in afterAll.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, waitForPostgres, type Stack } from "./compose.ts";

export const POSTGRES_COMPOSE = join(import.meta.dirname, "../strategies/postgres/compose.yaml");

export interface PostgresFixture {
  stack: Stack;
  /** The local target directory (set by `setup`). */
  readonly target: string;
  /** A working directory without compose files (set by `setup`). */
  readonly cwd: string;
  /** `psql -tAc sql` as the app user in its database, failing on the first error. */
  psql(sql: string): Promise<string>;
  /** For beforeAll: directories, `up`, wait until the server answers over TCP. */
  setup(): Promise<void>;
  /** For afterAll: the stack with its volumes, and the directories. */
  teardown(): Promise<void>;
}

export function postgresFixture(prefix: string, opts: { compose?: string; user?: string; db?: string } = {}): PostgresFixture {
  const stack = composeStack(opts.compose ?? POSTGRES_COMPOSE, prefix);
  const user = opts.user ?? "app";
  const db = opts.db ?? "appdb";
  let target = "";
  let cwd = "";
  return {
    stack,
    get target() {
      return target;
    },
    get cwd() {
      return cwd;
    },
    psql: (sql) => stack.exec("db", ["psql", "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql]),
    async setup() {
      target = await mkdtemp(join(tmpdir(), `${prefix}-target-`));
      cwd = await mkdtemp(join(tmpdir(), `${prefix}-cwd-`));
      await stack.up();
      await waitForPostgres(stack, "db", user, db);
    },
    async teardown() {
      await stack.down();
      if (target) await rm(target, { recursive: true, force: true });
      if (cwd) await rm(cwd, { recursive: true, force: true });
    },
  };
}
