// The age v1 header, written and checked by age-encryption: recipient stanzas, the header MAC and
// the payload nonce. Only the boundary search and the payload key derivation are local.
import { hkdfSync } from "node:crypto";
import type { Identity, Recipient } from "age-encryption";
import { loadAge } from "./lib.ts";
import { IntegrityError } from "../../errors.ts";

const INTRO = "age-encryption.org/v1\n";
/** Real headers are a few hundred bytes per recipient; more means this is not an age file. */
const MAX_HEADER = 64 * 1024;
export const NONCE_BYTES = 16;

/** What to seal one artifact with: `age1…` recipients, or a scrypt recipient for a passphrase. */
export type SealRecipients = { recipients: string[] } | { scrypt: Recipient };

/**
 * A fresh header (with its random file key) followed by the payload nonce, and the key that
 * seals the payload. The library makes both by encrypting an empty file; its one empty chunk
 * (a bare 16-byte tag) is dropped and the payload is sealed with the same file key and nonce.
 */
export async function newHeader(to: SealRecipients): Promise<{ prefix: Buffer; payloadKey: Buffer }> {
  let fileKey: Uint8Array | undefined;
  const capture: Recipient = {
    wrapFileKey(key) {
      fileKey = Uint8Array.from(key);
      return [];
    },
  };
  const { Encrypter } = await loadAge();
  const e = new Encrypter();
  e.addRecipient(capture);
  if ("scrypt" in to) e.addRecipient(to.scrypt);
  else for (const r of to.recipients) e.addRecipient(r);
  const out = Buffer.from(await e.encrypt(new Uint8Array(0)));
  const prefix = out.subarray(0, out.length - 16);
  if (!fileKey) throw new Error("age-encryption did not hand out the file key");
  return { prefix, payloadKey: payloadKey(fileKey, prefix.subarray(prefix.length - NONCE_BYTES)) };
}

/**
 * Length of the header at the start of `buf` (through the MAC line), or undefined when more bytes
 * are needed. Throws an IntegrityError when `buf` cannot be an age file.
 */
export function headerLength(buf: Buffer, what: string): number | undefined {
  const intro = buf.subarray(0, INTRO.length).toString("latin1");
  if (!INTRO.startsWith(intro)) throw new IntegrityError(`${what} is not an age-encrypted file`);
  const mac = buf.indexOf("\n--- ");
  const end = mac < 0 ? -1 : buf.indexOf("\n", mac + 1);
  if (end >= 0) return end + 1;
  if (buf.length > MAX_HEADER) throw new IntegrityError(`${what} has no age header end within ${MAX_HEADER} bytes`);
  return undefined;
}

/** The stanza types in a header (`X25519`, `scrypt`, …), to say what it needs without a key. */
export function stanzaTypes(header: Buffer): string[] {
  return header.toString("latin1").split("\n").filter((l) => l.startsWith("-> ")).map((l) => l.split(" ")[1] ?? "");
}

/**
 * The file key, or null when none of `identities` opens the header. A header whose MAC does not
 * verify, or that the library cannot parse, is an IntegrityError.
 */
export async function unwrapHeader(header: Buffer, identities: (string | Identity)[], what: string): Promise<Uint8Array | null> {
  const { Decrypter } = await loadAge();
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return await d.decryptHeader(header);
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    if (message.startsWith("no identity matched")) return null;
    throw new IntegrityError(`${what}: unusable age header (${message})`, { cause: err });
  }
}

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", fileKey, nonce, "payload", 32));
}
