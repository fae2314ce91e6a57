import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeStack, waitForPostgres } from "../../helpers/compose.ts";
import { sdbackup, withoutSecrets, type CliRun } from "../../helpers/cli.ts";
import { startS3rver, type S3rverHandle } from "../../helpers/s3rver.ts";
import { startSshd, type Sshd } from "../../helpers/sshd.ts";

// Beyond one machine (issue 15): the engine reached over ssh:// (an OpenSSH server on loopback whose
// login runs `docker system dial-stdio` against this machine's engine), a docker CLI context, and one
// backup written to a local directory, an S3 bucket and an SFTP box (rclone) at once.
const stack = composeStack(join(import.meta.dirname, "../stack/compose.yaml"), "sdbremote");
let sshd: Sshd;
let s3: S3rverHandle;
let work: string;
let env: NodeJS.ProcessEnv;
let targets: { local: string; s3: string; sftp: string };

const psql = (sql: string) => stack.exec("db", ["psql", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
async function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const r = await sdbackup([...args, "--app", stack.project, "--json"], { cwd: work, env: { ...env, ...extra } });
  return withoutSecrets(r, ["Sup3r-Secret-Pg-Pw", "S3RVER"]);
}
const committed = async (dir: string) => (await readdir(dir, { recursive: true })).filter((f) => String(f).endsWith("manifest.json")).length;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sdb-remote-"));
  sshd = await startSshd();
  s3 = await startS3rver();
  const home = join(work, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, ".ssh", "known_hosts"), `${sshd.knownHosts}\n`);
  copyFileSync(sshd.clientKey, join(home, ".ssh", "id_ed25519"));
  mkdirSync(join(work, "sftp"));
  env = {
    HOME: home, SSH_AUTH_SOCK: "", DOCKER_HOST: `ssh://${sshd.user}@127.0.0.1:${sshd.port}`, ...s3.env, AWS_REGION: "us-east-1",
    RCLONE_CONFIG: join(work, "rclone.conf"), RCLONE_CONFIG_BOX_TYPE: "sftp", RCLONE_CONFIG_BOX_HOST: "127.0.0.1",
    RCLONE_CONFIG_BOX_PORT: String(sshd.port), RCLONE_CONFIG_BOX_USER: sshd.user, RCLONE_CONFIG_BOX_KEY_FILE: sshd.clientKey,
    RCLONE_CONFIG_BOX_KNOWN_HOSTS_FILE: join(home, ".ssh", "known_hosts"), RCLONE_CONFIG_BOX_SHELL_TYPE: "none",
  };
  targets = { local: join(work, "local"), s3: `s3://${s3.bucket}/sets?endpoint=${s3.endpoint}`, sftp: `rclone:BOX:${join(work, "sftp")}` };
  await stack.up();
  await waitForPostgres(stack, "db", "app", "appdb");
  await psql("create table notes (id int primary key, body text); insert into notes select g, md5(g::text) from generate_series(1, 500) g");
}, 240_000);

afterAll(async () => {
  await stack.down();
  await s3?.stop().catch(() => {});
  await sshd?.stop();
  await rm(work, { recursive: true, force: true });
}, 120_000);

describe("remote engine, several targets", () => {
  let original = "";

  it("backs up through ssh:// to a directory, S3 and SFTP at once: three committed sets", async () => {
    original = await psql("select count(*), md5(string_agg(body, ',' order by id)) from notes");
    const r = await cli(["backup", "--target", targets.local, "--target", targets.s3, "--target", targets.sftp]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { set: string; targets: { status: string }[] };
    expect(result.targets.map((t) => t.status)).toEqual(["ok", "ok", "ok"]);
    for (const t of [targets.local, targets.s3, targets.sftp]) {
      const list = JSON.parse((await cli(["list", "--target", t])).stdout) as { sets: { set: string }[] };
      expect(list.sets.map((s) => s.set), t).toEqual([result.set]);
    }
  }, 240_000);

  it("restores from the SFTP box through ssh://", async () => {
    await psql("delete from notes where id > 10");
    const r = await cli(["restore", "--yes", "--target", targets.sftp]);
    expect(r.code, r.stderr).toBe(0);
    expect(await psql("select count(*), md5(string_agg(body, ',' order by id)) from notes")).toBe(original);
  }, 240_000);

  it("--context picks up a context made with docker context create", async () => {
    const config = join(work, "docker-config");
    execFileSync("docker", ["context", "create", "viassh", "--docker", `host=${env.DOCKER_HOST}`], { env: { ...process.env, DOCKER_CONFIG: config } });
    const before = await committed(targets.local);
    const r = await cli(["backup", "--context", "viassh", "--target", targets.local], { DOCKER_HOST: "tcp://127.0.0.1:1", DOCKER_CONFIG: config });
    expect(r.code, r.stderr).toBe(0);
    expect(await committed(targets.local)).toBe(before + 1);
  }, 240_000);

  it("with the S3 server gone, the other two commit, the run exits 3 and names the failed target", async () => {
    const before = [await committed(targets.local), await committed(join(work, "sftp"))];
    await s3.stop();
    const r = await cli(["backup", "--target", targets.local, "--target", targets.s3, "--target", targets.sftp]);
    expect(r.code, r.stderr).toBe(3);
    const result = JSON.parse(r.stdout) as { targets: { target: string; status: string; error?: string }[] };
    expect(result.targets.map((t) => t.status)).toEqual(["ok", "failed", "ok"]);
    expect(result.targets[1]!.target).toContain(s3.bucket);
    expect(r.stderr).toMatch(/target s3:\/\/.* failed/);
    expect([await committed(targets.local), await committed(join(work, "sftp"))]).toEqual([before[0]! + 1, before[1]! + 1]);
  }, 240_000);
});
