import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { openTarget } from "../../src/targets/index.ts";
import { createMemoryTarget } from "../../src/targets/memory.ts";
import { TargetError } from "../../src/errors.ts";
import { describeTarget } from "./conformance.ts";

describeTarget("memory", async () => {
  const target = createMemoryTarget("conformance");
  return { target, cleanup: async () => target.objects.clear() };
});

describe("memory target specifics", () => {
  const o = () => ({ signal: new AbortController().signal });

  it("memory://<name> opens one store per name within the process", async () => {
    const env = {};
    const a = await openTarget("memory://shared-a", { env, cwd: "/" });
    await a.put("p/k", Readable.from([Buffer.from("x")]), o());
    expect((await openTarget("memory://shared-a", { env, cwd: "/" })) === a).toBe(true);
    const b = await openTarget("memory://shared-b", { env, cwd: "/" });
    await expect(b.get("p/k", o())).rejects.toMatchObject({ code: "E_NOT_FOUND" });
    await expect(openTarget("memory://x/y", { env, cwd: "/" })).rejects.toMatchObject({ code: "E_CONFIG" });
  });

  it("a fault after N bytes fails the put with that error and leaves nothing", async () => {
    const t = createMemoryTarget();
    const disk = new TargetError("disk full");
    t.fault = ({ op, bytes }) => (op === "put" && bytes >= 100 ? disk : undefined);
    const body = Readable.from([Buffer.alloc(60), Buffer.alloc(60), Buffer.alloc(60)]);
    await expect(t.put("a/b", body, o())).rejects.toBe(disk);
    expect(body.destroyed).toBe(true);
    expect([...t.objects.keys()]).toEqual([]);
    t.fault = ({ op }) => (op === "list" ? new TargetError("listing refused") : undefined);
    await expect((async () => { for await (const _ of t.list("", o())) void _; })()).rejects.toThrow("listing refused");
  });
});
