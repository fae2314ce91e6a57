import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveEndpoint } from "../../../src/docker/client.ts";
import { isKnownHost } from "../../../src/docker/ssh.ts";

// ssh:// engines and docker CLI contexts, resolved without any network.

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "sdbackup-remote-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const key = randomBytes(51);
const line = (host: string, k = key) => `${host} ssh-ed25519 ${k.toString("base64")}`;

describe("known_hosts", () => {
  it("accepts the listed key for host and [host]:port, hashed or not, and nothing else", () => {
    expect(isKnownHost(line("box,10.0.0.2"), "box", 22, key)).toBe(true);
    expect(isKnownHost(line("box"), "box", 2222, key)).toBe(false);
    expect(isKnownHost(line("[box]:2222"), "box", 2222, key)).toBe(true);
    expect(isKnownHost(line("box"), "box", 22, randomBytes(51))).toBe(false);
    expect(isKnownHost(line("other"), "box", 22, key)).toBe(false);
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[box]:2222").digest("base64")}`;
    expect(isKnownHost(`# comment\n${line(hashed)}`, "box", 2222, key)).toBe(true);
    expect(isKnownHost(`${line("box")}\n@revoked ${line("box")}`, "box", 22, key)).toBe(false);
  });
});

describe("remote endpoints", () => {
  it("reads ssh://user@host:port with the known_hosts of HOME and a key from ~/.ssh", () => {
    const home = tmp();
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh", "known_hosts"), `${line("[h]:2200")}\n`);
    writeFileSync(join(home, ".ssh", "id_ed25519"), "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
    const ep = resolveEndpoint({ DOCKER_HOST: "ssh://deploy@h:2200", HOME: home, SSH_AUTH_SOCK: "/run/agent" });
    expect(ep.display).toBe("ssh://deploy@h:2200");
    const o = ep.options as unknown as { protocol: string; host: string; port: number; username: string; sshOptions: { agent: string; privateKey: Buffer; hostVerifier(k: Buffer): boolean } };
    expect([o.protocol, o.host, o.port, o.username, o.sshOptions.agent]).toEqual(["ssh", "h", 2200, "deploy", "/run/agent"]);
    expect(o.sshOptions.privateKey).toBeInstanceOf(Buffer);
    expect(o.sshOptions.hostVerifier(key)).toBe(true);
    expect(o.sshOptions.hostVerifier(randomBytes(51))).toBe(false);
  });

  it("takes --context, then DOCKER_HOST, then DOCKER_CONTEXT or the current context, with the context's TLS material", () => {
    const config = tmp();
    const context = (name: string, host: string, tls = false) => {
      const id = createHash("sha256").update(name).digest("hex");
      mkdirSync(join(config, "contexts", "meta", id), { recursive: true });
      writeFileSync(join(config, "contexts", "meta", id, "meta.json"), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
      if (!tls) return;
      mkdirSync(join(config, "contexts", "tls", id, "docker"), { recursive: true });
      for (const f of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(join(config, "contexts", "tls", id, "docker", f), `${name}-${f}`);
    };
    context("prod", "tcp://prod.example:2376", true);
    context("stage", "unix:///run/stage.sock");
    writeFileSync(join(config, "config.json"), JSON.stringify({ currentContext: "stage" }));
    const env = { DOCKER_CONFIG: config };
    expect(resolveEndpoint(env).display).toBe("unix:///run/stage.sock");
    expect(resolveEndpoint({ ...env, DOCKER_CONTEXT: "default" }).display).toBe("unix:///var/run/docker.sock");
    expect(resolveEndpoint({ ...env, DOCKER_HOST: "tcp://h:2375" }).display).toBe("tcp://h:2375");
    const prod = resolveEndpoint({ ...env, DOCKER_HOST: "tcp://h:2375", SDBACKUP_DOCKER_CONTEXT: "prod" });
    expect(prod.display).toBe("tcp://prod.example:2376");
    expect(prod.options).toMatchObject({ protocol: "https" });
    expect(String(prod.options.cert)).toBe("prod-cert.pem");
    expect(() => resolveEndpoint({ ...env, DOCKER_CONTEXT: "nope" })).toThrow(/docker context "nope" not found/);
  });
});
