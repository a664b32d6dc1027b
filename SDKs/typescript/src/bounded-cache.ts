// The verifier's parse caches: what a request presented, kept by its exact text once its chain verified, so that the
// next request presenting it skips the parse (and, for proofs, the signature).

/**
 * A map bounded by its number of entries, forgetting the least recently used. Only what verified is put in it, so a
 * flood of forged credentials neither fills it nor pushes out what is in use.
 */
export class BoundedCache<V> {
  readonly #values = new Map<string, V>();

  constructor(readonly capacity = 4096) {}

  /** The value kept for `key`, now the most recently used; undefined when there is none. */
  peek(key: string): V | undefined {
    const value = this.#values.get(key);
    if (value !== undefined) {
      this.#values.delete(key);
      this.#values.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#values.delete(key);
    this.#values.set(key, value);
    while (this.#values.size > this.capacity) this.#values.delete(this.#values.keys().next().value as string);
  }

  get size(): number {
    return this.#values.size;
  }
}
