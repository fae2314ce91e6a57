import { describe, expect, it } from "vitest";
import { StderrTail, redact, secretValues } from "../../../src/docker/redact.ts";

describe("secretValues", () => {
  it("takes explicit secrets and env values under secret-looking keys, longest first", () => {
    const values = secretValues({
      env: { PGPASSWORD: "pw1", MYSQL_PWD: "pw2", API_TOKEN: "tok", AWS_SECRET_ACCESS_KEY: "k", X_AUTH: "a1", PGUSER: "app", EMPTY_PASSWORD: "" },
      secrets: ["hunter22", "pw1"],
    });
    expect(values).toEqual(["hunter22", "pw1", "pw2", "tok", "a1", "k"]);
  });
});

describe("redact", () => {
  it("replaces every occurrence, a longer secret before a shorter one inside it", () => {
    expect(redact("pw=abc123 again abc123 and abc", ["abc123", "abc"])).toBe("pw=*** again *** and ***");
  });

  it("replaces a longer secret whole whatever order the secrets come in; ignores empty ones", () => {
    expect(redact("pw=abc123 and abc", ["abc", "", "abc123"])).toBe("pw=*** and ***");
  });
});

describe("StderrTail", () => {
  it("keeps everything while under the limit", () => {
    const tail = new StderrTail(100);
    tail.push(Buffer.from("one\n"));
    tail.push(Buffer.from("two\n"));
    expect(tail.text([])).toBe("one\ntwo\n");
  });

  it("keeps only the last bytes and drops the cut line", () => {
    const tail = new StderrTail(64);
    for (let i = 0; i < 1000; i++) tail.push(Buffer.from(`line ${i}\n`));
    const text = tail.text([]);
    expect(text.length).toBeLessThanOrEqual(64);
    expect(text.endsWith("line 999\n")).toBe(true);
    expect(text.split("\n")[0]).toMatch(/^line \d+$/);
  });

  it("bounds memory for one huge chunk and redacts", () => {
    const tail = new StderrTail(32);
    tail.push(Buffer.from("x".repeat(100_000) + "\nfailed with password s3cret\n"));
    expect(tail.text(["s3cret"])).toBe("failed with password ***\n");
  });
});
