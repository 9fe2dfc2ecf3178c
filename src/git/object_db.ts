/**
 * The object database of one repository: its packs, its loose objects and
 * those of its alternates (`objects/info/alternates`, recursive), with delta
 * chains resolved across all of them and a byte-bounded LRU of delta bases.
 *
 * Invariants:
 * - Everything is synchronous: one caller at a time, so shared scratch
 *   buffers are safe. The async `ObjectReader` wraps this.
 * - Arrays returned by `read` are never shared with the cache (cache hits are
 *   copied), so callers own them; `readTransient` trades that for speed.
 * - Lookup order is packs (most recently hit first), then loose; on a miss the
 *   pack directories are rescanned (new packs from `git gc`/`repack`/fetch),
 *   packs and loose objects are tried again, and only then is it ENOENT.
 */
import { VibeError } from "../errors.ts";
import type { ObjectType, RawObject } from "./object_store.ts";
import { applyDelta, DeltaError, deltaResultSize } from "./git_delta.ts";
import { WeightedLru } from "./lru.ts";
import { findLoosePrefix, looseExists, readLoose, readLooseHeader } from "./loose.ts";
import { hexToWords, isFullOid } from "./oid_hex.ts";
import {
  newPackEntry,
  OBJ_BLOB,
  OBJ_COMMIT,
  OBJ_OFS_DELTA,
  OBJ_REF_DELTA,
  OBJ_TAG,
  OBJ_TREE,
  type PackEntry,
  PackFile,
  type Scratch,
} from "./pack_reader.ts";

/** Object type names by pack kind number. */
const TYPE_NAMES: (ObjectType | undefined)[] = [
  undefined,
  "commit",
  "tree",
  "blob",
  "tag",
];
const KIND_BY_TYPE: Record<ObjectType, number> = {
  commit: OBJ_COMMIT,
  tree: OBJ_TREE,
  blob: OBJ_BLOB,
  tag: OBJ_TAG,
};

/** Longest delta chain followed before declaring the pack corrupt (git writes ≤ 4095). */
const MAX_DELTA_CHAIN = 10000;
/** git's limit on nested alternates. */
const MAX_ALTERNATE_DEPTH = 5;
/** `readPacked` uses: the caller owns the result, or parses it at once. */
const OWNED = 0;
const TRANSIENT = 1;
/** Pack offsets stay below 2^40 (1 TiB), so slot * 2^40 + offset is a safe integer. */
const KEY_SCALE = 2 ** 40;
/** Slots stay below 2^13 so keys stay below 2^53; past that, slots are renumbered. */
const MAX_SLOT = 2 ** 13 - 1;

export interface ObjectDatabaseOptions {
  /** Bound of the delta-base cache in bytes; default 32 MiB. */
  baseCacheBytes?: number;
}

interface CachedObject {
  kind: number;
  data: Uint8Array;
}

/** One objects directory: the repository's own or an alternate. */
interface ObjectSource {
  objectsDir: string;
  packs: Map<string, PackFile>;
}

export class ObjectDatabase {
  private readonly sources: ObjectSource[] = [];
  /** All packs of all sources, in lookup order. */
  private packs: PackFile[] = [];
  private lastPack: PackFile | null = null;
  private lastSlot = 0;
  private needScan = true;
  private closed = false;
  /** Damaged packs by idx path, reported when an object is not found elsewhere. */
  private readonly broken = new Map<string, VibeError>();
  private readonly cache: WeightedLru<number | string, CachedObject>;
  private readonly words = new Uint32Array(5);
  private readonly baseWords = new Uint32Array(5);
  private readonly entry: PackEntry = newPackEntry();
  private readonly deltaHead = new Uint8Array(24);
  /** Output buffer of `readTransient`. */
  private readonly scratch: Scratch = { buf: new Uint8Array(64 * 1024) };
  /** Offset found by the last successful `locate`. */
  private locOffset = 0;

  constructor(readonly objectsDir: string, opts: ObjectDatabaseOptions = {}) {
    this.cache = new WeightedLru(opts.baseCacheBytes ?? 32 * 1024 * 1024);
    this.addSource(objectsDir, 0, new Set());
  }

  /** Object directories searched, the repository's first, then alternates. */
  get objectDirs(): string[] {
    return this.sources.map((s) => s.objectsDir);
  }

  private addSource(dir: string, depth: number, seen: Set<string>): void {
    let real: string;
    try {
      real = Deno.realPathSync(dir);
    } catch {
      if (depth === 0) real = dir;
      else return; // A dangling alternate is skipped, as git does (with a warning).
    }
    if (seen.has(real)) return;
    seen.add(real);
    this.sources.push({ objectsDir: real, packs: new Map() });
    if (depth >= MAX_ALTERNATE_DEPTH) return;
    let text: string;
    try {
      text = Deno.readTextFileSync(`${real}/info/alternates`);
    } catch {
      return;
    }
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const path = line.startsWith("/") ? line : `${real}/${line}`;
      this.addSource(path, depth + 1, seen);
    }
  }

  /**
   * Re-reads every `objects/pack` directory: opens new packs, closes packs
   * whose index is gone. Returns true when the set of packs changed.
   */
  private scanPacks(): boolean {
    this.needScan = false;
    // Damaged packs are retried on every scan (they may have been repaired or removed).
    this.broken.clear();
    let changed = false;
    for (const src of this.sources) {
      const present = new Set<string>();
      try {
        for (const e of Deno.readDirSync(`${src.objectsDir}/pack`)) {
          if (e.name.startsWith("pack-") && e.name.endsWith(".idx")) present.add(e.name);
        }
      } catch {
        // No pack directory: no packs.
      }
      for (const [name, pack] of src.packs) {
        if (!present.has(name)) {
          pack.close();
          src.packs.delete(name);
          changed = true;
        }
      }
      for (const name of present) {
        if (src.packs.has(name)) continue;
        const path = `${src.objectsDir}/pack/${name}`;
        try {
          const pack = PackFile.open(path);
          if (pack !== null) {
            src.packs.set(name, pack);
            this.assignSlot(pack);
            changed = true;
          }
        } catch (e) {
          if (!(e instanceof VibeError)) throw e;
          this.broken.set(path, e);
        }
      }
    }
    if (changed) {
      this.packs = this.sources.flatMap((s) => [...s.packs.values()]);
      if (this.lastPack !== null && !this.packs.includes(this.lastPack)) this.lastPack = null;
    }
    return changed;
  }

  /**
   * Gives the newly opened `pack` (already in its source's map) a cache slot
   * no other open pack uses; on overflow all open packs are renumbered and
   * the cache is dropped.
   */
  private assignSlot(pack: PackFile): void {
    if (this.lastSlot < MAX_SLOT) {
      pack.slot = ++this.lastSlot;
      return;
    }
    this.cache.clear();
    this.lastSlot = 0;
    for (const src of this.sources) {
      for (const p of src.packs.values()) p.slot = ++this.lastSlot;
    }
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new VibeError("EBADF", "Cannot read git objects: the reader is closed");
    }
    if (this.needScan) this.scanPacks();
  }

  /** Finds the pack holding the oid in `w`; sets `locOffset`. Null when in no pack. */
  private locate(w: Uint32Array): PackFile | null {
    const last = this.lastPack;
    if (last !== null) {
      const pos = last.idx.findWords(w);
      if (pos >= 0) {
        this.locOffset = last.idx.offsetAt(pos);
        return last;
      }
    }
    for (const pack of this.packs) {
      if (pack === last) continue;
      const pos = pack.idx.findWords(w);
      if (pos >= 0) {
        this.lastPack = pack;
        this.locOffset = pack.idx.offsetAt(pos);
        return pack;
      }
    }
    return null;
  }

  private checkOid(oid: string): void {
    if (!hexToWords(oid, this.words) || !isFullOid(oid)) {
      throw new VibeError(
        "EINVAL",
        `Cannot read object "${oid}": not a full 40-digit lowercase hex object id`,
      );
    }
  }

  /**
   * The object `oid`, owned by the caller. Throws ENOENT when absent
   * everywhere, CORRUPT when unreadable.
   */
  read(oid: string): RawObject {
    return this.readAs(oid, OWNED);
  }

  /**
   * The object `oid` for immediate parsing: its data may live in a scratch
   * buffer or the cache, is valid only until the next call on this database
   * and must not be modified. Saves an allocation per tree on walks.
   */
  readTransient(oid: string): RawObject {
    return this.readAs(oid, TRANSIENT);
  }

  private readAs(oid: string, use: number): RawObject {
    this.ensureOpen();
    this.checkOid(oid);
    let pack = this.locate(this.words);
    if (pack !== null) return this.asRaw(this.readPacked(pack, this.locOffset, use));
    let loose = this.readLooseAny(oid);
    if (loose !== null) return loose;
    if (this.scanPacks()) {
      pack = this.locate(this.words);
      if (pack !== null) return this.asRaw(this.readPacked(pack, this.locOffset, use));
    }
    loose = this.readLooseAny(oid);
    if (loose !== null) return loose;
    throw this.missing(oid);
  }

  /** Type and size of `oid` without inflating whole objects. Throws like `read`. */
  header(oid: string): { type: ObjectType; size: number } {
    this.ensureOpen();
    this.checkOid(oid);
    let pack = this.locate(this.words);
    if (pack !== null) return this.packedHeader(pack, this.locOffset);
    let h = this.looseHeaderAny(oid);
    if (h !== null) return h;
    if (this.scanPacks()) {
      pack = this.locate(this.words);
      if (pack !== null) return this.packedHeader(pack, this.locOffset);
    }
    h = this.looseHeaderAny(oid);
    if (h !== null) return h;
    throw this.missing(oid);
  }

  /** True when `oid` exists in a pack or loose (loose files are not verified). */
  has(oid: string): boolean {
    this.ensureOpen();
    if (!hexToWords(oid, this.words) || !isFullOid(oid)) return false;
    if (this.locate(this.words) !== null || this.looseExistsAny(oid)) return true;
    this.scanPacks();
    if (this.locate(this.words) !== null || this.looseExistsAny(oid)) return true;
    if (this.broken.size > 0) throw this.broken.values().next().value!;
    return false;
  }

  /**
   * Distinct oids starting with `prefix` (lowercase hex, ≥ 4 digits) in any
   * pack or loose directory, at most `limit` of them.
   */
  findPrefix(prefix: string, limit: number): string[] {
    this.ensureOpen();
    this.scanPacks();
    const out = new Set<string>();
    for (const pack of this.packs) pack.idx.findPrefix(prefix, out, limit);
    for (const src of this.sources) findLoosePrefix(src.objectsDir, prefix, out, limit);
    return [...out].sort();
  }

  /** Forces a pack rescan at the next access. Cached objects stay (they are immutable). */
  refresh(): void {
    this.needScan = true;
  }

  /** Closes every pack file handle. Further reads throw EBADF. */
  close(): void {
    this.closed = true;
    for (const src of this.sources) {
      for (const pack of src.packs.values()) pack.close();
      src.packs.clear();
    }
    this.packs = [];
    this.lastPack = null;
    this.cache.clear();
  }

  /** Cache statistics for benchmarks. */
  cacheStats(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.weight };
  }

  private missing(oid: string): VibeError {
    const broken = this.broken.values().next().value;
    if (broken !== undefined) return broken;
    return new VibeError("ENOENT", `Cannot read object "${oid}": not found (run "git fsck")`);
  }

  private asRaw(o: CachedObject): RawObject {
    return { type: TYPE_NAMES[o.kind]!, data: o.data };
  }

  private readLooseAny(oid: string): RawObject | null {
    for (const src of this.sources) {
      const r = readLoose(src.objectsDir, oid);
      if (r !== null) return r;
    }
    return null;
  }

  private looseHeaderAny(oid: string): { type: ObjectType; size: number } | null {
    for (const src of this.sources) {
      const h = readLooseHeader(src.objectsDir, oid);
      if (h !== null) return { type: h.type, size: h.size };
    }
    return null;
  }

  private looseExistsAny(oid: string): boolean {
    for (const src of this.sources) if (looseExists(src.objectsDir, oid)) return true;
    return false;
  }

  /**
   * The object at `offset` of `pack`, following its delta chain. For OWNED
   * use a cache hit is copied (the caller owns the result); for TRANSIENT use
   * the data may be the cache's or the scratch buffer's and must stay unmodified.
   */
  private readPacked(pack: PackFile, offset: number, use: number): CachedObject {
    const key = pack.slot * KEY_SCALE + offset;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      return use === OWNED ? { kind: hit.kind, data: hit.data.slice() } : hit;
    }
    const e = this.entry;
    const deltas: Uint8Array[] = [];
    const keys: number[] = [];
    const where: [PackFile, number][] = [];
    let p = pack;
    let off = offset;
    let base: CachedObject | null = null;
    for (let depth = 0; base === null; depth++) {
      if (depth > MAX_DELTA_CHAIN) throw pack.corrupt(offset, "delta chain is too long or loops");
      const k = p.slot * KEY_SCALE + off;
      if (depth > 0) {
        const b = this.cache.get(k);
        if (b !== undefined) {
          base = b;
          break;
        }
      }
      const data = p.inflateEntry(off, e, depth === 0 && use === TRANSIENT ? this.scratch : null);
      if (e.kind !== OBJ_OFS_DELTA && e.kind !== OBJ_REF_DELTA) {
        base = { kind: e.kind, data };
        if (depth > 0) this.cache.set(k, base, data.length);
        break;
      }
      deltas.push(data);
      keys.push(k);
      where.push([p, off]);
      if (e.kind === OBJ_OFS_DELTA) {
        off = e.baseOffset;
        continue;
      }
      const baseOid = e.baseOid;
      hexToWords(baseOid, this.baseWords);
      const bp = this.locate(this.baseWords);
      if (bp !== null) {
        p = bp;
        off = this.locOffset;
        continue;
      }
      const loose = this.readLooseAny(baseOid);
      if (loose === null) throw p.corrupt(off, `delta base ${baseOid} is missing`);
      base = { kind: KIND_BY_TYPE[loose.type], data: loose.data };
    }
    let cur: CachedObject = base;
    for (let i = deltas.length - 1; i >= 0; i--) {
      let data: Uint8Array;
      try {
        data = applyDelta(cur.data, deltas[i]!);
      } catch (err) {
        if (err instanceof DeltaError) {
          const [dp, doff] = where[i]!;
          throw dp.corrupt(doff, err.message);
        }
        throw err;
      }
      cur = { kind: cur.kind, data };
      // Intermediate results are bases of the next delta: likely needed again.
      if (i > 0) this.cache.set(keys[i]!, cur, data.length);
    }
    return cur;
  }

  /** Type and size of the entry at `offset`, inflating at most a delta's first bytes. */
  private packedHeader(pack: PackFile, offset: number): { type: ObjectType; size: number } {
    const hit = this.cache.get(pack.slot * KEY_SCALE + offset);
    if (hit !== undefined) return { type: TYPE_NAMES[hit.kind]!, size: hit.data.length };
    const e = this.entry;
    pack.readEntry(offset, e, 64);
    if (e.kind !== OBJ_OFS_DELTA && e.kind !== OBJ_REF_DELTA) {
      return { type: TYPE_NAMES[e.kind]!, size: e.size };
    }
    const n = pack.inflateDeltaHead(offset, e, this.deltaHead);
    let size: number;
    try {
      size = deltaResultSize(this.deltaHead.subarray(0, n));
    } catch (err) {
      if (err instanceof DeltaError) throw pack.corrupt(offset, err.message);
      throw err;
    }
    // The type is the chain's base type: follow headers only.
    let p = pack;
    let off = offset;
    for (let depth = 0;; depth++) {
      if (depth > MAX_DELTA_CHAIN) throw pack.corrupt(offset, "delta chain is too long or loops");
      const b = depth > 0 ? this.cache.get(p.slot * KEY_SCALE + off) : undefined;
      if (b !== undefined) return { type: TYPE_NAMES[b.kind]!, size };
      p.readEntry(off, e, 64);
      if (e.kind === OBJ_OFS_DELTA) {
        off = e.baseOffset;
      } else if (e.kind === OBJ_REF_DELTA) {
        const baseOid = e.baseOid;
        hexToWords(baseOid, this.baseWords);
        const bp = this.locate(this.baseWords);
        if (bp === null) {
          const h = this.looseHeaderAny(baseOid);
          if (h === null) throw p.corrupt(off, `delta base ${baseOid} is missing`);
          return { type: h.type, size };
        }
        p = bp;
        off = this.locOffset;
      } else {
        return { type: TYPE_NAMES[e.kind]!, size };
      }
    }
  }
}
