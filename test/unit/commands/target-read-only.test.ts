import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopApp, type ShopApp } from "../../helpers/shop-app.ts";
import { failure } from "../../../src/targets/local/fs.ts";

// Issue 11: a backup to a read-only target reported `ENOENT … mkdir` (Node's recursive mkdir hides
// the real errno). It must say so in one line: read-only (EROFS) or permission denied, exit 1.
//
// A real read-only filesystem needs a mount: a read-only tmpfs, mounted as root or through `sudo -n`
// (as .ci/run does its other root work). Under CI the EROFS case must run: being unable to mount
// fails it rather than skipping it. A directory without write permission (EACCES) only stops a
// user other than root, so that case runs for them; the errno texts are checked without a mount.

let cwd: string;
let app: ShopApp;
let ro: string | undefined;
let whyNoMount = "";
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "sdbackup-ro-"));
  app = await shopApp(cwd);
  const mnt = path.join(cwd, "ro");
  await mkdir(mnt);
  try {
    asRoot(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mnt]);
    ro = mnt;
  } catch (err) {
    whyNoMount = String((err as { stderr?: Buffer }).stderr ?? err).trim();
  }
});
afterAll(async () => {
  if (ro) asRoot(["umount", ro]);
  await rm(cwd, { recursive: true, force: true });
});

const asRoot = (argv: string[]) => {
  const [cmd, ...args] = process.getuid?.() === 0 ? argv : ["sudo", "-n", ...argv];
  execFileSync(cmd!, args, { stdio: "pipe" });
};
const backup = (target: string) => app.cli(["backup", "--target", target]).run;
const oneClearLine = (stderr: string, expected: RegExp) => {
  const errors = stderr.split("\n").filter((l) => expected.test(l));
  expect(errors.length, stderr).toBeGreaterThan(0);
  expect(stderr).not.toMatch(/ENOENT|no such file/);
  expect(stderr).not.toMatch(/^\s+at /m);
};

describe("backup to a read-only target", () => {
  it("a read-only filesystem (EROFS): exit 1, one line saying so, for the root and for a directory below it", async (ctx) => {
    if (!ro && process.env.CI !== "true") ctx.skip(`cannot mount a read-only tmpfs here: ${whyNoMount}`);
    expect(ro, `cannot mount a read-only tmpfs: ${whyNoMount}`).toBeDefined();
    for (const target of [ro!, path.join(ro!, "not", "there")]) {
      const r = await backup(target);
      expect(r.code, r.stderr).toBe(1);
      oneClearLine(r.stderr, new RegExp(`target ${ro!.replace(/[/.]/g, "\\$&")}\\S* is read-only \\(EROFS\\)`));
    }
  });

  // root writes through missing permission bits, so only a non-root run can meet EACCES for real
  it.runIf(process.getuid?.() !== 0)("a directory without write permission (EACCES): exit 1, one line saying so (not run as root, which ignores the mode)", async () => {
    const locked = path.join(cwd, "locked");
    await mkdir(locked, { mode: 0o500 });
    try {
      const r = await backup(path.join(locked, "backups"));
      expect(r.code, r.stderr).toBe(1);
      oneClearLine(r.stderr, /target \S*locked\S* is not writable: permission denied \(EACCES\)/);
    } finally {
      await chmod(locked, 0o700);
    }
  });
});

describe("what a local target's errno means, in one line", () => {
  const err = (code: string) => Object.assign(new Error(`${code}: something, mkdir '/x/y'`), { code });
  it.each([
    ["EROFS", "create", "target /b is read-only (EROFS): cannot create k"],
    ["EACCES", "create", "target /b is not writable: permission denied (EACCES): cannot create k"],
    ["EPERM", "remove", "target /b is not writable: permission denied (EPERM): cannot remove k"],
    ["EACCES", "open", "target /b is not readable: permission denied (EACCES): cannot open k"],
    ["EIO", "write", "/b: cannot write k: EIO: something, mkdir '/x/y'"],
  ])("%s on %s", (code, what, message) => {
    expect(failure("/b", what, "k", err(code))).toMatchObject({ name: "TargetError", exitCode: 1, message });
  });
});
