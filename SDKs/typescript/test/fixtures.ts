// An air-gapped Charter of the test's own: a pinned issuer key minting root tokens and delegations, an agent, a
// service, and a verifier whose clock the test moves. Offline, so middleware and hardening tests need no server.

import { Delegation, SigningKey, Token, Verifier, signInvocation, type Capabilities, type SignedInvocation, type VerifierOptions } from "../src/index.js";

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
