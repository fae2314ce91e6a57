import { isDatabaseImage } from "../../src/strategies/index.ts";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStrategy } from "./conformance.ts";
import { docker, removeContainers, requireDocker, shell, startContainer } from "../helpers/docker.ts";
import type { Stack } from "../helpers/compose.ts";
import { imageRepo } from "../../src/compose/image.ts";
import { connect } from "../../src/docker/client.ts";
import type { DockerApi } from "../../src/docker/types.ts";
import type { RunContext } from "../../src/strategies/types.ts";
import { mongo } from "../../src/strategies/mongo.ts";
import { createSecretRegistry } from "../../src/strategies/shared/secrets.ts";
import { silentLogger } from "../../src/ui/logger.ts";

/*
 * No MongoDB image can be built on the machines this suite was written on (no registry access). The
 * round trip runs wherever a local `mongo` image exists (SDBACKUP_TEST_MONGO_IMAGE picks one) and
 * otherwise shows up as one skipped test saying so — or fails when SDBACKUP_TEST_REQUIRE lists
 * `mongo`. The argv and config file are unit-tested in
 * test/unit/strategies/mongo.test.ts either way.
 */
const dir = join(import.meta.dirname, "mongo");
const SECRET = "Mongo-Conformance-Secret-1";

const local = (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => imageRepo(t) === "mongo");
const image = process.env.SDBACKUP_TEST_MONGO_IMAGE ?? local[0];

/** mongosh, or the legacy mongo shell of images before 6.0, as root against appdb. */
const mongoShell = (stack: Stack, js: string) =>
  stack.exec("db", [
    "sh", "-c", 'if command -v mongosh >/dev/null; then exec mongosh "$@"; else exec mongo "$@"; fi', "sh",
    "--quiet", "-u", "root", "-p", SECRET, "--authenticationDatabase", "admin", "appdb", "--eval", js,
  ]);

const required = (process.env.SDBACKUP_TEST_REQUIRE ?? "").split(",").map((s) => s.trim());
if (!image && required.includes("mongo")) {
  // A CI that has a mongo image names it here, so a lost image fails instead of silently skipping.
  describe("strategy conformance: mongo", () => {
    it("mongo round trip is required (SDBACKUP_TEST_REQUIRE) but no local mongo image exists", () => {
      throw new Error("no local mongo image: load one or set SDBACKUP_TEST_MONGO_IMAGE");
    });
  });
} else if (!image) {
  console.warn("mongo round trip NOT run: no local mongo image (set SDBACKUP_TEST_MONGO_IMAGE or load one)");
  describe("strategy conformance: mongo", () => {
    it.skip("mongo round trip needs a local mongo image (none found; set SDBACKUP_TEST_MONGO_IMAGE or load one)", () => {});
  });
} else {
  process.env.SDBACKUP_TEST_MONGO_IMAGE = image;
  describeStrategy({
    strategy: "mongo",
    name: `mongo (${image})`,
    compose: join(dir, "compose.yaml"),
    service: "db",
    async ready(stack) {
      const deadline = Date.now() + 120_000;
      let last = "";
      while (Date.now() < deadline) {
        try {
          // the entrypoint runs a temporary server for the init scripts; the real one is PID 1
          if ((await stack.exec("db", ["cat", "/proc/1/comm"])).trim() === "mongod" && (await mongoShell(stack, "db.runCommand({ ping: 1 }).ok")).trim() === "1") return;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`mongo did not become ready: ${last}`);
    },
    seed: (stack) => mongoShell(stack, "db.items.insertMany(Array.from({ length: 1000 }, (_, i) => ({ n: i, v: 'row ' + i, k: i % 7 }))); db.items.createIndex({ v: 1 })"),
    snapshot: (stack) => mongoShell(stack, "JSON.stringify([db.items.countDocuments({}), db.items.find({}, { _id: 0 }).sort({ n: 1 }).toArray(), db.items.getIndexes().map((i) => i.name).sort()])"),
    mutate: (stack) => mongoShell(stack, "db.items.deleteMany({ n: { $mod: [3, 0] } }); db.items.updateMany({ n: { $lt: 20 } }, { $set: { v: 'changed' } }); db.items.dropIndex('v_1')"),
    secret: SECRET,
    wrongCredentials: join(dir, "wrong-password.yaml"),
    missingTool: { override: join(dir, "missing-tool.yaml"), tool: "mongodump" },
  });
}

/*
 * Not a round trip: stand-in mongodump/mongorestore scripts in a debian container that runs as
 * uid 1000. They check what the real tools would need from sdbackup: a --config file readable by
 * the exec user that holds the password, and nothing secret on argv. The file must be gone after.
 */
describe("mongo plumbing against stand-in tools (no MongoDB involved)", () => {
  const FAKE = `#!/bin/sh
cfg=""; for a in "$@"; do [ "$prev" = --config ] && cfg=$a; prev=$a; done
case " $* " in *plumbing-secret*) echo "password on argv" >&2; exit 9;; esac
grep -qx 'password: "plumbing-secret"' "$cfg" || { echo "config file not readable: $cfg" >&2; exit 8; }
case "$0" in
*mongodump) printf '\\155\\342\\231\\201archive' ;;
*) cat > /tmp/restored ;;
esac`;
  let id: string;
  let ctx: RunContext;

  beforeAll(async () => {
    await requireDocker();
    ({ id } = await startContainer({ image: "debian:bookworm", cmd: ["sleep", "infinity"] }));
    const pack = tar.pack();
    for (const name of ["mongodump", "mongorestore"]) pack.entry({ name, mode: 0o755 }, FAKE);
    pack.finalize();
    await docker.getContainer(id).putArchive(pack as unknown as NodeJS.ReadableStream, { path: "/usr/local/bin" });
    const api = await connect(process.env, AbortSignal.timeout(10_000));
    const details = await api.inspect(id, { signal: AbortSignal.timeout(10_000) });
    // docker exec runs as the container's user: make it 1000 for every exec sdbackup does
    const asUser: DockerApi = {
      ...api,
      exec: (cid, argv, o) => api.exec(cid, argv, { user: "1000:1000", ...o }),
      execStream: (cid, argv, o) => api.execStream(cid, argv, { user: "1000:1000", ...o }),
    };
    ctx = {
      docker: asUser, container: details, secrets: createSecretRegistry(), isDatabaseImage, signal: AbortSignal.timeout(60_000), log: silentLogger,
      service: { name: "db", image: "mongo:7", environment: { MONGO_INITDB_ROOT_USERNAME: "root", MONGO_INITDB_ROOT_PASSWORD: "plumbing-secret" }, labels: {}, volumes: [], secrets: [], profiles: [] },
      detection: { strategy: "mongo", source: "image", confidence: 1, paths: [], warnings: [] },
    };
  }, 60_000);

  afterAll(() => removeContainers([id]));

  it("backup and restore pass the password in a config file the exec user can read, then remove it", async () => {
    const out = Buffer.concat(await (await mongo.backup(ctx)).toArray());
    expect(out.subarray(0, 4)).toEqual(Buffer.from([0x6d, 0xe2, 0x99, 0x81]));
    await mongo.restore(ctx, Readable.from([out]));
    expect(await shell(id, "cat /tmp/restored")).toContain("archive");
    await new Promise((r) => setTimeout(r, 200));
    expect(await shell(id, "ls -a /tmp")).not.toMatch(/sdbackup-mongo/);
  }, 60_000);
});
