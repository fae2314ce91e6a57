import { describe, expect, it } from "vitest";
import { besideServer } from "../../../../src/strategies/mysql-family/beside.ts";
import { dumpArgv } from "../../../../src/strategies/mysql-family/family.ts";
import { container, runContext } from "../../../helpers/builders.ts";

const ctx = (env: Record<string, string>) => runContext({ container: container("db", { env }) });
const argvFor = (optionFile?: string) => dumpArgv({ tool: "mariadb-dump", mysqlTool: false, user: "root", databases: ["shop"], ...(optionFile ? { optionFile } : {}) });
const OPTIONS = '[client]\npassword="s3cret"\n';

describe("besideServer: a MySQL/MariaDB dump in a fast-transport helper", () => {
  it("dumps over TCP to 127.0.0.1 (the image's port variable honoured), the password in an option file of the helper's private directory", () => {
    const beside = besideServer(ctx({ MYSQL_TCP_PORT: "3307" }), "root", argvFor, OPTIONS)!;
    expect(beside.helperArgv.slice(0, 5)).toEqual(["mariadb-dump", "--defaults-extra-file=/run/sdbackup-xfer/client.cnf", "--protocol=TCP", "--host=127.0.0.1", "--port=3307"]);
    expect(beside.helperArgv.slice(5)).toEqual(argvFor().slice(1));
    expect(beside.helperFiles).toEqual({ "client.cnf": OPTIONS });
    expect(JSON.stringify(beside.helperArgv) + JSON.stringify(beside.helperEnv)).not.toContain("s3cret");
    const empty = besideServer(ctx({}), "root", argvFor, undefined)!;
    expect(empty.helperArgv).toEqual(["mariadb-dump", "--protocol=TCP", "--host=127.0.0.1", ...argvFor().slice(1)]);
    expect(empty.helperFiles).toEqual({});
  });

  it("keeps exec for root when the image limits root to another host than %", () => {
    expect(besideServer(ctx({ MARIADB_ROOT_HOST: "localhost" }), "root", argvFor, OPTIONS)).toBeUndefined();
    expect(besideServer(ctx({ MYSQL_ROOT_HOST: "10.0.0.1" }), "root", argvFor, OPTIONS)).toBeUndefined();
    expect(besideServer(ctx({ MYSQL_ROOT_HOST: "%" }), "root", argvFor, OPTIONS)).toBeDefined();
    expect(besideServer(ctx({ MARIADB_ROOT_HOST: "localhost" }), "app", argvFor, OPTIONS)).toBeDefined();
  });
});
