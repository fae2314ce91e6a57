import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import zlib from "node:zlib";
import tar from "tar-stream";

/**
 * Hostile sets for the battery: the artifact of one item is replaced by `content` (compressed the
 * way the manifest says), and the manifest's sha256 and size are rewritten to match, so integrity
 * checks pass and only the content is malicious. `paths` rewrites what the set claims as well;
 * `part` picks the item of that part (a postgres database) instead of the service's first.
 */
export async function forgeItem(target: string, project: string, set: string, service: string, content: Buffer, over: { paths?: string[]; part?: string } = {}): Promise<void> {
  const file = join(target, project, set, "manifest.json");
  const manifest = JSON.parse(await readFile(file, "utf8")) as { items: { service: string; key: string; compression: string; sha256: string; bytes: number; paths: string[]; part?: { name: string } }[] };
  const item = manifest.items.find((i) => i.service === service && (over.part === undefined || i.part?.name === over.part));
  if (!item) throw new Error(`set ${set} has no item for ${service}`);
  const stored = item.compression === "zstd" ? zlib.zstdCompressSync(content) : item.compression === "gzip" ? zlib.gzipSync(content) : content;
  await writeFile(join(target, item.key), stored);
  item.sha256 = createHash("sha256").update(stored).digest("hex");
  item.bytes = stored.length;
  if (over.paths) item.paths = over.paths;
  await writeFile(file, JSON.stringify(manifest, null, 2));
}

export interface Member {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  linkname?: string;
  body?: string;
  mode?: number;
}

/** A tar of `members` in order (directories 0755, files 0644 unless said). */
export async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  // read while writing: an entry larger than the pack's buffer waits for its reader
  const reading = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const m of members) {
    const type = m.type ?? "file";
    const header = { name: m.name, type, mode: m.mode ?? (type === "directory" ? 0o755 : 0o644), ...(m.linkname ? { linkname: m.linkname } : {}) };
    const body = type === "file" ? (m.body ?? "") : "";
    await new Promise<void>((resolve, reject) => pack.entry(header, body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await reading;
  return Buffer.concat(chunks);
}
