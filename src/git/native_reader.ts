/**
 * `NativeObjectReader`: vibe's own reader of a repository's real `.git`
 * (packs v2, loose objects, alternates, loose and packed refs), pure
 * TypeScript over `node:zlib` — the hot read path. No isomorphic-git and no
 * git subprocess on this path.
 *
 * Invariants:
 * - Objects are immutable, so parsed trees and blob sizes are cached by oid
 *   forever (bounded LRU / FIFO); refs are never cached (packed-refs is
 *   re-read when it changes on disk).
 * - Returned `Uint8Array`s belong to the caller. Returned `TreeEntry[]`
 *   arrays are fresh, but the entry objects inside are shared with the tree
 *   cache: callers must not mutate them (not frozen: freezing costs ~5x on
 *   the tree walk).
 * - All work runs synchronously inside each call (positioned reads, sync
 *   inflate), so concurrent calls cannot interleave on shared buffers; the
 *   `*Sync` methods are the same operations without the Promise.
 */
import { VibeError } from "../errors.ts";
import type { Oid } from "../types.ts";
import type {
  Commit,
  HeadState,
  ObjectReader,
  ObjectType,
  RawObject,
  RepoPaths,
  TreeEntry,
} from "./object_store.ts";
import { ObjectDatabase, type ObjectDatabaseOptions } from "./object_db.ts";
import { parseCommit, parseTag, parseTree, type Tag } from "./parse.ts";
import { RefReader } from "./refs_read.ts";
import { assertSupportedRepoFormat, findRepoSync } from "./repo_paths.ts";
import { WeightedLru } from "./lru.ts";
import { revParse, type RevSource } from "./rev_parse.ts";

export interface NativeObjectReaderOptions extends ObjectDatabaseOptions {
  /** Bound of the parsed-tree cache, in tree entries (≈ 150 bytes each); default 300,000. */
  treeCacheEntries?: number;
  /** Bound of the blob-size cache, in oids; default 1,000,000. */
  sizeCacheEntries?: number;
}

/** Runs `f` now and turns its result or exception into a settled Promise. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

function notA(expected: ObjectType, oid: Oid, actual: ObjectType): VibeError {
  return new VibeError("EINVAL", `Cannot read ${expected} "${oid}": it is a ${actual}`);
}

export class NativeObjectReader implements ObjectReader {
  readonly paths: RepoPaths;
  private readonly db: ObjectDatabase;
  private readonly refs: RefReader;
  private readonly trees: WeightedLru<Oid, readonly TreeEntry[]>;
  private readonly sizes = new Map<Oid, number>();
  private readonly sizeCap: number;
  private readonly revSource: RevSource;

  /** Opens the repository at `paths`. Throws USAGE for SHA-256 / reftable repositories. */
  constructor(paths: RepoPaths, opts: NativeObjectReaderOptions = {}) {
    assertSupportedRepoFormat(paths.commonDir);
    this.paths = paths;
    this.db = new ObjectDatabase(`${paths.commonDir}/objects`, opts);
    this.refs = new RefReader(paths);
    const treeCap = opts.treeCacheEntries ?? 300_000;
    this.trees = new WeightedLru(treeCap, Math.max(1, Math.floor(treeCap / 4)));
    this.sizeCap = opts.sizeCacheEntries ?? 1_000_000;
    this.revSource = {
      resolveRef: (name) => this.refs.resolve(name),
      hasObject: (oid) => this.db.has(oid),
      objectType: (oid) => this.db.header(oid).type,
      readCommit: (oid) => this.readCommitSync(oid),
      readTag: (oid) => this.readTagSync(oid),
      findPrefix: (prefix, limit) => this.db.findPrefix(prefix, limit),
    };
  }

  /** Finds the repository containing `dir` (see `findRepo`) and opens it. */
  static open(dir: string, opts: NativeObjectReaderOptions = {}): Promise<NativeObjectReader> {
    return settle(() => new NativeObjectReader(findRepoSync(dir), opts));
  }

  // --- synchronous core -------------------------------------------------

  readObjectSync(oid: Oid): RawObject {
    const o = this.db.read(oid);
    if (o.type === "blob") this.rememberSize(oid, o.data.length);
    return o;
  }

  readBlobSync(oid: Oid): Uint8Array {
    const o = this.db.read(oid);
    if (o.type !== "blob") throw notA("blob", oid, o.type);
    this.rememberSize(oid, o.data.length);
    return o.data;
  }

  blobSizeSync(oid: Oid): number {
    const cached = this.sizes.get(oid);
    if (cached !== undefined) return cached;
    const h = this.db.header(oid);
    if (h.type !== "blob") throw notA("blob", oid, h.type);
    this.rememberSize(oid, h.size);
    return h.size;
  }

  readTreeSync(oid: Oid): TreeEntry[] {
    const cached = this.trees.get(oid);
    if (cached !== undefined) return cached.slice();
    const o = this.db.readTransient(oid);
    if (o.type !== "tree") throw notA("tree", oid, o.type);
    const entries = parseTree(o.data, oid);
    this.trees.set(oid, entries, entries.length + 1);
    return entries.slice();
  }

  readCommitSync(oid: Oid): Commit {
    const o = this.db.readTransient(oid);
    if (o.type !== "commit") throw notA("commit", oid, o.type);
    return parseCommit(o.data, oid);
  }

  /** An annotated tag object. */
  readTagSync(oid: Oid): Tag {
    const o = this.db.readTransient(oid);
    if (o.type !== "tag") throw notA("tag", oid, o.type);
    return parseTag(o.data, oid);
  }

  hasObjectSync(oid: Oid): boolean {
    return this.db.has(oid);
  }

  /** Type and size of any object from its header (no full inflate). */
  objectHeaderSync(oid: Oid): { type: ObjectType; size: number } {
    return this.db.header(oid);
  }

  revParseSync(rev: string): Oid {
    return revParse(this.revSource, rev);
  }

  private rememberSize(oid: Oid, size: number): void {
    if (this.sizes.has(oid)) return;
    if (this.sizes.size >= this.sizeCap) {
      // FIFO eviction: drop the oldest tenth in one go.
      let drop = Math.max(1, Math.floor(this.sizeCap / 10));
      for (const k of this.sizes.keys()) {
        this.sizes.delete(k);
        if (--drop === 0) break;
      }
    }
    this.sizes.set(oid, size);
  }

  // --- ObjectReader ---------------------------------------------------------

  readObject(oid: Oid): Promise<RawObject> {
    return settle(() => this.readObjectSync(oid));
  }

  readBlob(oid: Oid): Promise<Uint8Array> {
    return settle(() => this.readBlobSync(oid));
  }

  blobSize(oid: Oid): Promise<number> {
    return settle(() => this.blobSizeSync(oid));
  }

  readTree(oid: Oid): Promise<TreeEntry[]> {
    return settle(() => this.readTreeSync(oid));
  }

  readCommit(oid: Oid): Promise<Commit> {
    return settle(() => this.readCommitSync(oid));
  }

  readTag(oid: Oid): Promise<Tag> {
    return settle(() => this.readTagSync(oid));
  }

  hasObject(oid: Oid): Promise<boolean> {
    return settle(() => this.db.has(oid));
  }

  resolveRef(name: string): Promise<Oid | null> {
    return settle(() => this.refs.resolve(name));
  }

  readHead(): Promise<HeadState> {
    return settle(() => this.refs.readHead());
  }

  revParse(rev: string): Promise<Oid> {
    return settle(() => this.revParseSync(rev));
  }

  refresh(): void {
    this.db.refresh();
    this.refs.refresh();
  }

  close(): void {
    this.db.close();
  }
}
