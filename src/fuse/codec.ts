/**
 * Encoding and decoding of FUSE frames (layouts in abi.ts).
 *
 * Hot path: the session decodes every request through one DataView over the
 * reader's buffer (no copies; names are decoded straight from the buffer) and
 * encodes every reply into one reused scratch buffer. The `put*` encoders
 * write at an offset and return the offset after what they wrote; they never
 * allocate. `readStruct`/`writeStruct` are the generic forms the tests and the
 * rare messages (INIT) use.
 *
 * u64 fields are JS numbers: inode numbers, offsets, sizes and request ids
 * all stay below 2^53 (vibe allocates inodes below 2^53; the kernel counts
 * request ids up by 2 from 0).
 */
import type { Attr, FileKind } from "../vfs/vfs.ts";
import {
  DT_DIR,
  DT_FIFO,
  DT_LNK,
  DT_REG,
  DT_SOCK,
  type FieldType,
  fuse_attr,
  fuse_attr_out,
  FUSE_COMPAT_INIT_IN_SIZE,
  fuse_dirent,
  fuse_entry_out,
  FUSE_ENTRY_OUT_SIZE,
  fuse_in_header,
  FUSE_INIT_EXT,
  fuse_init_in,
  fuse_kstatfs,
  fuse_out_header,
  fuseRecAlign,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
  S_IFSOCK,
  type StructLayout,
} from "./abi.ts";

const TWO32 = 2 ** 32;

/** A malformed frame: the session answers it with `errno` (a Linux errno name). */
export class FrameError extends Error {
  constructor(readonly errno: "EINVAL" | "EILSEQ" | "EIO" | "ENAMETOOLONG", message: string) {
    super(message);
    this.name = "FrameError";
  }
}

// ---- scalar helpers ----

/** Reads a little-endian u64 as a number (exact below 2^53). */
export function getU64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * TWO32;
}

/** Reads a little-endian i64 as a number (exact within ±2^53). */
export function getI64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getInt32(off + 4, true) * TWO32;
}

/** Writes a non-negative integer below 2^53, or any negative one, as a little-endian 64-bit value. */
export function putU64(v: DataView, off: number, n: number): void {
  if (n >= 0) {
    v.setUint32(off, n % TWO32, true);
    v.setUint32(off + 4, Math.floor(n / TWO32), true);
  } else {
    v.setBigInt64(off, BigInt(n), true);
  }
}

function getField(v: DataView, off: number, type: FieldType): number {
  switch (type) {
    case "u16":
      return v.getUint16(off, true);
    case "i16":
      return v.getInt16(off, true);
    case "u32":
      return v.getUint32(off, true);
    case "i32":
      return v.getInt32(off, true);
    case "u64":
      return getU64(v, off);
    case "i64":
      return getI64(v, off);
  }
}

function putField(v: DataView, off: number, type: FieldType, n: number): void {
  switch (type) {
    case "u16":
      v.setUint16(off, n, true);
      return;
    case "i16":
      v.setInt16(off, n, true);
      return;
    case "u32":
      v.setUint32(off, n >>> 0, true);
      return;
    case "i32":
      v.setInt32(off, n, true);
      return;
    case "u64":
    case "i64":
      putU64(v, off, n);
      return;
  }
}

/** Decodes every field of `layout` at `off`. */
export function readStruct<F extends string>(
  layout: StructLayout<F>,
  v: DataView,
  off = 0,
): Record<F, number> {
  const out = {} as Record<F, number>;
  for (const f of layout.fields) out[f.name] = getField(v, off + f.offset, f.type);
  return out;
}

/** Encodes `values` at `off` (absent fields are written as 0); returns the offset after the struct. */
export function writeStruct<F extends string>(
  layout: StructLayout<F>,
  v: DataView,
  off: number,
  values: Partial<Record<F, number>>,
): number {
  for (const f of layout.fields) putField(v, off + f.offset, f.type, values[f.name] ?? 0);
  return off + layout.size;
}

// ---- requests ----

/** The decoded fuse_in_header. */
export interface InHeader {
  len: number;
  opcode: number;
  unique: number;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
  /** Length of request extensions, in 8-byte units (0 unless negotiated). */
  totalExtlen: number;
}

const H = fuse_in_header.at;

/** Decodes the request header at the start of `v`. */
export function decodeInHeader(v: DataView): InHeader {
  return {
    len: v.getUint32(H.len, true),
    opcode: v.getUint32(H.opcode, true),
    unique: getU64(v, H.unique),
    nodeid: getU64(v, H.nodeid),
    uid: v.getUint32(H.uid, true),
    gid: v.getUint32(H.gid, true),
    pid: v.getUint32(H.pid, true),
    totalExtlen: v.getUint16(H.total_extlen, true),
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Decodes the NUL-terminated name at `bytes[start..]` (before `end`). Throws
 * FrameError: EINVAL when no NUL is found, EILSEQ when it is not UTF-8 (vibe
 * stores names as strings, so a name that does not decode cannot round-trip).
 */
export function getCString(
  bytes: Uint8Array,
  start: number,
  end: number,
): { text: string; next: number } {
  const nul = bytes.indexOf(0, start);
  if (nul < 0 || nul >= end) throw new FrameError("EINVAL", "Name is not NUL-terminated");
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(start, nul));
  } catch {
    throw new FrameError("EILSEQ", "Name is not valid UTF-8");
  }
  return { text, next: nul + 1 };
}

/** The decoded INIT request; `flags2` is 0 unless the kernel set FUSE_INIT_EXT. */
export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
}

/** Decodes fuse_init_in (16 bytes before 7.36, 64 after). */
export function decodeInitIn(v: DataView, off: number, argLen: number): InitIn {
  if (argLen < FUSE_COMPAT_INIT_IN_SIZE) throw new FrameError("EIO", "INIT request is too short");
  const a = fuse_init_in.at;
  const flags = v.getUint32(off + a.flags, true);
  const ext = argLen >= fuse_init_in.size && (flags & FUSE_INIT_EXT) !== 0;
  return {
    major: v.getUint32(off + a.major, true),
    minor: v.getUint32(off + a.minor, true),
    maxReadahead: v.getUint32(off + a.max_readahead, true),
    flags,
    flags2: ext ? v.getUint32(off + a.flags2, true) : 0,
  };
}

// ---- replies ----

/** Writes fuse_out_header; returns the offset after it. */
export function putOutHeader(
  v: DataView,
  off: number,
  len: number,
  error: number,
  unique: number,
): number {
  const o = fuse_out_header.at;
  v.setUint32(off + o.len, len, true);
  v.setInt32(off + o.error, error, true);
  putU64(v, off + o.unique, unique);
  return off + fuse_out_header.size;
}

/** S_IF* bits of a Vfs kind. */
export function kindToMode(kind: FileKind): number {
  switch (kind) {
    case "file":
      return S_IFREG;
    case "dir":
      return S_IFDIR;
    case "symlink":
      return S_IFLNK;
    case "fifo":
      return S_IFIFO;
    case "socket":
      return S_IFSOCK;
  }
}

/** d_type of a Vfs kind. */
export function kindToDirentType(kind: FileKind): number {
  switch (kind) {
    case "file":
      return DT_REG;
    case "dir":
      return DT_DIR;
    case "symlink":
      return DT_LNK;
    case "fifo":
      return DT_FIFO;
    case "socket":
      return DT_SOCK;
  }
}

/** Preferred I/O size reported in st_blksize. */
export const ATTR_BLKSIZE = 4096;

const A = fuse_attr.at;

/** Writes a fuse_attr for `attr`; st_blocks counts 512-byte units of the size. */
export function putAttr(v: DataView, off: number, attr: Attr): number {
  putU64(v, off + A.ino, attr.ino);
  putU64(v, off + A.size, attr.size);
  putU64(v, off + A.blocks, Math.ceil(attr.size / 512));
  putU64(v, off + A.atime, attr.atime.sec);
  putU64(v, off + A.mtime, attr.mtime.sec);
  putU64(v, off + A.ctime, attr.ctime.sec);
  v.setUint32(off + A.atimensec, attr.atime.nsec, true);
  v.setUint32(off + A.mtimensec, attr.mtime.nsec, true);
  v.setUint32(off + A.ctimensec, attr.ctime.nsec, true);
  v.setUint32(off + A.mode, kindToMode(attr.kind) | (attr.mode & 0o7777), true);
  v.setUint32(off + A.nlink, attr.nlink, true);
  v.setUint32(off + A.uid, attr.uid, true);
  v.setUint32(off + A.gid, attr.gid, true);
  v.setUint32(off + A.rdev, 0, true);
  v.setUint32(off + A.blksize, ATTR_BLKSIZE, true);
  v.setUint32(off + A.flags, 0, true);
  return off + fuse_attr.size;
}

/** A cache timeout in seconds, split the way the kernel wants it. */
export interface Timeout {
  sec: number;
  nsec: number;
}

/** Splits a non-negative timeout in (possibly fractional) seconds. */
export function toTimeout(seconds: number): Timeout {
  const s = Math.max(0, seconds);
  const sec = Math.floor(s);
  return { sec, nsec: Math.min(999_999_999, Math.round((s - sec) * 1e9)) };
}

const E = fuse_entry_out.at;

/**
 * Writes fuse_entry_out. `attr` null means a negative entry (nodeid 0): the
 * kernel caches the absence for `entryValid`. The generation is always 0:
 * vibe never reuses an inode number, so nodeid alone is unique.
 */
export function putEntryOut(
  v: DataView,
  off: number,
  attr: Attr | null,
  entryValid: Timeout,
  attrValid: Timeout,
): number {
  putU64(v, off + E.nodeid, attr === null ? 0 : attr.ino);
  putU64(v, off + E.generation, 0);
  putU64(v, off + E.entry_valid, entryValid.sec);
  putU64(v, off + E.attr_valid, attr === null ? 0 : attrValid.sec);
  v.setUint32(off + E.entry_valid_nsec, entryValid.nsec, true);
  v.setUint32(off + E.attr_valid_nsec, attr === null ? 0 : attrValid.nsec, true);
  const at = off + fuse_entry_out.size;
  if (attr === null) {
    new Uint8Array(v.buffer, v.byteOffset + at, fuse_attr.size).fill(0);
    return at + fuse_attr.size;
  }
  return putAttr(v, at, attr);
}

/** Writes fuse_attr_out. */
export function putAttrOut(v: DataView, off: number, attr: Attr, attrValid: Timeout): number {
  const o = fuse_attr_out.at;
  putU64(v, off + o.attr_valid, attrValid.sec);
  v.setUint32(off + o.attr_valid_nsec, attrValid.nsec, true);
  v.setUint32(off + o.dummy, 0, true);
  return putAttr(v, off + fuse_attr_out.size, attr);
}

/** The fields of fuse_kstatfs vibe fills. */
export interface KStatfs {
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  bsize: number;
  namelen: number;
  frsize: number;
}

/** Writes fuse_statfs_out (a fuse_kstatfs). */
export function putStatfs(v: DataView, off: number, s: KStatfs): number {
  return writeStruct(fuse_kstatfs, v, off, s);
}

/** Bytes a READDIR record for a name of `nameLen` bytes takes. */
export function direntSize(nameLen: number): number {
  return fuseRecAlign(fuse_dirent.size + nameLen);
}

/** Bytes a READDIRPLUS record for a name of `nameLen` bytes takes. */
export function direntplusSize(nameLen: number): number {
  return fuseRecAlign(FUSE_ENTRY_OUT_SIZE + fuse_dirent.size + nameLen);
}

const D = fuse_dirent.at;

/**
 * Writes a fuse_dirent with `name` and zero padding. `nextOff` is the offset
 * the kernel passes back to continue AFTER this entry.
 */
export function putDirent(
  v: DataView,
  bytes: Uint8Array,
  off: number,
  ino: number,
  nextOff: number,
  type: number,
  name: Uint8Array,
): number {
  putU64(v, off + D.ino, ino);
  putU64(v, off + D.off, nextOff);
  v.setUint32(off + D.namelen, name.length, true);
  v.setUint32(off + D.type, type, true);
  const at = off + fuse_dirent.size;
  bytes.set(name, at);
  const end = fuseRecAlign(at + name.length - off) + off;
  bytes.fill(0, at + name.length, end);
  return end;
}

/** UTF-8 bytes of a name. */
export function encodeName(name: string): Uint8Array {
  return utf8Encoder.encode(name);
}

// ---- decoding replies (tests, golden frames) ----

/** A decoded fuse_dirent (READDIR) or fuse_direntplus (READDIRPLUS) record. */
export interface DecodedDirent {
  ino: number;
  off: number;
  type: number;
  name: string;
  /** READDIRPLUS only: entry_out.nodeid (0 = no entry handed out). */
  nodeid?: number;
  /** READDIRPLUS only: the raw fuse_attr. */
  attr?: Record<string, number>;
}

/** Decodes the records of a READDIR / READDIRPLUS reply body. */
export function decodeDirents(body: Uint8Array, plus: boolean): DecodedDirent[] {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: DecodedDirent[] = [];
  let off = 0;
  const head = plus ? FUSE_ENTRY_OUT_SIZE : 0;
  while (off + head + fuse_dirent.size <= body.length) {
    const d = off + head;
    const namelen = v.getUint32(d + D.namelen, true);
    const rec: DecodedDirent = {
      ino: getU64(v, d + D.ino),
      off: getU64(v, d + D.off),
      type: v.getUint32(d + D.type, true),
      name: new TextDecoder().decode(
        body.subarray(d + fuse_dirent.size, d + fuse_dirent.size + namelen),
      ),
    };
    if (plus) {
      rec.nodeid = getU64(v, off + E.nodeid);
      rec.attr = readStruct(fuse_attr, v, off + fuse_entry_out.size);
    }
    out.push(rec);
    off += plus ? direntplusSize(namelen) : direntSize(namelen);
  }
  return out;
}
