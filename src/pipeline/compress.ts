import { PassThrough } from "node:stream";
import type { Transform } from "node:stream";
import zlib from "node:zlib";
import { ConfigError } from "../errors.ts";

/** Compression of artifacts. zstd is the default: faster than gzip at a better ratio. */
export const compressions = ["zstd", "gzip", "none"] as const;
export type Compression = (typeof compressions)[number];

/** Default and allowed levels per kind; `none` has no levels. */
const LEVELS = {
  zstd: { fallback: 3, min: 1, max: 19 },
  gzip: { fallback: 6, min: 1, max: 9 },
} as const;

export function isCompression(value: string): value is Compression {
  return (compressions as readonly string[]).includes(value);
}

/**
 * The level `kind` will use: `level`, else the kind's default; undefined for `none`. Out of range
 * (or any level with `none`) is a ConfigError. The CLI checks flags with this before any work.
 */
export function compressionLevel(kind: Compression, level?: number): number | undefined {
  if (kind === "none") {
    if (level !== undefined) throw new ConfigError("--compression none takes no --level", { hint: "drop --level, or use --compression zstd (1-19) or gzip (1-9)" });
    return undefined;
  }
  const { fallback, min, max } = LEVELS[kind];
  const lvl = level ?? fallback;
  if (!Number.isInteger(lvl) || lvl < min || lvl > max) {
    throw new ConfigError(`${kind} compression level must be an integer from ${min} to ${max}, got ${lvl}`, {
      hint: "zstd takes levels 1-19, gzip 1-9",
    });
  }
  return lvl;
}

/** A stream that compresses with `kind`; `level` defaults to 3 for zstd and 6 for gzip. */
export function createCompressor(kind: Compression, level?: number): Transform {
  const lvl = compressionLevel(kind, level);
  if (lvl === undefined) return new PassThrough();
  if (kind === "gzip") return zlib.createGzip({ level: lvl });
  return zlib.createZstdCompress({
    params: {
      [zlib.constants.ZSTD_c_compressionLevel]: lvl,
      // A frame checksum lets `zstd -t` and our decompressor catch corruption on their own.
      [zlib.constants.ZSTD_c_checksumFlag]: 1,
    },
  });
}

/** The inverse of {@link createCompressor}. */
export function createDecompressor(kind: Compression): Transform {
  switch (kind) {
    case "zstd":
      return zlib.createZstdDecompress();
    case "gzip":
      return zlib.createGunzip();
    case "none":
      return new PassThrough();
  }
}

/** File name extension of a compressed artifact: `.zst`, `.gz` or nothing. */
export function extFor(kind: Compression): string {
  return { zstd: ".zst", gzip: ".gz", none: "" }[kind];
}
