// Restoring one artifact in a single read: which item of a run may be checked while it streams
// instead of in the verification pass before it, and the stream such an item is restored from.
import { PassThrough, Transform, type Readable, type TransformCallback } from "node:stream";
import type { ManifestItem } from "../../manifest/schema.ts";
import type { RunContext, Strategy } from "../../strategies/types.ts";

/**
 * The one item restore reads once (or undefined): the first item of the run that changes existing
 * data, when its strategy restores it `atomic`ally. Items before it may only be `additive` (they
 * create what is missing, such as postgres roles) and are checked whole first, like every item
 * after it, so a bad artifact anywhere still stops the run before existing data changes: a bad
 * streamed artifact is rolled back by its own transaction, and nothing after it has started.
 */
export function streamedItem<T extends { item: Pick<ManifestItem, "part">; plan: { strategy: Strategy } }>(items: readonly T[]): T | undefined {
  for (const entry of items) {
    const safety = entry.plan.strategy.restoreSafety?.(entry.item.part);
    if (safety === "additive") continue;
    return safety === "atomic" ? entry : undefined;
  }
  return undefined;
}

/**
 * Restores `input` (the artifact as read-artifact.ts delivers it: its end means checksum, size and
 * decompression all passed) while the strategy's format validation reads the same bytes. The
 * restore never gets the artifact's last chunk before that end: an atomic restore (pg_restore
 * --single-transaction reads its archive to the last byte before it commits) therefore cannot
 * commit an artifact whose tail turns out bad; the stream errors instead and its transaction rolls
 * back. Nor before the validation passed: a format error stops the restore the same way.
 */
export async function restoreWhileChecking(strategy: Strategy, ctx: RunContext, item: ManifestItem, input: Readable): Promise<void> {
  const checked = new PassThrough();
  const validating = strategy.validate(checked, item);
  const applied = new HoldLastChunk(validating);
  input.on("error", (err) => {
    checked.destroy(err);
    applied.destroy(err);
  });
  input.pipe(checked);
  input.pipe(applied);
  validating.catch((err: unknown) => {
    applied.destroy(err as Error);
    input.destroy(err as Error);
  });
  const restoring = strategy.restore(ctx, applied);
  const [v, r] = await Promise.allSettled([validating, restoring]);
  // The format error says why better than the tool that choked on the same bytes.
  if (v.status === "rejected") throw v.reason;
  if (r.status === "rejected") throw r.reason;
}

/**
 * Passes everything but the last chunk on at once; that chunk only once the input ended cleanly
 * and `gate` (the format validation) resolved.
 */
export class HoldLastChunk extends Transform {
  #held: Buffer | undefined;
  readonly #gate: Promise<void>;

  constructor(gate: Promise<void> = Promise.resolve()) {
    super();
    this.#gate = gate;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    const previous = this.#held;
    this.#held = chunk.length > 0 ? chunk : previous;
    callback(null, chunk.length > 0 ? previous : undefined);
  }

  override _flush(callback: TransformCallback): void {
    this.#gate.then(() => callback(null, this.#held), (err: Error) => callback(err));
  }
}
