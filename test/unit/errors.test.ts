import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CancelledError, ComposeError, ConfigError, DockerError, ERROR_CODES, IntegrityError, InternalError, NoSetError, StrategyError,
  TargetError, TimeoutError, exitCodeFor,
} from "../../src/errors.ts";

const root = path.resolve(import.meta.dirname, "../..");

describe("the error-code table", () => {
  it("every class takes its exit code and default hint from the table", () => {
    const errors = [
      new ConfigError("x"), new ComposeError("x"), new DockerError("x"), new StrategyError("x"), new TargetError("x"),
      new TargetError("x", { code: "E_NOT_FOUND" }), new IntegrityError("x"), new NoSetError("x"),
      new NoSetError("x", { code: "E_UNKNOWN_SET" }), new CancelledError(), new InternalError("x"),
      new TimeoutError("x"),
    ];
    for (const err of errors) {
      const spec: { exitCode: number; hint?: string } = ERROR_CODES[err.code];
      expect(err.exitCode, err.code).toBe(spec.exitCode);
      expect(exitCodeFor(err), err.code).toBe(spec.exitCode);
      expect(err.hint, err.code).toBe(spec.hint);
    }
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(Object.keys(ERROR_CODES)));
  });

  it("a hint given by the caller wins over the default", () => {
    expect(new NoSetError("x", { hint: "run sdbackup list --target s3://b" }).hint).toBe("run sdbackup list --target s3://b");
  });

  it("docs/exit-codes.md lists every code with its exit status", () => {
    const doc = readFileSync(path.join(root, "docs/exit-codes.md"), "utf8");
    const rows = new Map([...doc.matchAll(/^\| `(E_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, s]) => [code, s.exitCode])));
  });

  it("no code outside src/errors.ts builds an SdbackupError by hand", () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith(".ts") && !file.endsWith(`${path.sep}errors.ts`) && /new SdbackupError\(|Object\.assign\(new Error/.test(readFileSync(file, "utf8"))) {
          offenders.push(path.relative(root, file));
        }
      }
    };
    walk(path.join(root, "src"));
    expect(offenders).toEqual([]);
  });
});
