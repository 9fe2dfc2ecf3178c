/**
 * The workspace Vfs of one vibe: the base commit's git tree overlaid with the
 * vibe's copy-on-write delta.
 *
 * Materialization rules (EdenFS's, adapted):
 * - A file is clean (bytes = its git blob `oid`) or materialized (bytes in
 *   the delta store). Copy-up writes the bytes first, then flips the row.
 * - A directory is unloaded (entries = its git tree) or loaded (its dirents
 *   rows are complete). Loading allocates inode numbers for every entry in one
 *   transaction; those numbers are stable for the life of the vibe.
 * - Every change marks the changed inode's ancestors dirty, so walks for
 *   status, diff and promote visit only dirty directories: O(changes).
 *
 * Concurrency: SQLite calls are synchronous, so the code between two `await`s
 * runs atomically on the event loop; every mutation re-reads what it needs
 * after its last await. One process owns a vibe's Vfs at a time (the daemon
 * while mounted, the CLI otherwise).
 */
import { VibeError } from "../errors.ts";
import type { TreeEntry } from "../git/object_store.ts";
import type { DeltaStore } from "../delta/delta_store.ts";
import type {
  InodeRecord,
  JournalOp,
  MetaStore,
  TreeNodeRecord,
  VibeLayerRecord,
  VibeRecord,
} from "../meta/meta_store.ts";
import { childOrigin, type HostStat, type LayerHost } from "../layers/host.ts";
import { hasNestedLayers, type Injection, injectionsAt } from "../layers/inject.ts";
import {
  GIT_MODE,
  type Ino,
  nowTimespec,
  type Oid,
  type Quota,
  type QuotaUsage,
  type Timespec,
} from "../types.ts";
import { fsSpace } from "../../ffi/statfs.ts";
import type { BlobCache } from "./blob_cache.ts";
import { validateName } from "./names.ts";
import {
  type Attr,
  type Caller,
  type DirEntry,
  type FileKind,
  type RenameFlags,
  ROOT_INO,
  type SetAttr,
  type StatFs,
  type Vfs,
  XATTR_NAME_MAX,
  XATTR_SIZE_MAX,
  type XattrFlags,
} from "./vfs.ts";

/** Where decoded git trees come from (the metadata's tree cache, then the object store). */
export type TreeSource = (oid: Oid) => Promise<TreeEntry[]>;

export interface WorkspaceDeps {
  vibe: VibeRecord;
  meta: MetaStore;
  delta: DeltaStore;
  blobs: BlobCache;
  trees: TreeSource;
  /** Directory whose filesystem backs the delta (for statfs). */
  spaceDir: string;
  /** The vibe's untracked layers (as resolved at spawn) and where their bytes live. */
  layers?: VibeLayerRecord[];
  host?: LayerHost;
}

const MAX_SYMLINK = 4096;
const WRITE_JOURNAL_INTERVAL_MS = 1000;
const DIR_SIZE = 4096;
const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

function kindOfGitMode(mode: number): FileKind {
  if (mode === GIT_MODE.TREE || mode === GIT_MODE.GITLINK) return "dir";
  if (mode === GIT_MODE.SYMLINK) return "symlink";
  return "file";
}

function permsOfGitMode(mode: number): number {
  if (mode === GIT_MODE.EXEC || mode === GIT_MODE.TREE || mode === GIT_MODE.GITLINK) return 0o755;
  if (mode === GIT_MODE.SYMLINK) return 0o777;
  return 0o644;
}

function toTimespec(t: Timespec | "now" | undefined, now: Timespec): Timespec | undefined {
  return t === "now" ? now : t;
}

function checkXattrName(name: string): void {
  if (name.length === 0) {
    throw new VibeError("EINVAL", "An extended attribute name cannot be empty");
  }
  if (encoder.encode(name).length > XATTR_NAME_MAX) {
    throw new VibeError("ERANGE", `Extended attribute name is longer than ${XATTR_NAME_MAX} bytes`);
  }
}

/** Runs synchronous work as a promise, so errors reject instead of throwing at the call. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Creates the root inode row of a new vibe (spawn is O(1): only this row). */
export function rootInode(vibe: VibeRecord): InodeRecord {
  const t: Timespec = {
    sec: Math.floor(vibe.createdMs / 1000),
    nsec: (vibe.createdMs % 1000) * 1e6,
  };
  return {
    ino: ROOT_INO,
    kind: "dir",
    mode: 0o755,
    uid: vibe.uid,
    gid: vibe.gid,
    nlink: 2,
    size: null,
    atime: t,
    mtime: t,
    ctime: t,
    oid: vibe.baseTree,
    gitMode: GIT_MODE.TREE,
    materialized: false,
    loaded: false,
    dirty: false,
    volatile: false,
    origin: null,
    readOnly: false,
    target: null,
    parent: 0,
    nextCookie: 1,
  };
}

/** Inode numbers reserved per metadata commit when files are created. */
const INO_BLOCK = 64;

export class WorkspaceVfs implements Vfs {
  readonly vibe: VibeRecord;
  readonly meta: MetaStore;
  readonly delta: DeltaStore;
  readonly blobs: BlobCache;
  #trees: TreeSource;
  #spaceDir: string;
  #nodes = new Map<Ino, InodeRecord>();
  #lookups = new Map<Ino, number>();
  #loading = new Map<Ino, Promise<void>>();
  #copyUps = new Map<Ino, Promise<void>>();
  #lastWriteJournal = new Map<Ino, number>();
  #createdAt: Timespec;
  #quota: Quota = { bytes: null, files: null };
  #inoPool = { next: 0, end: 0 };
  #usage: QuotaUsage | null = null;
  #layers: VibeLayerRecord[];
  #nestedLayers: boolean;
  #host: LayerHost | null;

  constructor(deps: WorkspaceDeps) {
    this.vibe = deps.vibe;
    this.meta = deps.meta;
    this.delta = deps.delta;
    this.blobs = deps.blobs;
    this.#trees = deps.trees;
    this.#spaceDir = deps.spaceDir;
    this.#layers = deps.layers ?? [];
    this.#nestedLayers = hasNestedLayers(this.#layers);
    this.#host = deps.host ?? null;
    this.#createdAt = {
      sec: Math.floor(deps.vibe.createdMs / 1000),
      nsec: (deps.vibe.createdMs % 1000) * 1e6,
    };
    this.#reclaimOrphans();
  }

  // ---------------------------------------------------------------- nodes

  /** The stored inode, or ESTALE when the number is unknown (removed, or never handed out). */
  node(ino: Ino): InodeRecord {
    let n = this.#nodes.get(ino);
    if (n) return n;
    n = this.meta.getInode(this.vibe.id, ino) ?? undefined;
    if (!n) throw new VibeError("ESTALE", `Inode ${ino} of vibe "${this.vibe.id}" does not exist`);
    this.#nodes.set(ino, n);
    return n;
  }

  #save(n: InodeRecord): void {
    this.meta.putInode(this.vibe.id, n);
    this.#nodes.set(n.ino, n);
  }

  #dir(ino: Ino): InodeRecord {
    const n = this.node(ino);
    if (n.kind !== "dir") throw new VibeError("ENOTDIR", `Inode ${ino} is not a directory`);
    return n;
  }

  /** Loads a directory's entries from its git tree (once; concurrent callers share the load). */
  async #ensureLoaded(dir: InodeRecord): Promise<InodeRecord> {
    if (dir.loaded) return dir;
    let p = this.#loading.get(dir.ino);
    if (!p) {
      p = this.#load(dir.ino);
      this.#loading.set(dir.ino, p);
      p.finally(() => this.#loading.delete(dir.ino)).catch(() => {});
    }
    await p;
    return this.node(dir.ino);
  }

  /** The host of layer bytes (present whenever a layer node exists). */
  get #layerHost(): LayerHost {
    if (!this.#host) throw new VibeError("EIO", `Vibe "${this.vibe.id}" has no layer host`);
    return this.#host;
  }

  async #load(ino: Ino): Promise<void> {
    const before = this.node(ino);
    const entries = before.oid && before.gitMode !== GIT_MODE.GITLINK
      ? await this.#trees(before.oid)
      : [];
    const dir = this.node(ino);
    if (dir.loaded) return;
    // A layer directory lists its host directory; a directory above layers
    // gets their entries (src/layers/inject.ts). Both are synchronous, so
    // they agree with the rows written below.
    const hosted = dir.origin !== null ? this.#layerHost.list(dir.origin) : [];
    const injected = this.#injections(dir, entries);
    const vibe = this.vibe.id;
    this.meta.transaction(() => {
      const count = entries.length + hosted.length + injected.length;
      const first = count > 0 ? this.meta.allocInos(vibe, count) : 0;
      let subdirs = 0;
      let cookie = entries.length;
      hosted.forEach((h, i) => {
        const child = this.#layerNode(first + entries.length + i, ino, h.stat, {
          origin: childOrigin(dir.origin!, h.name),
          volatile: dir.volatile,
          readOnly: dir.readOnly,
        });
        if (child.kind === "dir") subdirs++;
        this.meta.putInode(vibe, child);
        this.meta.putDirent(vibe, ino, { name: h.name, ino: child.ino, cookie: ++cookie });
      });
      injected.forEach((inj, i) => {
        const child = this.#injectedNode(first + entries.length + hosted.length + i, ino, inj);
        if (!child) return;
        if (child.kind === "dir") subdirs++;
        this.meta.putInode(vibe, child);
        this.meta.putDirent(vibe, ino, { name: inj.name, ino: child.ino, cookie: ++cookie });
      });
      entries.forEach((e, i) => {
        const kind = kindOfGitMode(e.mode);
        if (kind === "dir") subdirs++;
        const child: InodeRecord = {
          ino: first + i,
          kind,
          mode: permsOfGitMode(e.mode),
          uid: this.vibe.uid,
          gid: this.vibe.gid,
          nlink: kind === "dir" ? 2 : 1,
          size: null,
          atime: this.#createdAt,
          mtime: this.#createdAt,
          ctime: this.#createdAt,
          oid: e.oid,
          gitMode: e.mode,
          materialized: false,
          loaded: e.mode === GIT_MODE.GITLINK,
          dirty: false,
          volatile: false,
          origin: null,
          readOnly: false,
          target: null,
          parent: ino,
          nextCookie: 1,
        };
        this.meta.putInode(vibe, child);
        this.meta.putDirent(vibe, ino, { name: e.name, ino: child.ino, cookie: i + 1 });
      });
      const loaded: InodeRecord = {
        ...dir,
        loaded: true,
        nlink: 2 + subdirs,
        nextCookie: cookie + 1,
      };
      this.#save(loaded);
    });
  }

  /**
   * The layer entries `dir` gets on its first load: only directories that
   * come from the base tree (or scaffolds made for layers) receive them, by
   * the path they have now.
   */
  #injections(dir: InodeRecord, entries: readonly TreeEntry[]): Injection[] {
    if (this.#layers.length === 0 || dir.origin !== null || dir.volatile) return [];
    if (dir.gitMode === GIT_MODE.GITLINK) return [];
    if (dir.ino !== ROOT_INO && !this.#nestedLayers) return [];
    const path = dir.ino === ROOT_INO ? "" : this.pathOf(dir.ino);
    if (path.startsWith("?")) return [];
    return injectionsAt(this.#layers, path, new Set(entries.map((e) => e.name)));
  }

  /** The row of a node listed from a layer's host directory. */
  #layerNode(
    ino: Ino,
    parent: Ino,
    st: HostStat,
    f: { origin: string; volatile: boolean; readOnly: boolean },
  ): InodeRecord {
    return {
      ino,
      kind: st.kind,
      mode: st.mode,
      uid: this.vibe.uid,
      gid: this.vibe.gid,
      nlink: st.nlink,
      size: st.kind === "dir" ? null : st.size,
      atime: st.atime,
      mtime: st.mtime,
      ctime: st.ctime,
      oid: null,
      gitMode: null,
      materialized: false,
      loaded: false,
      dirty: false,
      volatile: f.volatile,
      origin: f.origin,
      readOnly: f.readOnly,
      target: st.target,
      parent,
      nextCookie: 1,
    };
  }

  /** The row of a layer root or scaffold directory; null when its source is gone. */
  #injectedNode(ino: Ino, parent: Ino, inj: Injection): InodeRecord | null {
    const dirNode = (volatile: boolean): InodeRecord => ({
      ...rootInode(this.vibe),
      ino,
      parent,
      oid: null,
      gitMode: null,
      loaded: true,
      volatile,
    });
    if (inj.scaffold) return { ...dirNode(false), loaded: false };
    const layer = inj.layer;
    if (layer.origin === null) return dirNode(!layer.report); // private: empty, writable
    const st = this.#layerHost.stat(layer.origin);
    if (!st) return null; // the source vanished after spawn: the layer is simply absent
    return this.#layerNode(ino, parent, st, {
      origin: layer.origin,
      volatile: !layer.report,
      readOnly: layer.mode === "shared-readonly",
    });
  }

  /** EROFS when `n` lies in a shared-readonly layer. */
  #writable(n: InodeRecord, what: string): void {
    if (!n.readOnly) return;
    const path = this.pathOf(n.ino) || "/";
    throw new VibeError(
      "EROFS",
      `Cannot ${what} "${path}": it is in a shared-readonly layer ` +
        `(set its mode to "copy-on-write" in .vibe/config.json to change it per vibe)`,
    );
  }

  /** Marks directory `ino` and all its ancestors dirty (stops at the first dirty one). */
  #dirtyDirs(ino: Ino): void {
    let cur = ino;
    for (let depth = 0; cur !== 0 && depth < 10_000; depth++) {
      const d = this.node(cur);
      if (d.dirty) return;
      this.#save({ ...d, dirty: true });
      cur = d.parent;
    }
  }

  /** Marks a non-directory inode dirty, and every directory linking to it. */
  #dirtyNode(n: InodeRecord): InodeRecord {
    const updated = n.dirty ? n : { ...n, dirty: true };
    if (!n.dirty) this.#save(updated);
    if (n.kind === "dir") {
      if (n.parent !== 0) this.#dirtyDirs(n.parent);
    } else {
      for (const l of this.meta.linksOf(this.vibe.id, n.ino)) this.#dirtyDirs(l.parent);
    }
    return updated;
  }

  /** Path of an inode relative to the vibe root ("" for the root); first link for files. */
  pathOf(ino: Ino): string {
    const parts: string[] = [];
    let cur = ino;
    for (let depth = 0; cur !== ROOT_INO && depth < 10_000; depth++) {
      const links = this.meta.linksOf(this.vibe.id, cur);
      const l = links[0];
      if (!l) return parts.length ? `?/${parts.reverse().join("/")}` : "?";
      parts.push(l.name);
      cur = l.parent;
    }
    return parts.reverse().join("/");
  }

  #journal(
    op: JournalOp,
    ino: Ino,
    path: string,
    path2: string | null,
    size: number | null,
    extra: { kind?: FileKind; mode?: number; prevMode?: number; volatile?: boolean } = {},
  ) {
    // Volatile nodes (untracked layers) are never journaled: they are no
    // part of the vibe's work, and `npm install` would add a line per file.
    if (extra.volatile ?? this.#nodes.get(ino)?.volatile ?? false) return;
    this.meta.appendJournal({
      vibe: this.vibe.id,
      timeMs: Date.now(),
      op,
      path,
      path2,
      ino,
      size,
      kind: extra.kind ?? this.#nodes.get(ino)?.kind ?? null,
      mode: extra.mode ?? null,
      prevMode: extra.prevMode ?? null,
    });
  }

  /**
   * A fresh inode number. Numbers are reserved from the metadata in blocks
   * (one commit per block, not per file); this process owns the vibe, and
   * reserved numbers it never hands out are simply skipped (numbers are
   * never reused, and every reader of `next_ino` sees the block's end).
   */
  #allocIno(): Ino {
    if (this.#inoPool.next >= this.#inoPool.end) {
      const first = this.meta.allocInos(this.vibe.id, INO_BLOCK);
      this.#inoPool = { next: first, end: first + INO_BLOCK };
    }
    return this.#inoPool.next++;
  }

  /**
   * From now on every inode's next write is journaled (writes are otherwise
   * journaled at most once per interval): after this, the journal names
   * every inode changed, which is what an exact change report reads.
   * Returns the journal seq the report starts after.
   */
  markJournal(): number {
    this.#lastWriteJournal.clear();
    return this.meta.lastJournalSeq(this.vibe.id);
  }

  // ---------------------------------------------------------------- quota

  /** Limits of this vibe (null: unlimited); `usage` is recomputed when one would be crossed. */
  setQuota(q: Quota): void {
    this.#quota = q;
    this.#usage = null;
  }

  get quota(): Quota {
    return this.#quota;
  }

  /**
   * Reserves `bytes` more delta bytes and `files` more changed files, or
   * throws EDQUOT (nothing changed yet). Growth is counted as it happens;
   * frees are not, so the count can only run high, and it is recomputed
   * from the metadata before refusing anything.
   */
  #charge(bytes: number, files: number): void {
    const q = this.#quota;
    if (q.bytes === null && q.files === null) return;
    const over = (u: QuotaUsage) =>
      (q.bytes !== null && bytes > 0 && u.bytes + bytes > q.bytes) ||
      (q.files !== null && files > 0 && u.files + files > q.files);
    let u = this.#usage ?? (this.#usage = this.meta.quotaUsage(this.vibe.id));
    if (over(u)) {
      u = this.#usage = this.meta.quotaUsage(this.vibe.id);
      if (over(u)) {
        const what = q.bytes !== null && bytes > 0 && u.bytes + bytes > q.bytes
          ? `${u.bytes} of ${q.bytes} bytes used`
          : `${u.files} of ${q.files} changed files used`;
        throw new VibeError(
          "EDQUOT",
          `Vibe "${this.vibe.id}" is over its quota: ${what} ` +
            `(raise it with "vibe quota ${this.vibe.id} --bytes/--files")`,
        );
      }
    }
    u.bytes += Math.max(0, bytes);
    u.files += Math.max(0, files);
  }

  #childPath(parent: Ino, name: string): string {
    const p = this.pathOf(parent);
    return p ? `${p}/${name}` : name;
  }

  #reclaimOrphans(): void {
    const orphans = this.meta.orphanInodes(this.vibe.id);
    if (orphans.length === 0) return;
    this.meta.transaction(() => {
      for (const ino of orphans) this.meta.deleteInode(this.vibe.id, ino);
    });
    for (const ino of orphans) this.delta.remove(ino);
  }

  // ---------------------------------------------------------------- attrs

  async #attr(n: InodeRecord): Promise<Attr> {
    let size: number;
    let nlink = n.nlink;
    switch (n.kind) {
      case "file":
        size = n.materialized || n.oid === null ? (n.size ?? 0) : await this.blobs.size(n.oid);
        break;
      case "symlink":
        size = n.target !== null || n.oid === null ? (n.size ?? 0) : await this.blobs.size(n.oid);
        break;
      case "dir":
        size = DIR_SIZE;
        if (!n.loaded && n.oid) {
          const entries = await this.#trees(n.oid);
          nlink = 2 + entries.filter((e) => kindOfGitMode(e.mode) === "dir").length;
        }
        break;
      default:
        size = 0;
    }
    return {
      ino: n.ino,
      kind: n.kind,
      mode: n.mode,
      nlink,
      uid: n.uid,
      gid: n.gid,
      size,
      atime: n.atime,
      mtime: n.mtime,
      ctime: n.ctime,
    };
  }

  /** True while a channel (the kernel) holds references to `ino` from lookups. */
  isReferenced(ino: Ino): boolean {
    return (this.#lookups.get(ino) ?? 0) > 0;
  }

  #ref(ino: Ino): void {
    this.#lookups.set(ino, (this.#lookups.get(ino) ?? 0) + 1);
  }

  // ---------------------------------------------------------------- Vfs

  async lookup(parent: Ino, name: string): Promise<Attr> {
    validateName(name);
    const dir = await this.#ensureLoaded(this.#dir(parent));
    const d = this.meta.getDirent(this.vibe.id, dir.ino, name);
    if (!d) {
      throw new VibeError("ENOENT", `No entry "${name}" in "${this.pathOf(parent) || "/"}"`);
    }
    const attr = await this.#attr(this.node(d.ino));
    this.#ref(d.ino);
    return attr;
  }

  forget(ino: Ino, count: number): void {
    const left = (this.#lookups.get(ino) ?? 0) - count;
    if (left > 0) {
      this.#lookups.set(ino, left);
      return;
    }
    this.#lookups.delete(ino);
    const n = this.#nodes.get(ino) ?? this.meta.getInode(this.vibe.id, ino);
    if (n && n.nlink === 0) {
      this.meta.deleteInode(this.vibe.id, ino);
      if (n.materialized) this.delta.remove(ino);
    }
    this.#nodes.delete(ino);
    this.#lastWriteJournal.delete(ino);
  }

  async getattr(ino: Ino): Promise<Attr> {
    return await this.#attr(this.node(ino));
  }

  async setattr(ino: Ino, a: SetAttr): Promise<Attr> {
    let n = this.node(ino);
    this.#writable(n, "change");
    const now = nowTimespec();
    if (a.size !== undefined) {
      if (n.kind === "dir") throw new VibeError("EISDIR", `Cannot truncate a directory`);
      if (n.kind !== "file") throw new VibeError("EINVAL", `Cannot truncate a ${n.kind}`);
      if (a.size < 0 || a.size > MAX_FILE_SIZE) {
        throw new VibeError("EINVAL", `Invalid size ${a.size}`);
      }
      this.#charge(
        (n.materialized ? 0 : n.size ?? 0) + Math.max(0, a.size - (n.size ?? 0)),
        n.dirty ? 0 : 1,
      );
      if (!n.materialized && a.size === 0) {
        this.delta.writeWhole(ino, new Uint8Array(0));
        n = this.node(ino);
      } else {
        await this.#copyUp(ino);
        n = this.node(ino);
        this.delta.truncate(ino, a.size);
      }
      n = { ...n, materialized: true, size: a.size, mtime: now, ctime: now };
      this.meta.transaction(() => {
        this.#save(n);
        n = this.#dirtyNode(n);
        this.#journal("truncate", ino, this.pathOf(ino), null, a.size ?? null);
      });
    }
    const upd: InodeRecord = { ...n };
    let changed = false;
    if (a.mode !== undefined) {
      upd.mode = a.mode & 0o7777;
      changed = true;
    }
    if (a.uid !== undefined) {
      upd.uid = a.uid;
      changed = true;
    }
    if (a.gid !== undefined) {
      upd.gid = a.gid;
      changed = true;
    }
    const at = toTimespec(a.atime, now);
    const mt = toTimespec(a.mtime, now);
    if (at) {
      upd.atime = at;
      changed = true;
    }
    if (mt) {
      upd.mtime = mt;
      changed = true;
    }
    if (changed) {
      if (!n.dirty && !(a.size !== undefined)) this.#charge(0, 1);
      upd.ctime = now;
      this.meta.transaction(() => {
        this.#save(upd);
        // Any attribute change makes the inode differ from its base (snapshots
        // and restores then carry it); only the exec bit matters to git.
        this.#dirtyNode(upd);
        if (a.mode !== undefined && ((a.mode & 0o7777) !== n.mode)) {
          this.#journal("chmod", ino, this.pathOf(ino), null, null, {
            mode: a.mode & 0o7777,
            prevMode: n.mode,
          });
        }
      });
    }
    return await this.#attr(this.node(ino));
  }

  async readlink(ino: Ino): Promise<string> {
    const n = this.node(ino);
    if (n.kind !== "symlink") throw new VibeError("EINVAL", `Inode ${ino} is not a symlink`);
    if (n.target !== null) return n.target;
    if (!n.oid) return "";
    return decoder.decode(await this.blobs.whole(n.oid));
  }

  /**
   * A host file holding exactly the bytes of clean file `ino` that never
   * change (its blob's finished cache file), or null: for FUSE passthrough
   * of read-only opens. Never starts writing a cache file.
   */
  backingFile(ino: Ino): string | null {
    const n = this.node(ino);
    if (n.kind !== "file" || n.materialized || n.origin !== null || !n.oid) return null;
    if (this.#copyUps.has(ino)) return null;
    return this.blobs.readyPath(n.oid);
  }

  async read(ino: Ino, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const n = this.node(ino);
    if (n.kind === "dir") throw new VibeError("EISDIR", `Cannot read a directory`);
    if (n.kind !== "file") throw new VibeError("EINVAL", `Cannot read a ${n.kind}`);
    if (offset < 0 || length < 0) throw new VibeError("EINVAL", `Invalid read range`);
    if (n.materialized) return this.delta.read(ino, offset, length, into);
    if (n.origin !== null) {
      // The row's size is what stat showed: a root copy that grew since is cut there.
      const len = Math.max(0, Math.min(length, (n.size ?? 0) - offset));
      return len === 0 ? new Uint8Array(0) : this.#layerHost.read(n.origin, offset, len, into);
    }
    if (!n.oid) return new Uint8Array(0);
    const pending = this.#copyUps.get(ino);
    if (pending) {
      await pending;
      return this.read(ino, offset, length, into);
    }
    return await this.blobs.read(n.oid, offset, length, into);
  }

  /** Copy-up: the file's bytes move into the delta, then the row flips to materialized. */
  async #copyUp(ino: Ino): Promise<void> {
    const n = this.node(ino);
    if (n.materialized) return;
    let p = this.#copyUps.get(ino);
    if (!p) {
      p = (async () => {
        const oid = n.oid;
        if (n.origin !== null) {
          // A layer file: a reflink where the filesystems allow, else a copy.
          this.delta.cloneFrom(ino, this.#layerHost.pathOf(n.origin));
        } else if (oid) {
          const file = await this.blobs.filePath(oid);
          if (file) this.delta.copyFrom(ino, file);
          else this.delta.writeWhole(ino, await this.blobs.whole(oid));
        } else {
          this.delta.writeWhole(ino, new Uint8Array(0));
        }
        const cur = this.node(ino);
        const size = this.delta.size(ino);
        this.meta.transaction(() => {
          this.#save({ ...cur, materialized: true, size });
          this.#dirtyNode(this.node(ino));
        });
      })();
      this.#copyUps.set(ino, p);
      p.finally(() => this.#copyUps.delete(ino)).catch(() => {});
    }
    await p;
  }

  async write(ino: Ino, offset: number, data: Uint8Array): Promise<number> {
    let n = this.node(ino);
    if (n.kind === "dir") throw new VibeError("EISDIR", `Cannot write to a directory`);
    if (n.kind !== "file") throw new VibeError("EINVAL", `Cannot write to a ${n.kind}`);
    this.#writable(n, "write to");
    if (offset < 0 || offset + data.length > MAX_FILE_SIZE) {
      throw new VibeError("EFBIG", `Write beyond the maximum file size`);
    }
    this.#charge(
      (n.materialized ? 0 : n.size ?? 0) + Math.max(0, offset + data.length - (n.size ?? 0)),
      n.dirty ? 0 : 1,
    );
    if (!n.materialized) await this.#copyUp(ino);
    n = this.node(ino);
    const written = this.delta.write(ino, offset, data);
    const now = nowTimespec();
    const size = Math.max(n.size ?? 0, offset + written);
    const upd = { ...n, size, mtime: now, ctime: now };
    const last = this.#lastWriteJournal.get(ino) ?? 0;
    const t = Date.now();
    if (t - last >= WRITE_JOURNAL_INTERVAL_MS || !n.dirty) {
      this.meta.transaction(() => {
        this.#save(upd);
        this.#dirtyNode(upd);
        this.#journal("write", ino, this.pathOf(ino), null, size);
      });
      this.#lastWriteJournal.set(ino, t);
    } else {
      this.#save(upd);
    }
    return written;
  }

  /** Common part of every call that adds a new inode under `parent`. */
  async #addNode(
    parent: Ino,
    name: string,
    make: (ino: Ino, now: Timespec) => InodeRecord,
    op: JournalOp,
    bytesFirst?: (ino: Ino) => void,
  ): Promise<Attr> {
    validateName(name);
    await this.#ensureLoaded(this.#dir(parent));
    const vibe = this.vibe.id;
    if (this.meta.getDirent(vibe, parent, name)) {
      throw new VibeError("EEXIST", `"${name}" exists in "${this.pathOf(parent) || "/"}"`);
    }
    this.#writable(this.node(parent), `create "${name}" in`);
    this.#charge(0, op === "mkdir" ? 0 : 1);
    const ino = this.#allocIno();
    bytesFirst?.(ino);
    const now = nowTimespec();
    const node = make(ino, now);
    this.meta.transaction(() => {
      const dir = this.node(parent);
      this.#save(node);
      this.meta.putDirent(vibe, parent, { name, ino, cookie: dir.nextCookie });
      this.#save({
        ...dir,
        nextCookie: dir.nextCookie + 1,
        nlink: dir.nlink + (node.kind === "dir" ? 1 : 0),
        mtime: now,
        ctime: now,
      });
      this.#dirtyDirs(parent);
      this.#journal(op, ino, this.#childPath(parent, name), null, node.size);
    });
    this.#ref(ino);
    return await this.#attr(node);
  }

  #fresh(ino: Ino, kind: FileKind, mode: number, caller: Caller, now: Timespec, parent: Ino) {
    // A new node belongs where it is made: inside a layer it is volatile too.
    const volatile = this.node(parent).volatile;
    return {
      ino,
      kind,
      mode: mode & 0o7777,
      uid: caller.uid,
      gid: caller.gid,
      nlink: kind === "dir" ? 2 : 1,
      size: kind === "file" ? 0 : null,
      atime: now,
      mtime: now,
      ctime: now,
      oid: null,
      gitMode: null,
      materialized: kind === "file",
      loaded: kind === "dir",
      dirty: true,
      volatile,
      origin: null,
      readOnly: false,
      target: null,
      parent,
      nextCookie: 1,
    } satisfies InodeRecord;
  }

  async create(
    parent: Ino,
    name: string,
    mode: number,
    caller: Caller,
    exclusive: boolean,
  ): Promise<Attr> {
    validateName(name);
    await this.#ensureLoaded(this.#dir(parent));
    const existing = this.meta.getDirent(this.vibe.id, parent, name);
    if (existing) {
      if (exclusive) {
        throw new VibeError("EEXIST", `"${name}" exists in "${this.pathOf(parent) || "/"}"`);
      }
      const n = this.node(existing.ino);
      if (n.kind === "dir") throw new VibeError("EISDIR", `"${name}" is a directory`);
      this.#ref(n.ino);
      return await this.#attr(n);
    }
    return await this.#addNode(
      parent,
      name,
      (ino, now) => this.#fresh(ino, "file", mode, caller, now, parent),
      "create",
      (ino) => this.delta.createEmpty(ino),
    );
  }

  async mknod(
    parent: Ino,
    name: string,
    kind: "file" | "fifo" | "socket",
    mode: number,
    caller: Caller,
  ): Promise<Attr> {
    if (kind === "file") return await this.create(parent, name, mode, caller, true);
    return await this.#addNode(
      parent,
      name,
      (ino, now) => this.#fresh(ino, kind, mode, caller, now, parent),
      "create",
    );
  }

  parent(ino: Ino): Promise<Ino> {
    return settle(() => {
      const n = this.#dir(ino);
      return n.ino === ROOT_INO ? ROOT_INO : n.parent;
    });
  }

  getxattr(ino: Ino, name: string): Promise<Uint8Array> {
    return settle(() => {
      checkXattrName(name);
      this.node(ino);
      const v = this.meta.getXattr(this.vibe.id, ino, name);
      if (!v) throw new VibeError("ENODATA", `No extended attribute "${name}"`);
      return v;
    });
  }

  setxattr(ino: Ino, name: string, value: Uint8Array, flags: XattrFlags = {}): Promise<void> {
    return settle(() => this.#setxattr(ino, name, value, flags));
  }

  #setxattr(ino: Ino, name: string, value: Uint8Array, flags: XattrFlags): void {
    checkXattrName(name);
    if (value.length > XATTR_SIZE_MAX) {
      throw new VibeError(
        "ERANGE",
        `Extended attribute "${name}" is larger than ${XATTR_SIZE_MAX} bytes`,
      );
    }
    const n = this.node(ino);
    this.#writable(n, "set an extended attribute of");
    const has = this.meta.getXattr(this.vibe.id, ino, name) !== null;
    if (flags.create && has) throw new VibeError("EEXIST", `Extended attribute "${name}" exists`);
    if (flags.replace && !has) throw new VibeError("ENODATA", `No extended attribute "${name}"`);
    this.meta.transaction(() => {
      this.meta.setXattr(this.vibe.id, ino, name, value);
      this.#dirtyNode({ ...n, ctime: nowTimespec() });
      this.#save({ ...this.node(ino), ctime: nowTimespec() });
    });
  }

  listxattr(ino: Ino): Promise<string[]> {
    return settle(() => {
      this.node(ino);
      return this.meta.listXattrs(this.vibe.id, ino);
    });
  }

  removexattr(ino: Ino, name: string): Promise<void> {
    return settle(() => {
      checkXattrName(name);
      const n = this.node(ino);
      this.#writable(n, "remove an extended attribute of");
      this.meta.transaction(() => {
        if (!this.meta.removeXattr(this.vibe.id, ino, name)) {
          throw new VibeError("ENODATA", `No extended attribute "${name}"`);
        }
        this.#dirtyNode(n);
        this.#save({ ...this.node(ino), ctime: nowTimespec() });
      });
    });
  }

  async mkdir(parent: Ino, name: string, mode: number, caller: Caller): Promise<Attr> {
    return await this.#addNode(
      parent,
      name,
      (ino, now) => this.#fresh(ino, "dir", mode, caller, now, parent),
      "mkdir",
    );
  }

  async symlink(parent: Ino, name: string, target: string, caller: Caller): Promise<Attr> {
    const bytes = encoder.encode(target).length;
    if (bytes === 0) throw new VibeError("ENOENT", `A symlink target cannot be empty`);
    if (bytes > MAX_SYMLINK) {
      throw new VibeError("ENAMETOOLONG", `Symlink target is longer than ${MAX_SYMLINK} bytes`);
    }
    return await this.#addNode(
      parent,
      name,
      (ino, now) => ({
        ...this.#fresh(ino, "symlink", 0o777, caller, now, parent),
        target,
        size: bytes,
      }),
      "symlink",
    );
  }

  async link(ino: Ino, newParent: Ino, newName: string): Promise<Attr> {
    validateName(newName);
    const n = this.node(ino);
    if (n.kind === "dir") throw new VibeError("EPERM", `Cannot hard-link a directory`);
    this.#writable(n, "link");
    await this.#ensureLoaded(this.#dir(newParent));
    this.#writable(this.node(newParent), `create "${newName}" in`);
    const vibe = this.vibe.id;
    if (this.meta.getDirent(vibe, newParent, newName)) {
      throw new VibeError("EEXIST", `"${newName}" exists in "${this.pathOf(newParent) || "/"}"`);
    }
    if (!n.dirty) this.#charge(0, 1);
    const now = nowTimespec();
    this.meta.transaction(() => {
      const cur = this.node(ino);
      const dir = this.node(newParent);
      this.meta.putDirent(vibe, newParent, { name: newName, ino, cookie: dir.nextCookie });
      this.#save({ ...dir, nextCookie: dir.nextCookie + 1, mtime: now, ctime: now });
      this.#save({ ...cur, nlink: cur.nlink + 1, ctime: now });
      this.#dirtyDirs(newParent);
      this.#journal("link", ino, this.#childPath(newParent, newName), this.pathOf(ino), null);
    });
    this.#ref(ino);
    return await this.#attr(this.node(ino));
  }

  /** Drops one link of `n` (already removed from its directory). Frees it when unreferenced. */
  #dropLink(n: InodeRecord, now: Timespec): void {
    const nlink = n.kind === "dir" ? 0 : n.nlink - 1;
    if (nlink > 0) {
      this.#save({ ...n, nlink, ctime: now });
      return;
    }
    if ((this.#lookups.get(n.ino) ?? 0) > 0) {
      this.#save({ ...n, nlink: 0, ctime: now });
      return;
    }
    this.meta.deleteInode(this.vibe.id, n.ino);
    this.#nodes.delete(n.ino);
  }

  /** After the metadata transaction: delete bytes of inodes that no longer exist. */
  #dropBytesIfGone(n: InodeRecord): void {
    if (n.materialized && !this.meta.getInode(this.vibe.id, n.ino)) this.delta.remove(n.ino);
  }

  async unlink(parent: Ino, name: string): Promise<void> {
    validateName(name);
    await this.#ensureLoaded(this.#dir(parent));
    const vibe = this.vibe.id;
    const d = this.meta.getDirent(vibe, parent, name);
    if (!d) throw new VibeError("ENOENT", `No entry "${name}" in "${this.pathOf(parent) || "/"}"`);
    const n = this.node(d.ino);
    if (n.kind === "dir") throw new VibeError("EISDIR", `"${name}" is a directory (use rmdir)`);
    this.#writable(this.node(parent), `remove "${name}" from`);
    this.#writable(n, "remove");
    const now = nowTimespec();
    const path = this.#childPath(parent, name);
    this.meta.transaction(() => {
      this.meta.deleteDirent(vibe, parent, name);
      const dir = this.node(parent);
      this.#save({ ...dir, mtime: now, ctime: now });
      this.#dirtyDirs(parent);
      this.#dropLink(this.node(d.ino), now);
      this.#journal("unlink", d.ino, path, null, null, { kind: n.kind, volatile: n.volatile });
    });
    this.#dropBytesIfGone(n);
  }

  async rmdir(parent: Ino, name: string): Promise<void> {
    validateName(name);
    await this.#ensureLoaded(this.#dir(parent));
    const vibe = this.vibe.id;
    const d = this.meta.getDirent(vibe, parent, name);
    if (!d) throw new VibeError("ENOENT", `No entry "${name}" in "${this.pathOf(parent) || "/"}"`);
    const child = this.node(d.ino);
    if (child.kind !== "dir") throw new VibeError("ENOTDIR", `"${name}" is not a directory`);
    this.#writable(this.node(parent), `remove "${name}" from`);
    this.#writable(child, "remove");
    await this.#ensureLoaded(child);
    const now = nowTimespec();
    const path = this.#childPath(parent, name);
    this.meta.transaction(() => {
      if (this.meta.getDirent(vibe, parent, name)?.ino !== d.ino) {
        throw new VibeError("ENOENT", `"${name}" was removed meanwhile`);
      }
      if (this.meta.countDirents(vibe, d.ino) > 0) {
        throw new VibeError("ENOTEMPTY", `Directory "${path}" is not empty`);
      }
      this.meta.deleteDirent(vibe, parent, name);
      const dir = this.node(parent);
      this.#save({ ...dir, nlink: dir.nlink - 1, mtime: now, ctime: now });
      this.#dirtyDirs(parent);
      this.#dropLink(this.node(d.ino), now);
      this.#journal("rmdir", d.ino, path, null, null, { volatile: child.volatile });
    });
  }

  async rename(
    parent: Ino,
    name: string,
    newParent: Ino,
    newName: string,
    flags: RenameFlags = {},
  ): Promise<void> {
    validateName(name);
    validateName(newName);
    await this.#ensureLoaded(this.#dir(parent));
    await this.#ensureLoaded(this.#dir(newParent));
    const vibe = this.vibe.id;
    const src = this.meta.getDirent(vibe, parent, name);
    if (!src) {
      throw new VibeError("ENOENT", `No entry "${name}" in "${this.pathOf(parent) || "/"}"`);
    }
    const dst = this.meta.getDirent(vibe, newParent, newName);
    const srcNode = this.node(src.ino);
    if (flags.exchange && flags.noReplace) {
      throw new VibeError("EINVAL", `RENAME_EXCHANGE and RENAME_NOREPLACE cannot be combined`);
    }
    if (flags.exchange && !dst) {
      throw new VibeError("ENOENT", `No entry "${newName}" to exchange with`);
    }
    if (dst && dst.ino === src.ino) return;
    if (dst && flags.noReplace) {
      throw new VibeError("EEXIST", `"${newName}" exists in "${this.pathOf(newParent) || "/"}"`);
    }
    const dstNode = dst ? this.node(dst.ino) : null;
    this.#writable(this.node(parent), `move "${name}" out of`);
    this.#writable(srcNode, "move");
    this.#writable(this.node(newParent), `move "${newName}" into`);
    if (dstNode) this.#writable(dstNode, "replace");
    if (flags.exchange && dstNode && dstNode.volatile !== srcNode.volatile) {
      throw new VibeError(
        "EXDEV",
        `Cannot exchange "${name}" and "${newName}": one is in an untracked layer, the other not`,
      );
    }
    // A directory may not move below itself (checked for both sides of an exchange).
    if (srcNode.kind === "dir") this.#checkNotBelow(newParent, srcNode.ino);
    if (flags.exchange && dstNode?.kind === "dir") this.#checkNotBelow(parent, dstNode.ino);
    if (dstNode && !flags.exchange) {
      if (srcNode.kind === "dir" && dstNode.kind !== "dir") {
        throw new VibeError(
          "ENOTDIR",
          `Cannot replace the non-directory "${newName}" with a directory`,
        );
      }
      if (srcNode.kind !== "dir" && dstNode.kind === "dir") {
        throw new VibeError(
          "EISDIR",
          `Cannot replace the directory "${newName}" with a non-directory`,
        );
      }
      if (dstNode.kind === "dir") {
        await this.#ensureLoaded(dstNode);
        if (this.meta.countDirents(vibe, dstNode.ino) > 0) {
          throw new VibeError("ENOTEMPTY", `Directory "${newName}" is not empty`);
        }
      }
    }
    const now = nowTimespec();
    const fromPath = this.#childPath(parent, name);
    const toPath = this.#childPath(newParent, newName);
    this.meta.transaction(() => {
      // Re-check after the awaits above: the entries must be what we checked.
      if (this.meta.getDirent(vibe, parent, name)?.ino !== src.ino) {
        throw new VibeError("ENOENT", `"${name}" changed during rename`);
      }
      const p = this.node(parent);
      this.meta.deleteDirent(vibe, parent, name);
      const np = parent === newParent ? p : this.node(newParent);
      let nextCookie = np.nextCookie;
      if (flags.exchange && dstNode) {
        this.meta.deleteDirent(vibe, newParent, newName);
        this.meta.putDirent(vibe, newParent, { name: newName, ino: src.ino, cookie: nextCookie++ });
        this.#saveCookie(np, nextCookie);
        const p2 = this.node(parent);
        this.meta.putDirent(vibe, parent, { name, ino: dstNode.ino, cookie: p2.nextCookie });
        this.#save({ ...p2, nextCookie: p2.nextCookie + 1 });
        if (parent !== newParent) {
          this.#reparent(srcNode, newParent, now);
          this.#reparent(dstNode, parent, now);
          const delta = (srcNode.kind === "dir" ? 1 : 0) - (dstNode.kind === "dir" ? 1 : 0);
          if (delta !== 0) {
            const a = this.node(parent);
            this.#save({ ...a, nlink: a.nlink - delta });
            const b = this.node(newParent);
            this.#save({ ...b, nlink: b.nlink + delta });
          }
        }
      } else {
        if (dstNode) {
          this.#journal(
            dstNode.kind === "dir" ? "rmdir" : "unlink",
            dstNode.ino,
            toPath,
            null,
            null,
            { kind: dstNode.kind, volatile: dstNode.volatile },
          );
          this.meta.deleteDirent(vibe, newParent, newName);
          if (dstNode.kind === "dir") {
            const cur = this.node(newParent);
            this.#save({ ...cur, nlink: cur.nlink - 1 });
          }
          this.#dropLink(this.node(dstNode.ino), now);
        }
        const target = this.node(newParent);
        this.meta.putDirent(vibe, newParent, {
          name: newName,
          ino: src.ino,
          cookie: target.nextCookie,
        });
        this.#save({ ...target, nextCookie: target.nextCookie + 1 });
        if (parent !== newParent && srcNode.kind === "dir") {
          const a = this.node(parent);
          this.#save({ ...a, nlink: a.nlink - 1 });
          const b = this.node(newParent);
          this.#save({ ...b, nlink: b.nlink + 1 });
        }
        this.#reparent(this.node(src.ino), newParent, now);
        // A file moved into or out of a layer takes the volatility of where it
        // lands (as git would see it: ignored there, or new work here). A
        // directory keeps its own: flipping a subtree would cost O(subtree).
        const landed = this.node(newParent).volatile;
        const moved = this.node(src.ino);
        if (moved.kind !== "dir" && moved.volatile !== landed) {
          this.#dirtyNode({ ...moved, volatile: landed, dirty: false });
        }
      }
      for (const d of new Set([parent, newParent])) {
        const cur = this.node(d);
        this.#save({ ...cur, mtime: now, ctime: now });
        this.#dirtyDirs(d);
      }
      const wasVolatile = srcNode.volatile;
      const isVolatile = this.node(src.ino).volatile;
      if (wasVolatile === isVolatile) {
        this.#journal(
          flags.exchange && dstNode ? "exchange" : "rename",
          src.ino,
          fromPath,
          toPath,
          null,
          { kind: srcNode.kind, volatile: wasVolatile },
        );
      } else {
        // Into a layer: gone from the vibe's work; out of one: new work.
        this.#journal(
          isVolatile ? "unlink" : "create",
          src.ino,
          isVolatile ? fromPath : toPath,
          null,
          null,
          { kind: srcNode.kind, volatile: false },
        );
      }
    });
    if (dstNode && !flags.exchange) this.#dropBytesIfGone(dstNode);
  }

  #saveCookie(dir: InodeRecord, nextCookie: number): void {
    const cur = this.node(dir.ino);
    this.#save({ ...cur, nextCookie });
  }

  #reparent(n: InodeRecord, newParent: Ino, now: Timespec): void {
    const cur = this.node(n.ino);
    this.#save({ ...cur, parent: cur.kind === "dir" ? newParent : cur.parent, ctime: now });
  }

  /** EINVAL when `dir` is `ancestor` or lies below it. */
  #checkNotBelow(dir: Ino, ancestor: Ino): void {
    let cur = dir;
    for (let depth = 0; cur !== 0 && depth < 10_000; depth++) {
      if (cur === ancestor) {
        throw new VibeError("EINVAL", `Cannot move a directory into its own subtree`);
      }
      cur = this.node(cur).parent;
    }
  }

  async readdir(ino: Ino, afterCookie: number, limit: number): Promise<DirEntry[]> {
    const dir = await this.#ensureLoaded(this.#dir(ino));
    return this.meta.listDirents(this.vibe.id, dir.ino, afterCookie, Math.max(0, limit)).map((
      d,
    ) => ({ name: d.name, ino: d.ino, kind: d.kind, cookie: d.cookie }));
  }

  statfs(): Promise<StatFs> {
    const s = fsSpace(this.#spaceDir);
    return Promise.resolve(
      s ?? {
        blockSize: 4096,
        totalBlocks: 0,
        freeBlocks: 0,
        availBlocks: 0,
        totalFiles: 0,
        freeFiles: 0,
        nameMax: 255,
      },
    );
  }

  fsync(ino: Ino, dataOnly: boolean): Promise<void> {
    return settle(() => {
      const n = this.node(ino);
      if (n.kind === "file" && n.materialized) this.delta.fsync(ino, dataOnly);
      this.meta.syncDurable();
    });
  }

  // ---------------------------------------------------------------- walks

  /**
   * The entries of a directory with the fields a tree walk reads (loads the
   * directory). Rows and the node cache agree, since every change goes
   * through the cache and the database together.
   */
  async treeChildren(ino: Ino): Promise<{ name: string; node: TreeNodeRecord }[]> {
    const dir = await this.#ensureLoaded(this.#dir(ino));
    return this.meta.listTreeChildren(this.vibe.id, dir.ino);
  }

  /** The whole content of a materialized file (of a clean layer file: its host bytes). */
  materializedBytes(ino: Ino): Uint8Array {
    const n = this.node(ino);
    if (!n.materialized && n.origin !== null) return this.#layerHost.whole(n.origin);
    return this.delta.read(ino, 0, this.delta.size(ino));
  }

  /** The vibe's untracked layers, as resolved at spawn. */
  get layers(): readonly VibeLayerRecord[] {
    return this.#layers;
  }

  /**
   * Forgets what is cached from the vibe's rows and delta files — inode rows,
   * open delta files — after they were replaced underneath (restore); later
   * calls re-read them. Lookup counts stay: they mirror the references the
   * kernel holds, which a restore does not change (a file the kernel still
   * references must still become an orphan, not vanish, when unlinked).
   */
  reset(): void {
    this.delta.close();
    this.#host?.close();
    this.#nodes.clear();
    this.#lastWriteJournal.clear();
    this.#inoPool = { next: 0, end: 0 };
  }

  /** Releases caches and open files. The vibe's data stays on disk. */
  close(): void {
    this.delta.close();
    this.#host?.close();
    this.#nodes.clear();
  }
}
