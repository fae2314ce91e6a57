import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyRing, checkRecipients, createDecryptor, createEncryptor, parseIdentities, type EncryptSpec, type Encryption } from "../../../src/pipeline/encrypt.ts";
import { ConfigError, IntegrityError } from "../../../src/errors.ts";
import { ageOnTty, newKey, requireAge, skipAge } from "../../helpers/age.ts";

let dir: string;
beforeAll(async () => {
  requireAge();
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-age-"));
});
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}
async function seal(data: Buffer, spec: EncryptSpec): Promise<Buffer> {
  const enc = await createEncryptor(spec);
  const out = collect(enc);
  // Uneven pieces, as a compressor hands them out: chunks must be cut across writes.
  await pipeline(Readable.from(Array.from({ length: Math.ceil(data.length / 3001) }, (_, i) => data.subarray(i * 3001, (i + 1) * 3001))), enc);
  return out;
}
function open(sealed: Buffer, keys: KeyRing, encryption: Encryption = { format: "age", recipients: ["age1x"] }, piece = 7001): Promise<Buffer> {
  const dec = createDecryptor(keys, { key: "p/s/db.pgdump.zst.age", encryption });
  const out = collect(dec);
  // Small pieces: headers and chunks must be reassembled across writes.
  const pieces = Array.from({ length: Math.ceil(sealed.length / piece) }, (_, i) => sealed.subarray(i * piece, (i + 1) * piece));
  return Promise.all([out, pipeline(Readable.from(pieces), dec)]).then(([b]) => b);
}

describe.skipIf(skipAge)("age encryption (against the age CLI)", () => {
  it("age -d -i decrypts what sdbackup sealed, and sdbackup opens what age -r sealed, at chunk edges", async () => {
    const key = newKey(dir);
    const other = newKey(dir, "other.txt");
    await writeFile(path.join(dir, "recipients.txt"), `# team\n${other.recipient}\n\n${key.recipient}\n`);
    const keys = new KeyRing(parseIdentities(await readFile(key.file, "utf8"), key.file));
    for (const n of [0, 1, 65536, 65537, 3 * 65536, 300_001]) {
      const data = randomBytes(n);
      const sealed = await seal(data, { recipients: [other.recipient, key.recipient] });
      await writeFile(path.join(dir, "ours.age"), sealed);
      expect(execFileSync("age", ["-d", "-i", key.file, path.join(dir, "ours.age")]).equals(data), `age -d, ${n} bytes`).toBe(true);
      expect((await open(sealed, keys)).equals(data)).toBe(true);
      if (n === 65537) expect((await open(sealed, keys, undefined, 5)).equals(data), "5-byte pieces").toBe(true);
      await writeFile(path.join(dir, "plain"), data);
      execFileSync("age", ["-R", path.join(dir, "recipients.txt"), "-o", path.join(dir, "theirs.age"), path.join(dir, "plain")]);
      expect((await open(await readFile(path.join(dir, "theirs.age")), keys)).equals(data), `age -R, ${n} bytes`).toBe(true);
    }
  });

  it("passphrase: age -d opens sdbackup's scrypt file and sdbackup opens age -p's", { timeout: 180_000 }, async () => {
    const passphrase = "correct horse battery staple 42";
    const data = randomBytes(70_000);
    await writeFile(path.join(dir, "pp.age"), await seal(data, { passphrase }));
    expect((await readFile(path.join(dir, "pp.age"))).subarray(0, 40).toString()).toMatch(/^age-encryption\.org\/v1\n-> scrypt /);
    await ageOnTty(["-d", "-o", path.join(dir, "pp.out"), path.join(dir, "pp.age")], passphrase);
    expect((await readFile(path.join(dir, "pp.out"))).equals(data)).toBe(true);

    await writeFile(path.join(dir, "pp.plain"), data);
    await ageOnTty(["-p", "-o", path.join(dir, "pp2.age"), path.join(dir, "pp.plain")], passphrase);
    const theirs = await readFile(path.join(dir, "pp2.age"));
    const passphraseOnly: Encryption = { format: "age", recipients: [], passphrase: true };
    expect((await open(theirs, new KeyRing([], async () => passphrase), passphraseOnly)).equals(data)).toBe(true);
    const wrong = open(theirs, new KeyRing([], async () => "not it"), passphraseOnly);
    await expect(wrong).rejects.toThrow(ConfigError);
    await expect(wrong).rejects.toThrow(/p\/s\/db\.pgdump\.zst\.age: it is encrypted with a passphrase, and the given one is wrong/);
  });

  it("a wrong or missing identity is a ConfigError naming the artifact and its recipients", async () => {
    const key = newKey(dir, "k1.txt");
    const stranger = newKey(dir, "k2.txt");
    const sealed = await seal(Buffer.from("secret rows"), { recipients: [key.recipient] });
    const encryption: Encryption = { format: "age", recipients: [key.recipient] };
    const wrong = new KeyRing(parseIdentities(await readFile(stranger.file, "utf8"), stranger.file));
    const err = await open(sealed, wrong, encryption).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as Error).message).toBe(`cannot decrypt p/s/db.pgdump.zst.age: it is encrypted to ${key.recipient}, and none of the given identities matches`);
    expect(`${(err as Error).message} ${(err as ConfigError).hint}`).not.toContain(stranger.secret);
    await expect(open(sealed, new KeyRing([]), encryption)).rejects.toThrow(/and no identity was given/);
  });

  it("any altered, dropped or cut chunk fails authentication; a non-age file is refused", async () => {
    const key = newKey(dir, "k3.txt");
    const keys = new KeyRing(parseIdentities(await readFile(key.file, "utf8"), key.file));
    const sealed = await seal(randomBytes(200_000), { recipients: [key.recipient] });
    const flipped = Buffer.from(sealed);
    flipped[sealed.length - 1000]! ^= 1;
    await expect(open(flipped, keys)).rejects.toThrow(IntegrityError);
    const headerEnd = sealed.indexOf("\n", sealed.indexOf("\n--- ") + 1) + 1 + 16;
    const chunk = 65536 + 16;
    const dropped = Buffer.concat([sealed.subarray(0, headerEnd + chunk), sealed.subarray(headerEnd + 2 * chunk)]);
    await expect(open(dropped, keys)).rejects.toThrow(/fails authentication/);
    await expect(open(sealed.subarray(0, headerEnd + 2 * chunk), keys)).rejects.toThrow(IntegrityError);
    await expect(open(sealed.subarray(0, 50), keys)).rejects.toThrow(/ends inside its age header/);
    await expect(open(Buffer.from("PGDMP plain dump"), keys)).rejects.toThrow(/is not an age-encrypted file/);
  });

  it("key files: bad lines are named by number, never by content", async () => {
    await expect(checkRecipients(["age1notakey"], "--encrypt-to")).rejects.toThrow(/--encrypt-to: "age1notakey" is not an age recipient/);
    await expect(checkRecipients(["ssh-ed25519 AAAA"], "x")).rejects.toThrow(ConfigError);
    const leaked = "AGE-SECRET-KEY-1LOOKSSECRETBUTBROKEN!";
    const err = (() => {
      try {
        parseIdentities(`# created: today\n${leaked}\n`, "/keys/id.txt");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toBe("identity file /keys/id.txt, line 2: not an age identity (AGE-SECRET-KEY-1…)");
    expect(() => parseIdentities("# nothing\n", "f")).toThrow(/holds no identity/);
  });
});
