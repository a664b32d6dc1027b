// UCAN 1.0 invocation validation, with the rules of Charter's Swift `InvocationValidator`, checked in an order that
// spends nothing on a chain nobody trusted vouches for: first what strings and numbers tell (time, executor, every
// `prf` supplied, principals aligned from a trusted subject's root to the invoker), then the signatures from the root
// down (the root's under the trusted subject's key; each next one under the key the verified one before it names as
// its audience; the invoker's last), then each delegation's time, command and policy on the arguments. A forged
// chain fails at a string comparison or a single signature, and a did:key's point (~1 ms of arithmetic) is only
// checked for a key a verified delegation names.

import { KeyRing } from "./crypto.js";
import { UCANError } from "./errors.js";
import { Delegation, Invocation, MAX_CHAIN, checkTime, proves } from "./ucan1.js";

export interface ValidatedInvocation {
  invocation: Invocation;
  delegations: Delegation[];
}

/** Where `validateInvocation` finds the delegations an invocation cites, by CID string: a Map, or a `DelegationStore`. */
export interface DelegationSource {
  get(cid: string): Delegation | undefined;
}

/** Delegations by CID, some of them parsed only when a chain first cites them (`addLazily`). */
export class DelegationStore implements DelegationSource {
  readonly #parsed = new Map<string, Delegation>();
  readonly #pending = new Map<string, () => Delegation>();

  add(delegation: Delegation): void {
    this.#parsed.set(delegation.cid.toString(), delegation);
  }

  /** A delegation known by its CID, parsed by `parse` (which may throw) the first time it is asked for. */
  addLazily(cid: string, parse: () => Delegation): void {
    if (!this.#parsed.has(cid)) this.#pending.set(cid, parse);
  }

  has(cid: string): boolean {
    return this.#parsed.has(cid) || this.#pending.has(cid);
  }

  get(cid: string): Delegation | undefined {
    const parsed = this.#parsed.get(cid);
    if (parsed !== undefined) return parsed;
    const parse = this.#pending.get(cid);
    if (parse === undefined) return undefined;
    this.#pending.delete(cid);
    const delegation = parse();
    this.#parsed.set(cid, delegation);
    return delegation;
  }

  /** Parses every delegation no chain cited, so that one that is not a delegation is refused all the same. */
  parseRemaining(): void {
    for (const cid of [...this.#pending.keys()]) this.get(cid);
  }
}

export interface InvocationValidationOptions {
  leeway?: number;
  /** The executors the invocation may be for (its `aud`, else its `sub`); without it, any. */
  executors?: ReadonlySet<string>;
  /** The subjects a chain may be rooted at; without it, any. */
  trustedSubjects?: ReadonlySet<string>;
  /** Keys already checked (a verifier's trusted issuers), used before the process's cache and its key budget. */
  keys?: KeyRing;
}

/**
 * Charter's `InvocationValidator`: time and executor; every `prf` supplied; principals aligned from the subject's
 * root to the invoker; signatures from the root down; each delegation's time, command and policy on the arguments.
 * Delegations and the invocation may come from `parseUnverified`: their signatures are checked here. Throws
 * UCANError with the first reason the invocation fails; where one has several faults, the one reported may differ
 * from Swift's, which checks signatures first.
 */
export function validateInvocation(invocation: Invocation, supplied: DelegationSource, now: number,
  options: InvocationValidationOptions = {}): ValidatedInvocation {
  const leeway = options.leeway ?? 0;
  checkTime(null, invocation.expiration, now, leeway);
  if (options.executors !== undefined && !options.executors.has(invocation.audience ?? invocation.subject)) {
    throw new UCANError("invalid_audience", "the invocation is for another executor", invocation.audience === null ? "sub" : "aud");
  }
  if (invocation.proofs.length > MAX_CHAIN) throw new UCANError("depth_exceeded", `the chain is longer than ${MAX_CHAIN}`, "prf");
  const chain: Delegation[] = invocation.proofs.map((cid, index) => {
    const delegation = supplied.get(cid.toString());
    if (delegation === undefined) throw new UCANError("unknown_proof", `${cid} was not supplied`, `prf[${index}]`);
    return delegation;
  });
  checkPrincipals(invocation, chain, options.trustedSubjects);
  chain.forEach((delegation, index) => checkSignature(delegation, index, options.keys));
  checkSignature(invocation, null, options.keys);
  chain.forEach((delegation, index) => {
    const where = `prf[${index}]`;
    checkTime(delegation.notBefore, delegation.expiration, now, leeway, where);
    if (!proves(delegation.command, invocation.command)) {
      throw new UCANError("invalid_claim", `${delegation.command} does not prove ${invocation.command}`, `${where}.cmd`);
    }
    const mismatch = delegation.policy.evaluate(invocation.args);
    if (mismatch !== null) throw new UCANError("policy_mismatch", mismatch, `${where}.pol`);
  });
  return { invocation, delegations: chain };
}

function checkPrincipals(invocation: Invocation, chain: Delegation[], trusted: ReadonlySet<string> | undefined): void {
  if (trusted !== undefined && !trusted.has(invocation.subject)) {
    throw new UCANError("untrusted_issuer", `${invocation.subject} is not a subject this executor trusts`, "sub");
  }
  if (chain.length === 0) {
    if (invocation.issuer !== invocation.subject) {
      throw new UCANError("invalid_audience", "no delegation makes the invoker act for the subject", "prf");
    }
    return;
  }
  const root = chain[0];
  if (root.subject === null) throw new UCANError("invalid_subject", "a powerline (sub: null) cannot root a chain", "prf[0].sub");
  if (root.subject !== invocation.subject || root.issuer !== root.subject) {
    throw new UCANError("invalid_subject", "the root is not issued by the invocation's subject", "prf[0]");
  }
  for (let index = 1; index < chain.length; index++) {
    const delegation = chain[index];
    if (delegation.issuer !== chain[index - 1].audience) {
      throw new UCANError("invalid_audience", "is not the audience of the delegation before it", `prf[${index}].iss`);
    }
    if (delegation.subject !== null && delegation.subject !== invocation.subject) {
      throw new UCANError("invalid_subject", "is not the invocation's subject", `prf[${index}].sub`);
    }
  }
  if (chain[chain.length - 1].audience !== invocation.issuer) {
    throw new UCANError("invalid_audience", "the last delegation is not made out to the invoker", `prf[${chain.length - 1}].aud`);
  }
}


/**
 * A signature of the chain (`index`: the delegation's place in `prf`, null for the invocation), checked once what
 * comes before it verified: its issuer is the trusted subject (in `keys`) or the audience of a verified delegation.
 */
function checkSignature(signed: Delegation | Invocation, index: number | null, keys: KeyRing | undefined): void {
  let holds: boolean;
  try {
    holds = signed.verifySignature(keys);
  } catch (error) {
    if (error instanceof UCANError && index !== null) throw error.inProof(index);
    throw error;
  }
  if (!holds) {
    throw new UCANError("invalid_signature", `the signature does not verify under ${signed.issuer}`,
      index === null ? undefined : `prf[${index}]`);
  }
}
