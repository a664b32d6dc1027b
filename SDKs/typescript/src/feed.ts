// Charter's revocation feed and issuer list as a verifier reads them: strict parsing of the answers, and the
// issuer-signed head of each feed page, which turns a proxy that drops, alters, reorders or replays entries into a
// failed sync round (so the verifier goes stale and fails closed) instead of a missed revocation.

import { CID, hasDIDShape, isDID, SHA256, sha256, signatureHolds } from "./crypto.js";
import { b64urlDecode, b64urlEncode, canonicalJSON, hasKey, isIntAt, isObject, utf8, without } from "./encoding.js";

/** Why a sync round failed: an unreachable server, a bad status, or an answer that does not check out. */
export class FeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeedError";
  }
}

/** Charter's timestamps, strictly: exactly `2026-11-24T18:49:50.743Z`, fields in range; seconds or null. */
export function parseTimestamp(text: unknown): number | null {
  if (typeof text !== "string" || text.length !== 24) return null;
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z$/.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second, millis] = match.slice(1).map(Number);
  const moment = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(moment);
  if (year < 1 || check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day
    || hour > 23 || minute > 59 || second > 59) return null;
  return moment / 1000;
}

export interface Issuer { did: string; org: string | null; environment: string; notAfter: number | null }

export interface Entry {
  seq: number;
  kind: "token" | "envelope";
  subject: string; // the `revoke` field exactly as signed
  cid: CID | null;
  issuer: string;
  challenge: Uint8Array;
  coversUntil: number;
}

/** An entry signed by a trusted issuer; another's key is never checked (a page may name any number of DIDs). */
export function authentic(entry: Entry, trusted: ReadonlySet<string>): boolean {
  return trusted.has(entry.issuer) && signatureHolds(entry.issuer, utf8("REVOKE:" + entry.subject), entry.challenge);
}

export interface Head {
  org: string; environment: string; since: number; nextSince: number; seq: number; time: number; entries: string;
  issuer: string; signature: Uint8Array; message: Uint8Array;
}

export interface Page { entries: Entry[]; listed: unknown[]; skipped: number; nextSince: number; head: Head }

export interface Position { since: number; head: { seq: number; time: number } | null }

export const START: Position = { since: 0, head: null };

export class Trust {
  constructor(
    readonly dids: ReadonlySet<string>,
    readonly organization: ReadonlyMap<string, string>,
    readonly feedSigners: ReadonlyMap<string, ReadonlySet<string>> | null,
    readonly windows: ReadonlyMap<string, number>,
  ) {}

  static pinned(dids: Iterable<string>): Trust {
    return new Trust(new Set(dids), new Map(), null, new Map());
  }

  static published(issuers: Issuer[]): Trust {
    const organization = new Map<string, string>();
    const signers = new Map<string, Set<string>>();
    const windows = new Map<string, number>();
    for (const issuer of issuers) {
      if (issuer.org !== null) {
        organization.set(issuer.did, issuer.org);
        const key = feedKey(issuer.org, issuer.environment);
        if (!signers.has(key)) signers.set(key, new Set());
        signers.get(key)!.add(issuer.did);
      }
      if (issuer.notAfter !== null) windows.set(issuer.did, issuer.notAfter);
    }
    return new Trust(new Set(issuers.map((issuer) => issuer.did)), organization, signers, windows);
  }

  signs(feed: string, did: string): boolean {
    if (this.feedSigners === null) return this.dids.has(did);
    return this.feedSigners.get(feed)?.has(did) ?? false;
  }
}

export function feedKey(org: string, environment: string): string {
  return JSON.stringify([org, environment]);
}

/** Every published issuer whose status is `active`, `verify_only` or `expired`; others are not trusted. */
export function parseIssuers(body: Record<string, unknown>): Issuer[] {
  const listed = body.issuers;
  if (!Array.isArray(listed)) throw new FeedError("/v1/issuers has no issuers array");
  const issuers: Issuer[] = [];
  listed.forEach((item, index) => {
    if (!(isObject(item) && isDID(item.did) && typeof item.status === "string" && typeof item.environment === "string")) {
      throw new FeedError(`/v1/issuers: issuers[${index}] is not an issuer`);
    }
    // Present on every issuer: null only for the shared issuers of an older server, never by omission.
    if (!hasKey(item, "org") || (item.org !== null && typeof item.org !== "string")) {
      throw new FeedError(`/v1/issuers: issuers[${index}].org is not an organization id or null`);
    }
    let notAfter: number | null = null;
    if (item.not_after !== undefined && item.not_after !== null) {
      notAfter = parseTimestamp(item.not_after);
      if (notAfter === null) throw new FeedError(`/v1/issuers: issuers[${index}].not_after is not a timestamp`);
    }
    const status = item.status;
    if (status !== "active" && status !== "verify_only" && status !== "expired") return;
    if (status !== "active" && notAfter === null) return;
    issuers.push({ did: item.did as string, org: item.org as string | null, environment: item.environment, notAfter });
  });
  return issuers;
}

/** One `/v1/revocations` answer: its entries (of kinds this SDK knows) and its signed head, checked for shape. */
export function parsePage(body: Record<string, unknown>): Page {
  const listed = body.revocations, after = body.next_since;
  if (!Array.isArray(listed) || !isIntAt(body, "next_since")) {
    throw new FeedError("/v1/revocations has no revocations array or next_since");
  }
  const head = parseHead(body.head);
  const entries: Entry[] = [];
  let skipped = 0;
  listed.forEach((item, index) => {
    const fields: Record<string, unknown> = isObject(item) ? item : {};
    const challenge = typeof fields.challenge === "string" ? b64urlDecode(fields.challenge) : null;
    const until = parseTimestamp(fields.covers_until);
    if (!(isIntAt(fields, "seq") && typeof fields.kind === "string" && typeof fields.revoke === "string"
      && hasDIDShape(fields.iss) && challenge !== null && until !== null)) {
      throw new FeedError(`/v1/revocations: revocations[${index}] is not a revocation`);
    }
    let cid: CID | null = null;
    if (fields.kind === "token") {
      try {
        cid = CID.parse(fields.revoke);
      } catch {
        throw new FeedError(`/v1/revocations: revocations[${index}].revoke is not a CID`);
      }
      // This SDK computes sha2-256 CIDs only: a token revoked under another hash (BLAKE3, which Charter never
      // writes) could not be matched, so the round fails and the verifier fails closed instead of accepting it.
      if (cid.hasher !== SHA256) {
        throw new FeedError(`/v1/revocations: revocations[${index}] names a CID hashed other than sha2-256`);
      }
    } else if (fields.kind !== "envelope") {
      skipped += 1;
      return;
    }
    entries.push({
      seq: Number(fields.seq), kind: fields.kind, subject: fields.revoke, cid, issuer: fields.iss as string, challenge,
      coversUntil: until,
    });
  });
  return { entries, listed, skipped, nextSince: Number(after), head };
}

export function parseHead(value: unknown): Head {
  const head: Record<string, unknown> = isObject(value) ? value : {};
  const fields = without(head, "signature");
  const signature = typeof head.signature === "string" ? b64urlDecode(head.signature) : null;
  if (!(signature !== null && typeof fields.org === "string" && typeof fields.environment === "string"
    && ["since", "next_since", "seq", "time_ms"].every((name) => isIntAt(fields, name))
    && typeof fields.entries === "string" && isDID(fields.iss))) {
    throw new FeedError("/v1/revocations: the page has no well-formed signed head");
  }
  return {
    org: fields.org, environment: fields.environment, since: Number(fields.since), nextSince: Number(fields.next_since),
    seq: Number(fields.seq), time: Number(fields.time_ms) / 1000, entries: fields.entries, issuer: fields.iss as string,
    signature, message: utf8("charter-feed-head:" + canonicalJSON(fields)),
  };
}

/**
 * The head is its issuer's signature over exactly the page received, for the page asked, and no older than what
 * the verifier has; whether the issuer is trusted for the feed is checked once the issuers are read.
 */
export function checkHead(page: Page, org: string, environment: string, position: Position): void {
  const head = page.head;
  const name = `the ${org} ${environment} feed`;
  if (!signatureHolds(head.issuer, head.message, head.signature)) throw new FeedError(`${name}: the page head's signature does not verify`);
  if (head.org !== org || head.environment !== environment || head.since !== position.since || head.nextSince !== page.nextSince) {
    throw new FeedError(`${name}: the signed head is for another page`);
  }
  if (b64urlEncode(sha256(utf8(canonicalJSON(page.listed)))) !== head.entries) {
    throw new FeedError(`${name}: the entries are not the ones the head signs (dropped, altered or reordered)`);
  }
  if (!(page.nextSince >= head.since && head.seq >= page.nextSince)) throw new FeedError(`${name}: the signed head's range is inconsistent`);
  if (position.head !== null) {
    const { seq, time } = position.head;
    if (!((head.time > time || (head.time === time && page.nextSince > head.since)) && head.seq >= seq)) {
      throw new FeedError(`${name}: the signed head is not newer than one already seen (a replayed answer)`);
    }
  }
}
