import { PassThrough, type Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Target } from "../../targets/types.ts";
import { createChecksum } from "../../pipeline/checksum.ts";
import { SdbackupError, TargetError } from "../../errors.ts";

/**
 * source → transforms → sha256/byte count → target.put, with one signal. Settles only after both the
 * pipeline and the put have settled, so a failure has finished its cleanup (tmp file removed,
 * multipart upload aborted) before the caller decides what to commit.
 */
export async function storeArtifact(
  target: Target,
  key: string,
  source: Readable,
  transforms: Transform[],
  signal: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const checksum = createChecksum();
  const body = new PassThrough();
  const piping = pipeline([source, ...transforms, checksum, body], { signal });
  const putting = target.put(key, body, { signal }).catch((err: unknown) => {
    // a put that gave up must not leave the pipeline blocked on backpressure
    source.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  const [piped, put] = await Promise.allSettled([piping, putting]);
  if (piped.status === "rejected" || put.status === "rejected") {
    throw rootCause(piped.status === "rejected" ? piped.reason : undefined, put.status === "rejected" ? put.reason : undefined);
  }
  const { bytes, sha256 } = checksum.digest();
  if (bytes !== put.value.bytes) {
    await target.remove(key, { signal }).catch(() => {});
    throw new TargetError(`${target.display}: stored ${put.value.bytes} bytes for ${key} but produced ${bytes}`);
  }
  return { bytes, sha256 };
}

/**
 * The dump tool's own error explains more than the "premature close" it causes downstream. A put
 * that failed with an error of its own (a target rejects with its source's error otherwise) came
 * first: the dump only died because nothing read it any more ("pg_dump exited ?", issue 11).
 */
function rootCause(piped: unknown, put: unknown): unknown {
  if (put instanceof TargetError && put !== piped) return put;
  if (piped instanceof SdbackupError) return piped;
  if (put instanceof SdbackupError) return put;
  return piped ?? put;
}
