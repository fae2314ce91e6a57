import { createHash, randomBytes } from "node:crypto";
import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAbortError, TargetError } from "../../src/errors.ts";
import type { ObjectInfo, Target } from "../../src/targets/types.ts";

export interface TargetHarness {
  target: Target;
  cleanup(): Promise<void>;
  /** Partial writes a failed put could leave: `.tmp-` files, open multipart uploads. */
  listLeftovers?(): Promise<string[]>;
  /**
   * Writes objects straight into the backend's storage, for cases about listing many of them: 1,100
   * puts through a network remote cost minutes of CI and test nothing the other cases do not.
   */
  seed?(keys: string[], body: Buffer): Promise<void>;
}

const MiB = 1024 * 1024;
/** Large enough to span several parts of an S3 target configured with 5 MiB parts. */
const BIG = 12 * MiB;
const BAD_KEYS = ["../x", "/abs", "a//b", "a/./b", "a/../b", "a/..", ".", "", "a\\b", "a\0b", "a/"];
const BAD_PREFIXES = ["../", "/abs", "a//b/", "a/./", "a/../b"];

/** The contract of types.ts, run against one Target implementation. */
export function describeTarget(name: string, make: () => Promise<TargetHarness>): void {
  describe(`target conformance: ${name}`, { timeout: 120_000 }, () => {
    let h: TargetHarness;
    let t: Target;
    beforeAll(async () => {
      h = await make();
      t = h.target;
    }, 60_000);
    afterAll(async () => h?.cleanup());

    const opts = () => ({ signal: new AbortController().signal });
    const leftovers = async () => (h.listLeftovers ? h.listLeftovers() : []);
    const expectMissing = async (key: string) =>
      expect(t.get(key, opts())).rejects.toMatchObject({ name: "TargetError", code: "E_NOT_FOUND" });

    it("round-trips bytes and sha256, including an empty object", async () => {
      const p = prefix();
      for (const data of [randomBytes(BIG - 123), Buffer.alloc(0), randomBytes(1)]) {
        const key = `${p}/obj-${data.length}.bin`;
        expect(await t.put(key, chunked(data), opts())).toEqual({ bytes: data.length });
        const back = await collect(await t.get(key, opts()));
        expect(back.length).toBe(data.length);
        expect(sha256(back)).toBe(sha256(data));
      }
    });

    it("overwrites an existing object", async () => {
      const key = `${prefix()}/o.bin`;
      await t.put(key, chunked(randomBytes(300_000)), opts());
      await t.put(key, chunked(Buffer.from("second")), opts());
      expect((await collect(await t.get(key, opts()))).toString()).toBe("second");
      expect((await listAll(t, key)).map((o) => [o.key, o.size])).toEqual([[key, 6]]);
    });

    it("get of a missing key rejects with E_NOT_FOUND", async () => {
      await expectMissing(`${prefix()}/nothing-here`);
      await expect(t.get(`${prefix()}/nothing-here`, opts())).rejects.toBeInstanceOf(TargetError);
    });

    it("lists by prefix, at and between directory boundaries", async () => {
      const p = prefix();
      const keys = [`${p}/a/1`, `${p}/a/2`, `${p}/ab/3`, `${p}/b/4/deep`];
      for (const k of keys) await t.put(k, chunked(Buffer.from(k)), opts());
      const before = Date.now();
      expect(await listKeys(t, `${p}/`)).toEqual(keys);
      expect(await listKeys(t, `${p}/a/`)).toEqual(keys.slice(0, 2));
      expect(await listKeys(t, `${p}/a`)).toEqual(keys.slice(0, 3));
      expect(await listKeys(t, `${p}/a/1`)).toEqual([`${p}/a/1`]);
      expect(await listKeys(t, `${p}/zzz`)).toEqual([]);
      expect(await listKeys(t, `${p}-no/`)).toEqual([]);
      const [first] = await listAll(t, `${p}/a/1`);
      expect(first?.size).toBe(`${p}/a/1`.length);
      expect(first?.modified).toBeInstanceOf(Date);
      expect(Math.abs(first!.modified.getTime() - before)).toBeLessThan(10 * 60_000);
    });

    it("lists more than 1000 objects (pagination)", async () => {
      const p = prefix();
      const keys = Array.from({ length: 1100 }, (_, i) => `${p}/many/${String(i).padStart(4, "0")}`);
      if (h.seed) await h.seed(keys, Buffer.from("x"));
      else await inParallel(keys, 8, (k) => t.put(k, Readable.from([Buffer.from("x")]), opts()));
      const listed = await listKeys(t, `${p}/many/`);
      expect(listed.length).toBe(1100);
      expect(listed).toEqual(keys);
    });

    it("remove is idempotent", async () => {
      const key = `${prefix()}/r/x.bin`;
      await t.remove(key, opts());
      await t.put(key, chunked(Buffer.from("r")), opts());
      await t.remove(key, opts());
      await t.remove(key, opts());
      await expectMissing(key);
      expect(await listKeys(t, key)).toEqual([]);
    });

    it("a source that errors mid-way makes put reject with that error and leaves nothing", async () => {
      const key = `${prefix()}/err.bin`;
      const boom = new Error("source exploded");
      await expect(t.put(key, failingSource(BIG, boom), opts())).rejects.toBe(boom);
      await expectMissing(key);
      expect(await listKeys(t, key)).toEqual([]);
      expect(await leftovers()).toEqual([]);
    });

    it("an abort mid-put rejects and leaves nothing", async () => {
      const key = `${prefix()}/abort.bin`;
      const ac = new AbortController();
      const source = stallingSource(BIG, () => setTimeout(() => ac.abort(), 50));
      const err = await t.put(key, source, { signal: ac.signal }).then(() => undefined, (e: unknown) => e);
      expect(isAbortError(err)).toBe(true);
      expect(source.destroyed).toBe(true);
      expect(getEventListeners(ac.signal, "abort")).toEqual([]);
      await expectMissing(key);
      expect(await leftovers()).toEqual([]);
    });

    it("an abort while reading a get stream makes the stream fail", async () => {
      const key = `${prefix()}/read-abort.bin`;
      await t.put(key, chunked(randomBytes(BIG)), opts());
      const ac = new AbortController();
      const stream = await t.get(key, { signal: ac.signal });
      let read = 0;
      const err = await (async () => {
        for await (const chunk of stream) {
          read += (chunk as Buffer).length;
          ac.abort();
        }
      })().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(read).toBeLessThan(BIG);
    });

    it("an already-aborted signal rejects every method before any I/O", async () => {
      const key = `${prefix()}/pre-aborted`;
      const signal = AbortSignal.abort();
      const source = countingSource(Buffer.from("data"));
      for (const p of [
        t.put(key, source.stream, { signal }),
        t.get(key, { signal }),
        t.remove(key, { signal }),
        listAll(t, key, signal),
      ]) {
        const err = await p.then(() => undefined, (e: unknown) => e);
        expect(isAbortError(err)).toBe(true);
      }
      expect(source.reads()).toBe(0);
      await expectMissing(key);
    });

    it("rejects traversal and malformed keys in every method", async () => {
      for (const key of BAD_KEYS) {
        const source = countingSource(Buffer.from("evil"));
        await expect(t.put(key, source.stream, opts()), key).rejects.toMatchObject({ code: "E_TARGET" });
        await expect(t.get(key, opts()), key).rejects.toMatchObject({ code: "E_TARGET" });
        await expect(t.remove(key, opts()), key).rejects.toMatchObject({ code: "E_TARGET" });
        expect(source.reads(), key).toBe(0);
      }
      for (const p of BAD_PREFIXES) await expect(listAll(t, p), p).rejects.toMatchObject({ code: "E_TARGET" });
    });

    it("leaves no abort listeners behind", async () => {
      const ac = new AbortController();
      const o = { signal: ac.signal };
      const key = `${prefix()}/listeners.bin`;
      await t.put(key, chunked(randomBytes(BIG)), o);
      await collect(await t.get(key, o));
      await listAll(t, key, ac.signal);
      await expect(t.put(`${key}.2`, failingSource(MiB, new Error("x")), o)).rejects.toThrow("x");
      await expect(t.get(`${key}.missing`, o)).rejects.toThrow();
      await t.remove(key, o);
      await t.remove(key, o);
      expect(getEventListeners(ac.signal, "abort")).toEqual([]);
    });
  });
}

// --- internal ---

function prefix(): string {
  return `c-${randomBytes(5).toString("hex")}`;
}

function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

/** The data as 64 KiB chunks, like a real dump stream. */
function chunked(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += 64 * 1024) chunks.push(data.subarray(off, off + 64 * 1024));
  return Readable.from(chunks);
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function listAll(t: Target, p: string, signal = new AbortController().signal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of t.list(p, { signal })) out.push(o);
  return out;
}

async function listKeys(t: Target, p: string): Promise<string[]> {
  return (await listAll(t, p)).map((o) => o.key).sort();
}

/** Emits `bytes` random bytes, then fails with `err`. */
function failingSource(bytes: number, err: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return this.destroy(err);
      const n = Math.min(MiB, bytes - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

/** Emits `bytes` random bytes, calls `onStall`, then never produces again. */
function stallingSource(bytes: number, onStall: () => void): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        if (sent === bytes) onStall();
        sent++;
        return;
      }
      const n = Math.min(MiB, bytes - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

function countingSource(data: Buffer): { stream: Readable; reads(): number } {
  let reads = 0;
  const stream = new Readable({
    read() {
      reads++;
      this.push(data);
      this.push(null);
    },
  });
  return { stream, reads: () => reads };
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}
