import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { createProgressBoard, formatEta } from "../../../src/ui/progress.ts";
import { collectingLogger } from "../../helpers/builders.ts";

// The restore progress line: bytes of the artifact's known size, rate, and an ETA (issue 10).

describe("progress board", () => {
  it("on a terminal shows bytes of the total, the rate and an ETA; stop clears the line", async () => {
    const lines: string[] = [];
    const log = { ...collectingLogger(), interactive: true, status: (l: string) => void lines.push(l) };
    let t = 0;
    const board = createProgressBoard(log, () => t);
    const track = board.track("db", 4 * 1024 * 1024);
    t = 1000; // 1 MiB in one second, 3 MiB to go
    await pipeline(Readable.from([Buffer.alloc(1024 * 1024)]), track, new Writable({ write: (_c, _e, done) => done() }));
    board.done("other");
    expect(lines.at(-1)).toBe("db 1.0 MiB/4.0 MiB 1.0 MiB/s ETA 3s");
    board.stop();
    expect(lines.at(-1)).toBe("");
  });

  it("never draws when the logger is not interactive (--json, no terminal)", () => {
    const lines: string[] = [];
    const board = createProgressBoard({ ...collectingLogger(), interactive: false, status: (l: string) => void lines.push(l) });
    board.track("db", 10);
    board.done("db");
    board.stop();
    expect(lines.filter(Boolean)).toEqual([]);
  });

  it("formats ETAs", () => {
    expect([formatEta(0.2), formatEta(59), formatEta(185), formatEta(3725)]).toEqual(["1s", "59s", "3m05s", "1h02m"]);
  });
});
