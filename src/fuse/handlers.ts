/**
 * The FUSE opcode handlers (the table that routes to them is in session.ts).
 *
 * Invariants:
 * - Each handler decodes every argument it needs from the request buffer
 *   before its first await: the reader reuses the buffer as soon as the
 *   handler returns its promise (WRITE, flagged `retainsBuffer`, is the one
 *   exception and may keep its payload view until it settles).
 * - Each handler answers exactly once through the session's `reply*`
 *   methods; a throw becomes an errno reply (errno_map.ts).
 * - Replies that hand the kernel an inode go through `replyEntry`,
 *   `replyCreate` or `replyDirents`, which keep the lookup ledger and give
 *   the Vfs its reference back when the kernel does not take the reply.
 */
import { isCode } from "../errors.ts";
import type { Attr, Caller, SetAttr } from "../vfs/vfs.ts";
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { BufferPool } from "../io/buffer_pool.ts";
import * as abi from "./abi.ts";
import {
  direntplusSize,
  direntSize,
  encodeName,
  FrameError,
  getCString,
  getI64,
  getU64,
  kindToDirentType,
  putDirent,
  putEntryOut,
  readStruct,
} from "./codec.ts";
import type { FuseSession, Req } from "./session.ts";

function caller(r: Req): Caller {
  return { uid: r.h.uid, gid: r.h.gid };
}

/** The first NUL-terminated name after the fixed args. */
function name1(r: Req): string {
  return getCString(r.b, r.arg + r.op.argSize, r.argEnd).text;
}

/** Two consecutive NUL-terminated names after the fixed args. */
function name2(r: Req): [string, string] {
  const a = getCString(r.b, r.arg + r.op.argSize, r.argEnd);
  const b = getCString(r.b, a.next, r.argEnd);
  return [a.text, b.text];
}

function args<F extends string>(r: Req, layout: abi.StructLayout<F>): Record<F, number> {
  return readStruct(layout, r.v, r.arg);
}

export async function lookup(s: FuseSession, r: Req): Promise<void> {
  const name = name1(r);
  const parent = r.h.nodeid;
  if (name === "." || name === "..") {
    // Export support (NFS re-export, open_by_handle_at): the Vfs cannot count
    // these references, the ledger keeps them as extra.
    const ino = name === "." ? parent : await s.vfs.parent(parent);
    s.replyEntry(r, await s.vfs.getattr(ino), true);
    return;
  }
  let attr: Attr;
  try {
    attr = await s.vfs.lookup(parent, name);
  } catch (e) {
    if (isCode(e, "ENOENT") && s.opts.negativeTimeoutSec > 0) {
      s.replyNegativeEntry(r);
      return;
    }
    throw e;
  }
  s.replyEntry(r, attr);
}

export function forget(s: FuseSession, r: Req): void {
  s.forget(r.h.nodeid, getU64(r.v, r.arg + abi.fuse_forget_in.at.nlookup));
}

export function batchForget(s: FuseSession, r: Req): void {
  const count = r.v.getUint32(r.arg + abi.fuse_batch_forget_in.at.count, true);
  let off = r.arg + abi.fuse_batch_forget_in.size;
  const one = abi.fuse_forget_one;
  for (let i = 0; i < count && off + one.size <= r.argEnd; i++, off += one.size) {
    s.forget(getU64(r.v, off + one.at.nodeid), getU64(r.v, off + one.at.nlookup));
  }
}

export async function getattr(s: FuseSession, r: Req): Promise<void> {
  s.replyAttr(r, await s.vfs.getattr(r.h.nodeid));
}

export async function setattr(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_setattr_in);
  const set: SetAttr = {};
  if (a.valid & abi.FATTR_MODE) set.mode = a.mode & 0o7777;
  if (a.valid & abi.FATTR_UID) set.uid = a.uid;
  if (a.valid & abi.FATTR_GID) set.gid = a.gid;
  if (a.valid & abi.FATTR_SIZE) set.size = a.size;
  // Times are signed on the wire (i64 seconds): a date before 1970 is negative.
  const at = abi.fuse_setattr_in.at;
  if (a.valid & abi.FATTR_ATIME) {
    set.atime = a.valid & abi.FATTR_ATIME_NOW
      ? "now"
      : { sec: getI64(r.v, r.arg + at.atime), nsec: a.atimensec };
  }
  if (a.valid & abi.FATTR_MTIME) {
    set.mtime = a.valid & abi.FATTR_MTIME_NOW
      ? "now"
      : { sec: getI64(r.v, r.arg + at.mtime), nsec: a.mtimensec };
  }
  // FATTR_FH, FATTR_LOCKOWNER: no file handles in vibe. FATTR_CTIME: the Vfs keeps ctime itself.
  // A size change must not meet a passthrough open of the old bytes (io_modes.ts).
  const release = set.size !== undefined ? s.holdUnpinned(r.h.nodeid) : null;
  try {
    s.replyAttr(r, await s.vfs.setattr(r.h.nodeid, set));
  } finally {
    release?.();
  }
}

export async function readlink(s: FuseSession, r: Req): Promise<void> {
  s.replyBytes(r, encodeName(await s.vfs.readlink(r.h.nodeid)));
}

export async function symlink(s: FuseSession, r: Req): Promise<void> {
  const [name, target] = name2(r);
  s.replyEntry(r, await s.vfs.symlink(r.h.nodeid, name, target, caller(r)));
}

export async function mknod(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_mknod_in);
  const name = name1(r);
  const type = a.mode & abi.S_IFMT;
  // Sockets come through here too: bind(2) of a unix socket in a vibe.
  let kind: "file" | "fifo" | "socket";
  if (type === abi.S_IFREG || type === 0) kind = "file";
  else if (type === abi.S_IFIFO) kind = "fifo";
  else if (type === abi.S_IFSOCK) kind = "socket";
  else {
    s.replyError(r, LINUX_ERRNO.EPERM); // device nodes are not supported
    return;
  }
  s.replyEntry(r, await s.vfs.mknod(r.h.nodeid, name, kind, a.mode & 0o7777, caller(r)));
}

export async function mkdir(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_mkdir_in);
  const name = name1(r);
  s.replyEntry(r, await s.vfs.mkdir(r.h.nodeid, name, a.mode & 0o7777, caller(r)));
}

export async function unlink(s: FuseSession, r: Req): Promise<void> {
  await s.vfs.unlink(r.h.nodeid, name1(r));
  s.replyEmpty(r);
}

export async function rmdir(s: FuseSession, r: Req): Promise<void> {
  await s.vfs.rmdir(r.h.nodeid, name1(r));
  s.replyEmpty(r);
}

export async function rename(s: FuseSession, r: Req): Promise<void> {
  const newdir = getU64(r.v, r.arg + abi.fuse_rename_in.at.newdir);
  const [from, to] = name2(r);
  await s.vfs.rename(r.h.nodeid, from, newdir, to);
  s.replyEmpty(r);
}

export async function rename2(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_rename2_in);
  const [from, to] = name2(r);
  const known = abi.RENAME_NOREPLACE | abi.RENAME_EXCHANGE;
  if (a.flags & ~known) {
    s.replyError(r, LINUX_ERRNO.EINVAL); // RENAME_WHITEOUT (overlayfs only) and unknown bits
    return;
  }
  const flags: { noReplace?: boolean; exchange?: boolean } = {};
  if (a.flags & abi.RENAME_NOREPLACE) flags.noReplace = true;
  if (a.flags & abi.RENAME_EXCHANGE) flags.exchange = true;
  await s.vfs.rename(r.h.nodeid, from, a.newdir, to, flags);
  s.replyEmpty(r);
}

export async function link(s: FuseSession, r: Req): Promise<void> {
  const old = getU64(r.v, r.arg + abi.fuse_link_in.at.oldnodeid);
  const name = name1(r);
  s.replyEntry(r, await s.vfs.link(old, r.h.nodeid, name));
}

/**
 * open_flags of OPEN/CREATE replies. FOPEN_NOFLUSH always: vibe keeps no
 * per-open state and has no writeback cache, so FLUSH would be a round trip
 * for nothing — and a close(2) issued synchronously by a thread of this very
 * process (Deno closes files on the JS thread) would wait for a FLUSH that
 * only that thread could answer. FOPEN_KEEP_CACHE when `keepCache` allows.
 */
function openFlagsFor(s: FuseSession, ino: number, truncated: boolean): number {
  let keep = false;
  try {
    keep = !truncated && s.opts.keepCache(ino);
  } catch {
    keep = false;
  }
  return abi.FOPEN_NOFLUSH | (keep ? abi.FOPEN_KEEP_CACHE : 0);
}

export async function open(s: FuseSession, r: Req): Promise<void> {
  const flags = r.v.getUint32(r.arg + abi.fuse_open_in.at.flags, true);
  const ino = r.h.nodeid;
  const truncate = (flags & abi.O_TRUNC) !== 0;
  const readOnly = (flags & abi.O_ACCMODE) === abi.O_RDONLY && !truncate;
  if (readOnly) {
    s.replyOpenFile(r, ino, openFlagsFor(s, ino, false), true, backingFor(s, ino));
    return;
  }
  const release = s.holdUnpinned(ino);
  try {
    // With FUSE_ATOMIC_O_TRUNC the kernel leaves O_TRUNC to us.
    if (truncate) await s.vfs.setattr(ino, { size: 0 });
    s.replyOpenFile(r, ino, openFlagsFor(s, ino, truncate), false, null);
  } finally {
    release();
  }
}

/** The host file a read-only open of `ino` may be passed through to, or null. */
function backingFor(s: FuseSession, ino: number): string | null {
  try {
    return s.opts.backingFile?.(ino) ?? null;
  } catch {
    return null;
  }
}

export function release(s: FuseSession, r: Req): void {
  s.releaseFile(getU64(r.v, r.arg + abi.fuse_release_in.at.fh));
  s.replyEmpty(r);
}

export async function create(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_create_in);
  const name = name1(r);
  const exclusive = (a.flags & abi.O_EXCL) !== 0;
  let attr = await s.vfs.create(r.h.nodeid, name, a.mode & 0o7777, caller(r), exclusive);
  const truncate = (a.flags & abi.O_TRUNC) !== 0;
  const readOnly = (a.flags & abi.O_ACCMODE) === abi.O_RDONLY && !truncate;
  // CREATE reaches an existing file only through a stale negative dentry; the
  // VFS will not truncate after it, so O_TRUNC is ours.
  let release: (() => void) | null = null;
  try {
    if (!readOnly) release = s.holdUnpinned(attr.ino);
    if (truncate && attr.size > 0) attr = await s.vfs.setattr(attr.ino, { size: 0 });
    s.replyCreate(r, attr, openFlagsFor(s, attr.ino, truncate), readOnly);
  } catch (e) {
    s.vfs.forget(attr.ino, 1);
    throw e;
  } finally {
    release?.();
  }
}

/** Buffers for large READs (the reply is written synchronously, so they come back at once). */
const READ_BUFFERS = new BufferPool(1024 * 1024, 8);
const POOLED_READ_MIN = 64 * 1024;

export async function read(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_read_in);
  const buf = a.size >= POOLED_READ_MIN ? READ_BUFFERS.take() : undefined;
  try {
    s.replyBytes(r, await s.vfs.read(r.h.nodeid, a.offset, a.size, buf));
  } finally {
    if (buf) READ_BUFFERS.give(buf);
  }
}

export async function write(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_write_in);
  const start = r.arg + abi.fuse_write_in.size;
  if (start + a.size > r.argEnd) {
    throw new FrameError("EIO", "WRITE payload is shorter than its size");
  }
  const n = await s.vfs.write(r.h.nodeid, a.offset, r.b.subarray(start, start + a.size));
  s.replyStruct(r, abi.fuse_write_out, { size: n });
}

export async function statfs(s: FuseSession, r: Req): Promise<void> {
  const st = await s.vfs.statfs();
  s.replyStatfs(r, {
    blocks: st.totalBlocks,
    bfree: st.freeBlocks,
    bavail: st.availBlocks,
    files: st.totalFiles,
    ffree: st.freeFiles,
    bsize: st.blockSize,
    namelen: st.nameMax,
    frsize: st.blockSize,
  });
}

export function empty(s: FuseSession, r: Req): void {
  s.replyEmpty(r);
}

export async function fsync(s: FuseSession, r: Req): Promise<void> {
  const flags = r.v.getUint32(r.arg + abi.fuse_fsync_in.at.fsync_flags, true);
  await s.vfs.fsync(r.h.nodeid, (flags & abi.FUSE_FSYNC_FDATASYNC) !== 0);
  s.replyEmpty(r);
}

export async function setxattr(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_setxattr_in);
  const { text: name, next } = getCString(r.b, r.arg + abi.fuse_setxattr_in.size, r.argEnd);
  if (next + a.size > r.argEnd) {
    throw new FrameError("EIO", "SETXATTR value is shorter than its size");
  }
  const value = r.b.slice(next, next + a.size);
  const flags: { create?: boolean; replace?: boolean } = {};
  if (a.flags & abi.XATTR_CREATE) flags.create = true;
  if (a.flags & abi.XATTR_REPLACE) flags.replace = true;
  await s.vfs.setxattr(r.h.nodeid, name, value, flags);
  s.replyEmpty(r);
}

/** The size-probe protocol of GETXATTR/LISTXATTR: size 0 asks for the length only. */
function replySized(s: FuseSession, r: Req, size: number, data: Uint8Array): void {
  if (size === 0) s.replyStruct(r, abi.fuse_getxattr_out, { size: data.length });
  else if (data.length > size) s.replyError(r, LINUX_ERRNO.ERANGE);
  else s.replyBytes(r, data);
}

export async function getxattr(s: FuseSession, r: Req): Promise<void> {
  const size = r.v.getUint32(r.arg + abi.fuse_getxattr_in.at.size, true);
  const name = name1(r);
  replySized(s, r, size, await s.vfs.getxattr(r.h.nodeid, name));
}

export async function listxattr(s: FuseSession, r: Req): Promise<void> {
  const size = r.v.getUint32(r.arg + abi.fuse_getxattr_in.at.size, true);
  const names = await s.vfs.listxattr(r.h.nodeid);
  const parts = names.map(encodeName);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length + 1; // NUL separator (already zero)
  }
  replySized(s, r, size, out);
}

export async function removexattr(s: FuseSession, r: Req): Promise<void> {
  await s.vfs.removexattr(r.h.nodeid, name1(r));
  s.replyEmpty(r);
}

/** Classic POSIX check on mode bits (the kernel checks first with default_permissions). */
export function accessAllowed(attr: Attr, uid: number, gid: number, mask: number): boolean {
  const want = mask & (abi.R_OK | abi.W_OK | abi.X_OK);
  if (want === 0) return true;
  if (uid === 0) {
    return (want & abi.X_OK) === 0 || attr.kind === "dir" || (attr.mode & 0o111) !== 0;
  }
  const bits = uid === attr.uid
    ? (attr.mode >> 6) & 7
    : gid === attr.gid
    ? (attr.mode >> 3) & 7
    : attr.mode & 7;
  return (bits & want) === want;
}

export async function access(s: FuseSession, r: Req): Promise<void> {
  const mask = r.v.getUint32(r.arg + abi.fuse_access_in.at.mask, true);
  const attr = await s.vfs.getattr(r.h.nodeid);
  if (accessAllowed(attr, r.h.uid, r.h.gid, mask)) s.replyEmpty(r);
  else s.replyError(r, LINUX_ERRNO.EACCES);
}

export function init(s: FuseSession, r: Req): void {
  s.handleInit(r);
}

export function interrupt(s: FuseSession, r: Req): void {
  s.handleInterrupt(r);
}

export function destroy(s: FuseSession, r: Req): void {
  s.replyEmpty(r);
  s.end("DESTROY");
}

/**
 * Directory listings are cached by the kernel (FOPEN_CACHE_DIR) and kept
 * across opens: changes through this mount invalidate them in the kernel,
 * and changes from outside (restore) are announced with notify_inval_inode.
 */
export function opendir(s: FuseSession, r: Req): void {
  // A kernel with NO_OPENDIR_SUPPORT takes ENOSYS as "opening directories is
  // a no-op" and stops sending OPENDIR and RELEASEDIR (two requests per
  // directory visit, most of a warm `find`); it then opens directories with
  // FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR by itself. Readdir never needs a handle.
  if (((s.init?.kernelFlags ?? 0) & abi.FUSE_NO_OPENDIR_SUPPORT) !== 0) {
    s.replyError(r, LINUX_ERRNO.ENOSYS);
    return;
  }
  s.replyOpenDir(r, abi.FOPEN_CACHE_DIR | abi.FOPEN_KEEP_CACHE);
}

const DOT = encodeName(".");
const DOTDOT = encodeName("..");

/**
 * READDIR and READDIRPLUS. Offsets: "." ends at 1, ".." at 2, a Vfs entry
 * with cookie c at c + 2; a request at offset o resumes after the entry that
 * ended there, so resumption is exact.
 */
async function readdirCommon(s: FuseSession, r: Req, plus: boolean): Promise<void> {
  const a = args(r, abi.fuse_read_in);
  const dir = r.h.nodeid;
  const offset = a.offset;
  const room = Math.min(a.size, s.scratch.length - 16);
  const minRec = plus ? direntplusSize(1) : direntSize(1);
  const dots = offset === 0 ? 2 : offset === 1 ? 1 : 0;
  const want = Math.max(0, Math.floor(room / minRec) - dots);
  const [entries, parentIno] = await Promise.all([
    want > 0 ? s.vfs.readdir(dir, offset <= 2 ? 0 : offset - 2, want) : Promise.resolve([]),
    dots === 0 ? Promise.resolve(dir) : s.vfs.parent(dir).catch(() => dir),
  ]);
  const size = plus ? direntplusSize : direntSize;
  // Choose what fits first, so only those entries get looked up (and counted).
  let used = 0;
  if (dots === 2) used += size(1);
  if (dots >= 1) used += size(2);
  const names: Uint8Array[] = [];
  for (const e of entries) {
    const nb = encodeName(e.name);
    const need = size(nb.length);
    if (used + need > room) break;
    used += need;
    names.push(nb);
  }
  const chosen = entries.slice(0, names.length);
  let attrs: (Attr | null)[] = [];
  if (plus) {
    attrs = await Promise.all(chosen.map((e) => s.vfs.lookup(dir, e.name).catch(() => null)));
  }
  // Encode and send in one tick (the scratch buffer is shared).
  const v = s.body;
  const bytes = s.scratch;
  let off = 16;
  const put = (ino: number, next: number, type: number, nb: Uint8Array, attr: Attr | null) => {
    if (plus) off = putEntryOut(v, off, attr, s.entryValid, s.attrValid);
    off = putDirent(v, bytes, off, ino, next, type, nb);
  };
  // "." and ".." carry nodeid 0 in READDIRPLUS: the kernel never links them.
  if (dots === 2) put(dir, 1, abi.DT_DIR, DOT, null);
  if (dots >= 1) put(parentIno, 2, abi.DT_DIR, DOTDOT, null);
  const handed: number[] = [];
  for (let i = 0; i < chosen.length; i++) {
    const e = chosen[i]!;
    const attr = plus ? attrs[i]! : null;
    if (plus && attr === null) continue; // vanished since readdir
    const ino = attr?.ino ?? e.ino;
    const kind = attr?.kind ?? e.kind;
    put(ino, e.cookie + 2, kindToDirentType(kind), names[i]!, attr);
    if (attr) handed.push(attr.ino);
  }
  s.replyDirents(r, off - 16, handed);
}

export function readdir(s: FuseSession, r: Req): Promise<void> {
  return readdirCommon(s, r, false);
}

export function readdirplus(s: FuseSession, r: Req): Promise<void> {
  return readdirCommon(s, r, true);
}

export async function fallocate(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_fallocate_in);
  if (a.mode & ~abi.FALLOC_FL_KEEP_SIZE) {
    s.replyError(r, LINUX_ERRNO.EOPNOTSUPP); // PUNCH_HOLE, ZERO_RANGE, COLLAPSE, INSERT, UNSHARE
    return;
  }
  const attr = await s.vfs.getattr(r.h.nodeid);
  const end = a.offset + a.length;
  // No block allocation to do: extend the size (mode 0) or nothing (KEEP_SIZE).
  if (!(a.mode & abi.FALLOC_FL_KEEP_SIZE) && end > attr.size) {
    await s.vfs.setattr(r.h.nodeid, { size: end });
  }
  s.replyEmpty(r);
}

export async function lseek(s: FuseSession, r: Req): Promise<void> {
  const a = args(r, abi.fuse_lseek_in);
  if (a.whence !== abi.SEEK_DATA && a.whence !== abi.SEEK_HOLE) {
    s.replyError(r, LINUX_ERRNO.EINVAL);
    return;
  }
  const attr = await s.vfs.getattr(r.h.nodeid);
  // No hole tracking: data everywhere below the size, one hole at the end.
  if (a.offset >= attr.size) {
    s.replyError(r, LINUX_ERRNO.ENXIO);
    return;
  }
  s.replyStruct(r, abi.fuse_lseek_out, {
    offset: a.whence === abi.SEEK_DATA ? a.offset : attr.size,
  });
}
