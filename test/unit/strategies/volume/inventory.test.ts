import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { tarInventory } from "../../../../src/strategies/volume/inventory.ts";

function archive(entries: { name: string; body?: string; type?: "directory" | "symlink"; linkname?: string }[]): Readable {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, ...(e.type ? { type: e.type } : {}), ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? "");
  pack.finalize();
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

describe("tarInventory", () => {
  it("counts entries and content bytes; the digest ignores entry order", async () => {
    const a = await tarInventory(archive([{ name: "data/", type: "directory" }, { name: "data/a", body: "hello" }, { name: "data/l", type: "symlink", linkname: "/dev/stdout" }]));
    const b = await tarInventory(archive([{ name: "data/l", type: "symlink", linkname: "/dev/stdout" }, { name: "data/a", body: "world" }, { name: "data/", type: "directory" }]));
    expect(a.counts).toEqual({ entries: 3, bytes: 5 });
    expect(a.exact).toBe(true);
    expect(b.digest).toBe(a.digest);
  });

  it("a lost file, or a link pointing elsewhere, changes the digest", async () => {
    const base = await tarInventory(archive([{ name: "d/a", body: "x" }, { name: "d/b", body: "y" }]));
    const lost = await tarInventory(archive([{ name: "d/a", body: "xy" }]));
    const relinked = await tarInventory(archive([{ name: "d/a", body: "x" }, { name: "d/b", type: "symlink", linkname: "/x" }]));
    expect(lost.digest).not.toBe(base.digest);
    expect(relinked.digest).not.toBe(base.digest);
  });
});
