import { PassThrough, Transform, type Readable } from "node:stream";
import type { Inventory } from "../../manifest/schema.ts";

/**
 * A pass-through stage that also feeds a copy of the uncompressed artifact to `read` (a strategy's
 * `inventoryOf`), so an archive's inventory is taken from the very bytes stored, in one pass. The
 * copy's backpressure holds the main stream; a failing reader only costs the inventory.
 */
export function inventoryTap(read: (input: Readable) => Promise<Inventory>): { stage: Transform; inventory: Promise<Inventory | undefined> } {
  const copy = new PassThrough();
  let dead = false;
  let ended = false;
  const inventory = read(copy).then(
    (inv) => inv,
    () => {
      dead = true;
      copy.destroy();
      copy.emit("drain");
      return undefined;
    },
  );
  const stage = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (dead || copy.write(chunk)) return done(null, chunk);
      copy.once("drain", () => done(null, chunk));
    },
    flush(done) {
      ended = true;
      if (!dead) copy.end();
      done();
    },
    // Auto-destroy follows a clean end while the reader may still be behind: the copy then ends on
    // its own. Only a stage torn down before its end takes the reader down with it.
    destroy(err, done) {
      if (!ended && !copy.destroyed) copy.destroy(err ?? new Error("the artifact stream stopped before its end"));
      done(err);
    },
  });
  return { stage, inventory };
}
