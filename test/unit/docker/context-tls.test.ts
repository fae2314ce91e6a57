import Docker from "dockerode";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveEndpoint } from "../../../src/docker/client.ts";

// A docker CLI context whose endpoint says SkipTLSVerify speaks TLS to the engine without checking
// its certificate, as `docker --context` does; without it the same self-signed engine is refused.
// The "engine" is an HTTPS server on 127.0.0.1 with a certificate made by openssl for this test.

let dir: string;
let server: Server;
let port: number;

/** A docker CLI config dir with one context `name` pointing at `host`, with optional TLS files. */
function context(name: string, host: string, skipTLSVerify: boolean, tls: Record<string, Buffer> = {}): string {
  const config = mkdtempSync(join(dir, "config-"));
  const id = createHash("sha256").update(name).digest("hex");
  mkdirSync(join(config, "contexts", "meta", id), { recursive: true });
  writeFileSync(join(config, "contexts", "meta", id, "meta.json"), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: skipTLSVerify } } }));
  mkdirSync(join(config, "contexts", "tls", id, "docker"), { recursive: true });
  for (const [file, body] of Object.entries(tls)) writeFileSync(join(config, "contexts", "tls", id, "docker", file), body);
  return config;
}

const apiVersion = (env: NodeJS.ProcessEnv) => new Docker(resolveEndpoint(env).options).version().then((v) => v.ApiVersion);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sdbackup-ctx-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.url?.endsWith("/version") ? { ApiVersion: "1.41", Version: "fake" } : {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("docker context SkipTLSVerify", () => {
  it("speaks TLS without verifying the engine's certificate, and says so", async () => {
    const config = context("insecure", `tcp://127.0.0.1:${port}`, true);
    const ep = resolveEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "insecure" });
    expect(ep.options.protocol).toBe("https");
    expect(ep.display).toBe(`tcp://127.0.0.1:${port} (TLS not verified: the context's SkipTLSVerify)`);
    expect(await apiVersion({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "insecure" })).toBe("1.41");
  });

  it("still presents the context's client certificate", () => {
    const cert = readFileSync(join(dir, "cert.pem"));
    const key = readFileSync(join(dir, "key.pem"));
    const config = context("insecure-mtls", `tcp://127.0.0.1:${port}`, true, { "cert.pem": cert, "key.pem": key });
    expect(resolveEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "insecure-mtls" }).options).toMatchObject({ protocol: "https", cert, key });
  });

  it("without it, the same self-signed engine is refused", async () => {
    // TLS on through the context's client certificate; the engine's certificate is checked.
    const tls = { "cert.pem": readFileSync(join(dir, "cert.pem")), "key.pem": readFileSync(join(dir, "key.pem")) };
    const config = context("strict", `tcp://127.0.0.1:${port}`, false, tls);
    expect(resolveEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "strict" }).display).toBe(`tcp://127.0.0.1:${port}`);
    await expect(apiVersion({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "strict" })).rejects.toThrow(/self[- ]signed certificate/);
  });
});
