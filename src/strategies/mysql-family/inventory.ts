import type { Inventory, RunContext } from "../types.ts";
import type { Account, FamilyEnv, Probe } from "./family.ts";
import { StrategyError } from "../../errors.ts";
import { CLIENTS, findTool, openSession, resolveAccount, resolveDatabases } from "./family.ts";
import { dumpStream } from "../shared/exec.ts";

/** Schemas the server keeps for itself: their row counts change on their own. */
const SYSTEM = ["mysql", "sys", "information_schema", "performance_schema"];
/** Counting is one statement; past this many tables a drill compares the table list only. */
const MAX_COUNTED = 2000;

/**
 * Exact row counts (`COUNT(*)`, not information_schema's estimates) of every base table in the
 * databases the dump covers, taken right before mysqldump starts its own transaction. Tables past
 * {@link MAX_COUNTED} are listed with -1 (present, not counted).
 */
export async function familyInventory(ctx: RunContext, env: FamilyEnv): Promise<Inventory> {
  const probe = await findTool(ctx, CLIENTS);
  const account = await resolveAccount(ctx, env);
  const named = await resolveDatabases(ctx, env);
  try {
    return await countAs(ctx, probe, account, named);
  } catch (err) {
    // A restored full dump brings its own grant tables, so a drill server's fresh root password no
    // longer works; MariaDB's root@localhost also accepts unix_socket, which an exec as root is.
    const denied = err instanceof StrategyError && /Access denied/i.test(err.exec?.stderrTail ?? err.message);
    if (!denied || account.password === undefined) throw err;
    return countAs(ctx, probe, { user: "root" }, named);
  }
}

async function countAs(ctx: RunContext, probe: Probe, account: Account, named: readonly string[]): Promise<Inventory> {
  const session = await openSession(ctx, account, probe);
  const run = async (sql: string) => {
    const argv = [probe.tool, ...(session.file.optionFile ? [`--defaults-extra-file=${session.file.optionFile}`] : []), `--user=${account.user}`, "-N", "-B", "-e", sql];
    const chunks: Buffer[] = [];
    for await (const c of dumpStream(ctx, argv, session.env) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean).map((l) => l.split("\t"));
  };
  try {
    const scope = named.length ? `IN (${named.map(quote).join(", ")})` : `NOT IN (${SYSTEM.map(quote).join(", ")})`;
    const tables = await run(`SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema ${scope} ORDER BY 1, 2`);
    const counts: Record<string, number> = {};
    for (const [db, t] of tables.slice(MAX_COUNTED)) counts[`${db}.${t}`] = -1;
    const counted = tables.slice(0, MAX_COUNTED);
    if (counted.length) {
      const sql = counted.map(([db, t]) => `SELECT ${quote(`${db}.${t}`)}, COUNT(*) FROM ${ident(db!)}.${ident(t!)}`).join(" UNION ALL ");
      for (const [name, n] of await run(sql)) counts[name!] = Number(n);
    }
    return { counts, how: "exact row counts (COUNT(*)) right before the dump" };
  } finally {
    await session.close();
  }
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

function ident(s: string): string {
  return `\`${s.replace(/`/g, "``")}\``;
}
