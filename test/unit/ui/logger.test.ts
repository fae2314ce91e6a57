import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/ui/logger.ts";

function sink(isTTY: boolean) {
  const lines: string[] = [];
  const stream = { isTTY, columns: 80, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}
const now = () => new Date("2026-11-21T03:00:00.000Z");

describe("logger", () => {
  it("starts every line with an ISO-8601 time when stderr is not a terminal, without colour", () => {
    const { lines, stream } = sink(false);
    const log = createLogger({ stream, env: {}, now });
    log.info("hello");
    log.error("bad\n  command: pg_dump");
    expect(lines).toEqual(["2026-11-21T03:00:00.000Z hello\n", "2026-11-21T03:00:00.000Z error: bad\n2026-11-21T03:00:00.000Z   command: pg_dump\n"]);
  });

  it("colours on a terminal, but never with NO_COLOR; no timestamps there", () => {
    const tty = sink(true);
    createLogger({ stream: tty.stream, env: {}, now }).warn("w");
    expect(tty.lines).toEqual(["\u001b[33mwarning: \u001b[39mw\n"]);
    const plain = sink(true);
    createLogger({ stream: plain.stream, env: { NO_COLOR: "1" }, now }).warn("w");
    expect(plain.lines).toEqual(["warning: w\n"]);
  });

  it("-q keeps errors and their hints only; -v adds debug lines", () => {
    const { lines, stream } = sink(true);
    const log = createLogger({ stream, env: { NO_COLOR: "1" } });
    log.configure({ quiet: true });
    log.info("i");
    log.warn("w");
    log.debug("d");
    log.error("e");
    log.hint("h");
    expect(lines).toEqual(["error: e\n", "hint: h\n"]);
    log.configure({ quiet: false, verbose: true });
    log.debug("d");
    expect(lines.at(-1)).toBe("d\n");
  });

  it("draws a status line only on an interactive terminal", () => {
    const { stream } = sink(true);
    const log = createLogger({ stream, env: {} });
    expect(log.interactive).toBe(true);
    log.configure({ json: true });
    expect(log.interactive).toBe(false);
    expect(createLogger({ stream, env: { CI: "true" } }).interactive).toBe(false);
  });
});
