/**
 * Content of clean files, by blob oid (immutable, so shared by every vibe).
 *
 * Small blobs stay in a byte-bounded in-memory LRU. Blobs of at least
 * `spillBytes` are inflated once into `<cacheDir>/<oid>` and served with
 * positioned reads, so reading a 256 MiB file in 128 KiB chunks inflates it
 * once, not 2,048 times. Cache files are written to a temp name and renamed,
 * so a reader never sees a partial file; they are safe to delete at any time.
 */
import { VibeError } from "../errors.ts";
import type { ObjectReader } from "../git/object_store.ts";
import type { Oid } from "../types.ts";
import { OpenFiles, readAt } from "../io/files.ts";

export interface BlobCacheOptions {
  memoryBytes?: number;
  spillBytes?: number;
  /**
   * Writes a large blob's bytes to `path` without blocking the event loop
   * (e.g. streamed from `git cat-file`), calling `progress` with the number of
   * bytes that have reached the file so far. Without it the reader inflates
   * the blob in memory on this thread.
   */
  spillTo?: (oid: Oid, path: string, progress: (bytes: number) => void) => Promise<void>;
}

/** A large blob being written into the cache: reads of its prefix need not wait for the rest. */
interface Spill {
  tmp: string;
  /** Bytes already in `tmp`. */
  written: number;
  done: boolean;
  error: unknown;
  waiters: (() => void)[];
  promise: Promise<void>;
  reader: Deno.FsFile | null;
}

export class BlobCache {
  readonly cacheDir: string;
  #reader: ObjectReader;
  #mem = new Map<Oid, Uint8Array>();
  #memBytes = 0;
  #memLimit: number;
  #spill: number;
  #sizes = new Map<Oid, number>();
  #files = new OpenFiles<Oid>(64);
  #spills = new Map<Oid, Spill>();
  #spillTo: BlobCacheOptions["spillTo"];

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

  /** Bytes [offset, offset+length) of the blob, clipped at its end (big blobs into `into`). */
  async read(oid: Oid, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const size = await this.size(oid);
    if (offset >= size || length <= 0) return new Uint8Array(0);
    const end = Math.min(size, offset + length);
    if (size < this.#spill) {
      const all = await this.whole(oid);
      return all.subarray(offset, end);
    }
    let f = this.#openSpilled(oid);
    if (!f) {
      // The first reads of a big blob are answered from the part already
      // streamed into the cache, so a sequential reader starts at once.
      const sp = this.#startSpill(oid);
      while (!sp.done && sp.written < end) await new Promise<void>((r) => sp.waiters.push(r));
      if (sp.error) throw sp.error;
      if (!sp.done) {
        sp.reader ??= Deno.openSync(sp.tmp, { read: true });
        return readAt(sp.reader, offset, end - offset, into);
      }
      f = await this.#spilled(oid);
    }
    return readAt(f, offset, end - offset, into);
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

  /**
   * The finished cache file of a big blob if it is already there (never
   * starts writing it), else null: a file whose bytes never change, for
   * FUSE passthrough.
   */
  readyPath(oid: Oid): string | null {
    const size = this.#sizes.get(oid);
    if (size === undefined || size < this.#spill) return null;
    return this.#openSpilled(oid) ? `${this.cacheDir}/${oid}` : null;
  }

  /** The finished cache file of a big blob, opened; null when it is not there yet. */
  #openSpilled(oid: Oid): Deno.FsFile | null {
    try {
      return this.#files.get(oid, () => Deno.openSync(`${this.cacheDir}/${oid}`, { read: true }));
    } catch {
      return null;
    }
  }

  /** The finished cache file of a big blob, writing it first if needed. */
  async #spilled(oid: Oid): Promise<Deno.FsFile> {
    const f = this.#openSpilled(oid);
    if (f) return f;
    const sp = this.#startSpill(oid);
    await sp.promise;
    if (sp.error) throw sp.error;
    const again = this.#openSpilled(oid);
    if (!again) throw new VibeError("EIO", `Blob ${oid} vanished from the cache`);
    return again;
  }

  /**
   * Starts (or joins) writing a big blob into `<cacheDir>/<oid>`: to a temp
   * name, renamed when complete and checked, so the final name always holds
   * the whole blob.
   */
  #startSpill(oid: Oid): Spill {
    const running = this.#spills.get(oid);
    if (running) return running;
    const path = `${this.cacheDir}/${oid}`;
    const sp: Spill = {
      tmp: `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`,
      written: 0,
      done: false,
      error: null,
      waiters: [],
      promise: Promise.resolve(),
      reader: null,
    };
    const wake = () => {
      const w = sp.waiters;
      sp.waiters = [];
      for (const r of w) r();
    };
    sp.promise = (async () => {
      await Deno.mkdir(this.cacheDir, { recursive: true });
      const size = await this.size(oid);
      try {
        if (this.#spillTo) {
          await this.#spillTo(oid, sp.tmp, (n) => {
            sp.written = n;
            wake();
          });
          if ((await Deno.stat(sp.tmp)).size !== size) {
            throw new VibeError("EIO", `Blob ${oid} came out truncated from the object store`);
          }
        } else {
          await Deno.writeFile(sp.tmp, await this.#reader.readBlob(oid));
        }
        await Deno.rename(sp.tmp, path);
      } catch (e) {
        await Deno.remove(sp.tmp).catch(() => {});
        throw e;
      }
    })().catch((e) => {
      sp.error = e;
    }).finally(() => {
      sp.done = true;
      sp.reader?.close();
      sp.reader = null;
      this.#spills.delete(oid);
      wake();
    });
    this.#spills.set(oid, sp);
    return sp;
  }

  close(): void {
    this.#files.close();
    this.#mem.clear();
    this.#memBytes = 0;
  }
}
