import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { storeArtifact } from "../../../../src/core/backup/store-artifact.ts";
import { StrategyError, TargetError } from "../../../../src/errors.ts";
import type { Target } from "../../../../src/targets/types.ts";

// Which failure a backup item reports when the dump and the target both fail (issue 11: an S3 store
// killed mid-upload was reported as "pg_dump exited ?").

/** A dump that, like an exec whose stdout is closed, fails with "exited ?" when destroyed early. */
function dump(failOnItsOwn?: StrategyError): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (failOnItsOwn && sent >= 4) return this.destroy(failOnItsOwn);
      sent++;
      this.push(Buffer.alloc(64 * 1024, sent));
    },
    destroy(err, done) {
      done(err === failOnItsOwn ? err : new StrategyError("pg_dump exited ? in service db"));
    },
  });
}

/**
 * A target that reads `after` chunks, then fails on its own the way the S3 target does: it stops
 * reading (destroying its body) and rejects once its cleanup is done. A source error ends it first.
 */
function target(after: number): Target {
  return {
    scheme: "fake", display: "fake://t", capabilities: { atomicPut: true, maxConcurrency: 1 },
    async put(_key, body) {
      let n = 0;
      for await (const _ of body) {
        if (++n < after) continue;
        body.destroy();
        await new Promise((r) => setTimeout(r, 20));
        throw new TargetError("fake://t: cannot upload k: connect ECONNREFUSED");
      }
      return { bytes: 0 };
    },
    get: () => Promise.reject(new Error("unused")),
    list: () => (async function* () {})(),
    remove: () => Promise.resolve(),
  };
}

describe("storeArtifact's reported cause", () => {
  const signal = new AbortController().signal;

  it("a target that fails on its own is the cause, not the dump it cut off", async () => {
    const err = await storeArtifact(target(3), "k", dump(), [], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it("a dump that fails on its own is the cause, whatever the target says after it", async () => {
    const own = new StrategyError("pg_dump exited 1 in service db");
    const err = await storeArtifact(target(1000), "k", dump(own), [], signal).catch((e: unknown) => e);
    expect(err).toBe(own);
  });
});
