// Encryption of artifacts in the age v1 format, after compression, streaming in 64 KiB chunks:
// `age -d -i key.txt artifact | zstd -d` reads what this writes, and this reads what `age -r`
// and `age -p` write. Header: age-encryption (./age/header.ts); payload: Node's cipher.
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { ConfigError, IntegrityError } from "../errors.ts";
import { NONCE_BYTES, headerLength, newHeader, payloadKey } from "./age/header.ts";
import { Opener, Sealer } from "./age/stream.ts";
import { ScryptRecipient } from "./age/scrypt.ts";
import type { KeyRing } from "./age/keys.ts";
export { KeyRing, checkRecipients, keyLines, parseIdentities } from "./age/keys.ts";

/** What a manifest records: public keys, or that a passphrase was used. Never a secret. */
export interface Encryption {
  format: "age";
  /** `age1…` recipients; empty for a passphrase. */
  recipients: string[];
  passphrase?: true;
}

/** How to encrypt one artifact. Lives in memory only; the passphrase is never written anywhere. */
export type EncryptSpec = { recipients: string[] } | { passphrase: string };

/** File name suffix of an encrypted artifact, after the compression's. */
export const AGE_EXT = ".age";

export function describeEncryption(spec: EncryptSpec): Encryption {
  return "passphrase" in spec ? { format: "age", recipients: [], passphrase: true } : { format: "age", recipients: [...spec.recipients] };
}

/** A stream that encrypts to `spec`; the header (and scrypt, for a passphrase) is made up front. */
export async function createEncryptor(spec: EncryptSpec): Promise<Transform> {
  const to = "passphrase" in spec ? { scrypt: new ScryptRecipient(spec.passphrase) } : { recipients: spec.recipients };
  const { prefix, payloadKey: key } = await newHeader(to);
  const sealer = new Sealer(key);
  let head: Buffer | undefined = prefix;
  const emit = (t: Transform, parts: Buffer[]) => {
    if (head) t.push(head);
    head = undefined;
    for (const p of parts) t.push(p);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      emit(this, sealer.feed(chunk));
      done();
    },
    flush(done) {
      emit(this, sealer.finish());
      done();
    },
  });
}

/** The artifact a decryptor reads, for messages: its key and what the manifest says. */
export interface SealedArtifact {
  key: string;
  encryption: Encryption;
}

/**
 * A stream that decrypts an age file with `keys`. A header no key opens fails with the ConfigError
 * of {@link keyError} before any plaintext is produced; a damaged payload with an IntegrityError.
 */
export function createDecryptor(keys: KeyRing, artifact: SealedArtifact): Transform {
  return new AgeOpen(keys, artifact);
}

/** Reads the header of an age file from `source` (which it leaves unfinished) and checks `keys` open it. */
export async function checkKeyOpens(source: Readable, keys: KeyRing, artifact: SealedArtifact): Promise<void> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    buf = Buffer.concat([buf, chunk]);
    const len = headerLength(buf, artifact.key);
    if (len === undefined) continue;
    const opened = await keys.open(buf.subarray(0, len), artifact.key);
    if (typeof opened === "string") throw keyError(artifact, opened);
    return;
  }
  throw new IntegrityError(`${artifact.key} ends inside its age header`);
}

/** Exit 2: the artifact, what it is encrypted to, and where a key comes from. */
export function keyError(artifact: SealedArtifact, why: "no-key" | "no-match"): ConfigError {
  const e = artifact.encryption;
  if (e.passphrase || e.recipients.length === 0) {
    return new ConfigError(`cannot decrypt ${artifact.key}: it is encrypted with a passphrase, and ${why === "no-key" ? "none was given" : "the given one is wrong"}`, {
      hint: "put the passphrase in a file named by SDBACKUP_PASSPHRASE_FILE, or run on a terminal to be asked",
    });
  }
  return new ConfigError(
    `cannot decrypt ${artifact.key}: it is encrypted to ${e.recipients.join(", ")}, and ${why === "no-key" ? "no identity was given" : "none of the given identities matches"}`,
    { hint: "pass the matching identity file with --identity FILE or SDBACKUP_AGE_IDENTITY_FILE" },
  );
}

// --- internal ---

class AgeOpen extends Transform {
  readonly #keys: KeyRing;
  readonly #artifact: SealedArtifact;
  #pending = Buffer.alloc(0);
  #opener: Opener | undefined;

  constructor(keys: KeyRing, artifact: SealedArtifact) {
    super();
    this.#keys = keys;
    this.#artifact = artifact;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.#opener) return this.#run(done, () => this.#opener!.feed(chunk));
    this.#pending = Buffer.concat([this.#pending, chunk]);
    this.#start().then(() => done(), (err: unknown) => done(err as Error));
  }

  override _flush(done: TransformCallback): void {
    if (!this.#opener) return done(new IntegrityError(`${this.#artifact.key} ends inside its age header`));
    this.#run(done, () => this.#opener!.finish());
  }

  async #start(): Promise<void> {
    const what = this.#artifact.key;
    const len = headerLength(this.#pending, what);
    if (len === undefined || this.#pending.length < len + NONCE_BYTES) return;
    const opened = await this.#keys.open(this.#pending.subarray(0, len), what);
    if (typeof opened === "string") throw keyError(this.#artifact, opened);
    this.#opener = new Opener(payloadKey(opened, this.#pending.subarray(len, len + NONCE_BYTES)), what);
    const rest = this.#pending.subarray(len + NONCE_BYTES);
    this.#pending = Buffer.alloc(0);
    for (const p of this.#opener.feed(rest)) this.push(p);
  }

  #run(done: TransformCallback, step: () => Buffer[]): void {
    try {
      for (const p of step()) this.push(p);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
