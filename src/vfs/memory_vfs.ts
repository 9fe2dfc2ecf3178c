/**
 * `MemoryVfs`: a complete POSIX `Vfs` held in memory. It is the reference
 * implementation for the channel tests (FUSE, NFS) and for the contract
 * suite in tests/vfs_contract.ts; nothing here persists.
 *
 * Invariants beyond those of `Vfs`:
 * - Inode numbers count up from `ROOT_INO` (1) and are never reused.
 * - Unlinked inodes: an inode whose last name is gone (nlink 0) keeps
 *   answering getattr/setattr/read/write while the kernel still references
 *   it, i.e. until `forget` brings its lookup count to 0. The lookup count
 *   grows by one on every reply that hands out an entry (lookup, create,
 *   mknod, mkdir, symlink, link), as FUSE counts it. A channel that never
 *   forgets (NFS) therefore keeps unlinked inodes in memory; fine for tests.
 * - Once dropped, an inode number throws ESTALE (as does any number never
 *   handed out).
 * - Times: ctime changes on every attribute, content or link-count change;
 *   mtime on writes and size changes; a directory's mtime and ctime on every
 *   entry change. atime is only changed by `setattr` (as with noatime).
 * - `generation` is drawn from one counter for the whole Vfs, so it strictly
 *   increases on every change of a node.
 * - File bytes live in 64 KiB chunks; a hole (never written, or cut by a
 *   truncate) has no chunk and reads as zeros. Bytes at or past `size` are
 *   always zero inside an allocated chunk, so extending needs no work.
 * - Readdir cookies are a per-directory sequence number given to an entry
 *   when it is added (a renamed-in entry gets a new one); `rename` with
 *   `exchange` keeps both names' cookies and swaps their inodes.
 */
import { VibeError } from "../errors.ts";
import { type Ino, nowTimespec, type Timespec } from "../types.ts";
import { NAME_MAX, utf8Length, validateName } from "./names.ts";
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

/** Longest symlink target in bytes of UTF-8; longer targets are ENAMETOOLONG. */
export const SYMLINK_MAX = 4096;
/** Largest file size; writes or truncates beyond it are EFBIG. */
export const MAX_FILE_SIZE = 2 ** 44;
/** Most hard links one inode may have (EMLINK beyond). */
export const LINK_MAX = 65000;

const CHUNK_SIZE = 65536;
const BLOCK_SIZE = 4096;
/** The `size` reported for every directory. */
const DIR_SIZE = 4096;

export interface MemoryVfsOptions {
  /** Owner and permission bits of the root directory (default 0, 0, 0o755). */
  root?: { uid?: number; gid?: number; mode?: number };
  /** Capacity for statfs and ENOSPC, counted in allocated 64 KiB chunks (default 1 TiB). */
  capacityBytes?: number;
  /** Most live inodes (ENOSPC beyond; default 2^32). */
  maxInodes?: number;
  /** Clock for timestamps (default the system clock). */
  now?: () => Timespec;
}

/** One name in a directory; `ino` changes only through `rename` with `exchange`. */
interface Slot {
  name: string;
  ino: Ino;
  cookie: number;
  live: boolean;
}

/**
 * Entries of one directory. `order` holds slots by increasing cookie (new
 * slots are appended with the next cookie); removed slots stay as tombstones
 * until compaction so that a resumed listing finds its place by binary search.
 */
class DirTable {
  readonly entries = new Map<string, Slot>();
  private order: Slot[] = [];
  private dead = 0;
  private nextCookie = 1;

  get size(): number {
    return this.entries.size;
  }

  get(name: string): Slot | undefined {
    return this.entries.get(name);
  }

  add(name: string, ino: Ino): void {
    const slot: Slot = { name, ino, cookie: this.nextCookie++, live: true };
    this.entries.set(name, slot);
    this.order.push(slot);
  }

  remove(name: string): void {
    const slot = this.entries.get(name);
    if (!slot) return;
    this.entries.delete(name);
    slot.live = false;
    this.dead++;
    if (this.dead > 64 && this.dead * 2 > this.order.length) {
      this.order = this.order.filter((s) => s.live);
      this.dead = 0;
    }
  }

  /** Live slots with a cookie above `cookie`, at most `limit`, by cookie. */
  after(cookie: number, limit: number): Slot[] {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid]!.cookie <= cookie) lo = mid + 1;
      else hi = mid;
    }
    const out: Slot[] = [];
    for (let i = lo; i < this.order.length && out.length < limit; i++) {
      const slot = this.order[i]!;
      if (slot.live) out.push(slot);
    }
    return out;
  }
}

interface Node {
  ino: Ino;
  kind: FileKind;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** Entry replies not yet forgotten (FUSE nlookup). */
  lookups: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  generation: number;
  /** Files: length in bytes. */
  size: number;
  /** Files: chunk index → CHUNK_SIZE bytes. */
  chunks: Map<number, Uint8Array> | null;
  /** Symlinks: the target. */
  target: string;
  /** Directories: the entries. */
  dir: DirTable | null;
  /** Directories: the containing directory (the root names itself). */
  parent: Ino;
  /** Extended attributes. */
  xattrs: Map<string, Uint8Array> | null;
}

type DirNode = Node & { dir: DirTable };
type FileNode = Node & { chunks: Map<number, Uint8Array> };

/** An in-memory POSIX filesystem implementing `Vfs`; see the module doc for its invariants. */
export class MemoryVfs implements Vfs {
  private readonly nodes = new Map<Ino, Node>();
  private nextIno = ROOT_INO;
  private generationCounter = 0;
  private usedBytes = 0;
  private readonly capacityBytes: number;
  private readonly maxInodes: number;
  private readonly now: () => Timespec;

  constructor(opts: MemoryVfsOptions = {}) {
    this.capacityBytes = opts.capacityBytes ?? 2 ** 40;
    this.maxInodes = opts.maxInodes ?? 2 ** 32;
    this.now = opts.now ?? nowTimespec;
    const root = this.newNode("dir", opts.root?.mode ?? 0o755, {
      uid: opts.root?.uid ?? 0,
      gid: opts.root?.gid ?? 0,
    });
    root.parent = root.ino;
    root.nlink = 2;
  }

  lookup(parent: Ino, name: string): Promise<Attr> {
    return run(() => {
      validateName(name);
      const dir = this.dirNode(parent, "look up", name);
      const node = this.child(dir, name, "look up");
      node.lookups++;
      return attrOf(node);
    });
  }

  parent(ino: Ino): Promise<Ino> {
    return run(() => {
      const n = this.node(ino);
      if (n.kind !== "dir") throw err("ENOTDIR", `Inode ${ino} is not a directory`);
      return n.parent;
    });
  }

  getxattr(ino: Ino, name: string): Promise<Uint8Array> {
    return run(() => {
      checkXattrName(name);
      const v = this.node(ino).xattrs?.get(name);
      if (!v) throw err("ENODATA", `No extended attribute ${q(name)}`);
      return v.slice();
    });
  }

  setxattr(ino: Ino, name: string, value: Uint8Array, flags: XattrFlags = {}): Promise<void> {
    return run(() => {
      checkXattrName(name);
      if (value.length > XATTR_SIZE_MAX) {
        throw err("ERANGE", `Extended attribute ${q(name)} is larger than ${XATTR_SIZE_MAX} bytes`);
      }
      const n = this.node(ino);
      const has = n.xattrs?.has(name) ?? false;
      if (flags.create && has) throw err("EEXIST", `Extended attribute ${q(name)} exists`);
      if (flags.replace && !has) throw err("ENODATA", `No extended attribute ${q(name)}`);
      (n.xattrs ??= new Map()).set(name, value.slice());
      this.changed(n, this.now());
    });
  }

  listxattr(ino: Ino): Promise<string[]> {
    return run(() => [...(this.node(ino).xattrs?.keys() ?? [])]);
  }

  removexattr(ino: Ino, name: string): Promise<void> {
    return run(() => {
      checkXattrName(name);
      const n = this.node(ino);
      if (!n.xattrs?.delete(name)) throw err("ENODATA", `No extended attribute ${q(name)}`);
      this.changed(n, this.now());
    });
  }

  forget(ino: Ino, count: number): void {
    const node = this.nodes.get(ino);
    if (!node || ino === ROOT_INO) return;
    node.lookups = Math.max(0, node.lookups - count);
    this.dropIfUnused(node);
  }

  getattr(ino: Ino): Promise<Attr> {
    return run(() => attrOf(this.node(ino)));
  }

  setattr(ino: Ino, attr: SetAttr): Promise<Attr> {
    return run(() => {
      const node = this.node(ino);
      // Validate everything first so a failing call changes nothing.
      const { size, mode, uid, gid, atime, mtime } = attr;
      if (size !== undefined) {
        if (node.kind === "dir") {
          throw err("EISDIR", `Cannot truncate inode ${ino}: it is a directory`);
        }
        if (node.kind !== "file") {
          throw err("EINVAL", `Cannot truncate inode ${ino}: it is not a regular file`);
        }
        checkSize(size, `Cannot truncate inode ${ino}`);
      }
      if (mode !== undefined) checkId(mode, `Cannot chmod inode ${ino}`);
      if (uid !== undefined) checkId(uid, `Cannot chown inode ${ino}`);
      if (gid !== undefined) checkId(gid, `Cannot chown inode ${ino}`);
      if (atime !== undefined && atime !== "now") checkTime(atime, ino);
      if (mtime !== undefined && mtime !== "now") checkTime(mtime, ino);

      const now = this.now();
      let changed = false;
      if (size !== undefined) {
        this.resize(node as FileNode, size);
        node.mtime = now;
        changed = true;
      }
      if (mode !== undefined) {
        node.mode = mode & 0o7777;
        changed = true;
      }
      if (uid !== undefined) {
        node.uid = uid;
        changed = true;
      }
      if (gid !== undefined) {
        node.gid = gid;
        changed = true;
      }
      if (atime !== undefined) {
        node.atime = atime === "now" ? now : { sec: atime.sec, nsec: atime.nsec };
        changed = true;
      }
      if (mtime !== undefined) {
        node.mtime = mtime === "now" ? now : { sec: mtime.sec, nsec: mtime.nsec };
        changed = true;
      }
      if (changed) this.changed(node, now);
      return attrOf(node);
    });
  }

  readlink(ino: Ino): Promise<string> {
    return run(() => {
      const node = this.node(ino);
      if (node.kind !== "symlink") {
        throw err("EINVAL", `Cannot read link ${ino}: it is not a symbolic link`);
      }
      return node.target;
    });
  }

  read(ino: Ino, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    return run(() => {
      const node = this.fileNode(ino, "read");
      checkRange(offset, length, `Cannot read inode ${ino}`);
      if (offset >= node.size || length === 0) return new Uint8Array(0);
      const end = Math.min(node.size, offset + length);
      const out = into && into.length >= end - offset
        ? into.subarray(0, end - offset)
        : new Uint8Array(end - offset);
      let pos = offset;
      while (pos < end) {
        const index = Math.floor(pos / CHUNK_SIZE);
        const start = pos - index * CHUNK_SIZE;
        const n = Math.min(CHUNK_SIZE - start, end - pos);
        const chunk = node.chunks.get(index);
        if (chunk) out.set(chunk.subarray(start, start + n), pos - offset);
        else out.fill(0, pos - offset, pos - offset + n);
        pos += n;
      }
      return out;
    });
  }

  write(ino: Ino, offset: number, data: Uint8Array): Promise<number> {
    return run(() => {
      const node = this.fileNode(ino, "write");
      checkRange(offset, data.length, `Cannot write inode ${ino}`);
      if (data.length === 0) return 0;
      const end = offset + data.length;
      if (end > MAX_FILE_SIZE) {
        throw err(
          "EFBIG",
          `Cannot write inode ${ino}: files are limited to ${MAX_FILE_SIZE} bytes`,
        );
      }
      const first = Math.floor(offset / CHUNK_SIZE);
      const last = Math.floor((end - 1) / CHUNK_SIZE);
      let missing = 0;
      for (let i = first; i <= last; i++) if (!node.chunks.has(i)) missing++;
      if (this.usedBytes + missing * CHUNK_SIZE > this.capacityBytes) {
        throw err("ENOSPC", `Cannot write inode ${ino}: the filesystem is full`);
      }
      let pos = offset;
      for (let i = first; i <= last; i++) {
        let chunk = node.chunks.get(i);
        if (!chunk) {
          chunk = new Uint8Array(CHUNK_SIZE);
          node.chunks.set(i, chunk);
          this.usedBytes += CHUNK_SIZE;
        }
        const start = pos - i * CHUNK_SIZE;
        const n = Math.min(CHUNK_SIZE - start, end - pos);
        chunk.set(data.subarray(pos - offset, pos - offset + n), start);
        pos += n;
      }
      if (end > node.size) node.size = end;
      const now = this.now();
      node.mtime = now;
      this.changed(node, now);
      return data.length;
    });
  }

  create(
    parent: Ino,
    name: string,
    mode: number,
    caller: Caller,
    exclusive: boolean,
  ): Promise<Attr> {
    return run(() => {
      validateName(name);
      const dir = this.dirNode(parent, "create", name);
      const slot = dir.dir.get(name);
      if (slot) {
        if (exclusive) throw err("EEXIST", `Cannot create ${q(name)}: it exists`);
        const node = this.nodes.get(slot.ino)!;
        if (node.kind === "dir") throw err("EISDIR", `Cannot create ${q(name)}: it is a directory`);
        node.lookups++;
        return attrOf(node);
      }
      return attrOf(this.addNode(dir, name, "file", mode, caller));
    });
  }

  mknod(
    parent: Ino,
    name: string,
    kind: "file" | "fifo" | "socket",
    mode: number,
    caller: Caller,
  ): Promise<Attr> {
    return run(() => {
      validateName(name);
      if (kind !== "file" && kind !== "fifo" && kind !== "socket") {
        throw err("EINVAL", `Cannot create ${q(name)}: unsupported node kind "${kind}"`);
      }
      const dir = this.dirNode(parent, "create", name);
      this.absent(dir, name, "create");
      return attrOf(this.addNode(dir, name, kind, mode, caller));
    });
  }

  mkdir(parent: Ino, name: string, mode: number, caller: Caller): Promise<Attr> {
    return run(() => {
      validateName(name);
      const dir = this.dirNode(parent, "create directory", name);
      this.absent(dir, name, "create directory");
      return attrOf(this.addNode(dir, name, "dir", mode, caller));
    });
  }

  symlink(parent: Ino, name: string, target: string, caller: Caller): Promise<Attr> {
    return run(() => {
      validateName(name);
      if (target.length === 0) {
        throw err("ENOENT", `Cannot create symbolic link ${q(name)}: the target is empty`);
      }
      if (target.includes("\0")) {
        throw err("EINVAL", `Cannot create symbolic link ${q(name)}: the target contains NUL`);
      }
      if (target.length > SYMLINK_MAX || utf8Length(target) > SYMLINK_MAX) {
        throw err(
          "ENAMETOOLONG",
          `Cannot create symbolic link ${q(name)}: targets are limited to ${SYMLINK_MAX} bytes`,
        );
      }
      const dir = this.dirNode(parent, "create symbolic link", name);
      this.absent(dir, name, "create symbolic link");
      const node = this.addNode(dir, name, "symlink", 0o777, caller);
      node.target = target;
      node.size = utf8Length(target);
      return attrOf(node);
    });
  }

  link(ino: Ino, newParent: Ino, newName: string): Promise<Attr> {
    return run(() => {
      validateName(newName);
      const node = this.node(ino);
      if (node.kind === "dir") {
        throw err("EPERM", `Cannot link ${q(newName)}: hard links to directories are not allowed`);
      }
      if (node.nlink === 0) throw err("ENOENT", `Cannot link ${q(newName)}: the file was removed`);
      const dir = this.dirNode(newParent, "link", newName);
      this.absent(dir, newName, "link");
      if (node.nlink >= LINK_MAX) {
        throw err("EMLINK", `Cannot link ${q(newName)}: the file has ${LINK_MAX} links`);
      }
      dir.dir.add(newName, node.ino);
      node.nlink++;
      node.lookups++;
      const now = this.now();
      this.changed(node, now);
      this.entriesChanged(dir, now);
      return attrOf(node);
    });
  }

  unlink(parent: Ino, name: string): Promise<void> {
    return run(() => {
      validateName(name);
      const dir = this.dirNode(parent, "remove", name);
      const node = this.child(dir, name, "remove");
      if (node.kind === "dir") throw err("EISDIR", `Cannot remove ${q(name)}: it is a directory`);
      dir.dir.remove(name);
      node.nlink--;
      const now = this.now();
      this.changed(node, now);
      this.entriesChanged(dir, now);
      this.dropIfUnused(node);
    });
  }

  rmdir(parent: Ino, name: string): Promise<void> {
    return run(() => {
      validateName(name);
      const dir = this.dirNode(parent, "remove directory", name);
      const node = this.child(dir, name, "remove directory");
      if (node.dir === null) {
        throw err("ENOTDIR", `Cannot remove directory ${q(name)}: it is not a directory`);
      }
      if (node.dir.size > 0) {
        throw err("ENOTEMPTY", `Cannot remove directory ${q(name)}: it is not empty`);
      }
      dir.dir.remove(name);
      node.nlink = 0;
      dir.nlink--;
      const now = this.now();
      this.changed(node, now);
      this.entriesChanged(dir, now);
      this.dropIfUnused(node);
    });
  }

  rename(
    parent: Ino,
    name: string,
    newParent: Ino,
    newName: string,
    flags: RenameFlags = {},
  ): Promise<void> {
    return run(() => {
      validateName(name);
      validateName(newName);
      const what = `Cannot rename ${q(name)} to ${q(newName)}`;
      if (flags.exchange && flags.noReplace) {
        throw err("EINVAL", `${what}: exchange and no-replace exclude each other`);
      }
      const src = this.dirNode(parent, "rename", name);
      const dst = this.dirNode(newParent, "rename", newName);
      const sSlot = src.dir.get(name);
      if (!sSlot) throw err("ENOENT", `${what}: no such entry`);
      const sNode = this.nodes.get(sSlot.ino)!;
      const tSlot = dst.dir.get(newName);
      const tNode = tSlot ? this.nodes.get(tSlot.ino)! : undefined;

      if (flags.exchange) {
        if (!tSlot || !tNode) throw err("ENOENT", `${what}: the target does not exist`);
        if (sSlot === tSlot) return;
        if (sNode.dir !== null && this.isWithin(dst.ino, sNode.ino)) {
          throw err("EINVAL", `${what}: a directory cannot move into itself`);
        }
        if (tNode.dir !== null && this.isWithin(src.ino, tNode.ino)) {
          throw err("EINVAL", `${what}: a directory cannot move into itself`);
        }
        sSlot.ino = tNode.ino;
        tSlot.ino = sNode.ino;
        if (src !== dst) {
          if (sNode.dir !== null) this.moveDir(sNode, src, dst);
          if (tNode.dir !== null) this.moveDir(tNode, dst, src);
        }
        const now = this.now();
        this.changed(sNode, now);
        if (tNode !== sNode) this.changed(tNode, now);
        this.entriesChanged(src, now);
        if (dst !== src) this.entriesChanged(dst, now);
        return;
      }

      if (tNode && flags.noReplace) throw err("EEXIST", `${what}: the target exists`);
      if (tNode === sNode) return; // POSIX: two names of one inode, nothing to do.
      if (dst.nlink === 0) throw err("ENOENT", `${what}: the target directory was removed`);
      if (sNode.dir !== null && this.isWithin(dst.ino, sNode.ino)) {
        throw err("EINVAL", `${what}: a directory cannot move into itself`);
      }
      if (tNode) {
        if (sNode.dir !== null) {
          if (tNode.dir === null) throw err("ENOTDIR", `${what}: the target is not a directory`);
          if (tNode.dir.size > 0) throw err("ENOTEMPTY", `${what}: the target is not empty`);
        } else if (tNode.dir !== null) {
          throw err("EISDIR", `${what}: the target is a directory`);
        }
      }

      const now = this.now();
      if (tNode) {
        dst.dir.remove(newName);
        if (tNode.dir !== null) {
          tNode.nlink = 0;
          dst.nlink--;
        } else {
          tNode.nlink--;
        }
        this.changed(tNode, now);
        this.dropIfUnused(tNode);
      }
      src.dir.remove(name);
      dst.dir.add(newName, sNode.ino);
      if (sNode.dir !== null && src !== dst) this.moveDir(sNode, src, dst);
      this.changed(sNode, now);
      this.entriesChanged(src, now);
      if (dst !== src) this.entriesChanged(dst, now);
    });
  }

  readdir(ino: Ino, afterCookie: number, limit: number): Promise<DirEntry[]> {
    return run(() => {
      const node = this.node(ino);
      if (node.dir === null) {
        throw err("ENOTDIR", `Cannot list inode ${ino}: it is not a directory`);
      }
      if (limit <= 0) return [];
      return node.dir.after(afterCookie, limit).map((slot) => ({
        name: slot.name,
        ino: slot.ino,
        kind: this.nodes.get(slot.ino)!.kind,
        cookie: slot.cookie,
      }));
    });
  }

  statfs(): Promise<StatFs> {
    return run(() => {
      const totalBlocks = Math.floor(this.capacityBytes / BLOCK_SIZE);
      const freeBlocks = Math.max(0, totalBlocks - Math.ceil(this.usedBytes / BLOCK_SIZE));
      return {
        blockSize: BLOCK_SIZE,
        totalBlocks,
        freeBlocks,
        availBlocks: freeBlocks,
        totalFiles: this.maxInodes,
        freeFiles: Math.max(0, this.maxInodes - this.nodes.size),
        nameMax: NAME_MAX,
      };
    });
  }

  fsync(ino: Ino, _dataOnly: boolean): Promise<void> {
    return run(() => {
      this.node(ino);
    });
  }

  // ---- internals ----

  private node(ino: Ino): Node {
    const node = this.nodes.get(ino);
    if (!node) throw err("ESTALE", `Cannot find inode ${ino}: it does not exist (or was removed)`);
    return node;
  }

  private dirNode(ino: Ino, verb: string, name: string): DirNode {
    const node = this.node(ino);
    if (node.dir === null) {
      throw err("ENOTDIR", `Cannot ${verb} ${q(name)}: inode ${ino} is not a directory`);
    }
    return node as DirNode;
  }

  private fileNode(ino: Ino, verb: string): FileNode {
    const node = this.node(ino);
    if (node.kind === "dir") throw err("EISDIR", `Cannot ${verb} inode ${ino}: it is a directory`);
    if (node.chunks === null) {
      throw err("EINVAL", `Cannot ${verb} inode ${ino}: it is not a regular file`);
    }
    return node as FileNode;
  }

  private child(dir: DirNode, name: string, verb: string): Node {
    const slot = dir.dir.get(name);
    if (!slot) throw err("ENOENT", `Cannot ${verb} ${q(name)}: no such entry`);
    return this.nodes.get(slot.ino)!;
  }

  private absent(dir: DirNode, name: string, verb: string): void {
    if (dir.dir.get(name)) throw err("EEXIST", `Cannot ${verb} ${q(name)}: it exists`);
  }

  private newNode(kind: FileKind, mode: number, caller: Caller): Node {
    if (this.nodes.size >= this.maxInodes) {
      throw err("ENOSPC", "Cannot create a node: no inodes left");
    }
    const now = this.now();
    const node: Node = {
      ino: this.nextIno++,
      kind,
      mode: mode & 0o7777,
      uid: caller.uid,
      gid: caller.gid,
      nlink: 1,
      lookups: 1,
      atime: now,
      mtime: now,
      ctime: now,
      generation: ++this.generationCounter,
      size: 0,
      chunks: kind === "file" ? new Map() : null,
      target: "",
      dir: kind === "dir" ? new DirTable() : null,
      parent: 0,
      xattrs: null,
    };
    this.nodes.set(node.ino, node);
    return node;
  }

  /** Creates a node named `name` in `dir` (which must lack `name`). */
  private addNode(
    dir: DirNode,
    name: string,
    kind: FileKind,
    mode: number,
    caller: Caller,
  ): Node {
    if (dir.nlink === 0) {
      throw err("ENOENT", `Cannot create ${q(name)}: the directory was removed`);
    }
    let gid = caller.gid;
    let bits = mode;
    // BSD/SysV group inheritance from a set-group-ID directory.
    if (dir.mode & 0o2000) {
      gid = dir.gid;
      if (kind === "dir") bits |= 0o2000;
    }
    const node = this.newNode(kind, bits, { uid: caller.uid, gid });
    if (node.dir !== null) {
      node.nlink = 2;
      node.parent = dir.ino;
      dir.nlink++;
    }
    dir.dir.add(name, node.ino);
    this.entriesChanged(dir, node.ctime);
    return node;
  }

  private moveDir(node: Node, from: DirNode, to: DirNode): void {
    from.nlink--;
    to.nlink++;
    node.parent = to.ino;
  }

  /** True when directory `ino` is `ancestor` or lies below it. */
  private isWithin(ino: Ino, ancestor: Ino): boolean {
    let cur = ino;
    for (;;) {
      if (cur === ancestor) return true;
      if (cur === ROOT_INO) return false;
      const node = this.nodes.get(cur);
      if (!node || node.parent === cur) return false;
      cur = node.parent;
    }
  }

  private resize(node: FileNode, size: number): void {
    if (size < node.size) {
      const keep = Math.ceil(size / CHUNK_SIZE);
      for (const index of [...node.chunks.keys()]) {
        if (index >= keep) {
          node.chunks.delete(index);
          this.usedBytes -= CHUNK_SIZE;
        }
      }
      const tail = size % CHUNK_SIZE;
      if (tail !== 0) node.chunks.get(keep - 1)?.fill(0, tail);
    }
    node.size = size;
  }

  private changed(node: Node, now: Timespec): void {
    node.ctime = now;
    node.generation = ++this.generationCounter;
  }

  private entriesChanged(dir: Node, now: Timespec): void {
    dir.mtime = now;
    this.changed(dir, now);
  }

  private dropIfUnused(node: Node): void {
    if (node.nlink > 0 || node.lookups > 0 || node.ino === ROOT_INO) return;
    this.nodes.delete(node.ino);
    if (node.chunks) this.usedBytes -= node.chunks.size * CHUNK_SIZE;
  }
}

function attrOf(node: Node): Attr {
  return {
    ino: node.ino,
    kind: node.kind,
    mode: node.mode,
    nlink: node.nlink,
    uid: node.uid,
    gid: node.gid,
    size: node.kind === "dir" ? DIR_SIZE : node.size,
    atime: { sec: node.atime.sec, nsec: node.atime.nsec },
    mtime: { sec: node.mtime.sec, nsec: node.mtime.nsec },
    ctime: { sec: node.ctime.sec, nsec: node.ctime.nsec },
    generation: node.generation,
  };
}

/** Runs `fn` and turns its result or throw into a promise (the Vfs methods are async). */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

function err(code: VibeError["code"], message: string): VibeError {
  return new VibeError(code, message);
}

function q(name: string): string {
  return JSON.stringify(name.length > 64 ? name.slice(0, 64) + "…" : name);
}

function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw err("EINVAL", `${what}: bad size ${size}`);
  if (size > MAX_FILE_SIZE) {
    throw err("EFBIG", `${what}: files are limited to ${MAX_FILE_SIZE} bytes`);
  }
}

function checkRange(offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw err("EINVAL", `${what}: bad offset ${offset}`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw err("EINVAL", `${what}: bad length ${length}`);
  }
}

function checkId(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw err("EINVAL", `${what}: bad value ${value}`);
}

function checkTime(t: Timespec, ino: Ino): void {
  if (!Number.isSafeInteger(t.sec) || !Number.isInteger(t.nsec) || t.nsec < 0 || t.nsec >= 1e9) {
    throw err("EINVAL", `Cannot set times of inode ${ino}: bad timespec ${t.sec}.${t.nsec}`);
  }
}

function checkXattrName(name: string): void {
  if (name.length === 0) throw err("EINVAL", "An extended attribute name cannot be empty");
  if (utf8Length(name) > XATTR_NAME_MAX) {
    throw err("ERANGE", `Extended attribute name is longer than ${XATTR_NAME_MAX} bytes`);
  }
}
