import { describe, expect, it } from "vitest";
import { maxObjectSize, partSizeFor } from "../../../src/targets/s3/multipart.ts";

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;

describe("S3 part sizes", () => {
  it("10,000 parts from 16 MiB reach at least 5 TiB, and no part exceeds 5 GiB", () => {
    const plan = { partSize: 16 * MiB, maxParts: 10_000, growth: true };
    expect(maxObjectSize(plan)).toBeGreaterThanOrEqual(5 * TiB);
    expect(partSizeFor(0, plan)).toBe(16 * MiB);
    expect(partSizeFor(999, plan)).toBe(16 * MiB);
    expect(partSizeFor(1000, plan)).toBe(32 * MiB);
    expect(partSizeFor(9999, plan)).toBe(5 * 1024 * MiB);
  });

  it("a 1,000-part cap holds far more than 1,000 × the starting size; equal parts when growth is off", () => {
    expect(maxObjectSize({ partSize: 16 * MiB, maxParts: 1000, growth: true })).toBeGreaterThan(TiB);
    expect(maxObjectSize({ partSize: 16 * MiB, maxParts: 1000, growth: false })).toBe(1000 * 16 * MiB);
  });
});
