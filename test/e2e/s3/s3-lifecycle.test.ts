import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, waitForPostgres } from "../../helpers/compose.ts";
import { sdbackup, withoutSecrets, type CliRun } from "../../helpers/cli.ts";
import { startS3rver, type S3rverHandle } from "../../helpers/s3rver.ts";

// backup → list → prune → verify → restore with every set in an S3 bucket (s3rver on loopback).
const stack = composeStack(join(import.meta.dirname, "../stack/compose.yaml"), "sdbs3");
let s3: S3rverHandle;
let cwd: string;
let target: string;

const psql = (sql: string) => stack.exec("db", ["psql", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
async function cli(args: string[]): Promise<CliRun> {
  const r = await sdbackup([...args, "--app", stack.project, "--target", target, "--json"], { cwd, env: { ...s3.env, AWS_REGION: "us-east-1" } });
  return withoutSecrets(r, ["Sup3r-Secret-Pg-Pw"]);
}

beforeAll(async () => {
  s3 = await startS3rver();
  target = `s3://${s3.bucket}/backups?endpoint=${encodeURIComponent(s3.endpoint)}`;
  cwd = await mkdtemp(join(tmpdir(), "sdb-s3-cwd-"));
  await stack.up();
  await waitForPostgres(stack, "db", "app", "appdb");
  await psql("create table notes (id int primary key, body text); insert into notes select g, repeat('x', g % 50) from generate_series(1, 300) g");
}, 180_000);

afterAll(async () => {
  await stack.down();
  await s3?.stop();
  await rm(cwd, { recursive: true, force: true });
}, 120_000);

describe("the whole life of sets in S3", () => {
  const sets: string[] = [];
  let original = "";

  it("backs up twice into the bucket", async () => {
    original = await psql("select count(*), md5(string_agg(body, ',' order by id)) from notes");
    for (let i = 0; i < 2; i++) {
      const r = await cli(["backup"]);
      expect(r.code, r.stderr).toBe(0);
      sets.push(JSON.parse(r.stdout).set);
      await new Promise((res) => setTimeout(res, 1100)); // distinct set-id seconds
    }
    const list = JSON.parse((await cli(["list"])).stdout);
    expect(list.sets.map((s: { set: string }) => s.set)).toEqual([...sets].reverse());
    expect(list.target).not.toMatch(/S3RVER/);
  }, 180_000);

  it("prunes to the newest set and verifies what is left", async () => {
    const dry = JSON.parse((await cli(["prune", "--keep-last", "1", "--dry-run"])).stdout);
    expect(dry.sets.map((s: { set: string; action: string }) => `${s.set}:${s.action}`).sort()).toEqual([`${sets[0]}:remove`, `${sets[1]}:keep`].sort());
    const pruned = await cli(["prune", "--keep-last", "1"]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const list = JSON.parse((await cli(["list"])).stdout);
    expect(list.sets.map((s: { set: string }) => s.set)).toEqual([sets[1]]);
    const verify = await cli(["verify", "--set", "latest"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).sets[0]).toMatchObject({ set: sets[1], status: "ok" });
  }, 120_000);

  it("restores from the bucket", async () => {
    await psql("delete from notes where id > 10");
    const r = await cli(["restore", "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await psql("select count(*), md5(string_agg(body, ',' order by id)) from notes")).toBe(original);
  }, 120_000);
});
