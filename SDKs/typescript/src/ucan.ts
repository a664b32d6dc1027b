// UCAN 0.10 tokens (JWT form): strict parsing, signing, capabilities and chain validation, with the rules of
// Charter's Swift `UCAN` module: only `{"alg":"EdDSA","typ":"JWT"}`, no unknown fields, `ucv` 0.10.x, canonical
// unpadded base64url, full-order Ed25519 did:keys, UCAN attenuation, proofs by CID, nested time windows, limits.

import { CID, KeyRing, MAX_TIME, RAW, SHA256, SigningKey, checkDIDShape, publicKeyOf, signatureHolds, verifyBy } from "./crypto.js";
import {
  JSONError, b64urlDecode, b64urlEncode, canonicalJSON, compareCodePoints, deepFreeze, hasKey, hasPrefix, isInt, isIntAt,
  isObject, parseJSON, utf8,
} from "./encoding.js";
import { UCANError } from "./errors.js";

export const HEADER = '{"alg":"EdDSA","typ":"JWT"}';
const ENCODED_HEADER = b64urlEncode(utf8(HEADER));
const PAYLOAD_FIELDS = new Set(["ucv", "iss", "aud", "nbf", "exp", "nnc", "fct", "cap", "prf"]);

export const MAX_TOKEN_BYTES = 32 * 1024;
export const MAX_PROOFS = 32;
export const MAX_DEPTH = 8;

export type Caveat = Record<string, unknown>;
/** `{resource: {ability: [caveat, …]}}`, as a UCAN's `cap` and an envelope's `capabilities` write it. */
export type CapabilityMap = Record<string, Record<string, Caveat[]>>;

/** An ability on a resource, limited by caveats that are alternatives (`[{}]`: no further restriction). */
export class Capability {
  readonly resource: string;
  readonly ability: string;
  readonly caveats: readonly Caveat[];

  constructor(resource: string, ability: string, caveats: readonly Caveat[] = [{}]) {
    this.resource = resource;
    this.ability = ability.toLowerCase();
    this.caveats = [...caveats];
  }

  toString(): string {
    return `${this.ability} on ${this.resource}`;
  }

  /** Whether this grants at least everything `child` claims. */
  covers(child: Capability): boolean {
    return patternCovers(this.resource, child.resource, null)
      && patternCovers(this.ability, child.ability, "/")
      && child.caveats.every((claimed) => this.caveats.some((parent) => caveatCovers(parent, claimed)));
  }
}

function patternCovers(parent: string, child: string, separator: string | null): boolean {
  if (parent === "*" || sameText(parent, child)) return true;
  if (!parent.endsWith("*")) return false;
  const prefix = parent.slice(0, -1);
  if (separator !== null && !prefix.endsWith(separator)) return false;
  return hasPrefix(canonical(child), canonical(prefix));
}

const ASCII = /^[\x00-\x7f]*$/;

/** The NFC form: two strings Swift holds equal (canonically equivalent, as `é` and `e` + U+0301) have the same
 * one. ASCII is its own. */
function canonical(text: string): string {
  return ASCII.test(text) ? text : text.normalize("NFC");
}

/** Swift's `String ==`: canonical equivalence, not code units. */
function sameText(left: string, right: string): boolean {
  return left === right || (!(ASCII.test(left) && ASCII.test(right)) && canonical(left) === canonical(right));
}

const ABSENT = Symbol("absent");

/** `map[key]` as a Swift dictionary finds it, by canonical equivalence (a parsed object never holds two
 * equivalent keys), or ABSENT. An ASCII key can match a non-ASCII one: U+212A, the Kelvin sign, is `K`. */
function member(map: Caveat, key: string): unknown {
  if (hasKey(map, key)) return map[key];
  const keyIsASCII = ASCII.test(key);
  const wanted = canonical(key);
  for (const name of Object.keys(map)) {
    if (!(keyIsASCII && ASCII.test(name)) && canonical(name) === wanted) return map[name];
  }
  return ABSENT;
}

/** A child caveat is covered when it has every field of the parent with an equal or narrower value. */
function caveatCovers(parent: Caveat, child: Caveat): boolean {
  return Object.keys(parent).every((key) => {
    const claimed = member(child, key);
    return claimed !== ABSENT && valueCovers(parent[key], claimed);
  });
}

function jsonEqual(left: unknown, right: unknown): boolean {
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => jsonEqual(item, right[index]));
  }
  if (isObject(left) && isObject(right)) {
    const keys = Object.keys(left);
    return keys.length === Object.keys(right).length && keys.every((key) => {
      const other = member(right, key);
      return other !== ABSENT && jsonEqual(left[key], other);
    });
  }
  // Strings by canonical equivalence, as Swift compares them.
  if (typeof left === "string" && typeof right === "string") return sameText(left, right);
  if ((typeof left === "number" || typeof left === "bigint") && (typeof right === "number" || typeof right === "bigint")) {
    // eslint-disable-next-line eqeqeq
    return left == right;
  }
  return left === right;
}

function valueCovers(parent: unknown, child: unknown): boolean {
  if (isObject(parent) && isObject(child)) return caveatCovers(parent, child);
  if (Array.isArray(parent) && Array.isArray(child)) {
    return child.every((item) => parent.some((allowed) => jsonEqual(item, allowed)));
  }
  return jsonEqual(parent, child);
}

function isVisible(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code <= 0x20 || code === 0x7f) return false;
  }
  return true;
}

function checkResource(resource: string): void {
  if (resource === "*") return;
  const colon = resource.indexOf(":");
  const scheme = colon < 0 ? "" : resource.slice(0, colon);
  const rest = colon < 0 ? "" : resource.slice(colon + 1);
  if (colon < 0 || !scheme || !rest) throw new UCANError("invalid_field", `resource ${resource} is not a URI`, "cap");
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) {
    throw new UCANError("invalid_field", `resource ${resource} has no valid URI scheme`, "cap");
  }
  if (!isVisible(resource)) throw new UCANError("invalid_field", "resource contains whitespace or control characters", "cap");
  if (scheme.toLowerCase() === "ucan") throw new UCANError("invalid_field", "the ucan: resource scheme is reserved", "cap");
}

function checkAbility(ability: string, resource: string): void {
  if (ability === "*") return;
  const first = ability.indexOf("/");
  if (first <= 0 || ability.endsWith("/") || ability.includes("//") || !isVisible(ability)) {
    throw new UCANError("invalid_field", `ability ${ability} on ${resource} is not namespace/verb`, "cap");
  }
  if (ability.slice(0, first) === "ucan") throw new UCANError("invalid_field", "the ucan/ abilities are reserved", "cap");
}

/** Steps (innermost first) to the first empty array inside a caveat value, or null. */
function emptyArrayPath(value: unknown): string[] | null {
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    for (let index = 0; index < value.length; index++) {
      const steps = emptyArrayPath(value[index]);
      if (steps !== null) return [...steps, `[${index}]`];
    }
  } else if (isObject(value)) {
    for (const name of Object.keys(value).sort(compareCodePoints)) {
      const steps = emptyArrayPath(value[name]);
      if (steps !== null) {
        const simple = /^[A-Za-z0-9_]+$/.test(name);
        return [...steps, simple ? `.${name}` : "[" + canonicalJSON(name) + "]"];
      }
    }
  }
  return null;
}

function compareCapabilities(a: Capability, b: Capability): number {
  return compareCodePoints(a.resource, b.resource) || compareCodePoints(a.ability, b.ability);
}

/** Checks and sorts capabilities as Charter does; throws UCANError naming the fault. */
export function checkCapabilities(capabilities: Iterable<Capability>): Capability[] {
  const listed = [...capabilities].sort(compareCapabilities);
  for (const capability of listed) {
    checkResource(capability.resource);
    checkAbility(capability.ability, capability.resource);
    if (capability.caveats.length === 0) throw new UCANError("invalid_field", `caveats of ${capability} must not be empty`, "cap");
    capability.caveats.forEach((caveat, index) => {
      const steps = emptyArrayPath(caveat);
      if (steps !== null) {
        const path = "cap[" + canonicalJSON(capability.resource) + "][" + canonicalJSON(capability.ability) + `][${index}]`
          + steps.reverse().join("");
        throw new UCANError("invalid_field",
          "must not be an empty array: a service could read an empty list in a caveat as no restriction", path);
      }
    });
  }
  // Swift compares strings by canonical equivalence, so `x/é` and `x/e` + U+0301 are one ability there (and one
  // key to a strict parser reading the token back), though their code points differ.
  const seen = new Set<string>();
  for (const capability of listed) {
    const pair = JSON.stringify([canonical(capability.resource), canonical(capability.ability)]);
    if (seen.has(pair)) throw new UCANError("invalid_field", `${capability} appears twice`, "cap");
    seen.add(pair);
  }
  return listed;
}

/** Reads the `cap` map form. */
export function parseCapabilities(value: unknown, fieldName = "cap"): Capability[] {
  if (!isObject(value)) throw new UCANError("invalid_field", "must be an object of resources", fieldName);
  const listed: Capability[] = [];
  for (const [resource, abilities] of Object.entries(value)) {
    if (!isObject(abilities)) throw new UCANError("invalid_field", `abilities of ${resource} must be an object`, fieldName);
    for (const [ability, caveats] of Object.entries(abilities)) {
      if (!Array.isArray(caveats) || caveats.length === 0) {
        throw new UCANError("invalid_field", `caveats of ${ability} on ${resource} must be a non-empty array`, fieldName);
      }
      if (!caveats.every(isObject)) {
        throw new UCANError("invalid_field", `caveats of ${ability} on ${resource} must be objects`, fieldName);
      }
      listed.push(new Capability(resource, ability, caveats));
    }
  }
  try {
    return checkCapabilities(listed);
  } catch (error) {
    if (!(error instanceof UCANError)) throw error;
    const below = error.field?.startsWith("cap") ? error.field.slice(3) : "";
    throw new UCANError(error.code, error.detail, fieldName + below);
  }
}

/** The `cap` map form of capabilities. */
export function capabilityMap(capabilities: Iterable<Capability>): CapabilityMap {
  const result: CapabilityMap = {};
  for (const capability of capabilities) {
    (result[capability.resource] ??= {})[capability.ability] = capability.caveats.map((caveat) => ({ ...caveat }));
  }
  return result;
}

/** What the SDK accepts wherever capabilities are asked for: the `cap` map, or Capability objects. */
export type Capabilities = CapabilityMap | Iterable<Capability>;

export function toCapabilities(value: Capabilities): Capability[] {
  if (isObject(value)) return parseCapabilities(value);
  return checkCapabilities(value as Iterable<Capability>);
}

export type Version = [number, number, number];

export interface TokenClaims {
  audience: string;
  capabilities: Capabilities;
  /** Seconds since the epoch, or null for none. */
  expiration: number | null;
  notBefore?: number;
  nonce?: string;
  facts?: Record<string, unknown>;
  proofs?: readonly CID[];
}

/**
 * A UCAN 0.10 token, holding the exact text it was parsed from or built as (its CID is over that text).
 * `toString()` names it by CID; `.text` is the bearer credential itself.
 */
export class Token {
  readonly #signature: Uint8Array;
  readonly #signedLength: number;
  #cid: CID | undefined;

  /** Deeply frozen once built: a verifier caches tokens and hands them to request handlers. */
  private constructor(
    readonly text: string,
    readonly issuer: string,
    readonly audience: string,
    readonly expiration: number | null,
    readonly notBefore: number | null,
    readonly nonce: string | null,
    readonly facts: Record<string, unknown> | null,
    readonly capabilities: readonly Capability[],
    readonly proofs: readonly CID[],
    readonly version: Version,
    signature: Uint8Array,
    signedLength: number,
  ) {
    this.#signature = signature;
    this.#signedLength = signedLength;
    deepFreeze(this);
  }

  toString(): string {
    return `token ${this.cid}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** The sha2-256 CID of the token's bytes (`bafkrei…`): how a delegation cites it and Charter revokes it. */
  get cid(): CID {
    this.#cid ??= CID.of(utf8(this.text), RAW);
    return this.#cid;
  }

  /** The CID with another hash function (only sha2-256 is computed by this SDK; blake3 gives null). */
  cidWith(hasher: number): CID | null {
    return hasher === SHA256 ? this.cid : null;
  }

  get capabilityMap(): CapabilityMap {
    return capabilityMap(this.capabilities);
  }

  /** Whether the signature verifies under the issuer's key; false too when the issuer is not an acceptable key. */
  get hasValidSignature(): boolean {
    return signatureHolds(this.issuer, utf8(this.text.slice(0, this.#signedLength)), this.#signature);
  }

  /**
   * Whether the signature verifies under the issuer's key, taken from `ring` first. Throws UCANError `invalid_field`
   * (`iss`) when the issuer is not an acceptable key, `too_many_keys` past the verification's key budget.
   */
  verifySignature(ring?: KeyRing): boolean {
    return verifyBy(this.issuer, utf8(this.text.slice(0, this.#signedLength)), this.#signature, "iss", ring);
  }

  fact(name: string): string | null {
    const value = this.facts !== null && hasKey(this.facts, name) ? this.facts[name] : undefined;
    return typeof value === "string" ? value : null;
  }

  /**
   * Parses a token and checks its shape strictly, the points of its issuer's and audience's did:keys included; the
   * signature and time are checked by validation.
   */
  static parse(text: string, maxBytes = MAX_TOKEN_BYTES, maxProofs = MAX_PROOFS): Token {
    return Token.read(text, maxBytes, maxProofs, true);
  }

  /**
   * Parses a token as `parse` does, but checks only the shape of its did:keys (`checkDIDShape`), leaving their
   * points (about 1 ms each) to validation, which checks a key only once a verified link vouches for it: how a
   * verifier reads what a request presents.
   */
  static parseUnverified(text: string, maxBytes = MAX_TOKEN_BYTES, maxProofs = MAX_PROOFS): Token {
    return Token.read(text, maxBytes, maxProofs, false);
  }

  private static read(text: string, maxBytes: number, maxProofs: number, checkPoints: boolean): Token {
    if (utf8(text).length > maxBytes) throw new UCANError("too_large", `token is over ${maxBytes} bytes`);
    const parts = text.split(".");
    if (parts.length !== 3) throw new UCANError("malformed", "a token has exactly three dot-separated parts");
    if (parts[0] !== ENCODED_HEADER) checkHeader(segmentJSON(parts[0], "header"));
    const payload = segmentJSON(parts[1], "payload");
    const signature = b64urlDecode(parts[2]);
    if (signature === null) throw new UCANError("malformed", "is not unpadded base64url", "signature");
    if (signature.length !== 64) throw new UCANError("invalid_field", "must be 64 bytes", "signature");
    return readPayload(text, payload, signature, parts[0].length + 1 + parts[1].length, maxProofs, checkPoints);
  }

  /** Builds and signs a token; the same claims and key always give the same bytes. */
  static sign(key: SigningKey, claims: TokenClaims): Token {
    const checked = toCapabilities(claims.capabilities);
    publicKeyOf(claims.audience, "aud");
    for (const [name, time] of [["exp", claims.expiration], ["nbf", claims.notBefore]] as const) {
      if (time !== undefined && time !== null && !(Number.isInteger(time) && time >= 0 && time <= MAX_TIME)) {
        throw new UCANError("invalid_field", "must be between 0 and 2^53-1", name);
      }
    }
    if (claims.notBefore !== undefined && claims.expiration !== null && claims.notBefore > claims.expiration) {
      throw new UCANError("invalid_field", "is after exp", "nbf");
    }
    const proofs = claims.proofs ?? [];
    if (proofs.length > MAX_PROOFS) throw new UCANError("too_large", `more than ${MAX_PROOFS} proofs`, "prf");
    const payload: Record<string, unknown> = {
      ucv: "0.10.0", iss: key.did, aud: claims.audience, exp: claims.expiration, cap: capabilityMap(checked),
    };
    if (claims.notBefore !== undefined) payload.nbf = claims.notBefore;
    if (claims.nonce !== undefined) payload.nnc = claims.nonce;
    if (claims.facts !== undefined) payload.fct = claims.facts;
    if (proofs.length > 0) payload.prf = proofs.map(String);
    const signed = ENCODED_HEADER + "." + b64urlEncode(utf8(canonicalJSON(payload)));
    const text = signed + "." + b64urlEncode(key.sign(utf8(signed)));
    if (text.length > MAX_TOKEN_BYTES) {
      throw new UCANError("too_large", `the token would be ${text.length} bytes, over the ${MAX_TOKEN_BYTES} verifiers accept`);
    }
    return Token.parse(text);
  }
}

function segmentJSON(segment: string, name: string): Record<string, unknown> {
  const decoded = b64urlDecode(segment);
  if (decoded === null) throw new UCANError("malformed", "is not unpadded base64url", name);
  let value: unknown;
  try {
    value = parseJSON(decoded);
  } catch (error) {
    if (error instanceof JSONError) throw new UCANError("malformed", `is not valid JSON (${error.message})`, name);
    throw error;
  }
  if (!isObject(value)) throw new UCANError("malformed", "is not a JSON object", name);
  return value;
}

function checkHeader(header: Record<string, unknown>): void {
  for (const key of Object.keys(header)) {
    if (key !== "alg" && key !== "typ") throw new UCANError("invalid_field", `unknown field "${key.slice(0, 32)}"`, "header");
  }
  const alg = header.alg, typ = header.typ;
  if (alg === undefined || alg === null) throw new UCANError("missing_field", "is required", "alg");
  if (typeof alg !== "string") throw new UCANError("invalid_field", "must be a string", "alg");
  if (alg !== "EdDSA") throw new UCANError("unsupported_algorithm", "must be EdDSA", "alg");
  if (typ === undefined || typ === null) throw new UCANError("missing_field", "is required", "typ");
  if (typ !== "JWT") throw new UCANError("invalid_field", typeof typ === "string" ? "must be JWT" : "must be a string", "typ");
}

function parseVersion(text: string): Version | null {
  const parts = text.split(".");
  if (parts.length !== 3) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,9}$/.test(part) || (part !== "0" && part[0] === "0")) return null;
    numbers.push(Number(part));
  }
  return [numbers[0], numbers[1], numbers[2]];
}

/** Orders versions: negative when `a` is lower. */
export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function stringField(payload: Record<string, unknown>, name: string): string {
  if (!hasKey(payload, name)) throw new UCANError("missing_field", "is required", name);
  const value = payload[name];
  if (typeof value !== "string") throw new UCANError("invalid_field", "must be a string", name);
  return value;
}

/** An integer as written (`1.0` is a float, as Charter's parser reads it) within 0 ... 2^53-1. */
function timeField(payload: Record<string, unknown>, name: string): number {
  const value = payload[name];
  if (!isIntAt(payload, name) || !isInt(value) || value < 0 || value > MAX_TIME) {
    throw new UCANError("invalid_field", "must be an integer number of seconds", name);
  }
  return Number(value);
}

function readPayload(text: string, payload: Record<string, unknown>, signature: Uint8Array, signedLength: number,
  maxProofs: number, checkPoints: boolean): Token {
  const checkDID = checkPoints ? publicKeyOf : checkDIDShape;
  for (const key of Object.keys(payload)) {
    if (!PAYLOAD_FIELDS.has(key)) throw new UCANError("invalid_field", `unknown field "${key.slice(0, 32)}"`, "payload");
  }
  const version = parseVersion(stringField(payload, "ucv"));
  if (version === null) throw new UCANError("invalid_field", "is not a semantic version", "ucv");
  if (version[0] !== 0 || version[1] !== 10) {
    throw new UCANError("invalid_field", `version ${version.join(".")} is not supported (0.10.x)`, "ucv");
  }
  const issuer = stringField(payload, "iss");
  checkDID(issuer, "iss");
  const audience = stringField(payload, "aud");
  checkDID(audience, "aud");
  if (!hasKey(payload, "exp")) throw new UCANError("missing_field", "is required (null for no expiry)", "exp");
  const expiration = payload.exp === null ? null : timeField(payload, "exp");
  const notBefore = hasKey(payload, "nbf") ? timeField(payload, "nbf") : null;
  const nonce = payload.nnc;
  if (hasKey(payload, "nnc") && typeof nonce !== "string") throw new UCANError("invalid_field", "must be a string", "nnc");
  const facts = payload.fct;
  if (hasKey(payload, "fct") && !isObject(facts)) throw new UCANError("invalid_field", "must be an object", "fct");
  if (!hasKey(payload, "cap")) throw new UCANError("missing_field", "is required", "cap");
  const capabilities = parseCapabilities(payload.cap);
  const proofs: CID[] = [];
  if (hasKey(payload, "prf")) {
    const listed = payload.prf;
    if (!Array.isArray(listed)) throw new UCANError("invalid_field", "must be an array of CID strings", "prf");
    if (listed.length > maxProofs) throw new UCANError("too_large", `more than ${maxProofs} proofs`, "prf");
    listed.forEach((entry, index) => {
      if (typeof entry !== "string") throw new UCANError("invalid_field", "must be a CID string", `prf[${index}]`);
      proofs.push(CID.parse(entry, `prf[${index}]`));
    });
  }
  return new (Token as any)(text, issuer, audience, expiration, notBefore, typeof nonce === "string" ? nonce : null,
    isObject(facts) ? facts : null, capabilities, proofs, version, signature, signedLength);
}

