import type { Inventory, RunContext } from "../types.ts";
import { query, type PgConnection } from "./sql.ts";

/**
 * A postgres database's inventory: the exact row count of every ordinary table (`schema.table`),
 * counted in one statement so that all counts see one snapshot. At backup time that is the dump's
 * own snapshot (`snapshot`, see snapshot.ts), so the counts are exactly the rows in the dump and a
 * drill must match them even when the database was busy; a drill counts with no snapshot.
 */
export async function databaseInventory(ctx: RunContext, conn: PgConnection, db: string, snapshot?: string): Promise<Inventory> {
  const rows = await query(ctx, conn, db, COUNT_TABLES, snapshot);
  const counts: Record<string, number> = {};
  for (const [name, count] of rows) counts[name!] = Number(count);
  return snapshot ? { counts, exact: true, how: "exact row counts in the dump's own snapshot" } : { counts, how: "exact row counts in one statement" };
}

// query_to_xml runs a count per table inside the same statement (and snapshot) as the listing.
const COUNT_TABLES = `SELECT n.nspname || '.' || c.relname,
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND has_table_privilege(c.oid, 'SELECT')
  ORDER BY 1`;
