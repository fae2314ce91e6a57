import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack } from "../../helpers/compose.ts";
import { sdbackup } from "../../helpers/cli.ts";
import { startRcloneBackend, type RcloneBackend } from "../../helpers/rclone.ts";

// Issue 11 ("a stall timeout on every stream"), on the store's side: a WebDAV server (rclone serve)
// frozen with SIGSTOP mid-upload. The backup to it and to a local directory fails that target alone
// within --stall-timeout, naming it, commits the local set and exits 3; nothing waits for rclone's
// own timeouts (which did not end an upload to a frozen server within two minutes).

const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbfrz");
let dav: RcloneBackend;
let local: string;
let cwd: string;

beforeAll(async () => {
  local = await mkdtemp(join(tmpdir(), "sdb-frz-local-"));
  cwd = await mkdtemp(join(tmpdir(), "sdb-frz-cwd-"));
  [dav] = await Promise.all([startRcloneBackend("webdav"), stack.up()]);
  await stack.exec("files", ["sh", "-c", "head -c 24M /dev/urandom > /srv/files/big"]);
}, 180_000);

afterAll(async () => {
  if (dav?.pid) process.kill(dav.pid, "SIGCONT");
  await stack.down();
  await dav?.stop();
  for (const d of [local, cwd]) if (d) await rm(d, { recursive: true, force: true });
}, 120_000);

/** Starts a backup to the local dir and WebDAV, freezes the server once its upload is under way. */
async function backupThenFreeze(extra: string[]): Promise<{ done: Promise<import("../../helpers/cli.ts").CliRun>; pid: () => number; frozenAt: number }> {
  let pid = 0;
  let running = false;
  const started = Date.now();
  const done = sdbackup(["backup", "--app", stack.project, "--target", local, "--target", dav.url, ...extra, "--json"], {
    cwd, env: dav.env, onSpawn: (p) => { pid = p; running = true; },
  }).finally(() => (running = false));
  // the upload is under way once its temporary file exists
  while (running || Date.now() - started < 2000) {
    if ((await dav.leftovers()).length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(running, "the backup ended before its upload began").toBe(true);
  process.kill(dav.pid!, "SIGSTOP");
  return { done, pid: () => pid, frozenAt: Date.now() };
}

describe("a store that stops answering mid-upload", () => {
  it("one SIGINT ends the run within seconds (exit 130); the temporary object is left for the next run's sweep", async () => {
    const run = await backupThenFreeze([]);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const sent = Date.now();
      process.kill(run.pid(), "SIGINT");
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(Date.now() - sent, "SIGINT must not wait on the frozen store").toBeLessThan(15_000);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      process.kill(dav.pid!, "SIGCONT");
    }
    // the next run's sweep owns it; here it only must not be visible as an object
    for (const f of await dav.leftovers()) await rm(join(dav.dir, f), { force: true });
  }, 120_000);

  it("fails that target within --stall-timeout, commits the other, exit 3", async () => {
    const { done, frozenAt } = await backupThenFreeze(["--stall-timeout", "3s"]);
    try {
      const r = await done;
      expect(r.code, r.stderr).toBe(3);
      expect(Date.now() - frozenAt, "ended by the stall timeout, not by rclone's own").toBeLessThan(45_000);
      const doc = JSON.parse(r.stdout);
      expect(doc.targets.map((t: { status: string }) => t.status)).toEqual(["ok", "failed"]);
      expect(r.stderr).toMatch(/rclone:RT:base: the store took no data for 3s while storing \S+files\.tar\.zst \(--stall-timeout\)/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const v = await sdbackup(["verify", "--set", doc.set, "--target", local, "--json"], { cwd });
      expect(v.code, v.stderr).toBe(0);
    } finally {
      process.kill(dav.pid!, "SIGCONT");
    }
  }, 120_000);
});
