// Encryption at rest (issue 13) end to end: one stack with every strategy that runs here, backed
// up to an age recipient on a local target and to a passphrase on S3, restored, and read by hand
// with the age CLI. Missing and wrong keys exit 2 before any data is touched; list, prune and
// verify need no key; no secret reaches output, errors or the target.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeStack, waitForPostgres } from "../../helpers/compose.ts";
import { sdbackup, withoutSecrets, type CliRun } from "../../helpers/cli.ts";
import { startS3rver, type S3rverHandle } from "../../helpers/s3rver.ts";
import { newKey, requireAge, skipAge, writeSecret } from "../../helpers/age.ts";
import { waitForMysql } from "../../strategies/mysql/fixture.ts";

const run = promisify(execFile);
const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbenc");
const PASSPHRASE = "Enc-Passphrase-tangerine-7";
const DB_SECRETS = ["Enc-Pg-Secret-1", "Enc-Maria-Secret-1", "Enc-Mysql-Secret-1"];
let dir: string;
let local: string;
let s3: S3rverHandle;
let key: ReturnType<typeof newKey>;
let stranger: ReturnType<typeof newKey>;
const secrets = () => [...DB_SECRETS, PASSPHRASE, key.secret, stranger.secret];

async function cli(target: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const r = await sdbackup([...args, "--app", stack.project, "--target", target], { cwd: dir, env: { ...s3?.env, AWS_REGION: "us-east-1", ...env } });
  return withoutSecrets(r, secrets());
}
const s3Target = () => `s3://${s3.bucket}/enc?endpoint=${encodeURIComponent(s3.endpoint)}`;

const psql = (sql: string) => stack.exec("pg", ["psql", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
const maria = (sql: string, tcp = "") => stack.exec("maria", ["sh", "-c", `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb ${tcp} -uroot -N -B shop`], sql);
const mysql = (sql: string, tcp = "") => stack.exec("mysql", ["sh", "-c", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mysql ${tcp} -uroot -N -B shop`], sql);
const redis = (...args: string[]) => stack.exec("cache", ["redis-cli", ...args]);
const sqlite = (sql: string) => stack.exec("app", ["sqlite3", "/data/app.db", sql]);
const files = () => stack.exec("files", ["sh", "-c", "cd /srv/files && find . -type f | sort && cat ./*.txt"]);

async function snapshot(): Promise<string> {
  return [
    await psql("select id, name from items order by id"),
    await maria("SELECT id, v FROM t ORDER BY id"),
    await mysql("SELECT id, v FROM t ORDER BY id"),
    await redis("mget", "k1", "k2", "k3"),
    await sqlite("select id, v from t order by id"),
    await files(),
  ].join("\n--\n");
}
async function mutate(): Promise<void> {
  await psql("delete from items where id > 100; update items set name = 'changed' where id < 5");
  await maria("DELETE FROM t WHERE id > 10; UPDATE t SET v = 'changed' WHERE id = 1");
  await mysql("DELETE FROM t WHERE id > 10; UPDATE t SET v = 'changed' WHERE id = 1");
  await redis("set", "k1", "changed");
  await redis("del", "k2");
  await sqlite("delete from t where id > 10; update t set v = 'changed' where id = 1");
  await stack.exec("files", ["sh", "-c", "rm -f /srv/files/a.txt && echo extra > /srv/files/new.txt"]);
}

async function manifestOf(target: string, set: string) {
  return JSON.parse(await readFile(join(target, stack.project, set, "manifest.json"), "utf8")) as {
    items: { service: string; key: string; bytes: number; sha256: string; encryption?: { format: string; recipients: string[]; passphrase?: boolean } }[];
  };
}
/**
 * `age -d -i key artifact | zstd -dc | then`, on the host: the by-hand path of docs/encryption.md.
 * No pipefail: `then` may stop reading early (pg_restore --list, head); its output is the check.
 */
async function byHand(artifact: string, then: string): Promise<string> {
  const { stdout } = await run("sh", ["-c", `age -d -i "$1" "$2" | zstd -dc | ${then}`, "sh", key.file, artifact], { maxBuffer: 64 << 20 });
  return stdout;
}

beforeAll(async () => {
  requireAge();
  dir = await mkdtemp(join(tmpdir(), "sdb-enc-"));
  local = join(dir, "backups");
  key = newKey(dir, "key.txt");
  stranger = newKey(dir, "stranger.txt");
  writeSecret(join(dir, "pass.txt"), `${PASSPHRASE}\n`);
  writeSecret(join(dir, "wrong-pass.txt"), "not-the-passphrase\n");
  s3 = await startS3rver();
  await stack.up();
  await waitForPostgres(stack, "pg", "app", "appdb");
  await waitForMysql(() => maria("SELECT 1", "-h 127.0.0.1"));
  await waitForMysql(() => mysql("SELECT 1", "-h 127.0.0.1"));
  await psql("create table items (id int primary key, name text not null); insert into items select g, 'item ' || g from generate_series(1, 300) g");
  const rows = "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(50)); INSERT INTO t VALUES " + Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'row ${i + 1}')`).join(",");
  await maria(rows);
  await mysql(rows);
  await redis("mset", "k1", "one", "k2", "two", "k3", "three");
  await sqlite("create table t (id integer primary key, v text); " + Array.from({ length: 40 }, (_, i) => `insert into t values (${i + 1}, 'row ${i + 1}');`).join(" "));
  await stack.exec("files", ["sh", "-c", "mkdir -p /srv/files/sub && echo hello > /srv/files/a.txt && echo keep > /srv/files/sub/b.txt"]);
}, 300_000);

afterAll(async () => {
  await stack.down();
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe.skipIf(skipAge)("encryption at rest: every strategy, recipient on local, passphrase on S3", () => {
  let original: string;
  let set: string;

  it("recipient: every artifact is an age file that age -d -i, zstd -d and the dump tools read", async () => {
    original = await snapshot();
    const r = await cli(local, ["backup", "--encrypt-to", key.recipient, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    set = JSON.parse(r.stdout).set;
    const m = await manifestOf(local, set);
    expect([...new Set(m.items.map((i) => i.service))].sort()).toEqual(["app", "cache", "files", "maria", "mysql", "pg"]);
    for (const item of m.items) {
      expect(item.key).toMatch(/\.zst\.age$/);
      expect(item.encryption).toEqual({ format: "age", recipients: [key.recipient] });
      expect((await readFile(join(local, item.key))).subarray(0, 30).toString()).toBe("age-encryption.org/v1\n-> X25519".slice(0, 30));
    }
    // postgres stores one artifact per database: the app's is the one that names appdb
    const path = (service: string) => join(local, m.items.find((i) => i.service === service && (service !== "pg" || i.key.includes("appdb")))!.key);
    const pgId = await stack.containerId("pg");
    expect(await byHand(path("pg"), `docker exec -i ${pgId} pg_restore --list`)).toMatch(/TABLE public items/);
    expect(await byHand(path("maria"), "cat")).toMatch(/CREATE TABLE `t`/);
    expect(await byHand(path("mysql"), "cat")).toMatch(/INSERT INTO `t` VALUES/);
    expect(await byHand(path("cache"), "head -c 5")).toBe("REDIS");
    expect(await byHand(path("app"), "tar -t")).toMatch(/app\.db/);
    expect(await byHand(path("files"), "tar -t")).toMatch(/a\.txt/);
  }, 300_000);

  it("list, prune --dry-run and verify need no key; verify with the identity checks the contents", async () => {
    const list = await cli(local, ["list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).sets[0]).toMatchObject({ set, complete: true });
    expect((await cli(local, ["prune", "--keep-last", "1", "--dry-run", "--json"])).code).toBe(0);
    const blind = await cli(local, ["verify", "--json"], { SDBACKUP_PASSPHRASE_FILE: "" });
    expect(blind.code, blind.stderr).toBe(0);
    for (const item of JSON.parse(blind.stdout).sets[0].items) expect(item).toMatchObject({ status: "ok", note: expect.stringMatching(/no identity/) });
    const full = await cli(local, ["verify", "--identity", key.file, "--json"]);
    expect(full.code, full.stderr).toBe(0);
    for (const item of JSON.parse(full.stdout).sets[0].items) expect(item).toEqual({ service: item.service, key: item.key, status: "ok" });
  }, 120_000);

  it("a missing or wrong identity exits 2 before touching data, naming the artifact and its recipient", async () => {
    await mutate();
    const mutated = await snapshot();
    const none = await cli(local, ["restore", "--yes"]);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(new RegExp(`cannot decrypt ${stack.project}/${set}/\\S+\\.age: it is encrypted to ${key.recipient}, and no identity was given`));
    const wrong = await cli(local, ["restore", "--yes", "--identity", stranger.file]);
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/none of the given identities matches/);
    expect(await snapshot()).toBe(mutated);
  }, 120_000);

  it("with the identity (from SDBACKUP_AGE_IDENTITY_FILE) every service comes back", async () => {
    const r = await cli(local, ["restore", "--yes", "--json"], { SDBACKUP_AGE_IDENTITY_FILE: key.file });
    expect(r.code, r.stderr).toBe(0);
    expect(await snapshot()).toBe(original);
  }, 300_000);

  it("restores an artifact the age CLI encrypted (age -r to another key)", async () => {
    const m = await manifestOf(local, set);
    const pg = m.items.find((i) => i.service === "pg" && i.key.includes("appdb"))!;
    const file = join(local, pg.key);
    await run("sh", ["-c", `age -d -i "$1" "$2" | age -r "$3" -o "$2.new" && mv "$2.new" "$2"`, "sh", key.file, file, stranger.recipient]);
    const bytes = await readFile(file);
    const { createHash } = await import("node:crypto");
    Object.assign(pg, { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), encryption: { format: "age", recipients: [stranger.recipient] } });
    await writeFile(join(local, stack.project, set, "manifest.json"), JSON.stringify(m, null, 2));
    await psql("update items set name = 'changed again' where id = 7");
    // The service's other artifacts (one per database) are still sealed to the first key: two identities.
    const r = await cli(local, ["restore", "--yes", "--service", "pg", "--identity", stranger.file, "--identity", key.file]);
    expect(r.code, r.stderr).toBe(0);
    expect(await snapshot()).toBe(original);
  }, 180_000);

  it("passphrase on S3: a wrong passphrase exits 2 untouched, the right one restores every service", async () => {
    const pass = { SDBACKUP_PASSPHRASE_FILE: join(dir, "pass.txt") };
    const b = await cli(s3Target(), ["backup", "--json"], pass);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).items.every((i: { key: string }) => i.key.endsWith(".age"))).toBe(true);
    const blind = await cli(s3Target(), ["verify", "--json"]);
    expect(blind.code, blind.stderr).toBe(0);
    await mutate();
    const mutated = await snapshot();
    const wrong = await cli(s3Target(), ["restore", "--yes"], { SDBACKUP_PASSPHRASE_FILE: join(dir, "wrong-pass.txt") });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/it is encrypted with a passphrase, and the given one is wrong/);
    expect((await cli(s3Target(), ["restore", "--yes"])).code).toBe(2); // no passphrase, no terminal
    expect(await snapshot()).toBe(mutated);
    const r = await cli(s3Target(), ["restore", "--yes", "--json"], pass);
    expect(r.code, r.stderr).toBe(0);
    expect(await snapshot()).toBe(original);
  }, 400_000);

  it("no identity or passphrase is stored in the target", async () => {
    const all = (await readdir(local, { recursive: true })) as string[];
    for (const f of all.filter((f) => f.endsWith(".json") || f.endsWith(".age"))) {
      const text = (await readFile(join(local, f))).toString("latin1");
      for (const secret of [PASSPHRASE, key.secret, stranger.secret]) expect(text, f).not.toContain(secret);
    }
  });
});
