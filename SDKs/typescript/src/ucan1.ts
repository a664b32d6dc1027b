// UCAN 1.0: DAG-CBOR envelopes `[signature, {"h": varsig, "ucan/<dlg|inv>@1.0.0": payload}]`, delegations,
// invocations and chain validation, with the rules of Charter's Swift library.

import { CID, DAG_CBOR, KeyRing, MAX_TIME, SHA256, SigningKey, checkDIDShape, publicKeyOf, randomBytes, verifyBy } from "./crypto.js";
import * as dagcbor from "./dagcbor.js";
import type { IPLD } from "./dagcbor.js";
import { b64Decode, b64Encode, bytesEqual, concat, deepFreeze, fromHex, hasKey, hasPrefix, isFloatAt, isInt, isObject, utf8 } from "./encoding.js";
import { UCANError } from "./errors.js";
import { Policy } from "./policy.js";

const VARSIG = fromHex("3401ed01ed011371"); // varsig v1, EdDSA, Ed25519, SHA2-512, DAG-CBOR
const VARSIG_DRAFT = fromHex("34ed0171"); // the shorter draft form, read too
export const DLG = "ucan/dlg@1.0.0";
export const INV = "ucan/inv@1.0.0";
const KINDS: Record<string, "dlg" | "inv"> = {
  "ucan/dlg@1.0.0": "dlg", "ucan/dlg@1.0.0-rc.1": "dlg", "ucan/inv@1.0.0": "inv", "ucan/inv@1.0.0-rc.1": "inv",
};
export const MAX_TOKEN_BYTES = 32 * 1024;
export const MAX_CHAIN = 8;
const SIGNED_OFFSET = 3 + 64;

/** A command: a lowercase slash path such as `/msg/send`, no trailing slash, no empty segment. */
export function checkCommand(path: string, fieldName = "cmd"): string {
  if (!hasPrefix(path, "/") || (path !== "/" && path.endsWith("/")) || path.includes("//") || utf8(path).length > 256) {
    throw new UCANError("invalid_field", "a command is a slash path such as /msg/send", fieldName);
  }
  // Unicode's White_Space, as Swift's `isWhitespace` and Python's `isspace` read it (so U+0085, not U+FEFF).
  if (path !== path.toLowerCase() || /[\p{White_Space}\u0000-\u001f\u007f]/u.test(path)) {
    throw new UCANError("invalid_field", "a command is lowercase, without spaces or control characters", fieldName);
  }
  return path;
}

/** Whether a delegated command proves another: the same path or one below it, segment by segment. */
export function proves(delegated: string, invoked: string): boolean {
  return delegated === "/" || invoked === delegated || hasPrefix(invoked, delegated + "/");
}

function seal(kind: string, payload: Record<string, unknown>, key: SigningKey): Uint8Array {
  // The signed map's two keys in DAG-CBOR order: "h" (one byte) before any payload tag.
  const signed = concat(Uint8Array.of(0xa2), dagcbor.encode("h"), dagcbor.encode(VARSIG), dagcbor.encode(kind),
    dagcbor.encode(payload));
  const envelope = concat(Uint8Array.of(0x82, 0x58, 0x40), key.sign(signed), signed);
  if (envelope.length > MAX_TOKEN_BYTES) throw new UCANError("too_large", `the token would be over ${MAX_TOKEN_BYTES} bytes`);
  return envelope;
}

function open(data: Uint8Array, maxBytes = MAX_TOKEN_BYTES): [kind: "dlg" | "inv", tag: string, payload: Record<string, IPLD>, signature: Uint8Array] {
  if (data.length > maxBytes) throw new UCANError("too_large", `token is over ${maxBytes} bytes`);
  const decoded = dagcbor.decode(data, maxBytes);
  if (!(Array.isArray(decoded) && decoded.length === 2 && decoded[0] instanceof Uint8Array && isObject(decoded[1]))) {
    throw new UCANError("malformed", "a UCAN 1.0 envelope is [signature, {h, payload}]");
  }
  const signature = decoded[0] as Uint8Array;
  const signed = decoded[1] as Record<string, IPLD>;
  if (signature.length !== 64) throw new UCANError("malformed", "an Ed25519 signature is 64 bytes", "signature");
  const keys = Object.keys(signed);
  if (keys.length !== 2 || !(signed.h instanceof Uint8Array)) {
    throw new UCANError("malformed", "the signed map holds the varsig header h and one payload", "h");
  }
  if (!bytesEqual(signed.h, VARSIG) && !bytesEqual(signed.h, VARSIG_DRAFT)) {
    throw new UCANError("unsupported_algorithm", "only Ed25519 over DAG-CBOR is supported", "h");
  }
  const tag = keys.find((key) => key !== "h")!;
  const kind = hasKey(KINDS, tag) ? KINDS[tag] : undefined;
  if (kind === undefined) throw new UCANError("malformed", "the payload tag is neither ucan/dlg@1.0.0 nor ucan/inv@1.0.0");
  const payload = signed[tag];
  if (!isObject(payload)) throw new UCANError("malformed", "the payload is a map", tag);
  return [kind, tag, payload as Record<string, IPLD>, signature];
}

/**
 * A payload's fields, taken one by one with their types checked; what is left over is refused. A DID's point is
 * checked only with `checkPoints` (else its shape: `checkDIDShape`).
 */
class Fields {
  private readonly fields: Map<string, IPLD>;
  private readonly checkDID: (did: string, field: string) => unknown;
  constructor(private readonly payload: Record<string, IPLD>, checkPoints: boolean) {
    this.fields = new Map(Object.entries(payload));
    this.checkDID = checkPoints ? publicKeyOf : checkDIDShape;
  }
  take(name: string): IPLD {
    if (!this.fields.has(name)) throw new UCANError("missing_field", "is required", name);
    const value = this.fields.get(name)!;
    this.fields.delete(name);
    return value;
  }
  private pop(name: string): IPLD | undefined {
    if (!this.fields.has(name)) return undefined;
    const value = this.fields.get(name)!;
    this.fields.delete(name);
    return value;
  }
  did(name: string): string {
    const value = this.take(name);
    if (typeof value !== "string") throw new UCANError("invalid_field", "must be a DID", name);
    this.checkDID(value, name);
    return value;
  }
  optionalDID(name: string, nullAllowed = false): string | null {
    const value = this.pop(name);
    if (value === undefined || (value === null && nullAllowed)) return null;
    if (typeof value !== "string") throw new UCANError("invalid_field", "must be a DID", name);
    this.checkDID(value, name);
    return value;
  }
  requirePresent(name: string): void {
    if (!this.fields.has(name)) throw new UCANError("missing_field", "is required", name);
  }
  command(): string {
    const value = this.take("cmd");
    if (typeof value !== "string") throw new UCANError("invalid_field", "must be a command", "cmd");
    return checkCommand(value);
  }
  byteString(name: string): Uint8Array {
    const value = this.take(name);
    if (!(value instanceof Uint8Array)) throw new UCANError("invalid_field", "must be bytes", name);
    return value;
  }
  map(name: string): Record<string, IPLD> {
    const value = this.take(name);
    if (!isObject(value)) throw new UCANError("invalid_field", "must be a map", name);
    return value as Record<string, IPLD>;
  }
  optionalMap(name: string): Record<string, IPLD> | null {
    const value = this.pop(name);
    if (value === undefined) return null;
    if (!isObject(value)) throw new UCANError("invalid_field", "must be a map", name);
    return value as Record<string, IPLD>;
  }
  time(name: string, nullAllowed = false): number | null {
    const value = this.pop(name);
    if (value === undefined || (value === null && nullAllowed)) return null;
    // A float64 is refused even when its value is whole, as Charter reads an integer field.
    if (!isInt(value) || isFloatAt(this.payload, name) || value < 0 || value > MAX_TIME) {
      throw new UCANError("invalid_field", "must be an integer between 0 and 2^53-1", name);
    }
    return Number(value);
  }
  links(name: string): CID[] {
    const value = this.take(name);
    if (!Array.isArray(value)) throw new UCANError("invalid_field", "must be a list of CIDs", name);
    value.forEach((item, index) => {
      if (!(item instanceof CID && item.codec === DAG_CBOR && item.hasher === SHA256)) {
        throw new UCANError("invalid_field", "must be the DAG-CBOR sha2-256 CID of a delegation", `${name}[${index}]`);
      }
    });
    return value as CID[];
  }
  optionalLink(name: string): CID | null {
    const value = this.pop(name);
    if (value === undefined) return null;
    if (!(value instanceof CID)) throw new UCANError("invalid_field", "must be a CID", name);
    return value;
  }
  requireNoOthers(): void {
    if (this.fields.size > 0) {
      const unknown = [...this.fields.keys()].sort()[0];
      throw new UCANError("invalid_field", "is not a field of this payload", unknown);
    }
  }
}

function checkTimes(notBefore: number | null | undefined, expiration: number | null | undefined): void {
  for (const [name, time] of [["nbf", notBefore], ["exp", expiration]] as const) {
    if (time !== null && time !== undefined && !(Number.isInteger(time) && time >= 0 && time <= MAX_TIME)) {
      throw new UCANError("invalid_field", "must be between 0 and 2^53-1", name);
    }
  }
  if (notBefore != null && expiration != null && notBefore > expiration) {
    throw new UCANError("invalid_field", "is after exp", "nbf");
  }
}

/** Valid from `nbf` through `exp`, with leeway (1.0's rule). */
export function checkTime(notBefore: number | null, expiration: number | null, now: number, leeway: number, field?: string): void {
  if (expiration !== null && now > expiration + leeway) throw new UCANError("expired", `expired at ${expiration}`, field ?? "exp");
  if (notBefore !== null && now + leeway < notBefore) {
    throw new UCANError("not_yet_valid", `not valid before ${notBefore}`, field ?? "nbf");
  }
}

function raw(data: Uint8Array | string): Uint8Array {
  if (typeof data === "string") {
    const decoded = b64Decode(data);
    if (decoded === null || decoded.length === 0) throw new UCANError("malformed", "not the base64 of a UCAN 1.0 envelope");
    return decoded;
  }
  // A copy: the envelope keeps these bytes (its CID and signature are over them), and the caller may reuse its buffer.
  return new Uint8Array(data);
}

export interface DelegationFields {
  audience: string;
  /** The subject's DID, or null for a powerline. */
  subject: string | null;
  command: string;
  policy?: readonly unknown[] | Policy;
  expiration: number | null;
  notBefore?: number;
  nonce?: Uint8Array;
  meta?: Record<string, unknown>;
}

/**
 * What a delegation and an invocation share: the exact envelope bytes (private, handed out as copies), its
 * signature, checked once under the issuer's key, and its CID. Subclasses are deeply frozen once built, so a
 * verifier can hand what it caches to request handlers without any of them changing a later verdict.
 */
abstract class SignedEnvelope {
  readonly #nonce: Uint8Array;
  readonly #bytes: Uint8Array;
  readonly #signature: Uint8Array;
  #cid: CID | undefined;
  #signatureVerified = false;

  abstract readonly issuer: string;

  protected constructor(nonce: Uint8Array, bytes: Uint8Array, signature: Uint8Array) {
    this.#nonce = nonce;
    this.#bytes = bytes;
    this.#signature = signature;
  }

  /** The nonce (a copy). */
  get nonce(): Uint8Array {
    return this.#nonce.slice();
  }

  /** The exact envelope bytes (a copy). */
  get bytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** The envelope's size in bytes. */
  get byteLength(): number {
    return this.#bytes.length;
  }

  /** The CID of the exact envelope bytes (`bafyrei…`): how an invocation cites a delegation and Charter revokes it. */
  get cid(): CID {
    this.#cid ??= CID.of(this.#bytes, DAG_CBOR);
    return this.#cid;
  }

  /** The envelope as padded base64, as Charter sends it. */
  get encoded(): string {
    return b64Encode(this.#bytes);
  }

  /**
   * Whether the signature verifies under the issuer's key, taken from `ring` first (remembered once it does).
   * Throws UCANError `invalid_field` (`iss`) when the issuer is not an acceptable key, `too_many_keys` past the
   * verification's key budget.
   */
  verifySignature(ring?: KeyRing): boolean {
    if (!this.#signatureVerified) {
      this.#signatureVerified = verifyBy(this.issuer, this.#bytes.subarray(SIGNED_OFFSET), this.#signature, "iss", ring);
    }
    return this.#signatureVerified;
  }

  /** `envelope`, once its signature verifies. */
  protected static verified<T extends SignedEnvelope>(envelope: T): T {
    if (!envelope.verifySignature()) {
      throw new UCANError("invalid_signature", `the signature does not verify under ${envelope.issuer}`);
    }
    return envelope;
  }
}

/**
 * A UCAN 1.0 delegation: `issuer` grants `audience` the command on `subject` (null: a powerline) under `policy`.
 * Holds the exact envelope bytes it was parsed from or sealed as; `encoded` is their padded base64.
 */
export class Delegation extends SignedEnvelope {
  private constructor(
    readonly issuer: string,
    readonly audience: string,
    readonly subject: string | null,
    readonly command: string,
    readonly policy: Policy,
    nonce: Uint8Array,
    readonly meta: Record<string, IPLD> | null,
    readonly notBefore: number | null,
    readonly expiration: number | null,
    readonly tag: string,
    bytes: Uint8Array,
    signature: Uint8Array,
  ) {
    super(nonce, bytes, signature);
    deepFreeze(this);
  }

  override toString(): string {
    return `Delegation(${this.cid}, cmd=${this.command})`;
  }

  metaString(name: string): string | null {
    const value = this.meta !== null && hasKey(this.meta, name) ? this.meta[name] : undefined;
    return typeof value === "string" ? value : null;
  }

  /** Parses an envelope (bytes, or base64 text), checks its DIDs' points and its signature. */
  static parse(data: Uint8Array | string, maxBytes = MAX_TOKEN_BYTES): Delegation {
    return SignedEnvelope.verified(Delegation.read(data, maxBytes, true));
  }

  /**
   * Parses an envelope as `parse` does, but checks only the shape of its DIDs and not its signature, which
   * `validateInvocation` checks from the chain's root down: how a verifier reads what a request presents.
   */
  static parseUnverified(data: Uint8Array | string, maxBytes = MAX_TOKEN_BYTES): Delegation {
    return Delegation.read(data, maxBytes, false);
  }

  private static read(data: Uint8Array | string, maxBytes: number, checkPoints: boolean): Delegation {
    const bytes = raw(data);
    const [kind, tag, payload, signature] = open(bytes, maxBytes);
    if (kind !== "dlg") throw new UCANError("malformed", "an invocation where a delegation was expected");
    const fields = new Fields(payload, checkPoints);
    const issuer = fields.did("iss");
    const audience = fields.did("aud");
    fields.requirePresent("sub");
    const subject = fields.optionalDID("sub", true);
    const command = fields.command();
    const policyValue = fields.take("pol");
    const policy = new Policy(policyValue as unknown[]);
    const nonce = fields.byteString("nonce");
    const meta = fields.optionalMap("meta");
    const notBefore = fields.time("nbf");
    fields.requirePresent("exp");
    const expiration = fields.time("exp", true);
    fields.requireNoOthers();
    checkTimes(notBefore, expiration);
    return new Delegation(issuer, audience, subject, command, policy, nonce, meta, notBefore, expiration, tag, bytes, signature);
  }

  /** Builds and signs a delegation; the same fields, nonce and key give the same bytes. */
  static sign(key: SigningKey, fields: DelegationFields): Delegation {
    checkTimes(fields.notBefore, fields.expiration);
    publicKeyOf(fields.audience, "aud");
    if (fields.subject !== null) publicKeyOf(fields.subject, "sub");
    const policy = fields.policy instanceof Policy ? fields.policy : new Policy(fields.policy ?? []);
    const payload: Record<string, unknown> = {
      iss: key.did, aud: fields.audience, sub: fields.subject, cmd: checkCommand(fields.command), pol: policy.ipld,
      nonce: fields.nonce ?? randomBytes(12), exp: fields.expiration,
    };
    if (fields.meta !== undefined) payload.meta = fields.meta;
    if (fields.notBefore !== undefined) payload.nbf = fields.notBefore;
    return Delegation.parse(seal(DLG, payload, key));
  }
}

export interface InvocationFields {
  subject: string;
  command: string;
  arguments?: Record<string, unknown>;
  proofs?: readonly CID[];
  audience?: string;
  expiration: number | null;
  issuedAt?: number;
  nonce?: Uint8Array;
  meta?: Record<string, unknown>;
}

/** A UCAN 1.0 invocation, signed by the invoker: run `command` with `arguments` on `subject`, proven by `proofs`. */
export class Invocation extends SignedEnvelope {
  /** Deeply frozen once built, its arguments too. */
  private constructor(
    readonly issuer: string,
    readonly subject: string,
    readonly audience: string | null,
    readonly command: string,
    readonly args: Record<string, IPLD>,
    readonly proofs: readonly CID[],
    readonly meta: Record<string, IPLD> | null,
    nonce: Uint8Array,
    readonly expiration: number | null,
    readonly issuedAt: number | null,
    readonly cause: CID | null,
    readonly tag: string,
    bytes: Uint8Array,
    signature: Uint8Array,
  ) {
    super(nonce, bytes, signature);
    deepFreeze(this);
  }

  override toString(): string {
    return `Invocation(${this.cid}, cmd=${this.command})`;
  }

  /** Parses an envelope (bytes, or base64 text), checks its DIDs' points and its signature. */
  static parse(data: Uint8Array | string, maxBytes = MAX_TOKEN_BYTES): Invocation {
    return SignedEnvelope.verified(Invocation.read(data, maxBytes, true));
  }

  /** Parses an envelope as `parse` does, checking only its DIDs' shape and not its signature (`validateInvocation` does). */
  static parseUnverified(data: Uint8Array | string, maxBytes = MAX_TOKEN_BYTES): Invocation {
    return Invocation.read(data, maxBytes, false);
  }

  private static read(data: Uint8Array | string, maxBytes: number, checkPoints: boolean): Invocation {
    const bytes = raw(data);
    const [kind, tag, payload, signature] = open(bytes, maxBytes);
    if (kind !== "inv") throw new UCANError("malformed", "a delegation where an invocation was expected");
    const fields = new Fields(payload, checkPoints);
    const issuer = fields.did("iss");
    const subject = fields.did("sub");
    const audience = fields.optionalDID("aud");
    const command = fields.command();
    const args = fields.map("args");
    const proofs = fields.links("prf");
    const meta = fields.optionalMap("meta");
    const nonce = fields.byteString("nonce");
    fields.requirePresent("exp");
    const expiration = fields.time("exp", true);
    const issuedAt = fields.time("iat");
    const cause = fields.optionalLink("cause");
    fields.requireNoOthers();
    return new Invocation(issuer, subject, audience, command, args, proofs, meta, nonce, expiration, issuedAt, cause, tag, bytes,
      signature);
  }

  static sign(key: SigningKey, fields: InvocationFields): Invocation {
    checkTimes(null, fields.expiration);
    if (fields.issuedAt !== undefined && !(Number.isInteger(fields.issuedAt) && fields.issuedAt >= 0 && fields.issuedAt <= MAX_TIME)) {
      throw new UCANError("invalid_field", "must be between 0 and 2^53-1", "iat");
    }
    publicKeyOf(fields.subject, "sub");
    if (fields.audience !== undefined) publicKeyOf(fields.audience, "aud");
    const payload: Record<string, unknown> = {
      iss: key.did, sub: fields.subject, cmd: checkCommand(fields.command), args: fields.arguments ?? {},
      prf: [...(fields.proofs ?? [])], nonce: fields.nonce ?? randomBytes(12), exp: fields.expiration,
    };
    if (fields.audience !== undefined) payload.aud = fields.audience;
    if (fields.meta !== undefined) payload.meta = fields.meta;
    if (fields.issuedAt !== undefined) payload.iat = fields.issuedAt;
    let sealed: Uint8Array;
    try {
      sealed = seal(INV, payload, key);
    } catch (error) {
      if (error instanceof TypeError) throw new UCANError("invalid_field", error.message, "args");
      throw error;
    }
    return Invocation.parse(sealed);
  }
}

/**
 * An invocation signed by the agent with the delegations it cites (root first): what one call carries. Send
 * `headers` (`Authorization` and `ucans`), as Charter's `RequireInvocation` reads them. Each invocation is accepted
 * once: sign one per call.
 */
export class SignedInvocation {
  constructor(readonly invocation: Invocation, readonly proofs: readonly Delegation[]) {}

  get authorization(): string {
    return "Bearer " + this.invocation.encoded;
  }

  get ucans(): string {
    return this.proofs.map((proof) => proof.encoded).join(", ");
  }

  get headers(): { Authorization: string; ucans: string } {
    return { Authorization: this.authorization, ucans: this.ucans };
  }

  toString(): string {
    return `SignedInvocation(${this.invocation.cid}, cmd=${this.invocation.command})`;
  }
}

/** Signs an invocation of `command` with `key`, citing `chain` (root first, the last made out to `key`). */
export function signInvocation(key: SigningKey, command: string, args: Record<string, unknown> | undefined,
  options: { audience: string; chain: readonly Delegation[]; expiration: number }): SignedInvocation {
  const { chain } = options;
  if (chain.length === 0 || chain[0].subject === null) {
    throw new UCANError("invalid_subject", "an invocation cites a chain rooted at its subject", "prf");
  }
  const invocation = Invocation.sign(key, {
    subject: chain[0].subject, audience: options.audience, command, arguments: args ?? {},
    proofs: chain.map((delegation) => delegation.cid), nonce: randomBytes(16), expiration: options.expiration,
  });
  return new SignedInvocation(invocation, chain);
}
