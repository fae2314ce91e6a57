import { PassThrough, type Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Target } from "../../targets/types.ts";
import type { ManifestItem } from "../../manifest/schema.ts";
import { createDecompressor } from "../../pipeline/compress.ts";
import { verifyStream } from "../../pipeline/checksum.ts";
import { checkKeyOpens, createDecryptor, keyError, type KeyRing } from "../../pipeline/encrypt.ts";
import { IntegrityError, SdbackupError, TargetError, throwIfAborted } from "../../errors.ts";
import { capFor, sizeCap } from "../../pipeline/limit.ts";
import { DEFAULT_STALL_MS, stallGuard } from "../../pipeline/stall.ts";
import { formatElapsed } from "../../runtime/duration.ts";

/**
 * target.get → sha256/size check against the manifest → [decrypt with `keys`] → decompress → `consume`. The checksum error
 * fires at the end of the stream, so callers that must not act on unverified bytes run a full
 * verification pass first (restore does; see run-restore.ts). Settles after both sides settled.
 */
export async function readArtifact(
  target: Target,
  item: Pick<ManifestItem, "key" | "sha256" | "bytes" | "compression" | "encryption" | "rawBytes">,
  signal: AbortSignal,
  consume: (input: Readable) => Promise<void>,
  keys?: KeyRing,
  stallMs = DEFAULT_STALL_MS,
  /** Counts the stored bytes as they arrive (a progress line; comparable with `item.bytes`). */
  progress?: Transform,
): Promise<void> {
  const { encryption } = item;
  if (encryption && (!keys || keys.empty)) throw keyError({ key: item.key, encryption }, "no-key");
  const raw = await target.get(item.key, { signal });
  const input = new PassThrough();
  const decrypt = encryption && keys ? [createDecryptor(keys, { key: item.key, encryption })] : [];
  const stalled = (ms: number) => new TargetError(`reading ${item.key} stalled: no data from the target for ${formatElapsed(ms)}`, { hint: "raise --stall-timeout if the target is only slow" });
  const stages = [raw, stallGuard(stallMs, stalled), ...(progress ? [progress] : []), verifyStream({ sha256: item.sha256, bytes: item.bytes }), ...decrypt, createDecompressor(item.compression), ...inflateCap(item), input];
  const piping = pipeline(stages, { signal });
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

/** Sets written before rawBytes was recorded have no cap. */
function inflateCap(item: Pick<ManifestItem, "key" | "rawBytes">): Transform[] {
  if (typeof item.rawBytes !== "number" || !Number.isSafeInteger(item.rawBytes) || item.rawBytes < 0) return [];
  const bomb = (max: number) => new IntegrityError(`${item.key} inflates to more than the ${item.rawBytes} bytes recorded at backup (limit ${max}): refusing it`);
  return [sizeCap(capFor(item.rawBytes), bomb)];
}

/**
 * For each encrypted item, reads just its age header and checks `keys` open it, so a missing or
 * wrong key fails (exit 2, naming the artifact and its recipients) before any data is read whole,
 * let alone touched. Plaintext items are skipped.
 */
export async function checkKeys(target: Target, items: Pick<ManifestItem, "key" | "encryption">[], keys: KeyRing | undefined, signal: AbortSignal): Promise<void> {
  for (const { key, encryption } of items) {
    if (!encryption) continue;
    throwIfAborted(signal);
    if (!keys || keys.empty) throw keyError({ key, encryption }, "no-key");
    const raw = await target.get(key, { signal });
    try {
      await checkKeyOpens(raw, keys, { key, encryption });
    } finally {
      raw.destroy();
    }
  }
}
