import { describe, expect, it } from "vitest";
import { createMissingRoles } from "../../../../src/strategies/postgres/globals.ts";
import { partArtifactName } from "../../../../src/manifest/keys.ts";

// issue 12: restoring the roles creates the missing ones and never changes a role that exists.

const DUMP = `--
-- PostgreSQL database cluster dump
--

SET default_transaction_read_only = off;

--
-- Roles
--

CREATE ROLE app;
ALTER ROLE app WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi';
CREATE ROLE "Odd ""Name""";
ALTER ROLE "Odd ""Name""" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE TABLESPACE fast OWNER app LOCATION '/mnt/fast';
GRANT ALL ON TABLESPACE fast TO app;
GRANT pg_read_all_data TO "Odd ""Name""" GRANTED BY app;
`;

describe("createMissingRoles", () => {
  const { sql, skipped } = createMissingRoles(DUMP);

  it("wraps each CREATE ROLE and its attributes in a create-if-missing block", () => {
    expect(sql).toContain(
      "DO $sdbackup$ BEGIN IF to_regrole('app') IS NULL THEN CREATE ROLE app; ALTER ROLE app WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'; END IF; END $sdbackup$;",
    );
    expect(sql).toContain(`IF to_regrole('"Odd ""Name"""') IS NULL THEN CREATE ROLE "Odd ""Name""";`);
    expect(sql).not.toMatch(/^(CREATE|ALTER) ROLE/m);
  });

  it("keeps memberships and settings, leaves tablespaces out and says so", () => {
    expect(sql).toContain(`GRANT pg_read_all_data TO "Odd ""Name""" GRANTED BY app;`);
    expect(sql).toContain("SET default_transaction_read_only = off;");
    expect(sql).not.toMatch(/TABLESPACE/);
    expect(skipped).toEqual(["fast"]);
  });
});

describe("partArtifactName", () => {
  it("names globals and databases; an unusual database name is hex-encoded", () => {
    expect(partArtifactName("db", { kind: "globals", name: "globals" })).toBe("db.globals");
    expect(partArtifactName("db", { kind: "database", name: "app_db-1" })).toBe("db.db-app_db-1");
    expect(partArtifactName("db", { kind: "database", name: "a/b c" })).toBe(`db.dbx-${Buffer.from("a/b c").toString("hex")}`);
  });
});
