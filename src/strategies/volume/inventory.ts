import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { Inventory } from "../types.ts";

/**
 * A volume archive's inventory, read from the tar stream alone: the number of entries, the bytes
 * of their contents and a sha256 of the sorted entry names (with a `/` after directories and
 * `-> target` after links), so a drill notices a lost, added or renamed file that counts miss.
 */
export async function tarInventory(input: Readable): Promise<Inventory> {
  const names: string[] = [];
  let bytes = 0;
  const extract = tar.extract();
  extract.on("entry", (header, body, next) => {
    const name = header.name.replace(/^\.\//, "").replace(/\/$/, "");
    names.push(header.type === "directory" ? `${name}/` : header.linkname ? `${name} -> ${header.linkname}` : name);
    bytes += header.type === "file" || header.type === "contiguous-file" ? (header.size ?? 0) : 0;
    body.on("end", () => next());
    // A tap torn down mid-entry (the target failed) errors the entry too; the pipeline reports it.
    body.on("error", () => {});
    body.resume();
  });
  await pipeline(input, extract as unknown as Writable);
  names.sort();
  const digest = createHash("sha256").update(names.join("\n")).digest("hex");
  return { counts: { entries: names.length, bytes }, digest, exact: true, how: "read from the archive as it was written" };
}
