import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Builds dist/sdbackup exactly as `npm run build` does and runs it the way a user without Node would:
// from an empty directory, with a bare environment. Catches what only breaks once bundled: a module
// that cannot be bundled, eager loading of optional native addons, warnings on stderr.

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = path.join(root, "dist", "sdbackup");
const version: string = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version;
const nodeWarning = /\(node:\d+\)|[A-Za-z]+Warning:|cpu-features|sshcrypto/;
let tmp: string;

function run(argv: string[], env: Record<string, string> = {}) {
  const r = spawnSync(bin, argv, {
    cwd: path.join(tmp, "empty"),
    env: { PATH: path.join(tmp, "nobin"), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sdbackup-binary-test-"));
  mkdirSync(path.join(tmp, "empty"));
  mkdirSync(path.join(tmp, "nobin"));
  const build = spawnSync(process.execPath, ["build.mjs"], { cwd: root, encoding: "utf8", timeout: 180_000 });
  expect(build.status, `build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
}, 200_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("dist/sdbackup (single binary)", () => {
  it("prints the package version and nothing on stderr, with nothing on PATH", () => {
    const r = run(["--version"]);
    expect(r).toEqual({ status: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("runs detect on a compose file without Docker", () => {
    const file = path.join(tmp, "compose.yaml");
    writeFileSync(file, "name: binsmoke\nservices:\n  db:\n    image: postgres:15\n    volumes: [pgdata:/var/lib/postgresql/data]\nvolumes:\n  pgdata: {}\n");
    const r = run(["detect", "--json", "-f", file], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(r.stderr).not.toMatch(nodeWarning);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { project: string; services: { service: string; strategy?: string }[] };
    expect(doc.project).toBe("binsmoke");
    expect(doc.services.map((s) => [s.service, s.strategy])).toEqual([["db", "postgres"]]);
  });

  it("loads the bundled Docker client without warnings and reports an unreachable engine as a Docker error", () => {
    const r = run(["detect", "--app", "binsmoke"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(r.stderr).not.toMatch(nodeWarning);
    expect(r.stderr).not.toMatch(/bug in sdbackup/);
    expect(r.status, r.stderr).toBe(1);
  });

  it("talks to the Docker engine through the bundled client", () => {
    // The default socket, as a user's shell has it; CI provides the engine (this test must not skip).
    const app = `sdbackup-binary-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const r = run(["detect", "--app", app]);
    expect(r.stderr).not.toMatch(nodeWarning);
    expect(r.stderr).toMatch(/no compose project "sdbackup-binary-test-.*" \(running compose projects: /);
    expect(r.status, r.stderr).toBe(2);
  });
});
