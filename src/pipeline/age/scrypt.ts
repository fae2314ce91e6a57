// The age scrypt (passphrase) recipient and identity, plugged into age-encryption through its
// public Recipient/Identity interfaces. The library builds and checks the header; only the key
// derivation runs here, on Node's scrypt, because the library's pure-JS scrypt blocks the event
// loop for seconds (stalling every other stream and Ctrl-C) while Node's runs on the thread pool.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import type { Identity, Recipient, Stanza } from "age-encryption";
import { loadAge } from "./lib.ts";

const LABEL = "age-encryption.org/v1/scrypt";
/** age's own default for new files. */
export const SCRYPT_LOG_N = 18;
/** age refuses more on decryption too: 2^22 needs 4 GiB of memory. */
const MAX_LOG_N = 22;

export class ScryptRecipient implements Recipient {
  readonly #passphrase: string;
  readonly #logN: number;
  constructor(passphrase: string, logN = SCRYPT_LOG_N) {
    this.#passphrase = passphrase;
    this.#logN = logN;
  }

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await derive(this.#passphrase, salt, this.#logN);
    const cipher = createCipheriv("chacha20-poly1305", key, Buffer.alloc(12), { authTagLength: 16 });
    const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
    const { Stanza } = await loadAge();
    return [new Stanza(["scrypt", salt.toString("base64").replace(/=+$/, ""), String(this.#logN)], body)];
  }
}

export class ScryptIdentity implements Identity {
  readonly #passphrase: string;
  constructor(passphrase: string) {
    this.#passphrase = passphrase;
  }

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const mine = stanzas.find((s) => s.args[0] === "scrypt");
    if (!mine) return null;
    // An scrypt stanza next to others would let anyone holding those keys swap the file unnoticed.
    if (stanzas.length !== 1) throw new Error("an scrypt stanza must be the only one in the header");
    const [, saltB64 = "", logText = ""] = mine.args;
    const salt = Buffer.from(saltB64, "base64");
    const logN = /^[1-9][0-9]?$/.test(logText) ? Number(logText) : NaN;
    if (mine.args.length !== 3 || salt.length !== 16 || !(logN <= MAX_LOG_N) || mine.body.length !== 32) {
      throw new Error("malformed scrypt stanza");
    }
    const key = await derive(this.#passphrase, salt, logN);
    const decipher = createDecipheriv("chacha20-poly1305", key, Buffer.alloc(12), { authTagLength: 16 });
    decipher.setAuthTag(mine.body.subarray(16));
    const fileKey = decipher.update(mine.body.subarray(0, 16));
    try {
      decipher.final();
    } catch {
      return null; // a wrong passphrase is "not this identity", as for age
    }
    return fileKey;
  }
}

// --- internal ---

function derive(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(passphrase, Buffer.concat([Buffer.from(LABEL), salt]), 32, { N, r: 8, p: 1, maxmem: 128 * 8 * N + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
