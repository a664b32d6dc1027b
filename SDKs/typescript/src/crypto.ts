// Ed25519 through node:crypto, `did:key` identifiers (full-order points only) and CIDs.

import * as nodeCrypto from "node:crypto";
import { b32Decode, b32Encode, b58Decode, b58Encode, b64urlDecode, bytesEqual, concat, fromHex } from "./encoding.js";
import { UCANError } from "./errors.js";

export const DID_PREFIX = "did:key:z";
const ED25519_MULTICODEC = Uint8Array.of(0xed, 0x01);
export const MAX_TIME = 2 ** 53 - 1;
const SPKI_PREFIX = fromHex("302a300506032b6570032100");
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");

// Edwards25519 arithmetic, only to check that a did:key's point is valid and of full (prime) order, as libsodium's
// crypto_core_ed25519_is_valid_point does: lenient verifiers accept forged signatures for small-order keys.
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = (-121665n * inverse(121666n)) % P;
const SQRT_M1 = power(2n, (P - 1n) / 4n);

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}
function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}

type Point = [bigint, bigint, bigint, bigint]; // extended coordinates X, Y, Z, T

function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p;
  const [x2, y2, z2, t2] = q;
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * t1 * t2 * D);
  const d = mod(2n * z1 * z2);
  const e = b - a, f = d - c, g = d + c, h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(point: Point, scalar: bigint): Point {
  let result: Point = [0n, 1n, 1n, 0n];
  let addend = point;
  let k = scalar;
  while (k > 0n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
    k >>= 1n;
  }
  return result;
}

function isIdentity([x, y, z]: Point): boolean {
  return mod(x) === 0n && mod(y - z) === 0n;
}

function isFullOrderPoint(key: Uint8Array): boolean {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? key[i] & 0x7f : key[i]);
  const sign = key[31] >> 7;
  if (y >= P) return false; // a non-canonical encoding
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  let x = mod(u * power(v, 3n) * power(u * power(v, 7n), (P - 5n) / 8n));
  const check = mod(v * x * x);
  if (check === mod(-u)) x = mod(x * SQRT_M1);
  else if (check !== u) return false; // not on the curve
  if (x === 0n && sign === 1) return false;
  if (Number(x & 1n) !== sign) x = P - x;
  const point: Point = [x, y, 1n, mod(x * y)];
  if (isIdentity(multiply(point, 8n))) return false; // small order
  return isIdentity(multiply(point, L)); // no torsion component
}

class Bounded<K, V> {
  private readonly values = new Map<K, V>();
  constructor(private readonly capacity = 4096) {}
  get(key: K): V | undefined {
    return this.values.get(key);
  }
  set(key: K, value: V): void {
    if (this.values.size >= this.capacity) this.values.clear();
    this.values.set(key, value);
  }
}

const knownKeys = new Bounded<string, { raw: Uint8Array; key: nodeCrypto.KeyObject }>();

/** The `did:key` of a 32-byte Ed25519 public key. */
export function didOf(publicKey: Uint8Array): string {
  return DID_PREFIX + b58Encode(concat(ED25519_MULTICODEC, publicKey));
}

function known(did: string, field: string): { raw: Uint8Array; key: nodeCrypto.KeyObject } {
  const cached = knownKeys.get(did);
  if (cached !== undefined) return cached;
  const raw = did.startsWith(DID_PREFIX) ? b58Decode(did.slice(DID_PREFIX.length)) : null;
  if (raw === null || raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) {
    throw new UCANError("invalid_field", "not an Ed25519 did:key", field);
  }
  const key = raw.slice(2);
  if (!isFullOrderPoint(key)) {
    throw new UCANError("invalid_field", "the did:key's Ed25519 key is not a valid full-order point", field);
  }
  const entry = { raw: key, key: nodeCrypto.createPublicKey({ key: concat(SPKI_PREFIX, key), format: "der", type: "spki" }) };
  knownKeys.set(did, entry);
  return entry;
}

/**
 * The 32-byte Ed25519 key a `did:key` names. Throws UCANError (`invalid_field`) unless it is an Ed25519 did:key
 * whose key is a valid, full-order point.
 */
export function publicKeyOf(did: string, field = "did"): Uint8Array {
  return known(did, field).raw;
}

export function isDID(text: unknown): text is string {
  if (typeof text !== "string") return false;
  try {
    known(text, "did");
    return true;
  } catch {
    return false;
  }
}

/** Whether `signature` is `did`'s Ed25519 signature over `message`. */
export function signatureHolds(did: string, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return nodeCrypto.verify(null, message, known(did, "did").key, signature);
  } catch {
    return false;
  }
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(nodeCrypto.createHash("sha256").update(data).digest());
}

export function randomBytes(size: number): Uint8Array {
  return new Uint8Array(nodeCrypto.randomBytes(size));
}

const secrets = new WeakMap<SigningKey, nodeCrypto.KeyObject>();

/** An Ed25519 private key. Only its DID is ever shown (the key is held outside the object's properties). */
export class SigningKey {
  readonly did: string;
  readonly publicKey: Uint8Array;

  private constructor(privateKey: nodeCrypto.KeyObject, publicKey: Uint8Array) {
    secrets.set(this, privateKey);
    this.publicKey = publicKey;
    this.did = didOf(publicKey);
  }

  static generate(): SigningKey {
    return SigningKey.fromSeed(randomBytes(32));
  }

  /** From a 32-byte seed, or libsodium's 64-byte secret key (seed then public key) as `charter ucan keygen` writes. */
  static fromSecret(secret: Uint8Array): SigningKey {
    if (secret.length === 64) {
      const key = SigningKey.fromSeed(secret.subarray(0, 32));
      if (!bytesEqual(key.publicKey, secret.subarray(32))) {
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

  /** libsodium's 64-byte secret key (seed, then public key). */
  get secretKey(): Uint8Array {
    const jwk = secrets.get(this)!.export({ format: "jwk" });
    return concat(b64urlDecode(jwk.d!)!, this.publicKey);
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(nodeCrypto.sign(null, message, secrets.get(this)!));
  }

  toString(): string {
    return `SigningKey(${this.did})`;
  }

  toJSON(): { did: string } {
    return { did: this.did };
  }
}

// CIDs: CIDv1, a 32-byte sha2-256 or blake3 multihash, raw (0.10 tokens) or DAG-CBOR (1.0 envelopes).
export const RAW = 0x55;
export const DAG_CBOR = 0x71;
export const SHA256 = 0x12;
export const BLAKE3 = 0x1e;

/** A content identifier; `toString()` is its base32 form (`bafkrei…` for 0.10, `bafyrei…` for 1.0). */
export class CID {
  readonly codec: number;
  readonly hasher: number;
  readonly digest: Uint8Array;
  private text: string | undefined;

  constructor(codec: number, hasher: number, digest: Uint8Array) {
    this.codec = codec;
    this.hasher = hasher;
    this.digest = digest;
  }

  /** The binary CID (every varint is one byte for the codecs and hashes supported). */
  get bytes(): Uint8Array {
    return concat(Uint8Array.of(0x01, this.codec, this.hasher, 0x20), this.digest);
  }

  toString(): string {
    this.text ??= "b" + b32Encode(this.bytes);
    return this.text;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: unknown): boolean {
    return other instanceof CID && other.codec === this.codec && other.hasher === this.hasher
      && bytesEqual(other.digest, this.digest);
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
    return new CID(raw[1], raw[2], raw.slice(4));
  }

  /** A CID string: base32 (`b…`), or for DAG-CBOR base58btc (`z…`) too. */
  static parse(text: string, field = "cid"): CID {
    const invalid = new UCANError("invalid_field", "not a CIDv1 sha2-256 or blake3-256 CID", field);
    if (text.length >= 128 || text.length === 0) throw invalid;
    const raw = text[0] === "b" ? b32Decode(text.slice(1)) : text[0] === "z" ? b58Decode(text.slice(1)) : null;
    if (raw === null) throw invalid;
    const cid = CID.fromBytes(raw, field);
    if (text[0] === "z" && cid.codec !== DAG_CBOR) throw invalid;
    return cid;
  }
}
