// `did:key` identifiers of Ed25519 keys, and their keys for node:crypto: full-order points only (edwards.ts).
//
// The point check is BigInt arithmetic, about 1 ms a key, so a verifier must not run it for keys nobody vouches
// for. A DID's shape (its base58, its multicodec, a canonical encoding outside libsodium's small-order table) is
// checked when a token is parsed, for nothing; the point itself only when the key is used: to check a signature of
// a link that a verified link names, or once for the keys a verifier is configured with (a `KeyRing`).

import * as nodeCrypto from "node:crypto";
import { hasSmallOrderEncoding, isCanonicalEncoding, isFullOrderPoint } from "./edwards.js";
import { b58Decode, b58Encode, concat, fromHex } from "./encoding.js";
import { UCANError } from "./errors.js";

export const DID_PREFIX = "did:key:z";
const ED25519_MULTICODEC = Uint8Array.of(0xed, 0x01);
const SPKI_PREFIX = fromHex("302a300506032b6570032100");
const NOT_A_POINT = "the did:key's Ed25519 key is not a valid full-order point";

/** A map that forgets its least recently used entry when full. */
class LRU<K, V> {
  private readonly values = new Map<K, V>();
  constructor(private readonly capacity = 4096) {}
  get(key: K): V | undefined {
    const value = this.values.get(key);
    if (value !== undefined) {
      this.values.delete(key);
      this.values.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    if (this.values.size >= this.capacity) this.values.delete(this.values.keys().next().value as K);
    this.values.set(key, value);
  }
  clear(): void {
    this.values.clear();
  }
}

/** An acceptable key, ready for node:crypto; null: the DID is not an acceptable Ed25519 did:key. */
type Known = { raw: Uint8Array; key: nodeCrypto.KeyObject } | null;

/** DIDs already checked, and their verdict: the point check costs about 1 ms, a lookup nothing. */
const knownKeys = new LRU<string, Known>();

/** How many point checks this process has run: for tests that pin which requests cost one. */
let pointChecksRun = 0;

/** The number of did:key point checks (the ~1 ms arithmetic) this process has run. */
export function pointChecks(): number {
  return pointChecksRun;
}

/** Empties the process's cache of checked keys (for tests: key rings must not depend on it). */
export function forgetKnownKeys(): void {
  knownKeys.clear();
}

/**
 * How many DIDs not met before may still be checked in the current verification (`withKeyBudget`); unbounded
 * outside one. Only keys vouched for by a verified link reach the check, but an authenticated agent could still
 * delegate to a hundred fresh keys and hold the event loop ~100 ms.
 */
let keyBudget = Infinity;

/**
 * Runs `body` letting it check at most `limit` DIDs not met before; the next one throws UCANError `too_many_keys`.
 * Verification is synchronous, so the budget belongs to exactly one call.
 */
export function withKeyBudget<T>(limit: number, body: () => T): T {
  const outer = keyBudget;
  keyBudget = Math.min(limit, outer);
  try {
    return body();
  } finally {
    keyBudget = outer;
  }
}

/** The `did:key` of a 32-byte Ed25519 public key. */
export function didOf(publicKey: Uint8Array): string {
  return DID_PREFIX + b58Encode(concat(ED25519_MULTICODEC, publicKey));
}

/** The 32 bytes an Ed25519 did:key spells, or null. */
function pointOf(did: string): Uint8Array | null {
  const raw = did.length <= 64 && did.startsWith(DID_PREFIX) ? b58Decode(did.slice(DID_PREFIX.length)) : null;
  if (raw === null || raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) return null;
  return raw.slice(2);
}

/**
 * Checks what a DID's shape tells without arithmetic: an Ed25519 did:key, canonically encoded, not one of the
 * small-order points. Throws UCANError `invalid_field` naming `field`. The point itself is checked when the key is
 * used (`keyOf`).
 */
export function checkDIDShape(did: string, field: string): void {
  const verdict = knownKeys.get(did);
  if (verdict === null) throw new UCANError("invalid_field", NOT_A_POINT, field);
  if (verdict !== undefined) return;
  const point = pointOf(did);
  if (point === null) throw new UCANError("invalid_field", "not an Ed25519 did:key", field);
  if (!isCanonicalEncoding(point) || hasSmallOrderEncoding(point)) throw new UCANError("invalid_field", NOT_A_POINT, field);
}

/**
 * A fully checked key: from `ring`, from the process's cache, or checked now, against the current key budget
 * unless `budgeted` is false (a verifier's own keys).
 */
function known(did: string, field: string, ring?: KeyRing, budgeted = true): { raw: Uint8Array; key: nodeCrypto.KeyObject } {
  let entry = ring?.get(did) ?? knownKeys.get(did);
  if (entry === undefined) {
    const point = pointOf(did);
    if (point === null) throw new UCANError("invalid_field", "not an Ed25519 did:key", field);
    entry = null;
    if (isCanonicalEncoding(point) && !hasSmallOrderEncoding(point)) {
      if (budgeted) {
        if (keyBudget <= 0) {
          throw new UCANError("too_many_keys", "the request names more new keys than one verification checks", field);
        }
        keyBudget -= 1;
      }
      pointChecksRun += 1;
      if (isFullOrderPoint(point)) {
        entry = { raw: point, key: nodeCrypto.createPublicKey({ key: concat(SPKI_PREFIX, point), format: "der", type: "spki" }) };
      }
    }
    knownKeys.set(did, entry);
  }
  if (entry === null) throw new UCANError("invalid_field", NOT_A_POINT, field);
  return entry;
}

/**
 * Keys checked once and held for as long as their holder: a verifier's own audiences and trusted issuers. They are
 * never evicted from a cache a flood of other keys could fill, nor counted against a verification's key budget.
 */
export class KeyRing {
  readonly #keys = new Map<string, Exclude<Known, null>>();

  /** Checks each DID (throwing UCANError `invalid_field` for one that is not acceptable), reusing `previous`'s. */
  constructor(dids: Iterable<string>, previous?: KeyRing) {
    for (const did of dids) {
      if (this.#keys.has(did)) continue;
      const kept = previous !== undefined ? previous.#keys.get(did) : undefined;
      this.#keys.set(did, kept ?? known(did, "did", undefined, false));
    }
  }

  get(did: string): Exclude<Known, null> | undefined {
    return this.#keys.get(did);
  }

  has(did: string): boolean {
    return this.#keys.has(did);
  }
}

/**
 * The 32-byte Ed25519 key a `did:key` names. Throws UCANError (`invalid_field`) unless it is an Ed25519 did:key
 * whose key is a valid, full-order point.
 */
export function publicKeyOf(did: string, field = "did"): Uint8Array {
  return new Uint8Array(known(did, field).raw);
}

/** Whether `text` is an Ed25519 did:key of a valid, full-order point. */
export function isDID(text: unknown): text is string {
  if (typeof text !== "string") return false;
  try {
    known(text, "did");
    return true;
  } catch (error) {
    if (error instanceof UCANError && error.code === "too_many_keys") throw error;
    return false;
  }
}

/** Whether `text` has the shape of an Ed25519 did:key (`checkDIDShape`); its point is not checked. */
export function hasDIDShape(text: unknown): text is string {
  if (typeof text !== "string") return false;
  try {
    checkDIDShape(text, "did");
    return true;
  } catch {
    return false;
  }
}

/** Whether `signature` is `did`'s Ed25519 signature over `message`; false for a DID that is not an acceptable key. */
export function signatureHolds(did: string, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verifyBy(did, message, signature, "did");
  } catch (error) {
    if (error instanceof UCANError && error.code === "too_many_keys") throw error;
    return false;
  }
}

/**
 * Whether `signature` is `did`'s Ed25519 signature over `message`, taking the key from `ring` first. Throws
 * UCANError `invalid_field` (naming `field`) when the DID is not an acceptable key, `too_many_keys` when checking it
 * would exceed the verification's key budget.
 */
export function verifyBy(did: string, message: Uint8Array, signature: Uint8Array, field: string, ring?: KeyRing): boolean {
  const key = known(did, field, ring).key;
  return signature.length === 64 && nodeCrypto.verify(null, message, key, signature);
}
