import { describe, expect, it } from "vitest";
import { PID_MARKER, killableArgv, scanMarker } from "../../../src/docker/terminate.ts";

function frame(type: number, payload: string | Buffer): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe("killableArgv", () => {
  it("passes argv as positional parameters, never through the shell's parser", () => {
    const argv = killableArgv(["pg_dump", "--dbname=a b; rm -rf /", "$HOME"]);
    expect(argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(argv[2]).toContain('exec "$@"');
    expect(argv.slice(3)).toEqual(["sh", "pg_dump", "--dbname=a b; rm -rf /", "$HOME"]);
  });
});

describe("scanMarker", () => {
  const marker = frame(2, `${PID_MARKER}1234\n`);
  const rest = Buffer.concat([frame(1, "data"), frame(2, "warn\n")]);

  it("finds the PID and removes exactly the marker frame", () => {
    expect(scanMarker(Buffer.concat([marker, rest]))).toEqual({ pid: 1234, head: rest, stderr: Buffer.alloc(0) });
  });

  it("keeps stdout frames that overtook the marker, in order", () => {
    const early = Buffer.concat([frame(1, "early "), frame(1, "output")]);
    expect(scanMarker(Buffer.concat([early, marker, rest]))).toEqual({ pid: 1234, head: Buffer.concat([early, rest]), stderr: Buffer.alloc(0) });
  });

  it("asks for more until the marker line is complete, also across frames", () => {
    const split = Buffer.concat([frame(2, PID_MARKER.slice(0, 5)), frame(1, "x"), frame(2, `${PID_MARKER.slice(5)}77\nextra`)]);
    for (let i = 0; i < split.length; i++) expect(scanMarker(split.subarray(0, i))).toBe("more");
    expect(scanMarker(Buffer.concat([split, rest]))).toEqual({ pid: 77, head: Buffer.concat([frame(1, "x"), rest]), stderr: Buffer.from("extra") });
  });

  it("gives up on anything else", () => {
    expect(scanMarker(frame(2, "OCI runtime exec failed: sh not found\n"))).toBe("none");
    expect(scanMarker(frame(2, `${PID_MARKER}abc\n`))).toBe("none");
    expect(scanMarker(Buffer.from("plain tty output"))).toBe("none");
    expect(scanMarker(frame(1, Buffer.alloc(2 * 1024 * 1024)).subarray(0, 1024 * 1024 + 10))).toBe("none");
  });
});
