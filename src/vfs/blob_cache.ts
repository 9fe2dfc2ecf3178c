/**
 * Content of clean files, by blob oid (immutable, so shared by every vibe).
 *
 * Small blobs stay in a byte-bounded in-memory LRU. Blobs of at least
 * `spillBytes` are inflated once into `<cacheDir>/<oid>` and served with
 * positioned reads, so reading a 256 MiB file in 128 KiB chunks inflates it
 * once, not 2,048 times. Cache files are written to a temp name and renamed,
 * so a reader never sees a partial file; they are safe to delete at any time.
 */
import type { ObjectReader } from "../git/object_store.ts";
import type { Oid } from "../types.ts";

export interface BlobCacheOptions {
  memoryBytes?: number;
  spillBytes?: number;
  /**
   * Writes a large blob's bytes to `path` without blocking the event loop
   * (e.g. streamed from `git cat-file`). Without it the reader inflates the
   * blob in memory on this thread.
   */
  spillTo?: (oid: Oid, path: string) => Promise<void>;
}

export class BlobCache {
  readonly cacheDir: string;
  #reader: ObjectReader;
  #mem = new Map<Oid, Uint8Array>();
  #memBytes = 0;
  #memLimit: number;
  #spill: number;
  #sizes = new Map<Oid, number>();
  #files = new Map<Oid, Deno.FsFile>();
  #inflight = new Map<Oid, Promise<void>>();
  #spillTo: ((oid: Oid, path: string) => Promise<void>) | undefined;

  constructor(reader: ObjectReader, cacheDir: string, opts: BlobCacheOptions = {}) {
    this.#reader = reader;
    this.cacheDir = cacheDir;
    this.#memLimit = opts.memoryBytes ?? 64 * 1024 * 1024;
    this.#spill = opts.spillBytes ?? 4 * 1024 * 1024;
    this.#spillTo = opts.spillTo;
  }

  async size(oid: Oid): Promise<number> {
    let s = this.#sizes.get(oid);
    if (s === undefined) {
      s = await this.#reader.blobSize(oid);
      if (this.#sizes.size > 1_000_000) this.#sizes.clear();
      this.#sizes.set(oid, s);
    }
    return s;
  }

  /** Bytes [offset, offset+length) of the blob, clipped at its end. */
  async read(oid: Oid, offset: number, length: number): Promise<Uint8Array> {
    const size = await this.size(oid);
    if (offset >= size || length <= 0) return new Uint8Array(0);
    const end = Math.min(size, offset + length);
    if (size < this.#spill) {
      const all = await this.whole(oid);
      return all.subarray(offset, end);
    }
    const f = await this.#spilled(oid);
    const buf = new Uint8Array(end - offset);
    f.seekSync(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < buf.length) {
      const r = f.readSync(buf.subarray(got));
      if (r === null || r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  }

  /** The whole blob in memory (for copy-up of small files, symlink targets). */
  async whole(oid: Oid): Promise<Uint8Array> {
    const hit = this.#mem.get(oid);
    if (hit) {
      this.#mem.delete(oid);
      this.#mem.set(oid, hit);
      return hit;
    }
    const data = await this.#reader.readBlob(oid);
    if (!this.#sizes.has(oid)) this.#sizes.set(oid, data.length);
    if (data.length <= this.#memLimit / 8) {
      this.#mem.set(oid, data);
      this.#memBytes += data.length;
      while (this.#memBytes > this.#memLimit) {
        const [k, v] = this.#mem.entries().next().value as [Oid, Uint8Array];
        this.#mem.delete(k);
        this.#memBytes -= v.length;
      }
    }
    return data;
  }

  /**
   * A file holding the blob's bytes when the blob is large enough to be
   * spilled (copy-up can then copy or reflink it); null for small blobs.
   */
  async filePath(oid: Oid): Promise<string | null> {
    if ((await this.size(oid)) < this.#spill) return null;
    await this.#spilled(oid);
    return `${this.cacheDir}/${oid}`;
  }

  async #spilled(oid: Oid): Promise<Deno.FsFile> {
    const open = this.#files.get(oid);
    if (open) return open;
    const path = `${this.cacheDir}/${oid}`;
    let f: Deno.FsFile | null = null;
    try {
      f = Deno.openSync(path, { read: true });
    } catch {
      let p = this.#inflight.get(oid);
      if (!p) {
        p = (async () => {
          await Deno.mkdir(this.cacheDir, { recursive: true });
          const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
          try {
            if (this.#spillTo) {
              await this.#spillTo(oid, tmp);
              if ((await Deno.stat(tmp)).size !== (await this.size(oid))) {
                throw new Error(`blob ${oid} came out truncated`);
              }
            } else {
              await Deno.writeFile(tmp, await this.#reader.readBlob(oid));
            }
            await Deno.rename(tmp, path);
          } catch (e) {
            await Deno.remove(tmp).catch(() => {});
            throw e;
          }
        })();
        this.#inflight.set(oid, p);
        p.finally(() => this.#inflight.delete(oid)).catch(() => {});
      }
      await p;
      const again = this.#files.get(oid);
      if (again) return again;
      f = Deno.openSync(path, { read: true });
    }
    if (this.#files.size >= 64) {
      const [k, v] = this.#files.entries().next().value as [Oid, Deno.FsFile];
      this.#files.delete(k);
      v.close();
    }
    this.#files.set(oid, f);
    return f;
  }

  close(): void {
    for (const f of this.#files.values()) f.close();
    this.#files.clear();
    this.#mem.clear();
    this.#memBytes = 0;
  }
}
