// An air-gapped Charter of the test's own: a pinned issuer key minting root tokens and delegations, an agent, a
// service, and a verifier whose clock the test moves. Offline, so middleware and hardening tests need no server.

import { Delegation, SigningKey, Token, Verifier, signInvocation, type Capabilities, type SignedInvocation, type VerifierOptions } from "../src/index.js";
import * as dagcbor from "../src/dagcbor.js";
import { b64urlEncode, canonicalJSON, fromHex, utf8 } from "../src/encoding.js";

export const ORG = "org_fixture";
export const FACTS = { org: ORG, env: "live", app: "app_fixture", envelope: "env_fixture", key: "key_fixture" };
export const MAIL = { "mailto:*": { "email/send": [{}] } };

export class Fixture {
  readonly issuer = SigningKey.generate();
  readonly agent = SigningKey.generate();
  readonly service = SigningKey.generate();
  now = 1_800_000_000;
  readonly verifier: Verifier;

  constructor(options: Partial<VerifierOptions> = {}) {
    this.verifier = new Verifier({
      server: null, audiences: [this.service.did], organizations: [ORG], issuers: [this.issuer.did],
      clock: () => this.now, ...options,
    });
  }

  /** A root 0.10 token from the pinned issuer, made out to the service (or `audience`). */
  token(capabilities: Capabilities = MAIL, audience = this.service.did): Token {
    return Token.sign(this.issuer, { audience, capabilities, expiration: this.now + 600, facts: FACTS });
  }

  /** A 1.0 delegation of `command` from the issuer (as subject) to the agent, under `policy`. */
  delegation(command = "/email/send", policy: unknown[] = []): Delegation {
    return Delegation.sign(this.issuer, {
      audience: this.agent.did, subject: this.issuer.did, command, policy, expiration: this.now + 600, meta: FACTS,
    });
  }

  /** The agent's invocation of `command` for the service, citing a fresh delegation of `delegated`. */
  invoke(command = "/email/send", args: Record<string, unknown> = { to: "ops@example.com" }, delegated = command,
    policy: unknown[] = []): SignedInvocation {
    return signInvocation(this.agent, command, args, {
      audience: this.service.did, chain: [this.delegation(delegated, policy)], expiration: this.now + 60,
    });
  }
}

/** The VerificationError code `fn` throws, or "valid". */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    const coded = error as { code?: unknown; name?: string };
    if (coded?.name === "VerificationError" || coded?.name === "UCANError") return String(coded.code);
    throw error;
  }
  return "valid";
}

// Tokens and envelopes signed by hand: Token.sign and Delegation.sign parse what they make, and so would make this
// process meet the keys before the verifier does, as an attacker's would not.

/** A 0.10 token whose payload is exactly `payload` (JSON text, or a value to serialize), signed by `key`. */
export function rawToken(key: SigningKey, payload: string | Record<string, unknown>): string {
  const text = typeof payload === "string" ? payload : canonicalJSON(payload);
  const signed = b64urlEncode(utf8('{"alg":"EdDSA","typ":"JWT"}')) + "." + b64urlEncode(utf8(text));
  return signed + "." + b64urlEncode(key.sign(utf8(signed)));
}

/** A 1.0 envelope (`ucan/dlg@1.0.0` or `ucan/inv@1.0.0`) with exactly `payload`, signed by `key`. */
export function rawEnvelope(key: SigningKey, payload: Record<string, unknown>, tag = "ucan/dlg@1.0.0"): Uint8Array {
  const signed = { h: fromHex("3401ed01ed011371"), [tag]: payload };
  return dagcbor.encode([key.sign(dagcbor.encode(signed)), signed]);
}

/** A 1.0 delegation envelope with exactly `payload`, signed by `key`. */
export function rawDelegation(key: SigningKey, payload: Record<string, unknown>): Uint8Array {
  return rawEnvelope(key, payload);
}
