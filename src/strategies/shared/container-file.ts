import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { DockerApi } from "../../docker/types.ts";
import { StrategyError } from "../../errors.ts";

/**
 * Single files in and out of containers through the archive API, which needs no shell or tar in the
 * image and works on stopped and paused containers. Nothing here holds a whole file in memory.
 */

/** Owner and permissions of a path inside a container, from its archive header. */
export interface PathStat {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

/** One entry of a tar built by {@link packEntries}; `body` is opened only when the entry is written. */
export interface PackEntry {
  name: string;
  type?: "file" | "directory";
  size?: number;
  mode: number;
  uid: number;
  gid: number;
  body?: () => Promise<Readable> | Readable;
}

/** Header of `path` (the first archive entry) without reading its data; undefined when absent. */
export async function statPath(docker: DockerApi, id: string, path: string, signal: AbortSignal): Promise<PathStat | undefined> {
  let archive: Readable;
  try {
    archive = await docker.getArchive(id, path, { signal });
  } catch (err) {
    if (signal.aborted) throw err;
    return undefined;
  }
  const extract = tar.extract();
  const onError = () => {};
  archive.on("error", onError);
  extract.on("error", onError);
  try {
    return await new Promise<PathStat | undefined>((resolve, reject) => {
      extract.once("entry", (h) => resolve(toStat(h)));
      extract.once("finish", () => resolve(undefined));
      archive.once("error", reject);
      extract.once("error", reject);
      archive.pipe(extract as unknown as Writable);
    });
  } finally {
    archive.unpipe(extract as unknown as Writable);
    archive.destroy();
    extract.destroy();
  }
}

/**
 * The bytes of the regular file `path`, streamed out of the container. The stream ends only after
 * the whole archive was read without error; a missing path or a non-file rejects.
 */
export async function openContainerFile(docker: DockerApi, id: string, path: string, signal: AbortSignal): Promise<{ stat: PathStat; body: Readable }> {
  const archive = await docker.getArchive(id, path, { signal });
  const extract = tar.extract();
  const body = new PassThrough();
  body.once("close", () => archive.destroy());
  return new Promise((resolve, reject) => {
    let seen = false;
    extract.on("entry", (header, stream, next) => {
      stream.on("end", () => next());
      if (seen) return void stream.resume();
      seen = true;
      if (header.type !== "file") {
        stream.resume();
        const err: Error = new StrategyError(`${path} in the container is not a regular file (${header.type})`);
        reject(err);
        return void extract.destroy(err);
      }
      resolve({ stat: toStat(header), body });
      copyInto(stream as unknown as AsyncIterable<Buffer>, body).catch((err: unknown) => extract.destroy(err as Error));
    });
    pipeline(archive, extract as unknown as Writable).then(
      () => (seen ? body.end() : reject(new StrategyError(`${path} in the container is empty or missing`))),
      (err: unknown) => {
        reject(err);
        body.destroy(err as Error);
      },
    );
  });
}

/**
 * A tar stream of `entries`, written one after the other with backpressure. When the consumer
 * destroys the stream, the entry being written is abandoned and the producer's sources closed.
 */
export function packEntries(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): Readable {
  const pack = tar.pack();
  const out = Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
  const run = async () => {
    for await (const e of entries) {
      const header: Partial<tar.Header> & { name: string } = { name: e.name, type: e.type ?? "file", mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date() };
      if (e.type === "directory" || !e.body) {
        pack.entry(header);
        continue;
      }
      header.size = e.size ?? 0;
      const body = await e.body();
      try {
        await writeEntry(pack, out, header, body);
      } catch (err) {
        body.destroy();
        throw err;
      }
    }
    pack.finalize();
  };
  run().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

/** Writes one file into the existing directory `dir` of the container. */
export async function putContainerFile(docker: DockerApi, id: string, dir: string, entry: PackEntry, signal: AbortSignal): Promise<void> {
  await docker.putArchive(id, dir, packEntries([entry]), { signal });
}

/** A private host directory (mode 0700) for spooled files, removed by `cleanup`. */
export async function spoolDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "sdbackup-spool-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `input` to the host file `path` (mode 0600) and returns its size. */
export async function spoolTo(input: Readable, path: string, signal: AbortSignal): Promise<number> {
  let size = 0;
  const count = new PassThrough();
  count.on("data", (c: Buffer) => (size += c.length));
  await pipeline(input, count, createWriteStream(path, { mode: 0o600 }), { signal });
  return size;
}

export function readSpooled(path: string): Readable {
  return createReadStream(path);
}

// --- internal ---

function toStat(h: Partial<tar.Header>): PathStat {
  return { type: h.type ?? "file", mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0 };
}

/** Resolves when the entry is in the archive; a consumer that goes away rejects (the entry would never finish). */
function writeEntry(pack: tar.Pack, out: Readable, header: Partial<tar.Header> & { name: string }, body: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onClose = () => reject(new Error("the archive's reader went away"));
    if (out.destroyed) return onClose();
    out.once("close", onClose);
    const sink = pack.entry(header, (err) => {
      out.off("close", onClose);
      if (err) reject(err);
      else resolve();
    });
    body.once("error", reject);
    body.pipe(sink as unknown as Writable);
  });
}

/** Copies with backpressure; a destroyed destination stops the copy with an error. */
async function copyInto(src: AsyncIterable<Buffer>, dest: PassThrough): Promise<void> {
  for await (const chunk of src) {
    if (dest.destroyed) throw new Error("output closed");
    if (dest.write(chunk)) continue;
    await new Promise<void>((resolve) => {
      const done = () => {
        dest.off("drain", done).off("close", done);
        resolve();
      };
      dest.on("drain", done).on("close", done);
    });
  }
}

/** A small regular file's bytes (secrets, configs), or undefined when missing, not a file or too large. */
export async function readContainerFile(docker: DockerApi, id: string, path: string, signal: AbortSignal, maxBytes = 64 * 1024): Promise<Buffer | undefined> {
  let opened: { stat: PathStat; body: Readable };
  try {
    opened = await openContainerFile(docker, id, path, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return undefined;
  }
  if (opened.stat.size > maxBytes) {
    opened.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
