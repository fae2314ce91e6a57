import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { guardPuts } from "../../../../src/core/backup/guard-puts.ts";
import { TargetError } from "../../../../src/errors.ts";
import type { Target } from "../../../../src/targets/types.ts";
import { formatElapsed } from "../../../../src/runtime/duration.ts";

/** A target whose put reads `readFirst` chunks and then hangs until its signal aborts. */
function freezingTarget(readFirst: number): Target & { aborted: () => boolean } {
  let aborted = false;
  return {
    scheme: "frozen", display: "frozen://box", capabilities: { atomicPut: true, maxConcurrency: 1 },
    aborted: () => aborted,
    async put(_key, body, { signal }) {
      // read a little, then stop reading without letting go of the stream (a frozen server)
      for (let n = 0; n < readFirst; n++) {
        await new Promise((resolve) => body.once("readable", resolve));
        body.read();
      }
      return new Promise((_, reject) => signal.addEventListener("abort", () => { aborted = true; reject(new Error("the target's own abort message")); }, { once: true }));
    },
    get: () => Promise.reject(new Error("unused")),
    list: async function* () {},
    remove: async () => {},
  };
}

const source = () => Readable.from(Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024)));

describe("guardPuts", () => {
  it("a store that stops taking data fails the put with one line naming it, and the put is aborted", async () => {
    const t = freezingTarget(2);
    const err = await guardPuts(t, 80).put("p/s/db.dump", source(), { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toBe(`frozen://box: the store took no data for ${formatElapsed(80)} while storing p/s/db.dump (--stall-timeout)`);
    expect(t.aborted()).toBe(true);
  });

  it("the run's own abort stays the reason when it comes first", async () => {
    const t = freezingTarget(1);
    const run = new AbortController();
    const put = guardPuts(t, 10_000).put("k", source(), { signal: run.signal });
    setTimeout(() => run.abort(new Error("interrupted")), 30);
    await expect(put).rejects.toThrow("the target's own abort message");
  });

  it("passes everything else through", async () => {
    const stored: Buffer[] = [];
    const t: Target = {
      ...freezingTarget(0),
      async put(_k, body) {
        for await (const c of body) stored.push(c as Buffer);
        return { bytes: Buffer.concat(stored).length };
      },
    };
    await expect(guardPuts(t, 50).put("k", source(), { signal: new AbortController().signal })).resolves.toEqual({ bytes: 64 * 64 * 1024 });
  });
});
