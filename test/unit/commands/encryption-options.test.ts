import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { resolveEncryption, resolveKeyRing } from "../../../src/commands/encryption-options.ts";
import { ConfigError } from "../../../src/errors.ts";
import type { Logger } from "../../../src/ui/logger.ts";

let dir: string;
let r1: string, r2: string, r3: string, secret: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-encopt-"));
  secret = await generateIdentity();
  [r1, r2, r3] = [await identityToRecipient(secret), await identityToRecipient(await generateIdentity()), await identityToRecipient(await generateIdentity())];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function deps(env: NodeJS.ProcessEnv = {}) {
  const warnings: string[] = [];
  const log = { info() {}, warn: (m: string) => warnings.push(m), error() {}, debug() {} } as unknown as Logger;
  return { env, cwd: dir, log, signal: new AbortController().signal, stdinIsTTY: false, warnings };
}
const services = (labels: Record<string, Record<string, string>> = {}) =>
  ["db", "files"].map((name) => ({ name, labels: labels[name] ?? {} }));

describe("resolveEncryption", () => {
  it("nothing asked for: no encryption", async () => {
    expect(await resolveEncryption({}, deps(), services())).toBeUndefined();
  });

  it("flags and recipients files win over the variables; a label adds to its own service only", async () => {
    const file = path.join(dir, "recipients.txt");
    await writeFile(file, `# ops\n${r2}\n\n`);
    const env = { SDBACKUP_AGE_RECIPIENTS: r3 };
    const map = await resolveEncryption({ encryptTo: [r1], recipientsFile: [file] }, deps(env), services({ files: { "simpledeploy.backup.encrypt-to": `${r3}, ${r1}` } }));
    expect(map?.get("db")).toEqual({ recipients: [r1, r2] });
    expect(map?.get("files")).toEqual({ recipients: [r1, r2, r3] });
    const fromEnv = await resolveEncryption({}, deps({ SDBACKUP_AGE_RECIPIENTS: `${r1} ${r2}` }), services());
    expect(fromEnv?.get("files")).toEqual({ recipients: [r1, r2] });
  });

  it("a label alone encrypts only its service", async () => {
    const map = await resolveEncryption({}, deps(), services({ db: { "simpledeploy.backup.encrypt-to": r1 } }));
    expect([...(map?.keys() ?? [])]).toEqual(["db"]);
  });

  it("SDBACKUP_PASSPHRASE_FILE encrypts every service with the passphrase; mixing with recipients is exit 2", async () => {
    const file = path.join(dir, "pass.txt");
    await writeFile(file, "tangerine-passphrase\n", { mode: 0o600 });
    const map = await resolveEncryption({}, deps({ SDBACKUP_PASSPHRASE_FILE: file }), services());
    expect(map?.get("db")).toEqual({ passphrase: "tangerine-passphrase" });
    const mixed = await resolveEncryption({ encryptTo: [r1] }, deps({ SDBACKUP_PASSPHRASE_FILE: file }), services()).catch((e: unknown) => e);
    expect(mixed).toBeInstanceOf(ConfigError);
    expect((mixed as Error).message).not.toContain("tangerine");
    await expect(resolveEncryption({ passphrase: true }, deps(), services())).rejects.toThrow(/no terminal to ask on/);
  });

  it("a bad recipient names where it came from", async () => {
    await expect(resolveEncryption({}, deps(), services({ db: { "simpledeploy.backup.encrypt-to": "age1nope" } })))
      .rejects.toThrow(/label simpledeploy\.backup\.encrypt-to of db: "age1nope" is not an age recipient/);
  });
});

describe("resolveKeyRing", () => {
  it("reads --identity files (else SDBACKUP_AGE_IDENTITY_FILE), warns when others can read one", async () => {
    const file = path.join(dir, "id.txt");
    await writeFile(file, `# created by age-keygen\n${secret}\n`, { mode: 0o644 });
    const d = deps({ SDBACKUP_AGE_IDENTITY_FILE: path.join(dir, "missing.txt") });
    const ring = await resolveKeyRing({ identity: [file] }, d);
    expect(ring.empty).toBe(false);
    expect(d.warnings).toEqual([`identity file ${file} is readable by others (mode 644); chmod 600 it`]);
    await expect(resolveKeyRing({}, d)).rejects.toThrow(/cannot read identity file .*missing\.txt/);
    expect((await resolveKeyRing({}, deps())).empty).toBe(true);
  });
});
