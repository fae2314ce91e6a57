import { isDatabaseImage } from "../../../src/strategies/index.ts";
import { describe, expect, it } from "vitest";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { DockerApi, ExecOptions } from "../../../src/docker/types.ts";
import type { RunContext } from "../../../src/strategies/types.ts";
import { IntegrityError } from "../../../src/errors.ts";
import { configFileText, mongo as mongoStrategy } from "../../../src/strategies/mongo.ts";
import type { Strategy } from "../../../src/strategies/types.ts";
import { container, detection, runContext, service } from "../../helpers/builders.ts";

const mongo: Strategy = mongoStrategy;

/*
 * No MongoDB image can be built here, so these tests pin down what sdbackup asks the container to
 * run: argv, the config file it puts in first, and its removal. The fake engine below only records
 * calls; it proves nothing about mongodump itself (test/strategies/mongo.test.ts does, with an image).
 */

const SECRET = 'Mongo "pass" #1\\ok';
const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);

interface Put {
  dir: string;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  content: string;
}

function fakeDocker(opts: { failStream?: boolean } = {}) {
  const calls: { kind: string; argv: string[]; env?: Record<string, string> }[] = [];
  const puts: Put[] = [];
  const api: Partial<DockerApi> = {
    async exec(_id, argv, o: ExecOptions) {
      calls.push({ kind: "exec", argv, ...(o.env ? { env: o.env } : {}) });
      const out = argv[0] === "id" ? "uid=999(mongodb) gid=998(mongodb) groups=998(mongodb)\n" : "";
      return { exitCode: 0, stdout: Buffer.from(out), stderr: "" };
    },
    execStream(_id, argv, o: ExecOptions) {
      calls.push({ kind: "execStream", argv, ...(o.env ? { env: o.env } : {}) });
      o.stdin?.resume();
      if (opts.failStream) {
        const s = new Readable({ read() {} });
        setImmediate(() => s.destroy(new Error("mongodump exited 1")));
        return s;
      }
      return Readable.from([MAGIC, Buffer.from("rest of the archive")]);
    },
    async putArchive(_id, dir, archive) {
      const extract = tar.extract();
      extract.on("entry", (h, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: unknown) => void chunks.push(c as Buffer));
        stream.on("end", () => {
          puts.push({ dir, name: h.name, mode: h.mode, uid: h.uid, gid: h.gid, content: Buffer.concat(chunks).toString() });
          next();
        });
      });
      await pipeline(archive, extract as unknown as Writable);
    },
  };
  return { api: api as DockerApi, calls, puts };
}

function ctx(docker: DockerApi, environment: Record<string, string>, labels: Record<string, string> = {}): RunContext {
  return runContext({
    docker, service: service("db", { image: "mongo:7", environment, labels }), container: container("db", { image: "mongo:7" }),
    isDatabaseImage, signal: AbortSignal.timeout(5_000), detection: detection("mongo", { confidence: 0.95 }),
  });
}

const ROOT_ENV = { MONGO_INITDB_ROOT_USERNAME: "admin", MONGO_INITDB_ROOT_PASSWORD: SECRET };

describe("mongo backup", () => {
  it("runs mongodump --archive as the root user, with the password only in a 0600 config file", async () => {
    const fake = fakeDocker();
    const stream = await mongo.backup(ctx(fake.api, ROOT_ENV));
    expect(Buffer.concat(await stream.toArray()).subarray(0, 4)).toEqual(MAGIC);
    await new Promise((r) => setImmediate(r));

    expect(fake.puts).toHaveLength(1);
    const put = fake.puts[0]!;
    expect(put).toMatchObject({ dir: "/tmp", mode: 0o600, uid: 999, gid: 998, content: configFileText(SECRET) });
    expect(put.name).toMatch(/^\.sdbackup-mongo-[0-9a-f]{12}\.yaml$/);
    const path = `/tmp/${put.name}`;

    const dump = fake.calls.find((c) => c.kind === "execStream")!;
    expect(dump.argv).toEqual(["mongodump", "--archive", "--username", "admin", "--authenticationDatabase", "admin", "--config", path]);
    expect(fake.calls.at(-1)).toMatchObject({ kind: "exec", argv: ["rm", "-f", path] });
    for (const c of fake.calls) {
      expect(c.argv.join(" ")).not.toContain("Mongo");
      expect(c.env ?? {}).toEqual({});
    }
  });

  it("dumps one labelled database and reads Bitnami's variables (user root by default)", async () => {
    const fake = fakeDocker();
    const stream = await mongo.backup(ctx(fake.api, { MONGODB_ROOT_PASSWORD: "bitnami-pw" }, { "simpledeploy.backup.databases": "shop" }));
    await stream.toArray();
    const dump = fake.calls.find((c) => c.kind === "execStream")!;
    expect(dump.argv.slice(0, 6)).toEqual(["mongodump", "--archive", "--username", "root", "--authenticationDatabase", "admin"]);
    expect(dump.argv.slice(-2)).toEqual(["--db", "shop"]);
  });

  it("without credentials runs plain mongodump and writes no file", async () => {
    const fake = fakeDocker();
    await (await mongo.backup(ctx(fake.api, {}))).toArray();
    expect(fake.puts).toEqual([]);
    expect(fake.calls.map((c) => c.argv)).toEqual([["mongodump", "--archive"]]);
  });

  it("removes the config file when the dump fails", async () => {
    const fake = fakeDocker({ failStream: true });
    const stream = await mongo.backup(ctx(fake.api, ROOT_ENV));
    await expect(stream.toArray()).rejects.toThrow(/mongodump exited 1/);
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.calls.at(-1)?.argv.slice(0, 2)).toEqual(["rm", "-f"]);
  });
});

describe("mongo restore", () => {
  it("pipes the archive into mongorestore --archive --drop and removes the config file afterwards", async () => {
    const fake = fakeDocker();
    await mongo.restore(ctx(fake.api, ROOT_ENV, { "simpledeploy.backup.password-env": "OTHER" }), Readable.from([MAGIC]));
    // the label names a variable that is not set: no password, so no config file and no auth
    expect(fake.calls.map((c) => c.argv)).toEqual([["mongorestore", "--archive", "--drop"]]);

    const fake2 = fakeDocker();
    await mongo.restore(ctx(fake2.api, ROOT_ENV), Readable.from([MAGIC]));
    const path = `/tmp/${fake2.puts[0]!.name}`;
    expect(fake2.calls.map((c) => c.argv)).toEqual([
      ["id"],
      ["mongorestore", "--archive", "--drop", "--username", "admin", "--authenticationDatabase", "admin", "--config", path],
      ["rm", "-f", path],
    ]);
  });
});

describe("mongo config file and archive check", () => {
  it("writes the password as a double-quoted YAML scalar", () => {
    expect(configFileText('a"b\\c\nd')).toBe('password: "a\\"b\\\\c\\nd"\n');
  });

  it("accepts the mongodump archive magic and rejects anything else", async () => {
    await expect(mongo.validate(Readable.from([MAGIC, Buffer.from("x")]), { paths: [] })).resolves.toBeUndefined();
    await expect(mongo.validate(Readable.from([Buffer.from("PGDMP")]), { paths: [] })).rejects.toBeInstanceOf(IntegrityError);
  });
});
