import type { Inventory, RunContext } from "../types.ts";
import { query, type PgConnection } from "./sql.ts";

/**
 * A postgres database's inventory: the exact row count of every ordinary table (`schema.table`),
 * counted in one statement so that all counts see one snapshot. At backup time this runs right
 * before `pg_dump` (not inside the dump's own snapshot): rows written in between make a difference
 * that drills report but only fail on when a table lost everything (see docs/strategies/postgres.md).
 */
export async function databaseInventory(ctx: RunContext, conn: PgConnection, db: string): Promise<Inventory> {
  const rows = await query(ctx, conn, db, COUNT_TABLES);
  const counts: Record<string, number> = {};
  for (const [name, count] of rows) counts[name!] = Number(count);
  return { counts, how: "exact row counts in one statement, right before the dump" };
}

// query_to_xml runs a count per table inside the same statement (and snapshot) as the listing.
const COUNT_TABLES = `SELECT n.nspname || '.' || c.relname,
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND has_table_privilege(c.oid, 'SELECT')
  ORDER BY 1`;
