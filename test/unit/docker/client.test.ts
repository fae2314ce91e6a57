import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerError } from "../../../src/errors.ts";
import { MAX_API_VERSION, negotiateVersion, resolveEndpoint } from "../../../src/docker/client.ts";
import { parseEnv } from "../../../src/docker/containers.ts";

describe("resolveEndpoint", () => {
  it("defaults to the local socket", () => {
    expect(resolveEndpoint({})).toMatchObject({ display: "unix:///var/run/docker.sock", options: { socketPath: "/var/run/docker.sock", host: undefined } });
  });

  it("reads unix:// and tcp:// hosts", () => {
    expect(resolveEndpoint({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" }).options.socketPath).toBe("/run/user/1000/docker.sock");
    const tcp = resolveEndpoint({ DOCKER_HOST: "tcp://10.0.0.5:2375" });
    expect(tcp).toMatchObject({ display: "tcp://10.0.0.5:2375", options: { host: "10.0.0.5", port: "2375", protocol: "http", socketPath: undefined } });
  });

  it("uses TLS with the certificates from DOCKER_CERT_PATH", () => {
    const dir = mkdtempSync(join(tmpdir(), "sdbackup-certs-"));
    try {
      for (const f of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(join(dir, f), f);
      const ep = resolveEndpoint({ DOCKER_HOST: "tcp://docker.example:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: dir });
      expect(ep.options).toMatchObject({ protocol: "https", port: "2376" });
      expect(String(ep.options.key)).toBe("key.pem");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses what it cannot reach", () => {
    expect(() => resolveEndpoint({ DOCKER_HOST: "ssh://me@host", HOME: "/nonexistent" })).toThrow(/known_hosts/);
    expect(() => resolveEndpoint({ DOCKER_HOST: "ftp://host" })).toThrow(DockerError);
    expect(() => resolveEndpoint({ DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/nonexistent" })).toThrow(/TLS certificates/);
  });
});

describe("negotiateVersion", () => {
  it("caps to the newest supported version and keeps older engines' own", () => {
    expect(negotiateVersion("1.47")).toBe(MAX_API_VERSION);
    expect(negotiateVersion("1.41")).toBe("1.41");
    expect(negotiateVersion("1.40")).toBe("1.40");
    expect(() => negotiateVersion("1.12")).toThrow(DockerError);
  });
});

describe("parseEnv", () => {
  it("splits at the first '='", () => {
    expect(parseEnv(["A=1", "B=x=y", "C=", "FLAG"])).toEqual({ A: "1", B: "x=y", C: "", FLAG: "" });
  });
});
