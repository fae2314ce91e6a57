import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { posix } from "node:path";
import tar from "tar-stream";
import type { DockerApi } from "../../docker/types.ts";
import { IntegrityError } from "../../errors.ts";

/**
 * The volume artifact is one tar holding every backed-up path under its own absolute location
 * without the leading slash: `/var/www/html/index.php` is `var/www/html/index.php`. Docker's archive
 * API names entries after the path's basename, so entries are renamed on the way out and back in.
 */

const ALLOWED = new Set(["file", "contiguous-file", "directory", "symlink", "link"]);

/** Streams the paths out of the container, one after the other, as one tar. */
export function packPaths(docker: DockerApi, id: string, paths: readonly string[], signal: AbortSignal): Readable {
  const pack = tar.pack();
  const run = async () => {
    for (const path of paths) {
      const archive = await docker.getArchive(id, path, { signal });
      const from = posix.basename(path);
      const to = path.replace(/^\/+/, "").replace(/\/+$/, "");
      await eachEntry(archive, signal, async (header, body) => {
        header.name = rename(header.name, from, to);
        if (header.type === "link" && header.linkname) header.linkname = rename(header.linkname, from, to);
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
          body.pipe(sink as unknown as Writable);
        });
      });
    }
    pack.finalize();
  };
  run().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
}

/** Rejects absolute or `..` names, device nodes and FIFOs, entries outside the paths, escaping links. */
export async function validateVolumeTar(input: Readable, paths: readonly string[]): Promise<void> {
  const groups = paths.map((p) => p.replace(/^\/+/, "").replace(/\/+$/, ""));
  let entries = 0;
  await eachEntry(input, undefined, async (header, body) => {
    entries++;
    const problem = entryProblem(header, groups);
    body.resume();
    await new Promise((resolve) => body.on("end", resolve));
    if (problem) throw new IntegrityError(`unsafe entry "${header.name}" in volume archive: ${problem}`);
  });
  if (entries === 0 && paths.length > 0) throw new IntegrityError("volume archive is empty");
}

/** Calls `put(path, tar)` for each path's entries, renamed back to Docker's basename layout. */
export async function unpackToPaths(
  input: Readable,
  paths: readonly string[],
  signal: AbortSignal,
  put: (dir: string, archive: Readable) => Promise<void>,
): Promise<void> {
  const groups = paths.map((p) => ({ path: p, name: p.replace(/^\/+/, "").replace(/\/+$/, "") }));
  let current: { name: string; pack: tar.Pack; done: Promise<void> } | undefined;
  const close = async () => {
    if (!current) return;
    current.pack.finalize();
    await current.done;
    current = undefined;
  };
  await eachEntry(input, signal, async (header, body) => {
    const group = groupOf(header.name, groups.map((g) => g.name));
    const g = groups.find((x) => x.name === group)!;
    if (current?.name !== g.name) {
      await close();
      const pack = tar.pack();
      const stream = Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
      current = { name: g.name, pack, done: put(posix.dirname(g.path), stream) };
      current.done.catch(() => {});
    }
    const from = g.name;
    const to = posix.basename(g.path);
    header.name = rename(header.name, from, to);
    if (header.type === "link" && header.linkname) header.linkname = rename(header.linkname, from, to);
    const pack = current.pack;
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      body.pipe(sink as unknown as Writable);
    });
  });
  await close();
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

function rename(name: string, from: string, to: string): string {
  const clean = name.replace(/^\.\//, "");
  if (clean === from || clean === `${from}/`) return clean.replace(from, to);
  if (clean.startsWith(`${from}/`)) return to + clean.slice(from.length);
  throw new IntegrityError(`archive entry "${name}" is not under "${from}"`);
}

function groupOf(name: string, groups: readonly string[]): string | undefined {
  const n = name.replace(/\/+$/, "");
  return groups.filter((g) => n === g || n.startsWith(`${g}/`)).sort((a, b) => b.length - a.length)[0];
}

function entryProblem(header: tar.Header, groups: readonly string[]): string | undefined {
  const name = header.name.replace(/\/+$/, "");
  if (!name || name.startsWith("/")) return "absolute or empty path";
  if (name.split("/").includes("..")) return "path contains ..";
  if (!ALLOWED.has(header.type ?? "file")) return `${header.type} entries are not allowed`;
  const group = groupOf(name, groups);
  if (group === undefined) return "outside the backed-up paths";
  const root = `/${group}`;
  const inside = (p: string) => p === root || p.startsWith(`${root}/`);
  if (header.type === "symlink") {
    const target = header.linkname ?? "";
    const resolved = target.startsWith("/") ? posix.normalize(target) : posix.normalize(posix.join(posix.dirname(`/${name}`), target));
    if (!inside(resolved)) return `symlink points outside ${root} (${target})`;
  }
  if (header.type === "link") {
    const target = (header.linkname ?? "").replace(/\/+$/, "");
    if (target.startsWith("/") || target.split("/").includes("..") || !inside(`/${target}`)) return `hard link points outside ${root}`;
  }
  return undefined;
}
