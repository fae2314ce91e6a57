import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { IntegrityError } from "../../../../src/errors.ts";
import { archiveDatabase, checkedArchive, validateArtifact } from "../../../../src/strategies/postgres/archive.ts";
import { postgres } from "../../../../src/strategies/postgres.ts";

/** A custom-format header as pg_dump writes it (pg_backup_archiver.c WriteHead), then some TOC bytes. */
function header(db: string, minor = 14, opts: { format?: number; intSize?: number } = {}): Buffer {
  const intSize = opts.intSize ?? 4;
  const int = (n: number) => {
    const b = Buffer.alloc(1 + intSize);
    b[0] = n < 0 ? 1 : 0;
    for (let i = 0, v = Math.abs(n); i < intSize; i++, v = Math.floor(v / 256)) b[1 + i] = v % 256;
    return b;
  };
  const str = (s: string) => Buffer.concat([int(Buffer.byteLength(s)), Buffer.from(s)]);
  const compression = minor >= 15 ? Buffer.from([0]) : int(0);
  return Buffer.concat([
    Buffer.from("PGDMP"), Buffer.from([1, minor, 0, intSize, 8, opts.format ?? 1]), compression,
    ...[53, 5, 10, 29, 10, 126, 0].map(int), str(db), str("15.18"), str("15.18"), Buffer.alloc(64, 7),
  ]);
}
const part = (name: string) => ({ kind: "database" as const, name });
const validate = (bytes: Buffer, item: Parameters<typeof postgres.validate>[1]) => postgres.validate(Readable.from([bytes]), item);

describe("postgres archive header", () => {
  it("reads the database name of archive versions 1.14 (pg 15) and 1.15+ (pg 16+), any name", () => {
    expect(archiveDatabase(header("app"))).toBe("app");
    expect(archiveDatabase(header("other db", 15))).toBe("other db");
    expect(archiveDatabase(header("ünïcode \"x\"", 16, { intSize: 8 }))).toBe("ünïcode \"x\"");
  });

  it("reads a header pg_dump 15 wrote (bytes as dumped from postgres:15)", () => {
    const real = Buffer.from("5047444d50010e000408010000000000000e000000000a000000000a000000001d000000000a000000007e000000000000000000080000006f74686572206462001e00000031352e", "hex");
    expect(archiveDatabase(real)).toBe("other db");
  });

  it("refuses a header cut short, another archive format, or a database name past the header", () => {
    expect(() => archiveDatabase(header("app").subarray(0, 30))).toThrow(/cut short/);
    expect(() => archiveDatabase(header("app", 14, { format: 3 }))).toThrow(/not a pg_dump custom-format archive/);
    const long = header("app");
    long.writeUInt8(0xff, 55); // the name's length, now past the bytes there are
    expect(() => archiveDatabase(long)).toThrow(IntegrityError);
  });
});

describe("postgres validate against the manifest item", () => {
  it("accepts a dump of the database the part names; refuses another database's, naming both", async () => {
    await expect(validate(header("app"), { paths: [], part: part("app") })).resolves.toBeUndefined();
    await expect(validate(header("other"), { paths: [], part: part("app") })).rejects.toThrow('the artifact is a dump of database "other", but the set names database "app"');
  });

  it("a globals part must be a globals dump and a database part a custom archive; older items either", async () => {
    const globals = Buffer.from("--\n-- PostgreSQL database cluster dump\n--\n\nSET x;\n");
    await expect(validate(globals, { paths: [], part: { kind: "globals", name: "globals" } })).resolves.toBeUndefined();
    await expect(validate(header("app"), { paths: [], part: { kind: "globals", name: "globals" } })).rejects.toThrow(/not a pg_dumpall globals dump/);
    await expect(validate(globals, { paths: [], part: part("app") })).rejects.toThrow(/not a pg_dump custom-format archive/);
    await expect(validate(header("anything"), { paths: [] })).resolves.toBeUndefined();
    await expect(validate(globals, { paths: [] })).resolves.toBeUndefined();
  });

  it("drains the whole artifact (the caller hashes the same bytes)", async () => {
    let read = 0;
    const chunks = [header("app"), Buffer.alloc(100_000), Buffer.alloc(100_000)];
    const input = Readable.from((function* () {
      for (const c of chunks) {
        read += c.length;
        yield c;
      }
    })());
    await validateArtifact(input, part("app"));
    expect(read).toBe(chunks.reduce((n, c) => n + c.length, 0));
  });
});

describe("postgres restore input check", () => {
  const body = (db: string) => [header(db), Buffer.alloc(10_000, 1), Buffer.alloc(3, 2)];
  const all = async (r: Readable) => {
    const out: Buffer[] = [];
    for await (const c of r as AsyncIterable<Buffer>) out.push(c);
    return Buffer.concat(out);
  };

  it("hands on every byte of a dump of the part's database, head first", async () => {
    const input = Readable.from(body("app"));
    expect((await all(await checkedArchive(input, part("app")))).equals(Buffer.concat(body("app")))).toBe(true);
    const tiny = header("app").subarray(0, 80);
    expect((await all(await checkedArchive(Readable.from([tiny]), part("app")))).equals(tiny)).toBe(true);
  });

  it("refuses another database's dump before handing on anything, and lets go of the input", async () => {
    const input = Readable.from(body("other"));
    await expect(checkedArchive(input, part("app"))).rejects.toThrow('dump of database "other", but the set names database "app"');
    expect(input.destroyed).toBe(true);
  });

  it("leaves globals and older items to their own checks", async () => {
    const input = Readable.from([Buffer.from("x")]);
    expect(await checkedArchive(input, { kind: "globals", name: "globals" })).toBe(input);
    expect(await checkedArchive(input, undefined)).toBe(input);
  });
});
