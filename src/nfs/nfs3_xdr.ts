/**
 * NFSv3 (RFC 1813) constants and the XDR of its shared structures: fattr3,
 * wcc_data, post_op_attr, post_op_fh3, sattr3, nfstime3.
 *
 * Invariants:
 * - fattr3: `fileid` is the inode number, `fsid` is constant per export,
 *   `mode` carries permission bits only, `type` comes from `Attr.kind`;
 *   times are clamped into nfstime3's unsigned 32-bit seconds.
 * - `FATTR3_BYTES` etc. are exact wire sizes; READDIR budgets rely on them.
 */
import type { Timespec } from "../types.ts";
import type { Attr, FileKind, SetAttr } from "../vfs/vfs.ts";
import type { XdrReader, XdrWriter } from "./xdr.ts";

export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

/** ftype3 */
export const NF3REG = 1;
export const NF3DIR = 2;
export const NF3BLK = 3;
export const NF3CHR = 4;
export const NF3LNK = 5;
export const NF3SOCK = 6;
export const NF3FIFO = 7;

/** stable_how */
export const UNSTABLE = 0;
export const DATA_SYNC = 1;
export const FILE_SYNC = 2;

/** createmode3 */
export const UNCHECKED = 0;
export const GUARDED = 1;
export const EXCLUSIVE = 2;

/** ACCESS3 bits */
export const ACCESS3_READ = 0x0001;
export const ACCESS3_LOOKUP = 0x0002;
export const ACCESS3_MODIFY = 0x0004;
export const ACCESS3_EXTEND = 0x0008;
export const ACCESS3_DELETE = 0x0010;
export const ACCESS3_EXECUTE = 0x0020;

/** FSINFO properties */
export const FSF3_LINK = 0x0001;
export const FSF3_SYMLINK = 0x0002;
export const FSF3_HOMOGENEOUS = 0x0008;
export const FSF3_CANSETTIME = 0x0010;

/** time_how */
export const DONT_CHANGE = 0;
export const SET_TO_SERVER_TIME = 1;
export const SET_TO_CLIENT_TIME = 2;

/** Wire size of fattr3. */
export const FATTR3_BYTES = 84;
/** Wire size of a post_op_attr carrying attributes. */
export const POST_OP_ATTR_BYTES = 4 + FATTR3_BYTES;
/** Wire size of pre_op_attr carrying attributes (wcc_attr: size, mtime, ctime). */
export const PRE_OP_ATTR_BYTES = 4 + 24;

const TYPE_OF: Readonly<Record<FileKind, number>> = {
  file: NF3REG,
  dir: NF3DIR,
  symlink: NF3LNK,
  socket: NF3SOCK,
  fifo: NF3FIFO,
};

const U32_MAX = 4294967295;
const BLOCK = 4096;

/** nfstime3 (seconds clamped to u32). */
export function putTime(w: XdrWriter, t: Timespec): void {
  w.u32(t.sec < 0 ? 0 : t.sec > U32_MAX ? U32_MAX : t.sec);
  w.u32(t.nsec);
}

/** fattr3 of `a` in export `fsid`. */
export function putFattr(w: XdrWriter, a: Attr, fsid: number): void {
  w.ensure(FATTR3_BYTES);
  w.u32(TYPE_OF[a.kind]);
  w.u32(a.mode & 0o7777);
  w.u32(a.nlink);
  w.u32(a.uid);
  w.u32(a.gid);
  w.u64(a.size);
  w.u64(a.kind === "file" ? Math.ceil(a.size / BLOCK) * BLOCK : a.size);
  w.u32(0); // rdev.specdata1
  w.u32(0); // rdev.specdata2
  w.u64(fsid);
  w.u64(a.ino);
  putTime(w, a.atime);
  putTime(w, a.mtime);
  putTime(w, a.ctime);
}

/** post_op_attr: attributes when known. */
export function putPostOpAttr(w: XdrWriter, a: Attr | null, fsid: number): void {
  if (a === null) {
    w.u32(0);
    return;
  }
  w.u32(1);
  putFattr(w, a, fsid);
}

/** pre_op_attr from attributes taken before the operation. */
export function putPreOpAttr(w: XdrWriter, a: Attr | null): void {
  if (a === null) {
    w.u32(0);
    return;
  }
  w.u32(1);
  w.u64(a.size);
  putTime(w, a.mtime);
  putTime(w, a.ctime);
}

/** wcc_data */
export function putWcc(w: XdrWriter, pre: Attr | null, post: Attr | null, fsid: number): void {
  putPreOpAttr(w, pre);
  putPostOpAttr(w, post, fsid);
}

/** post_op_fh3 */
export function putPostOpFh(w: XdrWriter, fh: Uint8Array | null): void {
  if (fh === null) {
    w.u32(0);
    return;
  }
  w.u32(1);
  w.opaque(fh);
}

export function readTime(r: XdrReader): Timespec {
  const sec = r.u32();
  const nsec = r.u32();
  return { sec, nsec };
}

/** sattr3 as a Vfs SetAttr (absent fields stay absent). */
export function readSattr(r: XdrReader): SetAttr {
  const s: SetAttr = {};
  if (r.bool()) s.mode = r.u32() & 0o7777;
  if (r.bool()) s.uid = r.u32();
  if (r.bool()) s.gid = r.u32();
  if (r.bool()) s.size = r.u64();
  const at = r.enumBelow(3);
  if (at === SET_TO_SERVER_TIME) s.atime = "now";
  else if (at === SET_TO_CLIENT_TIME) s.atime = readTime(r);
  const mt = r.enumBelow(3);
  if (mt === SET_TO_SERVER_TIME) s.mtime = "now";
  else if (mt === SET_TO_CLIENT_TIME) s.mtime = readTime(r);
  return s;
}

/** Writes sattr3 (test client). */
export function putSattr(w: XdrWriter, s: SetAttr): void {
  const opt = (v: number | undefined) => {
    if (v === undefined) w.u32(0);
    else {
      w.u32(1);
      w.u32(v);
    }
  };
  opt(s.mode);
  opt(s.uid);
  opt(s.gid);
  if (s.size === undefined) w.u32(0);
  else {
    w.u32(1);
    w.u64(s.size);
  }
  for (const t of [s.atime, s.mtime]) {
    if (t === undefined) w.u32(DONT_CHANGE);
    else if (t === "now") w.u32(SET_TO_SERVER_TIME);
    else {
      w.u32(SET_TO_CLIENT_TIME);
      putTime(w, t);
    }
  }
}

/** True when `s` sets nothing. */
export function isEmptySattr(s: SetAttr): boolean {
  return s.mode === undefined && s.uid === undefined && s.gid === undefined &&
    s.size === undefined && s.atime === undefined && s.mtime === undefined;
}
