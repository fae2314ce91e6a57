import { describe, expect, it } from "vitest";
import { isLocalEngine } from "../../../src/docker/transport.ts";

describe("isLocalEngine", () => {
  it("takes unix sockets and tcp to this machine as local", () => {
    for (const e of ["unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock", "tcp://127.0.0.1:2375", "tcp://localhost:2376", "tcp://[::1]:2375"]) {
      expect(isLocalEngine(e), e).toBe(true);
    }
  });

  it("takes any other tcp host as remote: the exec transport is used there", () => {
    for (const e of ["tcp://10.0.0.5:2375", "tcp://docker.example:2376", "tcp://127.0.0.2.example:2375"]) {
      expect(isLocalEngine(e), e).toBe(false);
    }
  });
});
