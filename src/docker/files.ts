import tar from "tar-stream";
import { pipeline } from "node:stream/promises";
import { Readable, Writable } from "node:stream";
import type { DockerApi } from "./types.ts";

const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Reads a small regular file out of a container through the archive API, which works on stopped
 * containers and on images with no shell. Resolves undefined when the path is missing or not a file.
 */
export async function readContainerFile(docker: DockerApi, id: string, path: string, signal: AbortSignal): Promise<Buffer | undefined> {
  let archive: Readable;
  try {
    archive = await docker.getArchive(id, path, { signal });
  } catch (err) {
    if (signal.aborted) throw err;
    return undefined;
  }
  let content: Buffer | undefined;
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (c: unknown) => {
      if (!Buffer.isBuffer(c)) return;
      size += c.length;
      if (size <= MAX_SECRET_BYTES) chunks.push(c);
    });
    stream.on("end", () => {
      if (content === undefined && header.type === "file" && size <= MAX_SECRET_BYTES) content = Buffer.concat(chunks);
      next();
    });
    stream.resume();
  });
  await pipeline(archive, extract as unknown as Writable, { signal });
  return content;
}
