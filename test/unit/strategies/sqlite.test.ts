import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { ComposeService } from "../../../src/compose/model.ts";
import { IntegrityError } from "../../../src/errors.ts";
import { memberName, readSqliteTar } from "../../../src/strategies/sqlite/artifact.ts";
import { dotArg } from "../../../src/strategies/sqlite/backup.ts";
import { packEntries, type PackEntry } from "../../../src/strategies/shared/container-file.ts";
import { sqlite as sqliteStrategy } from "../../../src/strategies/sqlite.ts";
import type { Strategy } from "../../../src/strategies/types.ts";

const sqlite: Strategy = sqliteStrategy;

const DB = Buffer.concat([Buffer.from("SQLite format 3\0", "latin1"), Buffer.alloc(84, 1)]);
const WAL = Buffer.concat([Buffer.from([0x37, 0x7f, 0x06, 0x82]), Buffer.alloc(28, 2)]);

type Member = { name: string; body?: Buffer; type?: "file" | "directory" | "symlink"; linkname?: string };

function archive(members: Member[]): Readable {
  const pack = tar.pack();
  for (const m of members) {
    if (m.type && m.type !== "file") pack.entry({ name: m.name, type: m.type, ...(m.linkname ? { linkname: m.linkname } : {}) });
    else pack.entry({ name: m.name, mode: 0o644 }, m.body ?? DB);
  }
  pack.finalize();
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

const validate = (members: Member[], paths: string[]) => sqlite.validate(archive(members), { paths });

describe("sqlite artifact", () => {
  it("names members after the path without its leading slash", () => {
    expect(memberName("/data/app.db")).toBe("data/app.db");
    expect(memberName("/data/app.db", "-wal")).toBe("data/app.db-wal");
  });

  it("accepts one member per database, with an optional WAL (empty or not) or journal", async () => {
    await expect(validate([{ name: "data/app.db" }], ["/data/app.db"])).resolves.toBeUndefined();
    await expect(validate([{ name: "data/app.db" }, { name: "data/app.db-wal", body: WAL }, { name: "srv/x.db" }, { name: "srv/x.db-journal", body: Buffer.from("any") }], ["/data/app.db", "/srv/x.db"])).resolves.toBeUndefined();
    await expect(validate([{ name: "data/app.db" }, { name: "data/app.db-wal", body: Buffer.alloc(0) }], ["/data/app.db"])).resolves.toBeUndefined();
  });

  it.each([
    ["a member that is no database path", [{ name: "data/app.db" }, { name: "etc/passwd" }], /unexpected entry "etc\/passwd"/],
    ["a path escaping upwards", [{ name: "data/../etc/app.db" }], /unexpected entry/],
    ["a -shm member (never stored)", [{ name: "data/app.db" }, { name: "data/app.db-shm" }], /unexpected entry/],
    ["a symlink", [{ name: "data/app.db", type: "symlink", linkname: "/etc/passwd" }], /not a regular file/],
    ["a database twice", [{ name: "data/app.db" }, { name: "data/app.db" }], /appears twice/],
    ["a database that is missing", [{ name: "data/app.db-wal", body: WAL }], /no copy of \/data\/app.db/],
    ["an empty archive", [], /sqlite archive is empty/],
    ["a member with the wrong header", [{ name: "data/app.db", body: Buffer.from("PGDMP-not-sqlite-at-all") }], /not an SQLite database/],
    ["an empty database member", [{ name: "data/app.db", body: Buffer.alloc(0) }], /is empty/],
    ["a WAL with the wrong header", [{ name: "data/app.db" }, { name: "data/app.db-wal", body: Buffer.from("garbage!") }], /not an SQLite WAL/],
  ] as [string, Member[], RegExp][])("rejects %s", async (_what, members, message) => {
    const err = await validate(members, ["/data/app.db"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(message);
  });

  it("rejects a raw database file (not a tar)", async () => {
    await expect(sqlite.validate(Readable.from([DB]), { paths: ["/data/app.db"] })).rejects.toThrow(IntegrityError);
  });

  it("spools each member to a private file and says which database it belongs to", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sdb-sqlite-unit-"));
    try {
      const members = await readSqliteTar(archive([{ name: "data/app.db" }, { name: "data/app.db-wal", body: WAL }]), ["/data/app.db"], dir);
      expect(members.map(({ path, suffix, size }) => ({ path, suffix, size }))).toEqual([
        { path: "/data/app.db", suffix: "", size: DB.length },
        { path: "/data/app.db", suffix: "-wal", size: WAL.length },
      ]);
      expect(await readFile(members[1]!.file!)).toEqual(WAL);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("sqlite strategy", () => {
  const service = (labels: Record<string, string>): ComposeService => ({ name: "app", environment: {}, labels, volumes: [], secrets: [], profiles: [] });

  it("takes its paths from the label and warns about missing or relative ones", () => {
    expect(sqlite.inspect(service({}), {})).toMatchObject({ paths: [], warnings: [expect.stringMatching(/simpledeploy.backup.paths/)] });
    expect(sqlite.inspect(service({}), { "simpledeploy.backup.paths": "/data/a.db, /data/b.db" })).toEqual({ paths: ["/data/a.db", "/data/b.db"], warnings: [] });
    expect(sqlite.inspect(service({}), { "simpledeploy.backup.paths": "app.db" }).warnings).toEqual([expect.stringMatching(/absolute/)]);
    expect(sqlite.matchImage("sqlite")).toBe(0);
  });

  it("quotes .backup targets for the sqlite3 shell", () => {
    expect(dotArg("/data/.sdbackup-backup.app.db.1a2b")).toBe("'/data/.sdbackup-backup.app.db.1a2b'");
    expect(dotArg("/data/it's here/x")).toBe(`"/data/it's here/x"`);
    expect(dotArg(`/d/a"b\\c'`)).toBe(`"/d/a\\"b\\\\c'"`);
  });
});

describe("packEntries (how database copies are streamed out)", () => {
  it("closes the producer and the open source when the reader goes away mid-entry", async () => {
    let cleanedUp = false;
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(64 * 1024, 1)); // far less than the declared size: the entry stays open
    async function* entries(): AsyncGenerator<PackEntry> {
      try {
        yield { name: "data/app.db", size: 10 << 20, mode: 0o644, uid: 0, gid: 0, body: () => source };
      } finally {
        cleanedUp = true;
      }
    }
    const out = packEntries(entries());
    await new Promise((resolve) => out.once("data", resolve));
    out.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(source.destroyed).toBe(true);
    expect(cleanedUp).toBe(true);
  });

  it("writes entries one after the other into a valid tar", async () => {
    const out = packEntries([
      { name: "data/app.db", size: DB.length, mode: 0o640, uid: 7, gid: 8, body: () => Readable.from([DB]) },
      { name: "data/app.db-wal", size: WAL.length, mode: 0o640, uid: 7, gid: 8, body: () => Readable.from([WAL]) },
    ]);
    const members = await readSqliteTar(out, ["/data/app.db"]);
    expect(members.map((m) => [m.suffix, m.size])).toEqual([["", DB.length], ["-wal", WAL.length]]);
  });
});
