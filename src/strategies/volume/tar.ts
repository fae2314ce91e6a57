import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { posix } from "node:path";
import tar from "tar-stream";
import type { DockerApi } from "../../docker/types.ts";
import { IntegrityError } from "../../errors.ts";
import { EntryChecker, groupName, groupOf } from "./entry-check.ts";

/**
 * The volume artifact is one tar holding every backed-up path under its own absolute location
 * without the leading slash: `/var/www/html/index.php` is `var/www/html/index.php`. Docker's archive
 * API names entries after the path's basename, so entries are renamed on the way out and back in.
 */

/**
 * Streams the paths out of the container, one after the other, as one tar. Each entry is judged by
 * the same rule restore applies (entry-check.ts): a volume restore would refuse fails its backup.
 */
export function packPaths(docker: DockerApi, id: string, paths: readonly string[], signal: AbortSignal): Readable {
  const pack = tar.pack();
  const checker = new EntryChecker(paths);
  const run = async () => {
    for (const path of paths) {
      const archive = await docker.getArchive(id, path, { signal });
      const from = posix.basename(path);
      const to = groupName(path);
      await eachEntry(archive, signal, async (header, body) => {
        header.name = rename(header.name, from, to);
        if (header.type === "link" && header.linkname) header.linkname = rename(header.linkname, from, to);
        const problem = checker.check(header);
        if (problem) {
          throw new IntegrityError(`/${header.name.replace(/\/$/, "")} cannot be backed up: ${problem}, so restore would refuse this archive`, {
            hint: "remove it from the volume, or list only other paths in simpledeploy.backup.paths",
          });
        }
        await writeEntry(pack, header, body);
      });
    }
    pack.finalize();
  };
  run().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
}

/**
 * Rejects what extraction could turn against the container (see entry-check.ts): absolute or `..`
 * names, device nodes and FIFOs, entries outside the paths, anything written through a link, hard
 * links to what is not a file earlier in the archive. A cut archive names the last entry it read.
 */
export async function validateVolumeTar(input: Readable, paths: readonly string[]): Promise<void> {
  const checker = new EntryChecker(paths);
  let entries = 0;
  let last: string | undefined;
  try {
    await eachEntry(input, undefined, async (header, body) => {
      entries++;
      last = header.name;
      const problem = checker.check(header);
      body.resume();
      await new Promise((resolve, reject) => body.on("end", resolve).on("error", reject));
      if (problem) throw new IntegrityError(`unsafe entry "${header.name}" in volume archive: ${problem}`);
    });
  } catch (err) {
    throw asIntegrityError(err, last);
  }
  if (entries === 0 && paths.length > 0) throw new IntegrityError("volume archive is empty");
}

/** Where one backed-up path's entries go: into `dir`, the path's top entry renamed to `top`. */
export interface Placement {
  dir: string;
  top: string;
}

/**
 * Calls `put(dir, tar)` for each path's entries; `place` says where they go from the path and the
 * type of its top entry (directory or file). Every entry is checked again on the way, so a target
 * serving other bytes the second time still cannot make us write through a link.
 */
export async function unpackToPaths(
  input: Readable,
  paths: readonly string[],
  signal: AbortSignal,
  place: (path: string, topType: string) => Placement,
  put: (dir: string, archive: Readable) => Promise<void>,
): Promise<void> {
  const checker = new EntryChecker(paths);
  const groups = paths.map((p) => ({ path: p, name: groupName(p) }));
  let current: { name: string; top: string; pack: tar.Pack; done: Promise<void> } | undefined;
  const close = async () => {
    if (!current) return;
    current.pack.finalize();
    await current.done;
    current = undefined;
  };
  let last: string | undefined;
  try {
    await eachEntry(input, signal, async (header, body) => {
      last = header.name;
      const problem = checker.check(header);
      if (problem) throw new IntegrityError(`unsafe entry "${header.name}" in volume archive: ${problem}`);
      const name = groupOf(clean(header.name), groups.map((g) => g.name))!;
      const g = groups.find((x) => x.name === name)!;
      if (current?.name !== g.name) {
        await close();
        const { dir, top } = place(g.path, header.type ?? "file");
        const pack = tar.pack();
        const stream = Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
        current = { name: g.name, top, pack, done: put(dir, stream) };
        current.done.catch(() => {});
      }
      header.name = rename(clean(header.name), g.name, current.top);
      if (header.type === "link" && header.linkname) header.linkname = rename(clean(header.linkname), g.name, current.top);
      await writeEntry(current.pack, header, body);
    });
    await close();
  } catch (err) {
    current?.pack.destroy();
    await current?.done.catch(() => {});
    throw asIntegrityError(err, last);
  }
}

// --- internal ---

type EntryFn = (header: tar.Header, body: Readable) => Promise<void>;

async function eachEntry(input: Readable, signal: AbortSignal | undefined, fn: EntryFn): Promise<void> {
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    fn(header, stream as unknown as Readable).then(() => next(), (err: unknown) => extract.destroy(err as Error));
  });
  await pipeline(input, extract as unknown as Writable, ...(signal ? [{ signal }] : []));
}

function writeEntry(pack: tar.Pack, header: tar.Header, body: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    // an abort destroys both ends; without listeners that error would crash the process (case 7)
    sink.on("error", reject);
    body.on("error", reject);
    body.pipe(sink as unknown as Writable);
  });
}

/** The name as entry-check.ts judged it: no `./`, no empty or `.` components. */
function clean(name: string): string {
  return name.split("/").filter((p) => p !== "" && p !== ".").join("/");
}

function rename(name: string, from: string, to: string): string {
  const c = name.replace(/^\.\//, "");
  if (c === from || c === `${from}/`) return c.replace(from, to);
  if (c.startsWith(`${from}/`)) return to + c.slice(from.length);
  throw new IntegrityError(`archive entry "${name}" is not under "${from}"`);
}

/** tar-stream's own errors ("Unexpected end of data") become one line naming where it stopped. */
function asIntegrityError(err: unknown, last: string | undefined): unknown {
  // only tar-stream's plain errors: ours are typed, Node's carry a code
  if (!(err instanceof Error) || err.constructor !== Error || "code" in err) return err;
  const where = last === undefined ? "before its first entry" : `after the entry "${last}"`;
  return new IntegrityError(`the volume archive is cut short or corrupt ${where}: ${err.message}`, { cause: err });
}
