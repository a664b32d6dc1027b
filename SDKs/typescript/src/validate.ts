// UCAN 0.10 chain validation, with the rules of Charter's Swift `Validator`, checked in an order that spends nothing
// on a chain nobody trusted vouches for.
//
// The walk goes down from the presented token checking what strings and numbers tell (depth, times, each proof
// supplied and linked to its parent by audience, nested window and version, each root's issuer among the trusted
// ones), and does the cryptography on its way back up: a root's signature under a trusted issuer's key as soon as
// the root is reached, and a token's own signature (its issuer being the audience its verified proofs name) and
// capabilities once all its proofs verified. A forged chain thus fails at a string comparison or its first
// signature; a did:key's point (~1 ms of BigInt arithmetic) is only checked for a key a verified link names; and a
// proof supplied as text is parsed only when the walk reaches it.

import { CID, KeyRing, SHA256 } from "./crypto.js";
import { UCANError } from "./errors.js";
import { Capability, MAX_DEPTH, MAX_PROOFS, Token, compareVersions } from "./ucan.js";

/** A token whose whole chain checked out: the proofs used by CID, every issuer on it, and the roots'. */
export interface ValidatedChain {
  token: Token;
  proofs: Map<string, Token>;
  issuers: Set<string>;
  rootIssuers: Set<string>;
}

/**
 * Parsed proofs by sha2-256 CID; `verified` holds CIDs whose signature a cache already checked. Proofs may also be
 * added unparsed (`addLazily`): the walk parses one when it first reaches it.
 */
export class ProofStore {
  readonly bySha256 = new Map<string, Token>();
  readonly verified = new Set<string>();
  readonly #pending = new Map<string, () => Token>();

  constructor(tokens: Iterable<Token> = []) {
    for (const token of tokens) this.add(token);
  }

  add(token: Token, signatureVerified = false): void {
    const cid = token.cid.toString();
    this.bySha256.set(cid, token);
    if (signatureVerified) this.verified.add(cid);
  }

  /** A proof known by its sha2-256 CID, parsed by `parse` (which may throw) the first time it is asked for. */
  addLazily(cid: CID, parse: () => Token): void {
    const name = cid.toString();
    if (!this.bySha256.has(name)) this.#pending.set(name, parse);
  }

  tokenFor(cid: CID): Token | undefined {
    if (cid.hasher === SHA256) {
      const name = cid.toString();
      const parsed = this.bySha256.get(name);
      if (parsed !== undefined) return parsed;
      const parse = this.#pending.get(name);
      if (parse === undefined) return undefined;
      this.#pending.delete(name);
      const token = parse();
      this.bySha256.set(name, token);
      return token;
    }
    for (const token of this.bySha256.values()) if (token.cidWith(cid.hasher)?.equals(cid)) return token;
    return undefined;
  }

  /** Parses every proof added lazily that no walk reached, so that one that is not a token is refused all the same. */
  parseRemaining(): void {
    for (const [name, parse] of [...this.#pending]) {
      this.#pending.delete(name);
      this.bySha256.set(name, parse());
    }
  }
}

export interface ValidationOptions {
  leeway?: number;
  /** The issuers a root may have; without it, any. */
  trustedIssuers?: ReadonlySet<string>;
  /** The audiences the presented token may have; without it, any. */
  audiences?: ReadonlySet<string>;
  /** Keys already checked (a verifier's trusted issuers), used before the process's cache and its key budget. */
  keys?: KeyRing;
}

/**
 * Validates `token` and everything it is delegated from, as Charter's `Validator` does. Throws UCANError with the
 * first reason the chain fails; a proof's failure names its position (`prf[0].exp`). A token's signature is checked
 * after what its strings and numbers tell and after its proofs', so where a chain has several faults, the one
 * reported may differ from Swift's.
 */
export function validate(token: Token, proofs: ProofStore, now: number, options: ValidationOptions = {}): ValidatedChain {
  if (options.audiences !== undefined && !options.audiences.has(token.audience)) {
    throw new UCANError("audience_not_accepted", `${token.audience} is not an accepted audience`, "aud");
  }
  const walk = new ChainWalk(proofs, now, Math.max(0, Math.min(options.leeway ?? 0, 2 ** 40)), options.trustedIssuers,
    options.keys);
  walk.check(token, 1, []);
  return { token, proofs: walk.used, issuers: walk.issuers, rootIssuers: walk.roots };
}

class ChainWalk {
  readonly heights = new Map<string, number>();
  readonly used = new Map<string, Token>();
  entered = 0;
  readonly issuers = new Set<string>();
  readonly roots = new Set<string>();

  constructor(private readonly store: ProofStore, private readonly now: number, private readonly leeway: number,
    private readonly trusted: ReadonlySet<string> | undefined, private readonly keys: KeyRing | undefined) {}

  /** Checks `token` at `depth` (1 for the presented one) and returns the height of its chain. */
  check(token: Token, depth: number, path: string[], signatureVerified = false): number {
    if (depth > MAX_DEPTH) throw new UCANError("depth_exceeded", `the chain is deeper than ${MAX_DEPTH} tokens`);
    if (token.expiration !== null && this.now - this.leeway >= token.expiration) {
      throw new UCANError("expired", `expired at ${token.expiration}, now is ${this.now}`, "exp");
    }
    if (token.notBefore !== null && this.now + this.leeway < token.notBefore) {
      throw new UCANError("not_yet_valid", `not valid before ${token.notBefore}, now is ${this.now}`, "nbf");
    }
    this.issuers.add(token.issuer);
    if (token.proofs.length === 0) {
      if (this.trusted !== undefined && !this.trusted.has(token.issuer)) {
        throw new UCANError("untrusted_issuer", `${token.issuer} is not a trusted issuer`, "iss");
      }
      this.checkSignature(token, signatureVerified);
      this.roots.add(token.issuer);
      return 1;
    }
    let height = 0;
    const delegated: (readonly Capability[])[] = [];
    token.proofs.forEach((cid, index) => {
      const name = cid.toString();
      if (path.includes(name)) throw new UCANError("proof_cycle", `${name} is already on the chain`, `prf[${index}]`);
      const proof = this.store.tokenFor(cid);
      if (proof === undefined) throw new UCANError("unknown_proof", `${name} was not supplied`, `prf[${index}]`);
      checkLink(token, proof, index);
      delegated.push(proof.capabilities);
      const known = this.heights.get(name);
      if (known !== undefined) {
        if (depth + known > MAX_DEPTH) throw new UCANError("depth_exceeded", `the chain is deeper than ${MAX_DEPTH} tokens`);
        height = Math.max(height, known);
        return;
      }
      this.entered += 1;
      if (this.entered > MAX_PROOFS) throw new UCANError("too_large", `the chain uses more than ${MAX_PROOFS} proofs`, "prf");
      path.push(name);
      let below: number;
      try {
        below = this.check(proof, depth + 1, path, this.store.verified.has(proof.cid.toString()));
      } catch (error) {
        if (error instanceof UCANError) throw error.inProof(index);
        throw error;
      }
      path.pop();
      this.heights.set(name, below);
      this.used.set(name, proof);
      height = Math.max(height, below);
    });
    // Every proof verified, each naming this token's issuer as its audience: the issuer is vouched for.
    this.checkSignature(token, signatureVerified);
    for (const wanted of token.capabilities) {
      if (!delegated.some((caps) => caps.some((have) => have.covers(wanted)))) {
        throw new UCANError("capability_not_delegated", `${wanted} is not delegated by any proof`, "cap");
      }
    }
    return height + 1;
  }

  private checkSignature(token: Token, verified: boolean): void {
    if (!verified && !token.verifySignature(this.keys)) {
      throw new UCANError("invalid_signature", `does not verify under ${token.issuer}`, "signature");
    }
  }
}

function checkLink(child: Token, proof: Token, index: number): void {
  if (proof.audience !== child.issuer) {
    throw new UCANError("audience_mismatch", `is ${proof.audience}, not the issuer ${child.issuer}`, `prf[${index}].aud`);
  }
  if (proof.expiration !== null && (child.expiration ?? Infinity) > proof.expiration) {
    throw new UCANError("time_window_not_nested", `outlasts proof prf[${index}], which expires at ${proof.expiration}`, "exp");
  }
  if (proof.notBefore !== null && (child.notBefore ?? -Infinity) < proof.notBefore) {
    throw new UCANError("time_window_not_nested", `starts before proof prf[${index}], valid from ${proof.notBefore}`, "nbf");
  }
  if (compareVersions(child.version, proof.version) < 0) {
    throw new UCANError("version_downgrade", `is lower than proof prf[${index}]'s ${proof.version.join(".")}`, "ucv");
  }
}
