import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Target } from "../../targets/types.ts";
import type { ManifestItem } from "../../manifest/schema.ts";
import { createDecompressor } from "../../pipeline/compress.ts";
import { verifyStream } from "../../pipeline/checksum.ts";
import { SdbackupError } from "../../errors.ts";

/**
 * target.get → sha256/size check against the manifest → decompress → `consume`. The checksum error
 * fires at the end of the stream, so callers that must not act on unverified bytes run a full
 * verification pass first (restore does; see run-restore.ts). Settles after both sides settled.
 */
export async function readArtifact(
  target: Target,
  item: Pick<ManifestItem, "key" | "sha256" | "bytes" | "compression">,
  signal: AbortSignal,
  consume: (input: Readable) => Promise<void>,
): Promise<void> {
  const raw = await target.get(item.key, { signal });
  const input = new PassThrough();
  const piping = pipeline([raw, verifyStream({ sha256: item.sha256, bytes: item.bytes }), createDecompressor(item.compression), input], { signal });
  const consuming = consume(input).catch((err: unknown) => {
    raw.destroy();
    throw err;
  });
  const [piped, consumed] = await Promise.allSettled([piping, consuming]);
  if (piped.status === "rejected" || consumed.status === "rejected") {
    const a = piped.status === "rejected" ? piped.reason : undefined;
    const b = consumed.status === "rejected" ? consumed.reason : undefined;
    throw a instanceof SdbackupError ? a : b instanceof SdbackupError ? b : (a ?? b);
  }
}
