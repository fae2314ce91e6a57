import { describe, expect, it } from "vitest";
import { compareInventory } from "../../../../src/core/verify/compare.ts";

const inv = (counts: Record<string, number>, digest?: string) => ({ counts, ...(digest ? { digest } : {}) });

describe("compareInventory", () => {
  it("no inventory on either side: unavailable, nothing fails", () => {
    expect(compareInventory(undefined, inv({ t: 1 }), true)).toEqual({ outcome: "unavailable", differences: [], failures: [] });
  });

  it("equal counts and digest match", () => {
    expect(compareInventory(inv({ a: 3, b: 0 }, "x"), inv({ a: 3, b: 0 }, "x"), true).outcome).toBe("match");
  });

  it("not exact: fewer rows are listed, only a missing or emptied table fails", () => {
    const c = compareInventory(inv({ a: 10, b: 5, c: 2, d: 0 }), inv({ a: 9, b: 0, d: 0, e: 4 }), false);
    expect(c.outcome).toBe("differs");
    expect(c.differences).toEqual(["a: 10 at backup, 9 after restore", "b: 5 at backup, 0 after restore", "c: 2 at backup, missing after restore", "e: not at backup, 4 after restore"]);
    expect(c.failures).toEqual(["b: 5 at backup, 0 after restore", "c: 2 at backup, missing after restore"]);
  });

  it("exact (consistent set, archive): every difference fails, the digest too", () => {
    const c = compareInventory(inv({ a: 10 }, "x"), inv({ a: 9, e: 1 }, "y"), true);
    expect(c.failures).toHaveLength(3);
    expect(c.failures[2]).toMatch(/digest y differs from the backup's x/);
  });
});
