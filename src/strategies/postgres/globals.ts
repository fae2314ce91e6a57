import { literal } from "./sql.ts";

/**
 * Makes `pg_dumpall --globals-only` output safe to apply to a live server: each role is created,
 * with the attributes and password it had, only when no role of that name exists, so restoring
 * never changes (or locks out) a role the server already has. Role settings and memberships apply
 * as dumped; tablespaces are left out (they name host directories and cannot be created inside
 * the restore's transaction), and the caller is told which.
 */
export function createMissingRoles(sql: string): { sql: string; skipped: string[] } {
  const lines = sql.split("\n");
  const out: string[] = [];
  const skipped: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const create = CREATE_ROLE.exec(line);
    if (create) {
      const role = create[1]!;
      const body = [line];
      // pg_dumpall writes the role's attributes as the ALTER ROLE right after its CREATE ROLE.
      if (lines[i + 1]?.startsWith(`ALTER ROLE ${role} WITH `)) body.push(lines[++i]!);
      out.push(`DO $sdbackup$ BEGIN IF to_regrole(${literal(role)}) IS NULL THEN ${body.join(" ")} END IF; END $sdbackup$;`);
    } else if (line.startsWith("CREATE TABLESPACE ")) {
      skipped.push(line.slice("CREATE TABLESPACE ".length).split(" ")[0]!);
    } else if (!TABLESPACE_FOLLOW_UP.test(line)) {
      out.push(line);
    }
  }
  return { sql: out.join("\n"), skipped };
}

/** The first line of `pg_dumpall --globals-only` output, checked before a restore. */
export const GLOBALS_HEADER = "--\n-- PostgreSQL database cluster dump\n--";

// --- internal ---

/** `CREATE ROLE app;` or `CREATE ROLE "My Role";` (an identifier as pg_dumpall quotes it). */
const CREATE_ROLE = /^CREATE ROLE ((?:"(?:[^"]|"")+")|[a-z_][a-z0-9_$]*);$/;
const TABLESPACE_FOLLOW_UP = /^(ALTER TABLESPACE |GRANT .* ON TABLESPACE |COMMENT ON TABLESPACE |SECURITY LABEL .* ON TABLESPACE )/;
