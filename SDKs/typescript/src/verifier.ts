// Offline verification of Charter-minted UCANs (0.10 tokens and 1.0 invocations) for upstream services.
//
// `sync()` reads the public issuer list and each trusted organization's signed revocation feed; verification makes
// no network call, reading one immutable snapshot that a successful sync round replaces whole. Before the first
// successful round every verification is `not_synced`; once the oldest signed feed head held is older than
// `maxFeedAge` by the verifier's clock, `feed_stale`: a verifier that cannot reach Charter (or only a proxy
// replaying old answers) stops accepting tokens rather than miss a revocation. Rules and codes are those of
// Charter's Swift `CharterVerifier`.

import { credentials, envelopeBytes, type HeadersLike } from "./credentials.js";
import { BoundedCache, cachedSize } from "./bounded-cache.js";
import { CID, DAG_CBOR, KeyRing, RAW, withKeyBudget } from "./crypto.js";
import { JSONError, isObject, parseJSON, utf8 } from "./encoding.js";
import { UCANError, VerificationError, parseError, verificationError } from "./errors.js";
import { Capability, Token } from "./ucan.js";
import { Delegation, Invocation, checkCommand } from "./ucan1.js";
import { ProofStore, validate, type ValidatedChain } from "./validate.js";
import { DelegationStore, validateInvocation } from "./validate-invocation.js";
import type { IPLD } from "./dagcbor.js";
import {
  FeedError, START, Trust, authentic, checkHead, feedKey, parseIssuers, parsePage, type Entry, type Issuer, type Page,
  type Position,
} from "./feed.js";
import { ReplayCache } from "./replay-cache.js";

export { FeedError, parseTimestamp } from "./feed.js";
export { ReplayCache } from "./replay-cache.js";
export { credentials, headerValue, type HeadersLike } from "./credentials.js";

const PAGE_SIZE = 1000;

/**
 * The most DIDs one verification may check that the verifier has not met before (each ~1 ms of arithmetic; a met
 * DID costs a lookup). Only a key a verified link of the chain names is checked at all (the chain is verified from
 * its trusted root down), so this bounds what an authenticated agent delegating to fresh keys can cost: enough for
 * the longest chain accepted, whose principals are at most 8 new keys. Past it the answer is `overloaded` (503, try
 * again), and the keys checked so far are remembered, so a retry goes further.
 */
export const NEW_KEYS_PER_VERIFICATION = 8;

interface Snapshot {
  trust: Trust;
  /** The trusted issuers' and the audiences' keys, checked once: roots verify without touching the key cache. */
  keys: KeyRing;
  revokedTokens: ReadonlyMap<string, Entry>; // by CID string
  revokedEnvelopes: ReadonlyMap<string, Entry>;
  feeds: ReadonlyMap<string, Position>;
  lastSync: number | null;
  feedTime: number | null;
}

/** What a verified grant says about who it is for: the Charter facts of its root. */
export interface Grant {
  org: string | null;
  env: string | null;
  app: string | null;
  envelope: string | null;
  key: string | null;
}

/** A 0.10 token whose whole chain verified, with the Charter facts of its root (`fct`). */
export interface VerifiedToken extends Grant {
  token: Token;
  chain: ValidatedChain;
}

/** A 1.0 invocation whose chain verified: what to run, with what, for whom, under which Charter grant. */
export interface VerifiedInvocation extends Grant {
  invocation: Invocation;
  delegations: readonly Delegation[];
  command: string;
  args: Record<string, IPLD>;
  /** The DID whose key signed the invocation. */
  agent: string;
}

export interface VerifierOptions {
  /** Charter's URL, or null for an air-gapped verifier (then `issuers` must be pinned and revocation is not checked). */
  server: string | null;
  /** The DIDs this service accepts as audience: its own. */
  audiences: Iterable<string>;
  /** The Charter organizations whose tokens it accepts. */
  organizations: Iterable<string>;
  environments?: Iterable<string>;
  /** Pinned issuer DIDs, instead of trusting those the server publishes. */
  issuers?: Iterable<string>;
  /** Seconds of clock skew allowed (default 30). */
  leeway?: number;
  /** Seconds after which the newest signed feed head is too old (default 60). */
  maxFeedAge?: number;
  /** The longest lifetime accepted for an invocation, in seconds (default 300). */
  maxInvocationLifetime?: number;
  replayCapacity?: number;
  /** Seconds between background sync rounds (default 10). */
  syncInterval?: number;
  /** Seconds since the epoch (injectable for tests). */
  clock?: () => number;
  /** `fetch` to use (for tests and proxies); the global one by default. */
  fetch?: typeof fetch;
  /** Called with each failed background sync round (by default: ignored; the verifier fails closed once stale). */
  onSyncError?: (error: unknown) => void;
}

/**
 * Verifies Charter-minted UCANs offline against synced issuers and revocations.
 *
 * ```ts
 * const verifier = new Verifier({ server: "https://charter.example.com", audiences: [serviceDid], organizations: ["org_…"] });
 * await verifier.sync();   // then start() syncs in the background
 * const verified = verifier.verify(token, proofs, new Capability("mailto:*", "email/send"));
 * ```
 */
export class Verifier {
  readonly server: string | null;
  readonly audiences: ReadonlySet<string>;
  readonly organizations: ReadonlySet<string>;
  readonly environments: ReadonlySet<string>;
  readonly pinned: ReadonlySet<string> | null;
  readonly leeway: number;
  readonly maxFeedAge: number;
  readonly maxInvocationLifetime: number;
  readonly syncInterval: number;
  readonly replays: ReplayCache;
  private readonly clock: () => number;
  private readonly fetcher: typeof fetch;
  private readonly onSyncError: (error: unknown) => void;
  private readonly feeds: [string, string][];
  private snapshot: Snapshot;
  /** Presented tokens whose chain verified, by text (their signature is checked again on every call, as Swift does). */
  private readonly presented = new BoundedCache<Token>();
  /** Proofs a verified chain used, by text: their signatures need no checking again. */
  private readonly proofCache = new BoundedCache<Token>();
  /** Delegations a verified chain used, by CID (their signatures verified, which they remember). */
  private readonly delegations = new BoundedCache<Delegation>();
  private syncing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private syncWanted = false;
  private lastRound = 0;

  constructor(options: VerifierOptions) {
    this.server = options.server === null ? null : options.server.replace(/\/+$/, "");
    this.audiences = new Set(options.audiences);
    this.organizations = new Set(options.organizations);
    this.environments = new Set(options.environments ?? ["live"]);
    this.pinned = options.issuers !== undefined ? new Set(options.issuers) : null;
    const keys = new KeyRing([...this.audiences, ...(this.pinned ?? [])]); // throws for a DID that is not a key
    this.leeway = options.leeway ?? 30;
    this.maxFeedAge = options.maxFeedAge ?? 60;
    this.maxInvocationLifetime = options.maxInvocationLifetime ?? 300;
    this.syncInterval = options.syncInterval ?? 10;
    this.clock = options.clock ?? (() => Date.now() / 1000);
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    this.onSyncError = options.onSyncError ?? (() => undefined);
    this.replays = new ReplayCache(options.replayCapacity);
    this.feeds = [];
    for (const org of [...this.organizations].sort()) {
      for (const env of [...this.environments].sort()) this.feeds.push([org, env]);
    }
    this.snapshot = {
      trust: Trust.pinned(this.pinned ?? []), keys, revokedTokens: new Map(), revokedEnvelopes: new Map(), feeds: new Map(),
      lastSync: null, feedTime: null,
    };
  }

  /** When the last sync round completed, by the verifier's clock; null before the first. */
  get lastSuccessfulSync(): number | null {
    return this.snapshot.lastSync;
  }

  // Sync

  /**
   * One sync round: every feed page of each trusted organization and environment after the last `seq` seen (each
   * page's signed head checked), then the issuer list; applied all or nothing. Rejects with FeedError when there is
   * no server, it cannot be reached, or an answer does not check out (a dropped, altered, reordered or replayed
   * page); the previous state is then kept, and goes stale. Concurrent calls share one round.
   */
  sync(): Promise<void> {
    this.syncing ??= this.round().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async round(): Promise<void> {
    if (this.server === null) throw new FeedError("no server is configured, so there is nothing to sync");
    const started = this.clock();
    const current = this.snapshot;
    const positions = new Map(current.feeds);
    const pages: [string, Page][] = [];
    for (const [org, env] of this.feeds) {
      const key = feedKey(org, env);
      let position = positions.get(key) ?? START;
      while (true) {
        const page = parsePage(await this.get("/v1/revocations", {
          org, environment: env, since: String(position.since), limit: String(PAGE_SIZE),
        }));
        checkHead(page, org, env, position);
        let previous = position.since;
        for (const entry of page.entries) {
          if (!(previous < entry.seq && entry.seq <= page.nextSince)) {
            throw new FeedError("/v1/revocations: entries out of order or outside the signed range");
          }
          previous = entry.seq;
        }
        pages.push([key, page]);
        const advanced = page.nextSince > position.since;
        position = { since: page.nextSince, head: { seq: page.head.seq, time: page.head.time } };
        if (page.nextSince >= page.head.seq) break;
        if (!advanced) throw new FeedError("/v1/revocations: next_since did not advance");
      }
      positions.set(key, position);
    }
    // Issuers after the pages: a page may be signed by an issuer created to sign it (an organization's first).
    const trust = this.pinned === null
      ? Trust.published(parseIssuers(await this.get("/v1/issuers")).filter((issuer) => this.mayTrust(issuer)))
      : current.trust;
    const accepted: Entry[] = [];
    for (const [key, page] of pages) {
      if (!trust.signs(key, page.head.issuer)) {
        const [org, env] = JSON.parse(key) as [string, string];
        throw new FeedError(`the ${org} ${env} feed: the page head is not signed by a trusted issuer of that organization`);
      }
      for (const entry of page.entries) if (authentic(entry, trust.dids)) accepted.push(entry);
    }
    const keys = trust === current.trust ? current.keys : new KeyRing([...trust.dids, ...this.audiences], current.keys);
    this.snapshot = this.merge(this.snapshot, trust, keys, accepted, positions, started);
  }

  private merge(snapshot: Snapshot, trust: Trust, keys: KeyRing, entries: Entry[], feeds: Map<string, Position>,
    syncedAt: number): Snapshot {
    let tokens = new Map(snapshot.revokedTokens);
    let envelopes = new Map(snapshot.revokedEnvelopes);
    for (const entry of entries) {
      if (entry.cid !== null) tokens.set(entry.cid.toString(), entry);
      else envelopes.set(entry.subject, entry);
    }
    const cutoff = syncedAt - Math.max(0, this.leeway);
    tokens = new Map([...tokens].filter(([, entry]) => entry.coversUntil >= cutoff));
    envelopes = new Map([...envelopes].filter(([, entry]) => entry.coversUntil >= cutoff));
    const positions = new Map(snapshot.feeds);
    for (const [key, position] of feeds) {
      const mine = positions.get(key);
      if (mine === undefined || position.since >= mine.since) positions.set(key, position);
    }
    let oldest: number | null = null;
    for (const [org, env] of this.feeds) {
      const head = positions.get(feedKey(org, env))?.head ?? null;
      if (head === null) {
        oldest = null;
        break;
      }
      oldest = oldest === null ? head.time : Math.min(oldest, head.time);
    }
    const last = snapshot.lastSync === null ? syncedAt : Math.max(snapshot.lastSync, syncedAt);
    return {
      trust, keys, revokedTokens: tokens, revokedEnvelopes: envelopes, feeds: positions, lastSync: last, feedTime: oldest,
    };
  }

  private mayTrust(issuer: Issuer): boolean {
    return this.environments.has(issuer.environment) && (issuer.org === null || this.organizations.has(issuer.org));
  }

  private async get(path: string, params?: Record<string, string>): Promise<Record<string, unknown>> {
    const url = new URL(this.server! + path);
    for (const [name, value] of Object.entries(params ?? {})) url.searchParams.set(name, value);
    let response: Response;
    try {
      response = await this.fetcher(url.toString(), {
        headers: { Accept: "application/json" }, redirect: "manual",
        signal: (AbortSignal as unknown as { timeout(ms: number): AbortSignal }).timeout(Math.max(1, Math.min(this.syncInterval, 30)) * 1000),
      });
    } catch (error) {
      throw new FeedError(`${path}: cannot reach ${this.server}: ${(error as Error)?.message ?? error}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new FeedError(`${path}: HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = parseJSON(new Uint8Array(await response.arrayBuffer()));
    } catch (error) {
      if (error instanceof JSONError) throw new FeedError(`${path}: the answer is not JSON (${error.message})`);
      throw new FeedError(`${path}: the answer could not be read`);
    }
    if (!isObject(body)) throw new FeedError(`${path}: the answer is not a JSON object`);
    return body;
  }

  // Background sync

  /**
   * Syncs in the background every `syncInterval` seconds (sooner, at most once a second, after a root from an
   * unknown issuer), reporting failures to `onSyncError`, until `stop()`. The timer does not keep Node alive.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      const now = Date.now();
      this.syncWanted = false;
      this.lastRound = now;
      try {
        await this.sync();
      } catch (error) {
        this.onSyncError(error);
      }
      this.schedule(tick, this.syncInterval * 1000);
    };
    void tick();
  }

  private schedule(tick: () => Promise<void>, delay: number): void {
    if (!this.running) return;
    const timer = setTimeout(() => void tick(), Math.max(50, delay));
    (timer as unknown as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private refused(error: unknown): unknown {
    if (error instanceof VerificationError && error.code === "untrusted_issuer" && this.pinned === null && this.running
      && !this.syncWanted && Date.now() - this.lastRound >= 1000) {
      this.syncWanted = true;
      this.lastRound = Date.now();
      void this.sync().catch((failure) => this.onSyncError(failure));
    }
    return error;
  }

  // Verification

  private checkFreshness(snapshot: Snapshot, now: number): void {
    if (this.server === null) {
      if (this.pinned !== null) return;
      throw new VerificationError("not_synced", "published issuers need a server to sync from");
    }
    if (snapshot.feedTime === null) throw new VerificationError("not_synced", "issuers and revocations have not been synced yet");
    const age = now - snapshot.feedTime;
    if (age > this.maxFeedAge) {
      throw new VerificationError("feed_stale",
        `revocation data is ${Math.trunc(age)}s old, over the limit of ${Math.trunc(this.maxFeedAge)}s`);
    }
  }

  private checkOrganization(snapshot: Snapshot, org: string | null, issuer: string): void {
    if (org === null || !this.organizations.has(org)) {
      throw new VerificationError("untrusted_issuer", "the token is not from an organization this service trusts");
    }
    const owner = snapshot.trust.organization.get(issuer);
    if (owner !== undefined && owner !== org) {
      throw new VerificationError("untrusted_issuer", `the token's issuer does not sign for organization ${org}`);
    }
  }

  private checkWindow(snapshot: Snapshot, issuer: string, now: number): void {
    const notAfter = snapshot.trust.windows.get(issuer);
    if (notAfter !== undefined && now >= notAfter) {
      throw new VerificationError("untrusted_issuer", `${issuer} was retired and verifies nothing after its window`);
    }
  }

  /**
   * Verifies a 0.10 token and the proofs its chain cites (any order), offline. With `requiring`, the token must
   * grant that capability. Throws VerificationError with the first reason it is refused.
   */
  verify(token: string, proofs: readonly string[] = [], requiring?: Capability): VerifiedToken {
    try {
      return withKeyBudget(NEW_KEYS_PER_VERIFICATION, () => this.verifyToken(token, proofs, requiring));
    } catch (error) {
      throw this.refused(error);
    }
  }

  private verifyToken(text: string, proofs: readonly string[], requiring: Capability | undefined): VerifiedToken {
    const snapshot = this.snapshot;
    const now = this.clock();
    this.checkFreshness(snapshot, now);
    let token = this.presented.peek(text);
    const presentedCached = token !== undefined;
    try {
      token ??= Token.parseUnverified(text);
    } catch (error) {
      if (error instanceof UCANError) throw parseError(error);
      throw error;
    }
    if (proofs.length > 32) throw new VerificationError("malformed", "more than 32 proofs supplied");
    // Proofs are parsed when the chain reaches them (a forged chain stops at its first untrusted root or signature),
    // and the rest once it verified, so that a supplied proof that is not a token is refused all the same.
    const store = new ProofStore();
    const texts = new Map<string, string>();
    proofs.forEach((proof, index) => {
      const cached = this.proofCache.peek(proof);
      if (cached !== undefined) {
        store.add(cached, true);
        return;
      }
      const cid = CID.of(utf8(proof), RAW);
      texts.set(cid.toString(), proof);
      store.addLazily(cid, () => {
        try {
          return Token.parseUnverified(proof);
        } catch (error) {
          if (!(error instanceof UCANError)) throw error;
          throw parseError(error, `proofs[${index}]: ${error.description}`, `proofs[${index}]` + (error.field ? `.${error.field}` : ""));
        }
      });
    });
    let chain: ValidatedChain;
    try {
      chain = validate(token, store, Math.floor(now), {
        leeway: this.leeway, trustedIssuers: snapshot.trust.dids, audiences: this.audiences, keys: snapshot.keys,
      });
    } catch (error) {
      if (error instanceof UCANError) throw verificationError(error);
      throw error;
    }
    store.parseRemaining();
    // The chain verified to a trusted root: what it used is worth keeping, and nothing a forger sent ever is.
    if (!presentedCached) this.presented.set(text, token, cachedSize(text.length));
    for (const [cid, proof] of chain.proofs) {
      const proofText = texts.get(cid) ?? texts.get(proof.cid.toString());
      if (proofText !== undefined) this.proofCache.set(proofText, proof, cachedSize(proofText.length));
    }
    for (const issuer of chain.rootIssuers) this.checkWindow(snapshot, issuer, now);
    const roots = token.proofs.length === 0 ? [token] : [...chain.proofs.values()].filter((proof) => proof.proofs.length === 0);
    for (const root of roots) this.checkOrganization(snapshot, root.fact("org"), root.issuer);
    checkTokenRevocation(snapshot, token, chain, roots);
    if (requiring !== undefined && !token.capabilities.some((have) => have.covers(requiring))) {
      throw new VerificationError("not_covered", `the token does not grant ${requiring}`);
    }
    let root = token;
    while (root.proofs.length > 0 && chain.proofs.has(root.proofs[0].toString())) root = chain.proofs.get(root.proofs[0].toString())!;
    return Object.freeze({
      token, chain, org: root.fact("org"), env: root.fact("env"), app: root.fact("app"), envelope: root.fact("envelope"),
      key: root.fact("key"),
    });
  }

  /** `verify` with the token from `Authorization: Bearer` and proofs from `ucans` (comma-separated). */
  verifyHeaders(headers: HeadersLike, requiring?: Capability): VerifiedToken {
    let token: string, proofs: string[];
    try {
      [token, proofs] = credentials(headers);
    } catch (error) {
      throw this.refused(error);
    }
    return this.verify(token, proofs, requiring);
  }

  /**
   * Verifies a 1.0 invocation (envelope bytes, or their base64) and the delegations its `prf` cites (any order),
   * offline, and accepts each invocation once (once by this verifier: its replay cache is in memory, so each process
   * or serverless isolate running one has its own). It must be addressed to one of `audiences` and expire within
   * `maxInvocationLifetime`; its chain must root at a trusted issuer of a trusted organization as subject; every
   * policy on it must hold on the arguments; with `command`, the invocation's must be exactly it.
   */
  verifyInvocation(invocation: Uint8Array | string, proofs: readonly (Uint8Array | string)[] = [], command?: string): VerifiedInvocation {
    try {
      return withKeyBudget(NEW_KEYS_PER_VERIFICATION, () => this.checkInvocation(invocation, proofs, command));
    } catch (error) {
      throw this.refused(error);
    }
  }

  private checkInvocation(invocation: Uint8Array | string, proofs: readonly (Uint8Array | string)[], command: string | undefined): VerifiedInvocation {
    const snapshot = this.snapshot;
    const now = this.clock();
    this.checkFreshness(snapshot, now);
    const raw = envelopeBytes(invocation, "invocation");
    let parsed: Invocation;
    try {
      parsed = Invocation.parseUnverified(raw);
    } catch (error) {
      if (error instanceof UCANError) throw verificationError(error);
      throw error;
    }
    if (parsed.audience === null || !this.audiences.has(parsed.audience)) {
      throw new VerificationError("wrong_audience", "the invocation is not addressed to this service", "aud");
    }
    const seconds = Math.floor(now);
    const longest = this.maxInvocationLifetime;
    if (parsed.expiration === null || parsed.expiration > seconds + longest) {
      throw new VerificationError("malformed", `an invocation must expire within ${longest} seconds`, "exp");
    }
    if (proofs.length > 32) throw new VerificationError("malformed", "more than 32 proofs supplied");
    // As for 0.10 proofs: a delegation is parsed when the chain cites it, the others once the chain verified.
    const supplied = new DelegationStore();
    proofs.forEach((proof, index) => {
      const data = envelopeBytes(proof, `proofs[${index}]`);
      const cid = CID.of(data, DAG_CBOR).toString();
      const cached = this.delegations.peek(cid);
      if (cached !== undefined) {
        supplied.add(cached);
        return;
      }
      supplied.addLazily(cid, () => {
        try {
          return Delegation.parseUnverified(data);
        } catch (error) {
          if (!(error instanceof UCANError)) throw error;
          throw new VerificationError(verificationError(error).code, `proofs[${index}]: ${error.detail}`,
            `proofs[${index}]` + (error.field ? `.${error.field}` : ""));
        }
      });
    });
    let delegations: Delegation[];
    try {
      delegations = validateInvocation(parsed, supplied, seconds, {
        leeway: this.leeway, trustedSubjects: snapshot.trust.dids, keys: snapshot.keys,
      }).delegations;
    } catch (error) {
      if (error instanceof UCANError) throw verificationError(error);
      throw error;
    }
    supplied.parseRemaining();
    for (const delegation of delegations) this.delegations.set(delegation.cid.toString(), delegation, cachedSize(delegation.byteLength));
    if (delegations.length === 0) throw new VerificationError("untrusted_issuer", "the invocation cites no delegation from Charter", "prf");
    const root = delegations[0];
    this.checkWindow(snapshot, root.issuer, now);
    const verified: VerifiedInvocation = Object.freeze({
      invocation: parsed, delegations: Object.freeze(delegations), command: parsed.command, args: parsed.args, agent: parsed.issuer,
      org: root.metaString("org"), env: root.metaString("env"), app: root.metaString("app"),
      envelope: root.metaString("envelope"), key: root.metaString("key"),
    });
    this.checkOrganization(snapshot, verified.org, root.issuer);
    if (snapshot.revokedTokens.size > 0) {
      const issuers = new Set(delegations.map((delegation) => delegation.issuer));
      for (const cid of parsed.proofs) {
        const entry = supplied.has(cid.toString()) ? snapshot.revokedTokens.get(cid.toString()) : undefined;
        if (entry !== undefined && issuers.has(entry.issuer)) throw new VerificationError("revoked", `delegation ${entry.subject} is revoked`);
      }
    }
    if (verified.envelope !== null && snapshot.revokedEnvelopes.has(verified.envelope)) {
      throw new VerificationError("revoked", `envelope ${verified.envelope} is revoked`);
    }
    if (command !== undefined && parsed.command !== command) {
      throw new VerificationError("not_covered", `the invocation is for ${parsed.command}, and this needs ${command}`, "cmd");
    }
    // Remembered for as long as validation would accept it, leeway included; last, so that an invocation refused for
    // another reason is not remembered.
    const outcome = this.replays.record(parsed.cid.toString(), parsed.expiration + Math.max(0, this.leeway), seconds);
    if (outcome === "replayed") throw new VerificationError("replayed", `invocation ${parsed.cid} was presented before`);
    if (outcome !== "fresh") throw new VerificationError("overloaded", "too many live invocations to remember; try again shortly");
    return verified;
  }

  /** `verifyInvocation` with the invocation from `Authorization: Bearer <base64>` and its delegations from `ucans`. */
  verifyInvocationHeaders(headers: HeadersLike, command?: string): VerifiedInvocation {
    if (command !== undefined) checkCommand(command, "command");
    let invocation: Uint8Array, proofs: Uint8Array[];
    try {
      // Decoded before anything is verified, as Charter's RequireInvocation does: undecodable base64 is `malformed`
      // (field `invocation` or `proofs[i]`) whatever the verifier's state.
      const [token, listed] = credentials(headers);
      invocation = envelopeBytes(token, "invocation");
      proofs = listed.map((proof, index) => envelopeBytes(proof, `proofs[${index}]`));
    } catch (error) {
      throw this.refused(error);
    }
    return this.verifyInvocation(invocation, proofs, command);
  }
}

function checkTokenRevocation(snapshot: Snapshot, token: Token, chain: ValidatedChain, roots: Token[]): void {
  if (snapshot.revokedTokens.size > 0) {
    const own = snapshot.revokedTokens.get(token.cid.toString());
    if (own !== undefined && chain.issuers.has(own.issuer)) throw new VerificationError("revoked", `token ${own.subject} is revoked`);
    for (const [cited, proof] of chain.proofs) {
      for (const name of new Set([cited, proof.cid.toString()])) {
        const entry = snapshot.revokedTokens.get(name);
        if (entry !== undefined && chain.issuers.has(entry.issuer)) throw new VerificationError("revoked", `proof ${entry.subject} is revoked`);
      }
    }
  }
  if (snapshot.revokedEnvelopes.size > 0) {
    for (const root of roots) {
      const envelope = root.fact("envelope");
      const entry = envelope !== null ? snapshot.revokedEnvelopes.get(envelope) : undefined;
      if (entry !== undefined) throw new VerificationError("revoked", `envelope ${entry.subject} is revoked`);
    }
  }
}

