// Ed25519 through node:crypto (signing keys; did:keys and their checks are in did-key.ts) and CIDs.

import * as nodeCrypto from "node:crypto";
import { didOf } from "./did-key.js";
import { b32Decode, b32Encode, b58Decode, b64urlDecode, bytesEqual, concat, fromHex } from "./encoding.js";
import { UCANError } from "./errors.js";

export {
  DID_PREFIX, KeyRing, checkDIDShape, didOf, hasDIDShape, isDID, pointChecks, publicKeyOf, signatureHolds, verifyBy,
  withKeyBudget,
} from "./did-key.js";

export const MAX_TIME = 2 ** 53 - 1;
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(nodeCrypto.createHash("sha256").update(data).digest());
}

export function randomBytes(size: number): Uint8Array {
  return new Uint8Array(nodeCrypto.randomBytes(size));
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * An Ed25519 private key. Only its DID is ever shown: the key lives in a private field, `toString`, `toJSON` and
 * `util.inspect` print the DID, and the secret leaves only through `exportSecretKey()`.
 */
export class SigningKey {
  readonly did: string;
  readonly #privateKey: nodeCrypto.KeyObject;
  readonly #publicKey: Uint8Array;

  private constructor(privateKey: nodeCrypto.KeyObject, publicKey: Uint8Array) {
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.did = didOf(publicKey);
  }

  static generate(): SigningKey {
    return SigningKey.fromSeed(randomBytes(32));
  }

  /** From a 32-byte seed, or libsodium's 64-byte secret key (seed then public key) as `charter ucan keygen` writes. */
  static fromSecret(secret: Uint8Array): SigningKey {
    if (secret.length === 64) {
      const key = SigningKey.fromSeed(secret.subarray(0, 32));
      if (!bytesEqual(key.#publicKey, secret.subarray(32))) {
        throw new Error("the secret key's public half does not match its seed");
      }
      return key;
    }
    if (secret.length === 32) return SigningKey.fromSeed(secret);
    throw new Error("an Ed25519 secret key is 64 bytes (or a 32-byte seed)");
  }

  private static fromSeed(seed: Uint8Array): SigningKey {
    const privateKey = nodeCrypto.createPrivateKey({ key: concat(PKCS8_PREFIX, seed), format: "der", type: "pkcs8" });
    const jwk = privateKey.export({ format: "jwk" });
    return new SigningKey(privateKey, b64urlDecode(jwk.x!)!);
  }

  /** The 32-byte public key (a copy). */
  get publicKey(): Uint8Array {
    return new Uint8Array(this.#publicKey);
  }

  /** libsodium's 64-byte secret key (seed, then public key), as identity files and `charter ucan keygen` hold it. */
  exportSecretKey(): Uint8Array {
    const jwk = this.#privateKey.export({ format: "jwk" });
    return concat(b64urlDecode(jwk.d!)!, this.#publicKey);
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(nodeCrypto.sign(null, message, this.#privateKey));
  }

  toString(): string {
    return `SigningKey(${this.did})`;
  }

  toJSON(): { did: string } {
    return { did: this.did };
  }

  [INSPECT](): string {
    return this.toString();
  }
}

// CIDs: CIDv1, a 32-byte sha2-256 or blake3 multihash, raw (0.10 tokens) or DAG-CBOR (1.0 envelopes).
export const RAW = 0x55;
export const DAG_CBOR = 0x71;
export const SHA256 = 0x12;
export const BLAKE3 = 0x1e;

/**
 * A content identifier; `toString()` is its base32 form (`bafkrei…` for 0.10, `bafyrei…` for 1.0). Immutable: it
 * is frozen, keeps its own copy of the digest and hands out copies.
 */
export class CID {
  readonly codec: number;
  readonly hasher: number;
  readonly #digest: Uint8Array;
  #text: string | undefined;

  constructor(codec: number, hasher: number, digest: Uint8Array) {
    this.codec = codec;
    this.hasher = hasher;
    this.#digest = Uint8Array.prototype.slice.call(digest); // a copy, even of a Buffer
    Object.freeze(this);
  }

  /** The hash (a copy). */
  get digest(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.#digest);
  }

  /** The binary CID (every varint is one byte for the codecs and hashes supported). */
  get bytes(): Uint8Array {
    return concat(Uint8Array.of(0x01, this.codec, this.hasher, 0x20), this.#digest);
  }

  toString(): string {
    this.#text ??= "b" + b32Encode(this.bytes);
    return this.#text;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: unknown): boolean {
    return other instanceof CID && other.codec === this.codec && other.hasher === this.hasher
      && bytesEqual(other.#digest, this.#digest);
  }

  /** The sha2-256 CID of exactly these bytes. */
  static of(data: Uint8Array, codec: number): CID {
    return new CID(codec, SHA256, sha256(data));
  }

  static fromBytes(raw: Uint8Array, field = "cid"): CID {
    if (raw.length !== 36 || raw[0] !== 0x01 || (raw[1] !== RAW && raw[1] !== DAG_CBOR)
      || (raw[2] !== SHA256 && raw[2] !== BLAKE3) || raw[3] !== 0x20) {
      throw new UCANError("invalid_field", "not a CIDv1 sha2-256 or blake3-256 CID", field);
    }
    return new CID(raw[1], raw[2], raw.subarray(4)); // the constructor copies
  }

  /** A CID string: base32 (`b…`), or for DAG-CBOR base58btc (`z…`) too. */
  static parse(text: string, field = "cid"): CID {
    const invalid = () => new UCANError("invalid_field", "not a CIDv1 sha2-256 or blake3-256 CID", field);
    if (text.length >= 128 || text.length === 0) throw invalid();
    const raw = text[0] === "b" ? b32Decode(text.slice(1)) : text[0] === "z" ? b58Decode(text.slice(1)) : null;
    if (raw === null) throw invalid();
    const cid = CID.fromBytes(raw, field);
    if (text[0] === "z" && cid.codec !== DAG_CBOR) throw invalid();
    return cid;
  }
}
