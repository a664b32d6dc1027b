// The agent SDK: an API key in, cached and refreshed UCANs out; 1.0 invocations signed with the agent's key.
//
// One credential per capability set (0.10) or per command and policy (1.0); one `/v1/authorize` shared by
// concurrent callers; a background refresh once 80% of a credential's lifetime has passed (a failed refresh keeps
// the current one); retries of an unreachable server, a 5xx or a 429 with exponential backoff honouring
// `Retry-After`; refusals at once as a `CharterError` with the server's code, status and field. No redirect is
// followed, so the key goes only to the server it was given for; it is never logged and never in an error.

import { SigningKey, isDID, randomBytes } from "./crypto.js";
import { b64Decode, b64urlEncode, canonicalJSON, isObject, parseJSON } from "./encoding.js";
import { CharterError, UCANError } from "./errors.js";
import { loadIdentity } from "./identity.js";
import { Policy } from "./policy.js";
import { Token, capabilityMap, toCapabilities, type Capabilities } from "./ucan.js";
import { Delegation, SignedInvocation, checkCommand, proves, signInvocation } from "./ucan1.js";

/** How hard to try before giving up on a transient failure. */
export interface RetryPolicy {
  /** Attempts in all (default 5). */
  attempts: number;
  /** Seconds before the first retry, doubling after each (default 0.1). */
  initialDelay: number;
  /** The longest wait, in seconds, `Retry-After` included (default 5). */
  maxDelay: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelay: 0.1, maxDelay: 5 };

/** Where the client reads the time and waits, for refreshes and backoff; tests pass one they move. */
export interface Clock {
  /** Seconds since the epoch: the time tokens' `exp` is compared with. */
  now(): number;
  /** Resolves after `seconds` by this clock, or early (to no harm) once `signal` aborts. */
  sleep(seconds: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now() / 1000,
  sleep: (seconds, signal) => new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, seconds) * 1000);
    function done() {
      signal.removeEventListener("abort", done);
      clearTimeout(timer);
      resolve();
    }
    signal.addEventListener("abort", done);
  }),
};

export type Credential = Token | Delegation;

export interface ClientOptions {
  /** Charter's URL. */
  server: string;
  /** The agent's API key; `CHARTER_API_KEY` by default. */
  apiKey?: string;
  /**
   * The agent's Ed25519 key (its DID is every credential's audience), or the path of an identity file holding it;
   * by default the file `~/.charter/agent-identity.json`, created the first time, as the Swift and Python clients do.
   */
  identity?: SigningKey | string;
  /** The lifetime to ask for; the envelope's maximum by default. */
  ttlSeconds?: number;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Seconds before a request is abandoned (default 30). */
  timeout?: number;
  /** `fetch` to use (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

interface Grant {
  key: string;
  body: Record<string, unknown>;
  command: string | null;
}

interface Minted {
  credential: Credential;
  issuedAt: number;
  expiresAt: number;
}

const refreshAt = (minted: Minted) => minted.issuedAt + (minted.expiresAt - minted.issuedAt) * 0.8;
const expirationAfter = (now: number, ttl: number) => Math.floor(now) + Math.ceil(ttl);

/**
 * The agent SDK.
 *
 * ```ts
 * const agent = new Client({ server: "https://charter.example.com" });   // key from CHARTER_API_KEY
 * const token = await agent.token({ "mailto:*": { "email/send": [{}] } });
 * ```
 */
export class Client {
  readonly server: string;
  readonly identity: SigningKey;
  readonly did: string;
  readonly ttlSeconds: number | undefined;
  readonly retry: RetryPolicy;
  readonly clock: Clock;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #timeout: number;
  readonly #ready = new Map<string, Minted>();
  readonly #pending = new Map<string, Promise<Minted>>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #closed = new AbortController();

  constructor(options: ClientOptions) {
    const key = options.apiKey ?? (typeof process !== "undefined" ? process.env.CHARTER_API_KEY : undefined);
    if (!key) throw new CharterError("api_key_missing", "no API key given and CHARTER_API_KEY is not set");
    if (!/^[\x21-\x7e]+$/.test(key)) {
      throw new CharterError("api_key_malformed", "the API key holds a character no key has (a trailing newline from a file?)");
    }
    this.#apiKey = key;
    this.server = options.server.replace(/\/+$/, "");
    this.identity = options.identity instanceof SigningKey ? options.identity : loadIdentity(options.identity);
    this.did = this.identity.did;
    this.ttlSeconds = options.ttlSeconds;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.clock = options.clock ?? systemClock;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeout = options.timeout ?? 30;
  }

  toString(): string {
    return `Client(server=${this.server}, did=${this.did})`;
  }

  toJSON(): { server: string; did: string } {
    return { server: this.server, did: this.did };
  }

  /** Stops background refreshes and retries. */
  close(): void {
    this.#closed.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /**
   * A UCAN 0.10 token for `capabilities` (a `cap` map or Capability objects), from the cache while it is fresh, else
   * from `/v1/authorize`.
   */
  async token(capabilities: Capabilities): Promise<Token> {
    return (await this.get(this.tokenGrant(capabilities))).credential as Token;
  }

  /**
   * A UCAN 1.0 delegation of `command` to this agent, narrowed by `policy` (statements added to the envelope
   * grant's), from the cache while it is fresh, else from `/v1/authorize`.
   */
  async delegation(command: string, policy?: readonly unknown[] | Policy): Promise<Delegation> {
    return (await this.get(this.commandGrant(command, policy))).credential as Delegation;
  }

  /**
   * Signs a fresh UCAN 1.0 invocation of `command` with the agent's key for one call to `audience` (the service's
   * DID), citing the agent's delegation for it. Its `headers` are what the request carries.
   */
  async invoke(command: string, args: Record<string, unknown> = {}, audience?: string,
    options: { ttl?: number; policy?: readonly unknown[] | Policy } = {}): Promise<SignedInvocation> {
    const delegation = await this.delegation(command, options.policy);
    if (audience === undefined) {
      throw new CharterError("invalid_request", "an invocation needs the service's DID as its audience", { field: "audience" });
    }
    checkAudience(audience);
    try {
      return signInvocation(this.identity, command, args, {
        audience, chain: [delegation], expiration: expirationAfter(this.clock.now(), options.ttl ?? 60),
      });
    } catch (error) {
      if (error instanceof UCANError) throw new CharterError("invalid_request", error.description, { field: error.field });
      throw error;
    }
  }

  /**
   * Signs a narrower delegation to a sub-agent with the agent's own key: a 0.10 token of `capabilities` (proof: by
   * default the agent's token for them) or a 1.0 delegation of `command` under `policy` (proof: by default the
   * agent's delegation of it). Refuses (`would_widen`) what the proof does not grant, a lifetime past the proof's,
   * or a proof made out to someone else.
   */
  async delegate(audience: string, options: {
    ttl: number; capabilities?: Capabilities; command?: string; policy?: readonly unknown[] | Policy; proof?: Credential;
  }): Promise<Credential> {
    const { ttl, proof } = options;
    if (options.command !== undefined) {
      if (proof !== undefined && !(proof instanceof Delegation)) {
        throw new CharterError("invalid_request", "a 1.0 delegation needs a 1.0 delegation as its proof");
      }
      const parent = proof ?? await this.delegation(options.command);
      if (parent.audience !== this.did) throw new CharterError("would_widen", `the proof is made out to ${parent.audience}`);
      if (!proves(parent.command, options.command)) {
        throw new CharterError("would_widen", `${parent.command} does not prove ${options.command}`);
      }
      const expiration = this.checkLifetime(parent.expiration, ttl);
      checkAudience(audience);
      try {
        return Delegation.sign(this.identity, {
          audience, subject: parent.subject, command: options.command, policy: options.policy ?? [], expiration,
          notBefore: parent.notBefore ?? undefined, nonce: randomBytes(16),
        });
      } catch (error) {
        if (error instanceof UCANError) throw new CharterError("invalid_request", error.description, { field: error.field });
        throw error;
      }
    }
    if (options.capabilities === undefined) {
      throw new CharterError("invalid_request", "delegate needs capabilities (0.10) or a command (1.0)");
    }
    if (proof !== undefined && !(proof instanceof Token)) {
      throw new CharterError("invalid_request", "a 0.10 token needs a 0.10 token as its proof");
    }
    const parent = proof ?? await this.token(options.capabilities);
    if (parent.audience !== this.did) throw new CharterError("would_widen", `the proof is addressed to ${parent.audience}`);
    let wanted;
    try {
      wanted = toCapabilities(options.capabilities);
    } catch (error) {
      if (error instanceof UCANError) throw new CharterError("invalid_request", error.description, { field: "capabilities" });
      throw error;
    }
    for (const capability of wanted) {
      if (!parent.capabilities.some((have) => have.covers(capability))) {
        throw new CharterError("would_widen", `${capability} is not covered by the proof`);
      }
    }
    const expiration = this.checkLifetime(parent.expiration, ttl);
    checkAudience(audience);
    return Token.sign(this.identity, {
      audience, capabilities: wanted, expiration, notBefore: parent.notBefore ?? undefined,
      nonce: b64urlEncode(randomBytes(16)), proofs: [parent.cid],
    });
  }

  private checkLifetime(parentExpiration: number | null, ttl: number): number {
    const expiration = expirationAfter(this.clock.now(), ttl);
    if (parentExpiration !== null && expiration > parentExpiration) {
      throw new CharterError("would_widen", `a lifetime of ${ttl}s would outlive the proof, which expires at ${parentExpiration}`);
    }
    return expiration;
  }

  private tokenGrant(capabilities: Capabilities): Grant {
    let cap;
    try {
      cap = capabilityMap(toCapabilities(capabilities));
    } catch (error) {
      if (error instanceof UCANError) throw new CharterError("invalid_request", error.description, { field: "capabilities" });
      throw error;
    }
    const body: Record<string, unknown> = { audience: this.did, capabilities: cap };
    if (this.ttlSeconds !== undefined) body.ttl_seconds = this.ttlSeconds;
    return { key: "cap:" + canonicalJSON(cap), body, command: null };
  }

  private commandGrant(command: string, policy: readonly unknown[] | Policy | undefined): Grant {
    let statements: readonly unknown[];
    try {
      checkCommand(command, "command");
      statements = (policy instanceof Policy ? policy : new Policy(policy ?? [], "policy")).ipld;
    } catch (error) {
      if (error instanceof UCANError) throw new CharterError("invalid_request", error.description, { field: error.field });
      throw error;
    }
    const body: Record<string, unknown> = { format: "ucan/1.0", audience: this.did, command };
    let text: string;
    try {
      text = canonicalJSON(statements);
    } catch {
      throw new CharterError("invalid_policy", "the policy cannot be sent as JSON", { field: "policy" });
    }
    if (statements.length > 0) body.policy = statements;
    if (this.ttlSeconds !== undefined) body.ttl_seconds = this.ttlSeconds;
    return { key: `cmd:${command}:` + text, body, command };
  }

  private get(grant: Grant): Promise<Minted> {
    const minted = this.#ready.get(grant.key);
    if (minted !== undefined && minted.expiresAt > this.clock.now()) return Promise.resolve(minted);
    let pending = this.#pending.get(grant.key);
    if (pending === undefined) {
      pending = this.authorize(grant).then((fresh) => {
        this.store(grant, fresh);
        return fresh;
      }).finally(() => this.#pending.delete(grant.key));
      this.#pending.set(grant.key, pending);
    }
    return pending;
  }

  private store(grant: Grant, minted: Minted): void {
    this.#ready.set(grant.key, minted);
    clearTimeout(this.#timers.get(grant.key));
    if (this.#closed.signal.aborted) return;
    const delay = Math.max(0, refreshAt(minted) - this.clock.now());
    const timer = setTimeout(() => void this.refresh(grant, minted), Math.min(delay * 1000, 2 ** 31 - 1));
    (timer as unknown as { unref?: () => void }).unref?.();
    this.#timers.set(grant.key, timer);
  }

  private async refresh(grant: Grant, minted: Minted): Promise<void> {
    if (this.#closed.signal.aborted || this.#ready.get(grant.key) !== minted || this.#pending.has(grant.key)) return;
    const pending = this.authorize(grant);
    this.#pending.set(grant.key, pending);
    try {
      const fresh = await pending;
      if (!this.#closed.signal.aborted) this.store(grant, fresh);
    } catch {
      // A failed refresh keeps the current credential until it expires.
    } finally {
      if (this.#pending.get(grant.key) === pending) this.#pending.delete(grant.key);
    }
  }

  private async authorize(grant: Grant): Promise<Minted> {
    let delay = this.retry.initialDelay;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.authorizeOnce(grant);
      } catch (error) {
        if (!(error instanceof CharterError) || !error.transient || attempt >= this.retry.attempts || this.#closed.signal.aborted) {
          throw error;
        }
        await this.clock.sleep(Math.min(error.retryAfter ?? delay, this.retry.maxDelay), this.#closed.signal);
        if (this.#closed.signal.aborted) throw error;
        delay = Math.min(delay * 2, this.retry.maxDelay);
      }
    }
  }

  private async authorizeOnce(grant: Grant): Promise<Minted> {
    const issuedAt = this.clock.now();
    let response: Response;
    try {
      response = await this.#fetch(this.server + "/v1/authorize", {
        method: "POST",
        headers: { Authorization: `Bearer ${this.#apiKey}`, Accept: "application/json", "Content-Type": "application/json" },
        body: canonicalJSON(grant.body),
        redirect: "manual",
        signal: (AbortSignal as unknown as { timeout(ms: number): AbortSignal }).timeout(this.#timeout * 1000),
      });
    } catch (error) {
      const reason = this.redact(String((error as Error)?.cause ?? (error as Error)?.message ?? error));
      throw new CharterError("server_unreachable", `cannot reach ${this.server}: ${reason}`);
    }
    const text = await response.text().catch(() => "");
    if (response.status < 200 || response.status >= 300) throw this.refusal(response, text);
    let answer: unknown;
    try {
      answer = parseJSON(text);
    } catch {
      answer = null;
    }
    if (!isObject(answer) || typeof answer.token !== "string") {
      throw new CharterError("unexpected_response", "the server's answer is not a JSON object with a token");
    }
    let credential: Credential | null = null;
    let expiration: number | null;
    if (grant.command === null) {
      try {
        credential = Token.parse(answer.token);
      } catch {
        credential = null;
      }
      if (credential === null || credential.audience !== this.did) {
        throw new CharterError("unexpected_response", `the answer holds no token for ${this.did}`);
      }
      expiration = credential.expiration;
    } else {
      const raw = b64Decode(answer.token);
      try {
        credential = raw !== null && raw.length > 0 ? Delegation.parse(raw) : null;
      } catch {
        credential = null;
      }
      if (credential === null || credential.audience !== this.did || credential.command !== grant.command) {
        throw new CharterError("unexpected_response", `the answer holds no delegation of ${grant.command} for ${this.did}`);
      }
      expiration = credential.expiration;
    }
    if (expiration === null) throw new CharterError("unexpected_response", "the answer's credential never expires");
    return { credential, issuedAt, expiresAt: expiration };
  }

  private refusal(response: Response, text: string): CharterError {
    const status = response.status;
    if (status >= 300 && status < 400) {
      return new CharterError("unexpected_response",
        `HTTP ${status}: redirects are not followed, so a key goes only to the server it is for`, { status });
    }
    let error: unknown;
    try {
      const body: unknown = parseJSON(text);
      error = isObject(body) ? body.error : undefined;
    } catch {
      error = undefined;
    }
    if (!isObject(error) || typeof error.code !== "string" || typeof error.message !== "string") {
      return new CharterError("unexpected_response", `HTTP ${status} without a Charter error body`, { status });
    }
    const header = response.headers.get("Retry-After");
    const seconds = header !== null && /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(header) ? Number(header) : undefined;
    return new CharterError(this.redact(error.code), this.redact(error.message), {
      status, field: typeof error.field === "string" ? this.redact(error.field) : undefined, retryAfter: seconds,
    });
  }

  private redact(text: string): string {
    return text.split(this.#apiKey).join("[redacted]");
  }
}

function checkAudience(audience: string): void {
  if (!isDID(audience)) throw new CharterError("invalid_request", "the audience is not an Ed25519 did:key", { field: "audience" });
}
