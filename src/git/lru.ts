/**
 * A least-recently-used map bounded by a total weight (bytes, entries, …).
 * Relies on `Map` iteration order: re-inserting on a hit moves a key to the
 * end, so the first key is always the least recently used.
 */
export class WeightedLru<K, V> {
  private readonly map = new Map<K, { value: V; weight: number }>();
  private total = 0;

  /**
   * `capacity` bounds the sum of weights; a single value heavier than
   * `maxItemWeight` (default capacity / 8) is never stored.
   */
  constructor(readonly capacity: number, readonly maxItemWeight = Math.floor(capacity / 8)) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Stores `value`; evicts least recently used entries until the total fits. */
  set(key: K, value: V, weight: number): void {
    if (weight > this.maxItemWeight) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.total -= old.weight;
      this.map.delete(key);
    }
    this.map.set(key, { value, weight });
    this.total += weight;
    if (this.total > this.capacity) {
      for (const [k, e] of this.map) {
        if (this.total <= this.capacity) break;
        this.map.delete(k);
        this.total -= e.weight;
      }
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** Sum of the weights currently held. */
  get weight(): number {
    return this.total;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
