/**
 * The protocol-neutral filesystem API that the FUSE and NFS channels call.
 *
 * Invariants every implementation keeps (the contract suite in
 * tests/vfs_contract.ts checks them):
 * - Inode-based: `ROOT_INO` (1) is the root directory. An inode number, once
 *   handed out, names the same object for the life of the vibe (across
 *   restarts of the process) and is never reused for another object.
 * - Errors are `VibeError` with a symbolic errno name (`ENOENT`, `ENOTEMPTY`,
 *   …); never a number, never a raw `Deno.errors` value.
 * - Names are validated on every call that takes one: no `/`, no NUL, not
 *   empty, not `.` or `..` (EINVAL), at most 255 bytes of UTF-8 (ENAMETOOLONG).
 * - `readdir` never returns `.` or `..` (channels synthesize them). Cookies are
 *   positive, strictly increasing within a listing, independent of inode
 *   numbers, and resumable: entries after cookie `c` are exactly the entries
 *   that still exist and were listed after `c`, plus any added since, so a
 *   listing resumed across concurrent changes never skips or repeats an entry
 *   that stayed put.
 * - Lazy: no file content is read until `read` asks for it.
 * - `mode` fields carry permission bits only (0o7777); the file type is `kind`.
 */
import type { Ino, Timespec } from "../types.ts";

export const ROOT_INO: Ino = 1;

export type FileKind = "file" | "dir" | "symlink" | "fifo" | "socket";

/** Attributes of an inode, as both channels need them. */
export interface Attr {
  ino: Ino;
  kind: FileKind;
  /** Permission bits (0o7777). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Bytes for files, target length for symlinks, an implementation-chosen value for dirs. */
  size: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Changes whenever the content or attributes change (NFS change attribute, cache checks). */
  generation?: number;
}

/** Fields of `setattr`; absent fields are left alone. "now" means the server's clock. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec | "now";
  mtime?: Timespec | "now";
}

/** Who creates a node (owner of the new inode). */
export interface Caller {
  uid: number;
  gid: number;
}

export interface DirEntry {
  name: string;
  ino: Ino;
  kind: FileKind;
  /** Pass back as `afterCookie` to continue after this entry. */
  cookie: number;
}

export interface StatFs {
  blockSize: number;
  totalBlocks: number;
  freeBlocks: number;
  availBlocks: number;
  totalFiles: number;
  freeFiles: number;
  nameMax: number;
}

export interface RenameFlags {
  /** Fail with EEXIST when the target exists (RENAME_NOREPLACE). */
  noReplace?: boolean;
  /** Atomically swap source and target, both must exist (RENAME_EXCHANGE). */
  exchange?: boolean;
}

export interface XattrFlags {
  create?: boolean;
  replace?: boolean;
}

/** Limits of extended attributes (Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX). */
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;

export interface Vfs {
  /** Looks `name` up in directory `parent`. ENOENT when absent, ENOTDIR when parent is no dir. */
  lookup(parent: Ino, name: string): Promise<Attr>;
  /** The kernel dropped `count` references to `ino`; caches for it may be freed. Never throws. */
  forget(ino: Ino, count: number): void;
  getattr(ino: Ino): Promise<Attr>;
  /**
   * Changes attributes. A size change truncates or extends (zero-filled) a
   * file; EISDIR for a directory, EINVAL for other kinds. Returns the new attrs.
   */
  setattr(ino: Ino, attr: SetAttr): Promise<Attr>;
  /** Symlink target. EINVAL when `ino` is not a symlink. */
  readlink(ino: Ino): Promise<string>;
  /**
   * Up to `length` bytes at `offset`; shorter only at end of file. EISDIR for
   * dirs. With `into` (at least `length` bytes), the bytes may be read into
   * it and a view of it returned, so callers can reuse buffers: the result is
   * `into`'s memory or another array, and either is valid until `into` is
   * reused.
   */
  read(ino: Ino, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Writes all of `data` at `offset` (holes read as zeros). Returns bytes written. */
  write(ino: Ino, offset: number, data: Uint8Array): Promise<number>;
  /**
   * Creates a regular file. When `name` exists: EEXIST if `exclusive`,
   * otherwise the existing file's attrs (EISDIR if it is a directory).
   */
  create(
    parent: Ino,
    name: string,
    mode: number,
    caller: Caller,
    exclusive: boolean,
  ): Promise<Attr>;
  /** Creates a regular file, a FIFO or a socket node. EEXIST when the name exists. */
  mknod(
    parent: Ino,
    name: string,
    kind: "file" | "fifo" | "socket",
    mode: number,
    caller: Caller,
  ): Promise<Attr>;
  mkdir(parent: Ino, name: string, mode: number, caller: Caller): Promise<Attr>;
  symlink(parent: Ino, name: string, target: string, caller: Caller): Promise<Attr>;
  /** Hard link to an existing non-directory (EPERM for dirs). */
  link(ino: Ino, newParent: Ino, newName: string): Promise<Attr>;
  /** Removes a non-directory entry (EISDIR for a dir). The inode lives on while referenced. */
  unlink(parent: Ino, name: string): Promise<void>;
  /** Removes an empty directory (ENOTEMPTY, ENOTDIR). */
  rmdir(parent: Ino, name: string): Promise<void>;
  /**
   * POSIX rename: replaces an existing target of a compatible kind (a file
   * over a file, a dir over an empty dir; ENOTEMPTY, EISDIR, ENOTDIR
   * otherwise); EINVAL when moving a directory into its own subtree; renaming
   * a name onto itself (same inode) is a no-op.
   */
  rename(
    parent: Ino,
    name: string,
    newParent: Ino,
    newName: string,
    flags?: RenameFlags,
  ): Promise<void>;
  /** Entries after `afterCookie` (0 = from the start), at most `limit`. ENOTDIR for non-dirs. */
  readdir(ino: Ino, afterCookie: number, limit: number): Promise<DirEntry[]>;
  /** The directory containing directory `ino` (the root's parent is the root). ENOTDIR otherwise. */
  parent(ino: Ino): Promise<Ino>;
  /** Value of an extended attribute. ENODATA when absent. */
  getxattr(ino: Ino, name: string): Promise<Uint8Array>;
  /**
   * Sets an extended attribute. `create`: EEXIST when it exists; `replace`:
   * ENODATA when it does not. Names are at most 255 bytes, values 64 KiB (ERANGE).
   */
  setxattr(ino: Ino, name: string, value: Uint8Array, flags?: XattrFlags): Promise<void>;
  /** Names of the inode's extended attributes. */
  listxattr(ino: Ino): Promise<string[]>;
  /** ENODATA when absent. */
  removexattr(ino: Ino, name: string): Promise<void>;
  statfs(): Promise<StatFs>;
  /** Makes the inode's data (and, unless dataOnly, metadata) durable. */
  fsync(ino: Ino, dataOnly: boolean): Promise<void>;
}
