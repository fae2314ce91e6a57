import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { composeStack } from "../helpers/compose.ts";
import { sdbackup, type CliRun } from "../helpers/cli.ts";
import { crc64 } from "../../src/strategies/redis/rdb-check.ts";
import { forgeItem, tarOf } from "./forge.ts";

// Issue 11: sets whose sha256 and size are valid but whose content is hostile, and a Ctrl-C in the
// middle of a volume restore. Each case checks the exit code, the message, the live data after it,
// the target, and that no container is left stopped. One stack for the whole file.

const run = promisify(execFile);
const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbbat");
let target: string;
let cwd: string;

/** Every entry below /srv/files with its type and content: the live data's canonical text. */
const FILES = "cd /srv/files && find . -mindepth 1 | sort | while read -r p; do if [ -L \"$p\" ]; then echo \"$p -> $(readlink \"$p\")\"; elif [ -f \"$p\" ]; then echo \"$p $(sha256sum < \"$p\" | cut -c1-16)\"; else echo \"$p/\"; fi; done";
const files = () => stack.exec("app", ["sh", "-c", FILES]);
const cli = (args: string[], onSpawn?: (pid: number) => void) => sdbackup([...args, "--app", stack.project, "--target", target], { cwd, ...(onSpawn ? { onSpawn } : {}) });
const backup = async (service: string): Promise<string> => {
  const r = await cli(["backup", "--service", service, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).set as string;
};
const restore = (set: string, service: string) => cli(["restore", "--set", set, "--service", service, "--yes"]);
const running = async () => {
  const { stdout } = await run("docker", ["ps", "-a", "--filter", `label=com.docker.compose.project=${stack.project}`, "--format", "{{.Names}} {{.State}}"]);
  return stdout.trim().split("\n").sort();
};
/** One clear line: no stack trace, no minified source. */
const clean = (r: CliRun) => {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/node:internal|\.ts:\d+:\d+/);
};
/** Runs the CLI and sends one SIGINT `delayMs` after stderr first shows `marker`. */
const interrupted = (args: string[], marker: string, delayMs: number) =>
  new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "../../src/main.ts"), ...args, "--app", stack.project, "--target", target], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes(marker)) {
        sent = true;
        setTimeout(() => child.kill("SIGINT"), delayMs);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
const redisGet = (key: string) => stack.exec("cache", ["redis-cli", "GET", key]);

beforeAll(async () => {
  target = await mkdtemp(join(tmpdir(), "sdb-bat-target-"));
  cwd = await mkdtemp(join(tmpdir(), "sdb-bat-cwd-"));
  await stack.up();
  await stack.exec("app", ["sh", "-ec", "mkdir -p /srv/files/sub && echo v1 > /srv/files/keep.txt && echo a > /srv/files/sub/a"]);
  for (let i = 0; i < 50; i++) if ((await stack.exec("cache", ["redis-cli", "PING"]).catch(() => "")).trim() === "PONG") break;
  await stack.exec("cache", ["redis-cli", "SET", "k", "v1"]);
}, 180_000);

afterAll(async () => {
  await stack.down();
  await rm(target, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
}, 120_000);

describe("hostile volume sets (sha256 and size valid)", () => {
  const all = ["app running", "cache running"].map((s) => expect.stringMatching(new RegExp(`_${s.split(" ")[0]}_1 ${s.split(" ")[1]}$`)));

  it("case 1: a hard link to a missing file is refused by verify and restore; the volume is not emptied", async () => {
    const set = await backup("app");
    await forgeItem(target, stack.project, set, "app", await tarOf([
      { name: "srv/files/", type: "directory" }, { name: "srv/files/x.txt", body: "x" }, { name: "srv/files/h", type: "link", linkname: "srv/files/missing" },
    ]));
    const before = await files();
    const v = await cli(["verify", "--set", set, "--json"]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/hard link to srv\/files\/missing, which is not a file earlier in the archive/);
    const r = await restore(set, "app");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unsafe entry "srv\/files\/h" in volume archive: hard link/);
    clean(r);
    expect(await files()).toBe(before);
    expect(await running()).toEqual(all);
  }, 120_000);

  it("case 3: a symlink chain leading out of the volume is refused and nothing is written through it", async () => {
    const set = await backup("app");
    await forgeItem(target, stack.project, set, "app", await tarOf([
      { name: "srv/files/", type: "directory" }, { name: "srv/files/sub/", type: "directory" },
      { name: "srv/files/sub/l", type: "symlink", linkname: "/srv/files" }, { name: "srv/files/m", type: "symlink", linkname: "sub/l/../../etc" },
      { name: "srv/files/m/sdb-pwned", body: "pwned" },
    ]));
    const before = await files();
    const r = await restore(set, "app");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unsafe entry "srv\/files\/m\/sdb-pwned" in volume archive: it would be written through the symbolic link srv\/files\/m/);
    clean(r);
    expect(await stack.exec("app", ["sh", "-c", "ls /etc/sdb-pwned /srv/etc 2>&1 || true"])).toMatch(/No such file/);
    expect(await files()).toBe(before);
    expect(await running()).toEqual(all);
  }, 120_000);

  it("case 4: a set claiming a path that is not the service's (/usr/local/bin) is refused before anything is read", async () => {
    const set = await backup("app");
    await forgeItem(target, stack.project, set, "app", await tarOf([
      { name: "usr/local/bin/", type: "directory" }, { name: "usr/local/bin/evil", body: "#!/bin/sh\necho evil\n", mode: 0o755 },
    ]), { paths: ["/usr/local/bin"] });
    const r = await restore(set, "app");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/names the path "\/usr\/local\/bin", which is neither a path detected for the service today \(\/srv\/files\) nor on one of its volumes/);
    clean(r);
    expect(await stack.exec("app", ["sh", "-c", "ls /usr/local/bin/evil 2>&1 || true"])).toMatch(/No such file/);
    expect(await running()).toEqual(all);
  }, 120_000);

  it("links are data: a link pointing out of the volume is restored as a link; no staging directory is left", async () => {
    const set = await backup("app");
    await forgeItem(target, stack.project, set, "app", await tarOf([
      { name: "srv/files/", type: "directory" }, { name: "srv/files/new.txt", body: "new" }, { name: "srv/files/out", type: "symlink", linkname: "/etc" },
      { name: "srv/files/h", type: "link", linkname: "srv/files/new.txt" },
    ]));
    const r = await restore(set, "app");
    expect(r.code, r.stderr).toBe(0);
    expect(await files()).toMatch(/^\.\/h [0-9a-f]{16}\n\.\/new\.txt [0-9a-f]{16}\n\.\/out -> \/etc\n$/);
    expect(await stack.exec("app", ["ls", "-A", "/srv/files"])).not.toMatch(/sdbackup/);
    expect(await running()).toEqual(all);
  }, 120_000);

  it("a cut tar gives one clear line naming where it stops, and verify --json still prints one document", async () => {
    await stack.exec("app", ["sh", "-ec", "rm -rf /srv/files/* && echo v1 > /srv/files/keep.txt"]);
    const set = await backup("app");
    const whole = await tarOf([{ name: "srv/files/", type: "directory" }, { name: "srv/files/big", body: "y".repeat(20_000) }]);
    await forgeItem(target, stack.project, set, "app", whole.subarray(0, 4096));
    const v = await cli(["verify", "--set", set, "--json"]);
    expect(v.code).toBe(1);
    expect(() => JSON.parse(v.stdout)).not.toThrow();
    expect(v.stdout).toMatch(/cut short or corrupt after the entry \\"srv\/files\/big\\"/);
    const r = await restore(set, "app");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the volume archive is cut short or corrupt after the entry "srv\/files\/big"/);
    clean(r);
    expect(await files()).toMatch(/^\.\/keep\.txt /);
  }, 120_000);

  it("a decompression bomb is refused by the size recorded at backup; the volume is untouched", async () => {
    await stack.exec("app", ["sh", "-ec", "rm -rf /srv/files/* && echo v1 > /srv/files/keep.txt"]);
    const set = await backup("app");
    await forgeItem(target, stack.project, set, "app", await tarOf([{ name: "srv/files/", type: "directory" }, { name: "srv/files/zeros", body: "\0".repeat(8 << 20) }]));
    const before = await files();
    const r = await restore(set, "app");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/app\.tar\.zst inflates to more than the \d+ bytes recorded at backup/);
    clean(r);
    expect(await files()).toBe(before);
    expect(await running()).toEqual(all);
  }, 120_000);

  it("case 7: Ctrl-C during a volume restore exits 130 without a stack trace and says the old content is unchanged", async () => {
    await stack.exec("app", ["sh", "-ec", "rm -rf /srv/files/* && head -c 120000000 /dev/urandom > /srv/files/big.bin && echo v2 > /srv/files/keep.txt"]);
    const set = await backup("app");
    await stack.exec("app", ["sh", "-ec", "echo v3 > /srv/files/keep.txt"]);
    const before = await files();
    // interrupt once the apply pass has started writing into the staging directory
    const r = await interrupted(["restore", "--set", set, "--service", "app", "--yes"], "app: restoring with volume", 400);
    expect(r.code, r.stderr).toBe(130);
    clean(r);
    expect(r.stderr).toMatch(/restore stopped before the swap: the old content of \/srv\/files is unchanged/);
    expect(await files()).toBe(before);
    expect(await stack.exec("app", ["ls", "-A", "/srv/files"])).not.toMatch(/sdbackup/);
    expect(await running()).toEqual(all);
  }, 180_000);
});

describe("hostile Redis sets", () => {
  /** A real redis:7 RDB holding a=b, with `version` and a CRC-64 recomputed, so it passes every check. */
  const rdb = (version: string) => {
    const body = Buffer.from("524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65c231d60b6bfa08757365642d6d656dc2c0540e00fa08616f662d62617365c000fe00fb01000001610162ff", "hex");
    body.write(version, 5, "latin1");
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(body));
    return Buffer.concat([body, crc]);
  };

  it("case 2: a cut RDB is refused before the server is touched; the old data stays", async () => {
    const set = await backup("cache");
    await forgeItem(target, stack.project, set, "cache", rdb("0010").subarray(0, 40));
    const r = await restore(set, "cache");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the Redis RDB file is cut short/);
    clean(r);
    expect((await redisGet("k")).trim()).toBe("v1");
  }, 120_000);

  it("case 2: an RDB the server cannot load gets the previous files put back and the server running again", async () => {
    const set = await backup("cache");
    await forgeItem(target, stack.project, set, "cache", rdb("0099"));
    const r = await restore(set, "cache");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not load the restored RDB; the previous data was put back and the server is running again/);
    clean(r);
    expect((await redisGet("k")).trim()).toBe("v1");
    expect(await stack.exec("cache", ["ls", "-A", "/data"])).not.toMatch(/sdbackup/);
    expect((await running()).every((l) => l.endsWith(" running"))).toBe(true);
  }, 180_000);
});

/** The target holds only committed sets: no tmp file of an interrupted or failed run. */
it("leaves no temporary file in the target", async () => {
  const walk = async (dir: string): Promise<string[]> =>
    (await readdir(dir, { withFileTypes: true })).flatMap((e) => (e.isDirectory() ? [] : [e.name])).concat(
      ...(await Promise.all((await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => walk(join(dir, e.name))))),
    );
  expect((await walk(target)).filter((n) => /\.tmp-/.test(n))).toEqual([]);
});
