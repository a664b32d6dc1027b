// The verifier's parse caches: what a request presented, kept by its exact text once its chain verified, so that the
// next request presenting it skips the parse (and, for proofs, the signature).

/** What one cache may hold, in bytes of memory: about 16 MiB. */
export const CACHE_BYTES = 16 * 1024 * 1024;

/** The memory a cached credential of `length` bytes holds, about: its text or bytes, and what it parsed into. */
export function cachedSize(length: number): number {
  return 2 * length;
}

/**
 * A map bounded by its number of entries and by their total size, forgetting the least recently used. Only what
 * verified is put in it, so a flood of forged credentials neither fills it nor pushes out what is in use; and the
 * size bound holds however large each credential is (up to 32 KB), where 4096 of the largest would be ~112 MB.
 */
export class BoundedCache<V> {
  readonly #values = new Map<string, { value: V; size: number }>();
  #bytes = 0;

  constructor(readonly capacity = 4096, readonly maxBytes = CACHE_BYTES) {}

  /** The value kept for `key`, now the most recently used; undefined when there is none. */
  peek(key: string): V | undefined {
    const entry = this.#values.get(key);
    if (entry === undefined) return undefined;
    this.#values.delete(key);
    this.#values.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` for `key`, weighing `size` bytes; one larger than the whole bound is not kept. */
  set(key: string, value: V, size: number): void {
    this.delete(key);
    if (size > this.maxBytes) return;
    this.#values.set(key, { value, size });
    this.#bytes += size;
    while (this.#values.size > this.capacity || this.#bytes > this.maxBytes) {
      this.delete(this.#values.keys().next().value as string);
    }
  }

  private delete(key: string): void {
    const entry = this.#values.get(key);
    if (entry === undefined) return;
    this.#values.delete(key);
    this.#bytes -= entry.size;
  }

  get size(): number {
    return this.#values.size;
  }

  /** The total size of what is kept. */
  get bytes(): number {
    return this.#bytes;
  }
}
