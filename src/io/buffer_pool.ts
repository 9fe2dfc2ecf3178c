/**
 * Reusable I/O buffers of one size, for replies that carry file data (NFS
 * READ, FUSE READ). A fresh large array costs page faults and zeroing on
 * every request; a pooled one is warm.
 *
 * Invariant: a buffer given back must no longer be referenced by anyone
 * (sent, or copied out); the pool keeps at most `keep` of them.
 */
export class BufferPool {
  #free: Uint8Array[] = [];
  constructor(readonly size: number, private readonly keep: number) {}

  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.size);
  }

  give(b: Uint8Array): void {
    if (b.byteLength === this.size && b.byteOffset === 0 && this.#free.length < this.keep) {
      this.#free.push(b);
    }
  }
}
