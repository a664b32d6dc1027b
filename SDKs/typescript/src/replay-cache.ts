// The replay cache: each UCAN 1.0 invocation is accepted once.

/**
 * Invocation CIDs until they expire: a second presentation is a replay. Bounded: when full of live entries, new
 * invocations are refused (`full`) rather than one forgotten. As in Charter's Swift `ReplayCache`, entries sit in a
 * min-heap by expiry and each call first pops those that have expired: O(log n) a call however full the cache is,
 * and exact whichever way the clock moves (an entry filed while the clock was behind goes as soon as `now` passes
 * its expiry, not when a sweep mark would reach it again).
 */
export class ReplayCache {
  readonly capacity: number;
  readonly #expiries = new Map<string, number>();
  readonly #heap: { expiry: number; cid: string }[] = [];

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
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].expiry < now) {
      const first = this.popMin();
      if (this.#expiries.get(first.cid) === first.expiry) this.#expiries.delete(first.cid);
    }
    if (this.#expiries.has(cid)) return "replayed";
    if (this.#expiries.size >= this.capacity) return "full";
    this.#expiries.set(cid, expiresAt);
    this.push({ expiry: expiresAt, cid });
    return "fresh";
  }

  private push(entry: { expiry: number; cid: string }): void {
    const heap = this.#heap;
    heap.push(entry);
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (heap[child].expiry >= heap[parent].expiry) break;
      [heap[child], heap[parent]] = [heap[parent], heap[child]];
      child = parent;
    }
  }

  private popMin(): { expiry: number; cid: string } {
    const heap = this.#heap;
    const first = heap[0];
    const last = heap.pop()!;
    if (heap.length === 0) return first;
    heap[0] = last;
    let parent = 0;
    while (true) {
      const left = 2 * parent + 1, right = left + 1;
      let smallest = parent;
      if (left < heap.length && heap[left].expiry < heap[smallest].expiry) smallest = left;
      if (right < heap.length && heap[right].expiry < heap[smallest].expiry) smallest = right;
      if (smallest === parent) return first;
      [heap[parent], heap[smallest]] = [heap[smallest], heap[parent]];
      parent = smallest;
    }
  }
}
