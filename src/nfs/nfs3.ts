/**
 * NFS version 3 (RFC 1813): all 22 procedures as one table over the Vfs.
 *
 * Invariants:
 * - Weak cache consistency: every mutating reply carries pre-operation
 *   attributes (taken with `getattr` before the change) and post-operation
 *   attributes, on success and, best effort, on failure.
 * - Lookup references: every Vfs call that hands out a node (lookup, create,
 *   mknod, mkdir, symlink, link) counts one reference in the Vfs, and the
 *   `RefLedger` counts it too. NFS has no FORGET and a client may present a
 *   handle at any time (even after a restart), so `vfs.forget` is called
 *   only for an inode that a REMOVE/RMDIR/RENAME through this server left
 *   with no links, with exactly the references this channel took (its
 *   handles are then NFS3ERR_STALE, as NFS clients expect). REMOVE, RMDIR
 *   and RENAME look the victim up first to know its inode. READDIRPLUS and
 *   LOOKUP of "." / ".." use `getattr`, which counts nothing.
 * - READDIR/READDIRPLUS: "." has cookie 1, ".." cookie 2, and a Vfs cookie
 *   `c` travels as `c + 2`, so a listing resumes exactly where it stopped.
 *   The cookie verifier is derived from the export secret and epoch: it is
 *   constant for the export, so cookies stay valid across restarts;
 *   NFS3ERR_BAD_COOKIE only for a cookie we cannot have issued (above 2^53)
 *   or a non-zero verifier that is not ours. `count` (READDIR) and `maxcount`
 *   (READDIRPLUS) bound the whole result including the status word and are
 *   never exceeded; `dircount` bounds the directory part (entry3 bytes) of a
 *   READDIRPLUS reply after its first entry. Zero entries that fit while more
 *   remain is NFS3ERR_TOOSMALL.
 * - WRITE: the Vfs write has completed before the reply; FILE_SYNC is
 *   reported only after `vfs.fsync(ino, false)`, DATA_SYNC after
 *   `fsync(ino, true)`, UNSTABLE otherwise; COMMIT calls `fsync(ino, false)`.
 *   The write verifier is random per server start: unstable data can only be
 *   lost with the process (or machine), and then the verifier changes.
 * - CREATE EXCLUSIVE keeps the client's 8-byte verifier in mtime.sec and
 *   atime.sec (nsec 0), so a retransmitted EXCLUSIVE create finds its own
 *   file and succeeds; the client then sets the real attributes.
 * - Sizes: reads and writes up to `MAX_IO_BYTES` (1 MiB); READ counts above
 *   it are cut to it.
 * - Permissions: ACCESS computes the answer from mode/uid/gid and the
 *   AUTH_SYS credential (root gets everything except EXECUTE on files without
 *   any execute bit); other procedures do not re-check permissions — the
 *   capability is the export secret (see server.ts).
 */
import { isCode } from "../errors.ts";
import type { Ino } from "../types.ts";
import type { Attr, Caller, SetAttr, Vfs } from "../vfs/vfs.ts";
import { FH_BAD, FH_STALE, type HandleCodec } from "./handles.ts";
import {
  ACCESS3_DELETE,
  ACCESS3_EXECUTE,
  ACCESS3_EXTEND,
  ACCESS3_LOOKUP,
  ACCESS3_MODIFY,
  ACCESS3_READ,
  DATA_SYNC,
  EXCLUSIVE,
  FILE_SYNC,
  FSF3_CANSETTIME,
  FSF3_HOMOGENEOUS,
  FSF3_LINK,
  FSF3_SYMLINK,
  isEmptySattr,
  NF3BLK,
  NF3CHR,
  NF3DIR,
  NF3FIFO,
  NF3LNK,
  NF3REG,
  NF3SOCK,
  NFS_PROGRAM,
  NFS_V3,
  POST_OP_ATTR_BYTES,
  putFattr,
  putPostOpAttr,
  putPostOpFh,
  putTime,
  putWcc,
  readSattr,
  readTime,
  UNCHECKED,
  UNSTABLE,
} from "./nfs3_xdr.ts";
import type { CallInfo, ProcEntry, Reply, RpcProgram } from "./program.ts";
import type { Credential } from "./rpc.ts";
import {
  NFS3_OK,
  NFS3ERR_BAD_COOKIE,
  NFS3ERR_BADHANDLE,
  NFS3ERR_BADTYPE,
  NFS3ERR_INVAL,
  NFS3ERR_NOT_SYNC,
  NFS3ERR_NOTDIR,
  NFS3ERR_NOTSUPP,
  NFS3ERR_STALE,
  NFS3ERR_TOOSMALL,
  NfsStatusError,
  type StatusMapper,
} from "./status_map.ts";
import {
  TAIL_MIN,
  utf8Size,
  XdrError,
  xdrOpaqueSize,
  type XdrReader,
  type XdrWriter,
} from "./xdr.ts";
import { BufferPool } from "../io/buffer_pool.ts";

/** NFS3_FHSIZE: the longest handle a client may send. */
export const FHSIZE3 = 64;
/** rtmax and wtmax: the largest READ and WRITE payloads (the record limit leaves room for headers). */
export const MAX_IO_BYTES = 1024 * 1024;
/** dtpref: preferred READDIR size. */
export const DTPREF_BYTES = 64 * 1024;
/** Largest READDIR/READDIRPLUS result we build, whatever the client asks. */
const MAX_DIR_REPLY = MAX_IO_BYTES;
/** Largest file size announced in FSINFO (exact JS integers). */
const MAX_FILE_BYTES = Number.MAX_SAFE_INTEGER;
/** Bound on decoded names and symlink targets (GARBAGE_ARGS beyond; records are smaller anyway). */
const MAX_PATH_BYTES = 1 << 20;
const NAME_MAX = 255;
const LINK_MAX = 65000;

/** Everything the procedures share; one per export. */
export interface Nfs3Context {
  vfs: Vfs;
  handles: HandleCodec;
  status: StatusMapper;
  fsid: number;
  /** READDIR cookie verifier (8 bytes, constant per export epoch). */
  cookieVerf: Uint8Array;
  /** WRITE/COMMIT verifier (8 bytes, random per server start). */
  writeVerf: Uint8Array;
  refs: RefLedger;
}

/**
 * The lookup references this channel took in the Vfs, per inode. NFS has
 * no FORGET; references are given back only when a REMOVE, RMDIR or RENAME
 * through this server leaves an inode with no links, because then its
 * handles are stale by NFS semantics (the Linux client renames open files
 * aside instead of removing them for exactly this reason). References of
 * other channels (a FUSE mount of the same vibe) are left alone.
 */
export class RefLedger {
  private readonly counts = new Map<Ino, number>();

  /** Records the reference a node-returning Vfs call (lookup, create, …) took. */
  took(a: Attr): Attr {
    this.counts.set(a.ino, (this.counts.get(a.ino) ?? 0) + 1);
    return a;
  }

  /** Gives our references to `ino` back when it has no links left. */
  async releaseIfUnlinked(vfs: Vfs, ino: Ino): Promise<void> {
    const n = this.counts.get(ino);
    if (n === undefined) return;
    let nlink: number;
    try {
      nlink = (await vfs.getattr(ino)).nlink;
    } catch {
      this.counts.delete(ino);
      return;
    }
    if (nlink > 0) return;
    this.counts.delete(ino);
    vfs.forget(ino, n);
  }

  /** Inodes with references held (tests, stats). */
  get size(): number {
    return this.counts.size;
  }
}

/** What a handler has learned so far, for the failure reply. */
interface OpState {
  /** The first object (or directory) of the operation, 0 until its handle is decoded. */
  a: Ino;
  aPre: Attr | null;
  /** The second directory (RENAME target, LINK directory). */
  b: Ino;
  bPre: Attr | null;
}

/**
 * Failure body shape (RFC 1813 *3resfail): status only; post_op_attr of `a`;
 * wcc_data of `a`; wcc_data of `a` and of `b`; post_op_attr of `a` + wcc_data of `b`.
 */
type Shape = "status" | "attr" | "wcc" | "wcc2" | "attr_wcc";

interface Nfs3Proc {
  name: string;
  shape: Shape;
  /** ENOENT from the Vfs means the handle's own inode is gone (→ STALE). */
  staleOnEnoent: boolean;
  nonIdempotent?: boolean;
  handler: (c: Nfs3Context, call: CallInfo, st: OpState) => Promise<Reply>;
}

// ---- argument helpers ----

function readFh(r: XdrReader): Uint8Array {
  return r.opaque(FHSIZE3);
}

function inoOf(c: Nfs3Context, fh: Uint8Array): Ino {
  const ino = c.handles.decode(fh);
  if (ino === FH_BAD) throw new NfsStatusError(NFS3ERR_BADHANDLE, "bad file handle");
  if (ino === FH_STALE) throw new NfsStatusError(NFS3ERR_STALE, "file handle of another epoch");
  return ino;
}

function readName(r: XdrReader): string | null {
  return r.stringOrNull(MAX_PATH_BYTES);
}

function needName(name: string | null): string {
  if (name === null) throw new NfsStatusError(NFS3ERR_INVAL, "name is not valid UTF-8");
  return name;
}

function callerOf(cred: Credential): Caller {
  return { uid: cred.uid, gid: cred.gid };
}

async function tryGetattr(vfs: Vfs, ino: Ino): Promise<Attr | null> {
  if (ino === 0) return null;
  try {
    return await vfs.getattr(ino);
  } catch {
    return null;
  }
}

function clampSec(sec: number): number {
  return sec < 0 ? 0 : sec > 4294967295 ? 4294967295 : sec;
}

// ---- procedures ----

async function getattr(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const fh = readFh(call.args);
  st.a = inoOf(c, fh);
  const a = await c.vfs.getattr(st.a);
  return (w) => {
    w.u32(NFS3_OK);
    putFattr(w, a, c.fsid);
  };
}

async function setattr(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const s = readSattr(r);
  const guard = r.bool() ? readTime(r) : null;
  st.a = inoOf(c, fh);
  const pre = await c.vfs.getattr(st.a);
  st.aPre = pre;
  if (guard && (clampSec(pre.ctime.sec) !== guard.sec || pre.ctime.nsec !== guard.nsec)) {
    throw new NfsStatusError(NFS3ERR_NOT_SYNC, "SETATTR guard: ctime differs");
  }
  const post = isEmptySattr(s) ? pre : await c.vfs.setattr(st.a, s);
  return (w) => {
    w.u32(NFS3_OK);
    putWcc(w, pre, post, c.fsid);
  };
}

async function lookup(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const rawName = readName(r);
  const dir = st.a = inoOf(c, fh);
  const name = needName(rawName);
  let a: Attr;
  if (name === ".") a = await c.vfs.getattr(await dirIno(c.vfs, dir));
  else if (name === "..") a = await c.vfs.getattr(await c.vfs.parent(dir));
  else a = c.refs.took(await c.vfs.lookup(dir, name));
  const d = await tryGetattr(c.vfs, dir);
  const h = c.handles.encode(a.ino);
  return (w) => {
    w.u32(NFS3_OK);
    w.opaque(h);
    putPostOpAttr(w, a, c.fsid);
    putPostOpAttr(w, d, c.fsid);
  };
}

/** `ino` when it is a directory, else ENOTDIR (through `parent`, which checks it). */
async function dirIno(vfs: Vfs, ino: Ino): Promise<Ino> {
  await vfs.parent(ino);
  return ino;
}

/** ACCESS3 bits granted to `cred` on `a` among `want` (see the module doc). */
export function accessFor(a: Attr, cred: Credential, want: number): number {
  const isDir = a.kind === "dir";
  let r: boolean, wr: boolean, x: boolean;
  if (cred.uid === 0) {
    r = true;
    wr = true;
    x = isDir || (a.mode & 0o111) !== 0;
  } else {
    let bits: number;
    if (cred.uid === a.uid) bits = a.mode >> 6;
    else if (cred.gid === a.gid || cred.gids.includes(a.gid)) bits = a.mode >> 3;
    else bits = a.mode;
    r = (bits & 4) !== 0;
    wr = (bits & 2) !== 0;
    x = (bits & 1) !== 0;
  }
  let got = 0;
  if (r) got |= ACCESS3_READ;
  if (isDir) {
    if (x) got |= ACCESS3_LOOKUP;
    if (wr && x) got |= ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE;
  } else {
    if (wr) got |= ACCESS3_MODIFY | ACCESS3_EXTEND;
    if (x) got |= ACCESS3_EXECUTE;
  }
  return got & want;
}

async function access(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const want = r.u32();
  st.a = inoOf(c, fh);
  const a = await c.vfs.getattr(st.a);
  const got = accessFor(a, call.cred, want);
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    w.u32(got);
  };
}

async function readlink(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const fh = readFh(call.args);
  st.a = inoOf(c, fh);
  const target = await c.vfs.readlink(st.a);
  const a = await tryGetattr(c.vfs, st.a);
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    w.string(target);
  };
}

const EMPTY = new Uint8Array(0);

/** Buffers for READ data (MAX_IO_BYTES each); a few per connection in flight. */
const READ_BUFFERS = new BufferPool(MAX_IO_BYTES, 16);

async function read(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const offset = r.u64();
  const count = Math.min(r.u32(), MAX_IO_BYTES);
  st.a = inoOf(c, fh);
  // Large reads land in a pooled buffer, which goes back once the reply is sent.
  const buf = count >= TAIL_MIN ? READ_BUFFERS.take() : undefined;
  const data = offset > Number.MAX_SAFE_INTEGER
    ? EMPTY
    : await c.vfs.read(st.a, offset, count, buf);
  const a = await c.vfs.getattr(st.a);
  const eof = offset + data.length >= a.size;
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    w.u32(data.length);
    w.bool(eof);
    w.opaqueLast(data, buf ? () => READ_BUFFERS.give(buf) : undefined);
  };
}

async function write(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const offset = r.u64();
  const count = r.u32();
  const stable = r.enumBelow(3);
  const data = r.opaque(MAX_IO_BYTES);
  st.a = inoOf(c, fh);
  const pre = await c.vfs.getattr(st.a);
  st.aPre = pre;
  const len = Math.min(count, data.length);
  if (len > 0) await c.vfs.write(st.a, offset, len === data.length ? data : data.subarray(0, len));
  let committed = UNSTABLE;
  if (stable === FILE_SYNC) {
    await c.vfs.fsync(st.a, false);
    committed = FILE_SYNC;
  } else if (stable === DATA_SYNC) {
    await c.vfs.fsync(st.a, true);
    committed = DATA_SYNC;
  }
  const post = await tryGetattr(c.vfs, st.a);
  return (w) => {
    w.u32(NFS3_OK);
    putWcc(w, pre, post, c.fsid);
    w.u32(len);
    w.u32(committed);
    w.fixed(c.writeVerf);
  };
}

/** The reply of CREATE, MKDIR, SYMLINK and MKNOD. */
function createdReply(c: Nfs3Context, a: Attr, pre: Attr, post: Attr | null): Reply {
  const h = c.handles.encode(a.ino);
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpFh(w, h);
    putPostOpAttr(w, a, c.fsid);
    putWcc(w, pre, post, c.fsid);
  };
}

/** `s` without `mode` (and without size when `noSize`), or null when nothing is left. */
function restOf(s: SetAttr, noSize: boolean): SetAttr | null {
  const rest: SetAttr = {};
  if (s.uid !== undefined) rest.uid = s.uid;
  if (s.gid !== undefined) rest.gid = s.gid;
  if (!noSize && s.size !== undefined) rest.size = s.size;
  if (s.atime !== undefined) rest.atime = s.atime;
  if (s.mtime !== undefined) rest.mtime = s.mtime;
  return isEmptySattr(rest) ? null : rest;
}

async function create(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const rawName = readName(r);
  const how = r.enumBelow(3);
  let s: SetAttr = {};
  let verf: Uint8Array | null = null;
  if (how === EXCLUSIVE) verf = r.fixed(8);
  else s = readSattr(r);
  const dir = st.a = inoOf(c, fh);
  const name = needName(rawName);
  const pre = await c.vfs.getattr(dir);
  st.aPre = pre;
  const caller = callerOf(call.cred);
  let a: Attr;
  if (verf !== null) {
    const v = new DataView(verf.buffer, verf.byteOffset, 8);
    const mtimeSec = v.getUint32(0);
    const atimeSec = v.getUint32(4);
    try {
      a = c.refs.took(await c.vfs.create(dir, name, 0o600, caller, true));
      a = await c.vfs.setattr(a.ino, {
        mtime: { sec: mtimeSec, nsec: 0 },
        atime: { sec: atimeSec, nsec: 0 },
      });
    } catch (e) {
      if (!isCode(e, "EEXIST")) throw e;
      const old = c.refs.took(await c.vfs.lookup(dir, name));
      const same = old.kind === "file" && old.mtime.sec === mtimeSec && old.mtime.nsec === 0 &&
        old.atime.sec === atimeSec && old.atime.nsec === 0;
      if (!same) throw e;
      a = old; // a retransmission of our own EXCLUSIVE create
    }
  } else {
    const mode = s.mode ?? 0o644;
    try {
      a = c.refs.took(await c.vfs.create(dir, name, mode, caller, true));
      const rest = restOf(s, false);
      if (rest) a = await c.vfs.setattr(a.ino, rest);
    } catch (e) {
      if (how !== UNCHECKED || !isCode(e, "EEXIST")) throw e;
      // UNCHECKED on an existing file: only a truncation applies (as open(O_CREAT|O_TRUNC)).
      a = c.refs.took(await c.vfs.create(dir, name, mode, caller, false));
      if (s.size !== undefined) a = await c.vfs.setattr(a.ino, { size: s.size });
    }
  }
  const post = await tryGetattr(c.vfs, dir);
  return createdReply(c, a, pre, post);
}

async function mkdir(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const rawName = readName(r);
  const s = readSattr(r);
  const dir = st.a = inoOf(c, fh);
  const name = needName(rawName);
  const pre = await c.vfs.getattr(dir);
  st.aPre = pre;
  let a = c.refs.took(await c.vfs.mkdir(dir, name, s.mode ?? 0o755, callerOf(call.cred)));
  const rest = restOf(s, true);
  if (rest) a = await c.vfs.setattr(a.ino, rest);
  const post = await tryGetattr(c.vfs, dir);
  return createdReply(c, a, pre, post);
}

async function symlink(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const rawName = readName(r);
  const s = readSattr(r);
  const rawTarget = r.stringOrNull(MAX_PATH_BYTES);
  const dir = st.a = inoOf(c, fh);
  const name = needName(rawName);
  const target = needName(rawTarget);
  const pre = await c.vfs.getattr(dir);
  st.aPre = pre;
  let a = c.refs.took(await c.vfs.symlink(dir, name, target, callerOf(call.cred)));
  const rest = restOf(s, true);
  if (rest) a = await c.vfs.setattr(a.ino, rest);
  const post = await tryGetattr(c.vfs, dir);
  return createdReply(c, a, pre, post);
}

async function mknod(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  const rawName = readName(r);
  const type = r.u32();
  if (type < NF3REG || type > NF3FIFO) throw new NfsStatusError(NFS3ERR_BADTYPE);
  let s: SetAttr = {};
  if (type === NF3CHR || type === NF3BLK) {
    s = readSattr(r);
    r.u32(); // specdata1
    r.u32(); // specdata2
  } else if (type === NF3SOCK || type === NF3FIFO) s = readSattr(r);
  const dir = st.a = inoOf(c, fh);
  const name = needName(rawName);
  if (type === NF3REG || type === NF3DIR || type === NF3LNK) {
    throw new NfsStatusError(NFS3ERR_BADTYPE, "MKNOD of a regular file, directory or symlink");
  }
  if (type === NF3CHR || type === NF3BLK) {
    throw new NfsStatusError(NFS3ERR_NOTSUPP, "device nodes are not supported");
  }
  const pre = await c.vfs.getattr(dir);
  st.aPre = pre;
  const kind = type === NF3FIFO ? "fifo" : "socket";
  let a = c.refs.took(await c.vfs.mknod(dir, name, kind, s.mode ?? 0o644, callerOf(call.cred)));
  const rest = restOf(s, true);
  if (rest) a = await c.vfs.setattr(a.ino, rest);
  const post = await tryGetattr(c.vfs, dir);
  return createdReply(c, a, pre, post);
}

async function remove(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  return await removeEntry(c, call.args, st, false);
}

async function rmdir(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  return await removeEntry(c, call.args, st, true);
}

async function removeEntry(
  c: Nfs3Context,
  r: XdrReader,
  st: OpState,
  isDir: boolean,
): Promise<Reply> {
  const fh = readFh(r);
  const rawName = readName(r);
  const dir = st.a = inoOf(c, fh);
  const name = needName(rawName);
  const pre = await c.vfs.getattr(dir);
  st.aPre = pre;
  const victim = c.refs.took(await c.vfs.lookup(dir, name));
  if (isDir) await c.vfs.rmdir(dir, name);
  else await c.vfs.unlink(dir, name);
  await c.refs.releaseIfUnlinked(c.vfs, victim.ino);
  const post = await tryGetattr(c.vfs, dir);
  return (w) => {
    w.u32(NFS3_OK);
    putWcc(w, pre, post, c.fsid);
  };
}

async function rename(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fromFh = readFh(r);
  const rawFrom = readName(r);
  const toFh = readFh(r);
  const rawTo = readName(r);
  const from = st.a = inoOf(c, fromFh);
  const to = st.b = inoOf(c, toFh);
  const fromName = needName(rawFrom);
  const toName = needName(rawTo);
  const fromPre = await c.vfs.getattr(from);
  st.aPre = fromPre;
  const toPre = to === from ? fromPre : await c.vfs.getattr(to);
  st.bPre = toPre;
  let victim: Ino = 0;
  try {
    victim = c.refs.took(await c.vfs.lookup(to, toName)).ino;
  } catch { /* no target (or a bad one: rename reports it) */ }
  await c.vfs.rename(from, fromName, to, toName);
  if (victim !== 0) await c.refs.releaseIfUnlinked(c.vfs, victim);
  const fromPost = await tryGetattr(c.vfs, from);
  const toPost = to === from ? fromPost : await tryGetattr(c.vfs, to);
  return (w) => {
    w.u32(NFS3_OK);
    putWcc(w, fromPre, fromPost, c.fsid);
    putWcc(w, toPre, toPost, c.fsid);
  };
}

async function link(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fileFh = readFh(r);
  const dirFh = readFh(r);
  const rawName = readName(r);
  const file = st.a = inoOf(c, fileFh);
  const dir = st.b = inoOf(c, dirFh);
  const name = needName(rawName);
  const pre = await c.vfs.getattr(dir);
  st.bPre = pre;
  const a = c.refs.took(await c.vfs.link(file, dir, name));
  const post = await tryGetattr(c.vfs, dir);
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    putWcc(w, pre, post, c.fsid);
  };
}

/** One entry of a listing being built. */
interface DirItem {
  name: string;
  ino: Ino;
  /** The cookie on the wire (Vfs cookie + 2; 1 for ".", 2 for ".."). */
  cookie: number;
  attr: Attr | null;
}

/** Fixed bytes of a READDIR(PLUS) result: status, post_op_attr, verifier, list end, eof. */
const DIR_FIXED_BYTES = 4 + POST_OP_ATTR_BYTES + 8 + 4 + 4;
/** entry3 without its name: value_follows, fileid, (name length), cookie. */
const ENTRY3_BYTES = 4 + 8 + 8;
/** entryplus3 beyond entry3: post_op_attr and post_op_fh3 (36-byte handle). */
const PLUS_EXTRA_BYTES = POST_OP_ATTR_BYTES + 4 + xdrOpaqueSize(36);

async function readdirCommon(
  c: Nfs3Context,
  call: CallInfo,
  st: OpState,
  plus: boolean,
): Promise<Reply> {
  const r = call.call.args;
  const fh = readFh(r);
  const cookie = r.u64();
  const verf = r.fixed(8);
  const dircount = plus ? r.u32() : 0;
  const count = r.u32();
  const dir = st.a = inoOf(c, fh);
  if (cookie > Number.MAX_SAFE_INTEGER) {
    throw new NfsStatusError(NFS3ERR_BAD_COOKIE, "cookie out of range");
  }
  if (cookie !== 0 && !isZero(verf) && !sameBytes(verf, c.cookieVerf)) {
    throw new NfsStatusError(NFS3ERR_BAD_COOKIE, "cookie verifier is not ours");
  }
  const dirAttr = await c.vfs.getattr(dir);
  if (dirAttr.kind !== "dir") throw new NfsStatusError(NFS3ERR_NOTDIR, "not a directory");
  const budget = Math.min(count, MAX_DIR_REPLY);
  const perEntry = ENTRY3_BYTES + (plus ? PLUS_EXTRA_BYTES : 0);
  let used = DIR_FIXED_BYTES;
  let dirUsed = 0;
  const items: DirItem[] = [];
  let full = false;
  /** Adds an item if it fits; false (and `full`) when it does not. */
  const add = (name: string, ino: Ino, wireCookie: number): boolean => {
    const nameBytes = xdrOpaqueSize(utf8Size(name));
    const size = perEntry + nameBytes;
    const dsize = ENTRY3_BYTES + nameBytes;
    if (
      used + size > budget ||
      (plus && dircount > 0 && items.length > 0 && dirUsed + dsize > dircount)
    ) {
      full = true;
      return false;
    }
    used += size;
    dirUsed += dsize;
    items.push({ name, ino, cookie: wireCookie, attr: null });
    return true;
  };
  if (cookie === 0) add(".", dir, 1);
  if (cookie <= 1 && !full) add("..", await c.vfs.parent(dir), 2);
  let eof = false;
  let after = cookie <= 2 ? 0 : cookie - 2;
  while (!full) {
    const room = Math.floor((budget - used) / (perEntry + 8)) + 1;
    const batch = await c.vfs.readdir(dir, after, Math.min(4096, Math.max(room, 1)));
    if (batch.length === 0) {
      eof = true;
      break;
    }
    for (const e of batch) {
      if (!add(e.name, e.ino, e.cookie + 2)) break;
      after = e.cookie;
    }
  }
  if (items.length === 0 && !eof) {
    throw new NfsStatusError(NFS3ERR_TOOSMALL, "no entry fits the reply size");
  }
  if (plus) {
    for (const it of items) it.attr = await tryGetattr(c.vfs, it.ino);
  }
  return (w) => {
    w.ensure(used);
    w.u32(NFS3_OK);
    putPostOpAttr(w, dirAttr, c.fsid);
    w.fixed(c.cookieVerf);
    for (const it of items) {
      w.u32(1);
      w.u64(it.ino);
      w.string(it.name);
      w.u64(it.cookie);
      if (plus) {
        putPostOpAttr(w, it.attr, c.fsid);
        putPostOpFh(w, it.attr === null ? null : c.handles.encode(it.ino));
      }
    }
    w.u32(0);
    w.bool(eof);
  };
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function readdir(c: Nfs3Context, call: CallInfo, st: OpState): Promise<Reply> {
  return await readdirCommon(c, call, st, false);
}

async function readdirplus(c: Nfs3Context, call: CallInfo, st: OpState): Promise<Reply> {
  return await readdirCommon(c, call, st, true);
}

async function fsstat(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const fh = readFh(call.args);
  st.a = inoOf(c, fh);
  const a = await c.vfs.getattr(st.a);
  const s = await c.vfs.statfs();
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    w.u64(s.totalBlocks * s.blockSize);
    w.u64(s.freeBlocks * s.blockSize);
    w.u64(s.availBlocks * s.blockSize);
    w.u64(s.totalFiles);
    w.u64(s.freeFiles);
    w.u64(s.freeFiles);
    w.u32(0); // invarsec: the values may change at any time
  };
}

async function fsinfo(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const fh = readFh(call.args);
  st.a = inoOf(c, fh);
  const a = await c.vfs.getattr(st.a);
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    w.u32(MAX_IO_BYTES); // rtmax
    w.u32(MAX_IO_BYTES); // rtpref
    w.u32(4096); // rtmult
    w.u32(MAX_IO_BYTES); // wtmax
    w.u32(MAX_IO_BYTES); // wtpref
    w.u32(4096); // wtmult
    w.u32(DTPREF_BYTES); // dtpref
    w.u64(MAX_FILE_BYTES); // maxfilesize
    putTime(w, { sec: 0, nsec: 1 }); // time_delta: nanosecond timestamps
    w.u32(FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME);
  };
}

async function pathconf(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const fh = readFh(call.args);
  st.a = inoOf(c, fh);
  const a = await c.vfs.getattr(st.a);
  return (w) => {
    w.u32(NFS3_OK);
    putPostOpAttr(w, a, c.fsid);
    w.u32(LINK_MAX); // linkmax
    w.u32(NAME_MAX); // name_max
    w.bool(true); // no_trunc: long names are errors, never truncated
    w.bool(true); // chown_restricted
    w.bool(false); // case_insensitive
    w.bool(true); // case_preserving
  };
}

async function commit(c: Nfs3Context, { call }: CallInfo, st: OpState): Promise<Reply> {
  const r = call.args;
  const fh = readFh(r);
  r.u64(); // offset
  r.u32(); // count: the whole file is made durable
  st.a = inoOf(c, fh);
  const pre = await c.vfs.getattr(st.a);
  st.aPre = pre;
  await c.vfs.fsync(st.a, false);
  const post = await tryGetattr(c.vfs, st.a);
  return (w) => {
    w.u32(NFS3_OK);
    putWcc(w, pre, post, c.fsid);
    w.fixed(c.writeVerf);
  };
}

function nullProc(): Promise<Reply> {
  return Promise.resolve(() => {});
}

/** The procedure table, indexed by procedure number (RFC 1813 §3.3). */
export const NFS3_PROCS: readonly Nfs3Proc[] = [
  { name: "NULL", shape: "status", staleOnEnoent: false, handler: nullProc },
  { name: "GETATTR", shape: "status", staleOnEnoent: true, handler: getattr },
  { name: "SETATTR", shape: "wcc", staleOnEnoent: true, handler: setattr },
  { name: "LOOKUP", shape: "attr", staleOnEnoent: false, handler: lookup },
  { name: "ACCESS", shape: "attr", staleOnEnoent: true, handler: access },
  { name: "READLINK", shape: "attr", staleOnEnoent: true, handler: readlink },
  { name: "READ", shape: "attr", staleOnEnoent: true, handler: read },
  { name: "WRITE", shape: "wcc", staleOnEnoent: true, handler: write },
  { name: "CREATE", shape: "wcc", staleOnEnoent: false, nonIdempotent: true, handler: create },
  { name: "MKDIR", shape: "wcc", staleOnEnoent: false, nonIdempotent: true, handler: mkdir },
  { name: "SYMLINK", shape: "wcc", staleOnEnoent: false, nonIdempotent: true, handler: symlink },
  { name: "MKNOD", shape: "wcc", staleOnEnoent: false, nonIdempotent: true, handler: mknod },
  { name: "REMOVE", shape: "wcc", staleOnEnoent: false, nonIdempotent: true, handler: remove },
  { name: "RMDIR", shape: "wcc", staleOnEnoent: false, nonIdempotent: true, handler: rmdir },
  { name: "RENAME", shape: "wcc2", staleOnEnoent: false, nonIdempotent: true, handler: rename },
  { name: "LINK", shape: "attr_wcc", staleOnEnoent: false, nonIdempotent: true, handler: link },
  { name: "READDIR", shape: "attr", staleOnEnoent: true, handler: readdir },
  { name: "READDIRPLUS", shape: "attr", staleOnEnoent: true, handler: readdirplus },
  { name: "FSSTAT", shape: "attr", staleOnEnoent: true, handler: fsstat },
  { name: "FSINFO", shape: "attr", staleOnEnoent: true, handler: fsinfo },
  { name: "PATHCONF", shape: "attr", staleOnEnoent: true, handler: pathconf },
  { name: "COMMIT", shape: "wcc", staleOnEnoent: true, handler: commit },
];

/** Runs one procedure, turning failures into its failure body (status + what is known). */
async function runProc(c: Nfs3Context, p: Nfs3Proc, info: CallInfo): Promise<Reply> {
  const st: OpState = { a: 0, aPre: null, b: 0, bPre: null };
  try {
    return await p.handler(c, info, st);
  } catch (e) {
    if (e instanceof XdrError) throw e;
    const status = c.status.toStatus(e, `NFS3 ${p.name}`, st.a, p.staleOnEnoent);
    const known = status !== NFS3ERR_BADHANDLE && status !== NFS3ERR_STALE;
    let aPost: Attr | null = null;
    let bPost: Attr | null = null;
    if (known && p.shape !== "status") {
      aPost = await tryGetattr(c.vfs, st.a);
      if (p.shape === "wcc2" || p.shape === "attr_wcc") {
        bPost = st.b === st.a ? aPost : await tryGetattr(c.vfs, st.b);
      }
    }
    const { aPre, bPre } = st;
    return (w: XdrWriter) => {
      w.u32(status);
      switch (p.shape) {
        case "status":
          break;
        case "attr":
          putPostOpAttr(w, aPost, c.fsid);
          break;
        case "wcc":
          putWcc(w, aPre, aPost, c.fsid);
          break;
        case "wcc2":
          putWcc(w, aPre, aPost, c.fsid);
          putWcc(w, bPre, bPost, c.fsid);
          break;
        case "attr_wcc":
          putPostOpAttr(w, aPost, c.fsid);
          putWcc(w, bPre, bPost, c.fsid);
          break;
      }
    };
  }
}

/** The NFS program (100003, version 3) over context `c`. */
export function nfs3Program(c: Nfs3Context): RpcProgram {
  const procs: ProcEntry[] = NFS3_PROCS.map((p) => {
    const entry: ProcEntry = { name: p.name, run: (info) => runProc(c, p, info) };
    if (p.nonIdempotent) entry.nonIdempotent = true;
    return entry;
  });
  return { prog: NFS_PROGRAM, name: "nfs3", low: NFS_V3, high: NFS_V3, procs };
}
