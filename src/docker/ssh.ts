import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerError } from "./../errors.ts";

/**
 * The ssh2 options for `DOCKER_HOST=ssh://user@host[:port]`, used by docker-modem, which runs
 * `docker system dial-stdio` on the remote like the docker CLI does. Keys come from the agent
 * (`SSH_AUTH_SOCK`) and the usual unencrypted `~/.ssh/id_*` files; the host key MUST match an entry
 * of `~/.ssh/known_hosts` (plain or hashed, `[host]:port` for other ports than 22), as with OpenSSH's
 * StrictHostKeyChecking: an unknown or changed key refuses the connection.
 */
export interface SshOptions {
  agent?: string;
  privateKey?: Buffer;
  hostVerifier: (key: Buffer) => boolean;
  readyTimeout: number;
}

const KEY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa"];

export function sshOptions(host: string, port: number, env: NodeJS.ProcessEnv): SshOptions {
  const dir = join(env.HOME ?? "", ".ssh");
  const knownHostsFile = env.SDBACKUP_SSH_KNOWN_HOSTS || join(dir, "known_hosts");
  let knownHosts: string;
  try {
    knownHosts = readFileSync(knownHostsFile, "utf8");
  } catch {
    throw new DockerError(`cannot check the host key of ${host}: ${knownHostsFile} cannot be read`, {
      hint: `add the engine host's key first, e.g. ssh-keyscan -p ${port} ${host} >> ~/.ssh/known_hosts (after checking its fingerprint)`,
    });
  }
  const privateKey = firstKey(env.SDBACKUP_SSH_KEY ? [env.SDBACKUP_SSH_KEY] : KEY_FILES.map((f) => join(dir, f)));
  return {
    ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
    ...(privateKey ? { privateKey } : {}),
    hostVerifier: (key) => isKnownHost(knownHosts, host, port, key),
    readyTimeout: 20_000,
  };
}

/** Whether `known_hosts` text lists `key` (the raw public key blob) for host:port. */
export function isKnownHost(knownHosts: string, host: string, port: number, key: Buffer): boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  let found = false;
  for (const line of knownHosts.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith("#")) continue;
    const marker = fields[0]!.startsWith("@") ? fields.shift() : undefined;
    const [hosts, , blob] = fields as [string, string, string];
    if (!matchesHost(hosts, name)) continue;
    const same = Buffer.from(blob, "base64").equals(key);
    if (marker === "@revoked" && same) return false;
    if (marker === undefined && same) found = true;
  }
  return found;
}

// --- internal ---

function matchesHost(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    return createHmac("sha1", Buffer.from(salt ?? "", "base64")).update(name).digest("base64") === hash;
  }
  return field.split(",").includes(name);
}

function firstKey(files: string[]): Buffer | undefined {
  for (const file of files) {
    try {
      const key = readFileSync(file);
      // An encrypted key needs a passphrase we never ask for; the agent holds those.
      if (!/ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(key.toString("latin1", 0, 200)) && !isOpensshEncrypted(key)) return key;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** OpenSSH-format keys say their cipher inside the base64 body: `none` means unencrypted. */
function isOpensshEncrypted(key: Buffer): boolean {
  const text = key.toString("utf8");
  if (!text.includes("BEGIN OPENSSH PRIVATE KEY")) return false;
  const body = Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const cipherLen = body.readUInt32BE(15);
  return body.toString("latin1", 19, 19 + cipherLen) !== "none";
}
