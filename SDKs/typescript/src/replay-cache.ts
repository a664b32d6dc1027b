// The replay cache: each UCAN 1.0 invocation is accepted once.

/**
 * Invocation CIDs until they expire: a second presentation is a replay. Bounded: when full of live entries, new
 * invocations are refused (`full`) rather than one forgotten. Entries are filed by the second they expire in, and
 * each call first drops the seconds that have passed, so a call costs O(1) amortized however full the cache is.
 */
export class ReplayCache {
  readonly capacity: number;
  readonly #expiries = new Map<string, number>();
  readonly #bySecond = new Map<number, string[]>();
  #swept = -Infinity; // every second before this one has been dropped

  constructor(capacity = 100_000) {
    this.capacity = Math.max(1, capacity);
  }

  /** Live entries, as of the last call. */
  get size(): number {
    return this.#expiries.size;
  }

  /** `fresh` (now remembered), `replayed`, `full`, or `unbounded` (no expiry). */
  record(cid: string, expiresAt: number | null, now: number): "fresh" | "replayed" | "full" | "unbounded" {
    if (expiresAt === null) return "unbounded";
    this.sweep(now);
    const known = this.#expiries.get(cid);
    if (known !== undefined && known >= now) return "replayed";
    if (known === undefined && this.#expiries.size >= this.capacity) return "full";
    this.#expiries.set(cid, expiresAt);
    const second = Math.floor(expiresAt);
    const filed = this.#bySecond.get(second);
    if (filed === undefined) this.#bySecond.set(second, [cid]);
    else filed.push(cid);
    return "fresh";
  }

  /** Drops every entry that expired in a second before `now`'s (an entry of `now`'s own second is checked exactly). */
  private sweep(now: number): void {
    const limit = Math.floor(now);
    if (limit <= this.#swept) return;
    const drop = (second: number, cids: string[]) => {
      for (const cid of cids) {
        const expiry = this.#expiries.get(cid);
        if (expiry !== undefined && Math.floor(expiry) === second) this.#expiries.delete(cid);
      }
      this.#bySecond.delete(second);
    };
    if (limit - this.#swept > this.#bySecond.size) {
      // A long quiet spell: fewer seconds are filed than have passed.
      for (const [second, cids] of this.#bySecond) if (second < limit) drop(second, cids);
    } else {
      for (let second = this.#swept; second < limit; second++) {
        const cids = this.#bySecond.get(second);
        if (cids !== undefined) drop(second, cids);
      }
    }
    this.#swept = limit;
  }
}
