import type { ArtifactPart, RunContext } from "../types.ts";
import { LABEL, splitList } from "../../compose/labels.ts";
import { labelOf } from "../shared/lifecycle.ts";
import { query, type PgConnection } from "./sql.ts";

/**
 * What a postgres service is stored as: the cluster's roles first (restore needs them before any
 * object that names an owner), then one dump per database — every database that is not a
 * template and that the dump user may connect to, or the ones `simpledeploy.backup.databases` names.
 */
export async function listParts(ctx: RunContext, conn: PgConnection): Promise<ArtifactPart[]> {
  const rows = await query(ctx, conn, conn.home, LIST_DATABASES);
  const owners = new Map(rows.map(([name, owner]) => [name!, owner ?? ""]));
  const named = splitList(labelOf(ctx, LABEL.databases));
  const names = named.length ? named : [...owners.keys()];
  const databases = names.map((name): ArtifactPart => {
    const owner = owners.get(name);
    return { kind: "database", name, ext: "pgdump", ...(owner ? { owner } : {}) };
  });
  return [{ kind: "globals", name: "globals", ext: "sql" }, ...databases];
}

/** Whether the dump user may read role passwords (pg_authid); others get roles without passwords. */
export async function isSuperuser(ctx: RunContext, conn: PgConnection): Promise<boolean> {
  const rows = await query(ctx, conn, conn.home, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
  return rows[0]?.[0] === "t";
}

// --- internal ---

const LIST_DATABASES = `SELECT datname, pg_get_userbyid(datdba) FROM pg_database
  WHERE NOT datistemplate AND datallowconn AND has_database_privilege(datname, 'CONNECT') ORDER BY datname`;
