import { describe, expect, it } from "vitest";
import { hostname } from "node:os";
import { spawnSync } from "node:child_process";
import { isLeftover } from "../../../../src/core/verify/drill-server.ts";

const owner = (value: string) => ({ "sdbackup.drill": "run", "sdbackup.drill.owner": value });

describe("isLeftover: which drill containers the next drill removes", () => {
  it("a drill of a live process on this host is kept (another drill running now)", () => {
    expect(isLeftover(owner(`${hostname()}/${process.pid}`))).toBe(false);
  });

  it("a drill whose process on this host is gone is a leftover", () => {
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
    expect(isLeftover(owner(`${hostname()}/${gone}`))).toBe(true);
  });

  it("another host's drills are that host's to remove; containers without an owner are leftovers", () => {
    expect(isLeftover(owner("some-other-host/1"))).toBe(false);
    expect(isLeftover({ "sdbackup.drill": "run" })).toBe(true);
  });
});
