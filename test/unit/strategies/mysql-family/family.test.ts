import { isDatabaseImage } from "../../../../src/strategies/index.ts";
import { describe, expect, it } from "vitest";
import { once } from "node:events";
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { DockerApi, ExecOptions } from "../../../../src/docker/types.ts";
import type { RunContext } from "../../../../src/strategies/types.ts";
import { IntegrityError, StrategyError } from "../../../../src/errors.ts";
import { dumpArgv, optionFile, resolveAccount, resolveDatabases, restoreArgv } from "../../../../src/strategies/mysql-family/family.ts";
import { validateDump } from "../../../../src/strategies/mysql-family/dump-check.ts";
import { mysql } from "../../../../src/strategies/mysql.ts";
import { mariadb } from "../../../../src/strategies/mariadb.ts";
import { container, detection, runContext, service } from "../../../helpers/builders.ts";

const SECRET = "Sup3r\"Secret #1";
const COMMON = ["--single-transaction", "--routines", "--triggers", "--events", "--hex-blob", "--default-character-set=utf8mb4", "--no-tablespaces"];

describe("dumpArgv", () => {
  it("all databases as root with mariadb-dump: no drop of the system schema, grants reloaded", () => {
    expect(dumpArgv({ tool: "mariadb-dump", mysqlTool: false, user: "root", optionFile: "/tmp/.sdbackup-1.cnf", databases: [] })).toEqual([
      "mariadb-dump", "--defaults-extra-file=/tmp/.sdbackup-1.cnf", "--user=root", ...COMMON, "--all-databases", "--flush-privileges",
    ]);
  });

  it("one database with MySQL's mysqldump: GTIDs off, database dropped and recreated", () => {
    expect(dumpArgv({ tool: "mysqldump", mysqlTool: true, user: "root", optionFile: "/tmp/x.cnf", databases: ["appdb"] })).toEqual([
      "mysqldump", "--defaults-extra-file=/tmp/x.cnf", "--user=root", ...COMMON, "--set-gtid-purged=OFF", "--add-drop-database", "--databases", "appdb",
    ]);
  });

  it("a user's databases with MariaDB's mysqldump and no password file", () => {
    expect(dumpArgv({ tool: "mysqldump", mysqlTool: false, user: "app", databases: ["a", "b"] })).toEqual([
      "mysqldump", "--user=app", ...COMMON, "--add-drop-database", "--databases", "a", "b",
    ]);
  });

  it("refuses a database name that would read as an option", () => {
    expect(() => dumpArgv({ tool: "mysqldump", mysqlTool: false, user: "root", databases: ["--all-databases"] })).toThrow(/invalid database name/);
  });
});

describe("restoreArgv", () => {
  it("pipes into the client without --force", () => {
    const argv = restoreArgv({ tool: "mariadb", user: "root", optionFile: "/tmp/x.cnf" });
    expect(argv).toEqual(["mariadb", "--defaults-extra-file=/tmp/x.cnf", "--user=root", "--default-character-set=utf8mb4", "--binary-mode"]);
    expect(argv).not.toContain("--force");
    expect(restoreArgv({ tool: "mysql", user: "app" })).toEqual(["mysql", "--user=app", "--default-character-set=utf8mb4", "--binary-mode"]);
  });
});

describe("optionFile", () => {
  it("quotes and escapes what the option-file parsers would otherwise cut or change", () => {
    expect(optionFile('a#b"c\\d e\n')).toBe('[client]\npassword="a#b\\"c\\\\d e\\n"\n');
    expect(optionFile("plain")).toBe('[client]\npassword="plain"\n');
  });
});

describe("credentials and databases", () => {
  const MYSQL_ENV = { rootUser: ["MYSQL_ROOT_USER"], rootPassword: ["MYSQL_ROOT_PASSWORD"], user: ["MYSQL_USER"], password: ["MYSQL_PASSWORD"], database: ["MYSQL_DATABASE"], allowEmpty: ["MYSQL_ALLOW_EMPTY_PASSWORD"] };
  const account = (environment: Record<string, string>, labels: Record<string, string> = {}) => resolveAccount(ctx({ environment, labels }), MYSQL_ENV);

  it("prefers root with its password", async () => {
    expect(await account({ MYSQL_ROOT_PASSWORD: SECRET, MYSQL_USER: "app", MYSQL_PASSWORD: "x" })).toEqual({ user: "root", password: SECRET });
  });
  it("uses the application user when root's password is unknown (random root password)", async () => {
    expect(await account({ MYSQL_RANDOM_ROOT_PASSWORD: "yes", MYSQL_USER: "app", MYSQL_PASSWORD: SECRET })).toEqual({ user: "app", password: SECRET });
  });
  it("uses root without a password when empty passwords are allowed", async () => {
    expect(await account({ MYSQL_ALLOW_EMPTY_PASSWORD: "yes", MYSQL_USER: "app", MYSQL_PASSWORD: "x" })).toEqual({ user: "root" });
    expect(await account({ MYSQL_ALLOW_EMPTY_PASSWORD: "no", MYSQL_USER: "app", MYSQL_PASSWORD: "x" })).toEqual({ user: "app", password: "x" });
  });
  it("honours the user and password-env labels", async () => {
    expect(await account({ MYSQL_ROOT_PASSWORD: "r", OTHER: SECRET }, { "simpledeploy.backup.password-env": "OTHER" })).toEqual({ user: "root", password: SECRET });
    expect(await account({ MYSQL_ROOT_PASSWORD: "r", MYSQL_PASSWORD: SECRET }, { "simpledeploy.backup.user": "app" })).toEqual({ user: "app", password: SECRET });
  });
  it("falls back to the container's environment, and to root with no password", async () => {
    expect(await resolveAccount(ctx({ containerEnv: { MYSQL_ROOT_PASSWORD: SECRET } }), MYSQL_ENV)).toEqual({ user: "root", password: SECRET });
    expect(await account({})).toEqual({ user: "root" });
  });
  it("registers the password for redaction", async () => {
    const c = ctx({ environment: { MYSQL_ROOT_PASSWORD: SECRET } });
    await resolveAccount(c, MYSQL_ENV);
    expect(c.secrets.values()).toContain(SECRET);
  });
  it("dumps the labelled databases, else the image's database, else all", async () => {
    expect(await resolveDatabases(ctx({ environment: { MYSQL_DATABASE: "appdb" }, labels: { "simpledeploy.backup.databases": "a, b" } }), MYSQL_ENV)).toEqual(["a", "b"]);
    expect(await resolveDatabases(ctx({ environment: { MYSQL_DATABASE: "appdb" } }), MYSQL_ENV)).toEqual(["appdb"]);
    expect(await resolveDatabases(ctx({}), MYSQL_ENV)).toEqual([]);
  });
});

describe("backup and restore orchestration (fake engine)", () => {
  it("writes a 0600 option file owned by the exec user, keeps the secret off argv, removes the file after the dump", async () => {
    const engine = fakeEngine({ tool: "mariadb-dump", version: "mariadb-dump from 11.4.2-MariaDB", dump: "-- MariaDB dump\n-- Dump completed\n" });
    const c = ctx({ environment: { MARIADB_ROOT_PASSWORD: SECRET, MARIADB_DATABASE: "appdb" }, docker: engine.api });
    const out = await mariadb.backup(c);
    expect(engine.removed).toEqual([]);
    expect(Buffer.concat(await out.toArray()).toString()).toContain("Dump completed");
    const [file] = engine.files;
    expect(file).toMatchObject({ mode: 0o600, uid: 999, gid: 998, body: `[client]\npassword="${SECRET.replace('"', '\\"')}"\n` });
    // the name carries its creation time; a sweep of stale ones (a killed run's) comes first
    expect(file!.name).toMatch(/^\.sdbackup-opt-\d{10}-[0-9a-f]{16}\.cnf$/);
    expect(engine.argvs[1]!.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(engine.argvs[1]![2]).toContain(".sdbackup-opt-");
    expect(engine.argvs[2]).toEqual(["mariadb-dump", `--defaults-extra-file=/tmp/${file!.name}`, "--user=root", ...COMMON, "--add-drop-database", "--databases", "appdb"]);
    expect(engine.removed).toEqual([`/tmp/${file!.name}`]);
    for (const argv of engine.argvs) expect(argv.join(" ")).not.toContain(SECRET);
  });

  it("removes the option file when the reader gives up mid-dump (an interrupt)", async () => {
    const engine = fakeEngine({ tool: "mariadb-dump", version: "11.4.2-MariaDB", endless: true });
    const out = await mariadb.backup(ctx({ environment: { MARIADB_ROOT_PASSWORD: SECRET }, docker: engine.api }));
    await once(out, "data");
    out.destroy();
    await once(out, "close"); // what pipeline() waits for
    expect(engine.sourceDestroyed()).toBe(true);
    expect(engine.removed).toEqual([`/tmp/${engine.files[0]!.name}`]);
  });

  it("removes the option file when the restore fails too", async () => {
    const engine = fakeEngine({ tool: "mysql", version: "mysql  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", failRestore: true });
    const c = ctx({ environment: { MYSQL_ROOT_PASSWORD: SECRET }, docker: engine.api });
    await expect(mysql.restore(c, Readable.from(["select 1;"]))).rejects.toThrow(/boom/);
    expect(engine.argvs[2]!.slice(0, 3)).toEqual(["mysql", `--defaults-extra-file=/tmp/${engine.files[0]!.name}`, "--user=root"]);
    expect(engine.removed).toHaveLength(1);
  });

  it("adds --set-gtid-purged=OFF only for MySQL's own mysqldump", async () => {
    for (const [version, expected] of [["mysqldump  Ver 8.0.36 for Linux (MySQL Community Server - GPL)", true], ["mysqldump  Ver 10.19 Distrib 10.11.6-MariaDB", false]] as const) {
      const engine = fakeEngine({ tool: "mysqldump", version, dump: "-- MySQL dump\n-- Dump completed\n" });
      await (await mysql.backup(ctx({ docker: engine.api }))).toArray();
      expect(engine.argvs[1]!.includes("--set-gtid-purged=OFF")).toBe(expected);
      expect(engine.argvs[1]).toContain("--all-databases");
    }
  });

  it("names both tools when the image has neither", async () => {
    const engine = fakeEngine({ tool: "" });
    const err = await mariadb.backup(ctx({ docker: engine.api })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrategyError);
    expect((err as Error).message).toBe("neither mariadb-dump nor mysqldump found in service db");
  });
});

describe("validateDump", () => {
  const check = (text: string) => validateDump(Readable.from([Buffer.from(text)]));
  const body = "\n--\n-- Host: localhost    Database: appdb\nCREATE TABLE t (id int);\n\n-- Dump completed on 2026-11-22  0:03:25\n";

  it.each([
    ["MySQL", "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)" + body],
    ["MariaDB", "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB" + body],
    ["MariaDB sandbox line", "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19-11.4.2-MariaDB" + body],
    ["--skip-dump-date", "-- MySQL dump 10.13\n-- Dump completed\n"],
  ])("accepts a complete %s dump", async (_, text) => expect(check(text)).resolves.toBeUndefined());

  it("rejects a dump cut short before its trailer", async () => {
    const full = "-- MySQL dump 10.13" + body;
    await expect(check(full.slice(0, full.indexOf("-- Dump completed")))).rejects.toThrow(/incomplete SQL dump/);
  });
  it("rejects other files and empty ones", async () => {
    await expect(check("PGDMP....")).rejects.toBeInstanceOf(IntegrityError);
    await expect(check("-- Mystery dump\n-- Dump completed\n")).rejects.toThrow(/unexpected header/);
    await expect(check("")).rejects.toThrow(/empty artifact/);
  });
  it("finds the trailer across chunk boundaries", async () => {
    const text = "-- MariaDB dump 10.19 " + "x".repeat(5000) + body;
    await expect(validateDump(Readable.from([...text].map((ch) => Buffer.from(ch))))).resolves.toBeUndefined();
  });

  const named = (...dbs: string[]) => "-- MariaDB dump 10.19\n" + dbs.map((d) => `\n-- Current Database: \`${d}\`\n\nCREATE DATABASE \`${d}\`;\n\nUSE \`${d.replace(/`/g, "``")}\`;\nINSERT INTO t VALUES ('\\nUSE \`x\`;');\n`).join("") + "-- Dump completed\n";
  it("accepts a dump of exactly the databases the set names, in any order, also cut into single bytes", async () => {
    await expect(validateDump(Readable.from([Buffer.from(named("app"))]), ["app"])).resolves.toBeUndefined();
    await expect(validateDump(Readable.from([...named("b", "a`b", "b")].map((ch) => Buffer.from(ch))), ["a`b", "b"])).resolves.toBeUndefined();
    // a full dump (no databases named) holds every database: no name can be another one
    await expect(validateDump(Readable.from([Buffer.from(named("other", "mysql"))]), [])).resolves.toBeUndefined();
  });
  it("refuses a dump of another database, or of more or fewer than the set names, naming both sides", async () => {
    await expect(validateDump(Readable.from([Buffer.from(named("other"))]), ["app"])).rejects.toThrow('the artifact is a dump of database "other", but the set names database "app"');
    await expect(validateDump(Readable.from([Buffer.from(named("app", "other"))]), ["app"])).rejects.toThrow(/databases "app", "other", but the set names database "app"/);
    await expect(validateDump(Readable.from([Buffer.from(named("app"))]), ["app", "b"])).rejects.toThrow(/database "app", but the set names databases "app", "b"/);
    await expect(validateDump(Readable.from([Buffer.from("-- MySQL dump 10.13\n-- Dump completed\n")]), ["app"])).rejects.toThrow(/dump of no database, but the set names database "app"/);
  });
});

// --- helpers ---

function ctx(opts: { environment?: Record<string, string>; labels?: Record<string, string>; containerEnv?: Record<string, string>; docker?: DockerApi }): RunContext {
  return runContext({
    service: service("db", { environment: opts.environment ?? {}, labels: opts.labels ?? {} }), container: container("db", { env: opts.containerEnv ?? {} }),
    isDatabaseImage, detection: detection("mysql"), ...(opts.docker ? { docker: opts.docker } : {}),
  });
}

/** Just enough engine for the strategy's call sequence: probe exec, archive put, dump/restore exec, rm exec. */
function fakeEngine(o: { tool: string; version?: string; dump?: string; failRestore?: boolean; endless?: boolean }) {
  let source: Readable | undefined;
  const argvs: string[][] = [];
  const files: { name: string; mode?: number; uid?: number; gid?: number; body: string }[] = [];
  const removed: string[] = [];
  const api = {
    async exec(_id: string, argv: string[], _opts: ExecOptions) {
      argvs.push(argv);
      if (argv[0] === "rm") {
        removed.push(argv[2]!);
        return { exitCode: 0, stdout: Buffer.alloc(0), stderr: "" };
      }
      if (!o.tool) return { exitCode: 127, stdout: Buffer.alloc(0), stderr: "" };
      return { exitCode: 0, stdout: Buffer.from(`tool=${o.tool}\nversion=${o.version}\nuid=999\ngid=998\n`), stderr: "" };
    },
    async putArchive(_id: string, _path: string, archive: Readable) {
      const extract = tar.extract();
      extract.on("entry", (h, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: unknown) => void chunks.push(c as Buffer));
        stream.on("end", () => (files.push({ name: h.name, mode: h.mode, uid: h.uid, gid: h.gid, body: Buffer.concat(chunks).toString() }), next()));
      });
      archive.pipe(extract);
      await new Promise<void>((resolve) => extract.on("finish", () => resolve()));
    },
    execStream(_id: string, argv: string[], opts: ExecOptions) {
      argvs.push(argv);
      if (opts.stdin) opts.stdin.resume();
      if (o.failRestore) return new Readable({ read() { this.destroy(new StrategyError("boom")); } });
      source = o.endless ? new Readable({ read() { this.push(Buffer.alloc(1024)); } }) : Readable.from([Buffer.from(o.dump ?? "")]);
      return source;
    },
  } as unknown as DockerApi;
  return { api, argvs, files, removed, sourceDestroyed: () => source?.destroyed ?? false };
}
