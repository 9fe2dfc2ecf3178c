/**
 * The FUSE kernel ABI, from the kernel's include/uapi/linux/fuse.h (protocol
 * 7.45). Names keep the kernel's spelling so they grep against fuse.h.
 *
 * Invariants:
 * - Every struct layout lists its fields in header order with their C types;
 *   offsets follow C's natural alignment and `defineStruct` checks the total
 *   against the size fuse.h implies, at module load.
 * - All integers are little-endian (x86_64 and aarch64 Linux).
 */

/** Protocol version we speak; the session uses min(kernel minor, ours). */
export const FUSE_KERNEL_VERSION = 7;
export const FUSE_KERNEL_MINOR_VERSION = 45;
/** Oldest kernel minor we accept (Linux 5.4); older kernels get EPROTO on INIT. */
export const FUSE_MIN_MINOR_VERSION = 31;
export const FUSE_ROOT_ID = 1;
/** The read buffer must be at least this large whatever max_write is. */
export const FUSE_MIN_READ_BUFFER = 8192;
/** Longest entry name the kernel sends or accepts (FUSE_NAME_MAX in fuse_i.h). */
export const FUSE_NAME_MAX = 1024;

// ---- opcodes (enum fuse_opcode) ----
export const FUSE_LOOKUP = 1;
export const FUSE_FORGET = 2;
export const FUSE_GETATTR = 3;
export const FUSE_SETATTR = 4;
export const FUSE_READLINK = 5;
export const FUSE_SYMLINK = 6;
export const FUSE_MKNOD = 8;
export const FUSE_MKDIR = 9;
export const FUSE_UNLINK = 10;
export const FUSE_RMDIR = 11;
export const FUSE_RENAME = 12;
export const FUSE_LINK = 13;
export const FUSE_OPEN = 14;
export const FUSE_READ = 15;
export const FUSE_WRITE = 16;
export const FUSE_STATFS = 17;
export const FUSE_RELEASE = 18;
export const FUSE_FSYNC = 20;
export const FUSE_SETXATTR = 21;
export const FUSE_GETXATTR = 22;
export const FUSE_LISTXATTR = 23;
export const FUSE_REMOVEXATTR = 24;
export const FUSE_FLUSH = 25;
export const FUSE_INIT = 26;
export const FUSE_OPENDIR = 27;
export const FUSE_READDIR = 28;
export const FUSE_RELEASEDIR = 29;
export const FUSE_FSYNCDIR = 30;
export const FUSE_GETLK = 31;
export const FUSE_SETLK = 32;
export const FUSE_SETLKW = 33;
export const FUSE_ACCESS = 34;
export const FUSE_CREATE = 35;
export const FUSE_INTERRUPT = 36;
export const FUSE_BMAP = 37;
export const FUSE_DESTROY = 38;
export const FUSE_IOCTL = 39;
export const FUSE_POLL = 40;
export const FUSE_NOTIFY_REPLY = 41;
export const FUSE_BATCH_FORGET = 42;
export const FUSE_FALLOCATE = 43;
export const FUSE_READDIRPLUS = 44;
export const FUSE_RENAME2 = 45;
export const FUSE_LSEEK = 46;
export const FUSE_COPY_FILE_RANGE = 47;
export const FUSE_SETUPMAPPING = 48;
export const FUSE_REMOVEMAPPING = 49;
export const FUSE_SYNCFS = 50;
export const FUSE_TMPFILE = 51;
export const FUSE_STATX = 52;
export const FUSE_COPY_FILE_RANGE_64 = 53;
export const CUSE_INIT = 4096;

// ---- notify codes (enum fuse_notify_code), sent in fuse_out_header.error ----
export const FUSE_NOTIFY_POLL = 1;
export const FUSE_NOTIFY_INVAL_INODE = 2;
export const FUSE_NOTIFY_INVAL_ENTRY = 3;
export const FUSE_NOTIFY_STORE = 4;
export const FUSE_NOTIFY_RETRIEVE = 5;
export const FUSE_NOTIFY_DELETE = 6;

// ---- INIT flags (fuse_init_in/out.flags; bits 32..63 live in flags2) ----
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_POSIX_LOCKS = 1 << 1;
export const FUSE_FILE_OPS = 1 << 2;
export const FUSE_ATOMIC_O_TRUNC = 1 << 3;
export const FUSE_EXPORT_SUPPORT = 1 << 4;
export const FUSE_BIG_WRITES = 1 << 5;
export const FUSE_DONT_MASK = 1 << 6;
export const FUSE_SPLICE_WRITE = 1 << 7;
export const FUSE_SPLICE_MOVE = 1 << 8;
export const FUSE_SPLICE_READ = 1 << 9;
export const FUSE_FLOCK_LOCKS = 1 << 10;
export const FUSE_HAS_IOCTL_DIR = 1 << 11;
export const FUSE_AUTO_INVAL_DATA = 1 << 12;
export const FUSE_DO_READDIRPLUS = 1 << 13;
export const FUSE_READDIRPLUS_AUTO = 1 << 14;
export const FUSE_ASYNC_DIO = 1 << 15;
export const FUSE_WRITEBACK_CACHE = 1 << 16;
export const FUSE_NO_OPEN_SUPPORT = 1 << 17;
export const FUSE_PARALLEL_DIROPS = 1 << 18;
export const FUSE_HANDLE_KILLPRIV = 1 << 19;
export const FUSE_POSIX_ACL = 1 << 20;
export const FUSE_ABORT_ERROR = 1 << 21;
export const FUSE_MAX_PAGES = 1 << 22;
export const FUSE_CACHE_SYMLINKS = 1 << 23;
export const FUSE_NO_OPENDIR_SUPPORT = 1 << 24;
export const FUSE_EXPLICIT_INVAL_DATA = 1 << 25;
export const FUSE_MAP_ALIGNMENT = 1 << 26;
export const FUSE_SUBMOUNTS = 1 << 27;
export const FUSE_HANDLE_KILLPRIV_V2 = 1 << 28;
export const FUSE_SETXATTR_EXT = 1 << 29;
export const FUSE_INIT_EXT = 1 << 30;
/** 1 << 31, written unsigned. */
export const FUSE_INIT_RESERVED = 0x80000000;
/** flags2 bits, i.e. (1ULL << 32+n) >> 32. */
export const FUSE_SECURITY_CTX_2 = 1 << 0;
export const FUSE_HAS_INODE_DAX_2 = 1 << 1;
export const FUSE_CREATE_SUPP_GROUP_2 = 1 << 2;
export const FUSE_HAS_EXPIRE_ONLY_2 = 1 << 3;
export const FUSE_DIRECT_IO_ALLOW_MMAP_2 = 1 << 4;
export const FUSE_PASSTHROUGH_2 = 1 << 5;
export const FUSE_NO_EXPORT_SUPPORT_2 = 1 << 6;
export const FUSE_HAS_RESEND_2 = 1 << 7;
export const FUSE_ALLOW_IDMAP_2 = 1 << 8;
export const FUSE_OVER_IO_URING_2 = 1 << 9;
export const FUSE_REQUEST_TIMEOUT_2 = 1 << 10;

/** Names of the INIT flag bits (flags, then flags2 as bit 32+n), for logs and tests. */
export const INIT_FLAG_NAMES: readonly string[] = [
  "ASYNC_READ",
  "POSIX_LOCKS",
  "FILE_OPS",
  "ATOMIC_O_TRUNC",
  "EXPORT_SUPPORT",
  "BIG_WRITES",
  "DONT_MASK",
  "SPLICE_WRITE",
  "SPLICE_MOVE",
  "SPLICE_READ",
  "FLOCK_LOCKS",
  "HAS_IOCTL_DIR",
  "AUTO_INVAL_DATA",
  "DO_READDIRPLUS",
  "READDIRPLUS_AUTO",
  "ASYNC_DIO",
  "WRITEBACK_CACHE",
  "NO_OPEN_SUPPORT",
  "PARALLEL_DIROPS",
  "HANDLE_KILLPRIV",
  "POSIX_ACL",
  "ABORT_ERROR",
  "MAX_PAGES",
  "CACHE_SYMLINKS",
  "NO_OPENDIR_SUPPORT",
  "EXPLICIT_INVAL_DATA",
  "MAP_ALIGNMENT",
  "SUBMOUNTS",
  "HANDLE_KILLPRIV_V2",
  "SETXATTR_EXT",
  "INIT_EXT",
  "INIT_RESERVED",
  "SECURITY_CTX",
  "HAS_INODE_DAX",
  "CREATE_SUPP_GROUP",
  "HAS_EXPIRE_ONLY",
  "DIRECT_IO_ALLOW_MMAP",
  "PASSTHROUGH",
  "NO_EXPORT_SUPPORT",
  "HAS_RESEND",
  "ALLOW_IDMAP",
  "OVER_IO_URING",
  "REQUEST_TIMEOUT",
];

// ---- fuse_setattr_in.valid ----
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;
export const FATTR_LOCKOWNER = 1 << 9;
export const FATTR_CTIME = 1 << 10;
export const FATTR_KILL_SUIDGID = 1 << 11;

// ---- fuse_open_out.open_flags ----
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_NONSEEKABLE = 1 << 2;
export const FOPEN_CACHE_DIR = 1 << 3;
export const FOPEN_STREAM = 1 << 4;
export const FOPEN_NOFLUSH = 1 << 5;
export const FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
export const FOPEN_PASSTHROUGH = 1 << 7;

// ---- misc request flags ----
export const FUSE_GETATTR_FH = 1 << 0;
export const FUSE_FSYNC_FDATASYNC = 1 << 0;
export const FUSE_RELEASE_FLUSH = 1 << 0;
export const FUSE_WRITE_CACHE = 1 << 0;
export const FUSE_WRITE_LOCKOWNER = 1 << 1;
export const FUSE_WRITE_KILL_SUIDGID = 1 << 2;
export const FUSE_READ_LOCKOWNER = 1 << 1;
export const FUSE_EXPIRE_ONLY = 1 << 0;
/** Set in the unique of an INTERRUPT request (the target's unique | 1). */
export const FUSE_INT_REQ_BIT = 1;

// ---- Linux constants that travel inside FUSE messages ----
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
/** d_type values of fuse_dirent.type. */
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;
/** open(2) flags seen in OPEN/CREATE (x86_64 and aarch64 agree on these). */
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
/** renameat2(2) flags. */
export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;
/** setxattr(2) flags. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
/** fallocate(2) modes. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
/** lseek(2) whence values the kernel forwards (it handles SET/CUR/END itself). */
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
/** access(2) mask bits. */
export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

// ---- struct layouts ----

export type FieldType = "u16" | "i16" | "u32" | "i32" | "u64" | "i64";

const WIDTH: Record<FieldType, number> = { u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8 };

export interface Field<F extends string> {
  readonly name: F;
  readonly type: FieldType;
  readonly offset: number;
}

/** A C struct of fixed-width integers. Padding fields are listed like fuse.h lists them. */
export interface StructLayout<F extends string = string> {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly Field<F>[];
  /** Field name → offset. */
  readonly at: Readonly<Record<F, number>>;
}

/**
 * Lays out a struct with C's natural alignment and checks that its size is
 * `expectedSize` (throws at module load otherwise: a layout typo never ships).
 */
export function defineStruct<F extends string>(
  name: string,
  expectedSize: number,
  fields: readonly (readonly [F, FieldType])[],
): StructLayout<F> {
  let offset = 0;
  let align = 1;
  const out: Field<F>[] = [];
  const at = {} as Record<F, number>;
  for (const [fname, type] of fields) {
    const w = WIDTH[type];
    offset = Math.ceil(offset / w) * w;
    out.push({ name: fname, type, offset });
    at[fname] = offset;
    offset += w;
    align = Math.max(align, w);
  }
  const size = Math.ceil(offset / align) * align;
  if (size !== expectedSize) {
    throw new Error(`FUSE ABI: struct ${name} is ${size} bytes, fuse.h says ${expectedSize}`);
  }
  return { name, size, fields: out, at };
}

export const fuse_in_header = defineStruct("fuse_in_header", 40, [
  ["len", "u32"],
  ["opcode", "u32"],
  ["unique", "u64"],
  ["nodeid", "u64"],
  ["uid", "u32"],
  ["gid", "u32"],
  ["pid", "u32"],
  ["total_extlen", "u16"],
  ["padding", "u16"],
]);

export const fuse_out_header = defineStruct("fuse_out_header", 16, [
  ["len", "u32"],
  ["error", "i32"],
  ["unique", "u64"],
]);

export const fuse_attr = defineStruct("fuse_attr", 88, [
  ["ino", "u64"],
  ["size", "u64"],
  ["blocks", "u64"],
  ["atime", "u64"],
  ["mtime", "u64"],
  ["ctime", "u64"],
  ["atimensec", "u32"],
  ["mtimensec", "u32"],
  ["ctimensec", "u32"],
  ["mode", "u32"],
  ["nlink", "u32"],
  ["uid", "u32"],
  ["gid", "u32"],
  ["rdev", "u32"],
  ["blksize", "u32"],
  ["flags", "u32"],
]);

/** fuse_entry_out without its trailing fuse_attr (which follows at `size`). */
export const fuse_entry_out = defineStruct("fuse_entry_out (head)", 40, [
  ["nodeid", "u64"],
  ["generation", "u64"],
  ["entry_valid", "u64"],
  ["attr_valid", "u64"],
  ["entry_valid_nsec", "u32"],
  ["attr_valid_nsec", "u32"],
]);
/** sizeof(struct fuse_entry_out) including the attr. */
export const FUSE_ENTRY_OUT_SIZE = fuse_entry_out.size + fuse_attr.size; // 128

/** fuse_attr_out without its trailing fuse_attr. */
export const fuse_attr_out = defineStruct("fuse_attr_out (head)", 16, [
  ["attr_valid", "u64"],
  ["attr_valid_nsec", "u32"],
  ["dummy", "u32"],
]);
export const FUSE_ATTR_OUT_SIZE = fuse_attr_out.size + fuse_attr.size; // 104

export const fuse_init_in = defineStruct("fuse_init_in", 64, [
  ["major", "u32"],
  ["minor", "u32"],
  ["max_readahead", "u32"],
  ["flags", "u32"],
  ["flags2", "u32"],
  ["unused0", "u32"],
  ["unused1", "u32"],
  ["unused2", "u32"],
  ["unused3", "u32"],
  ["unused4", "u32"],
  ["unused5", "u32"],
  ["unused6", "u32"],
  ["unused7", "u32"],
  ["unused8", "u32"],
  ["unused9", "u32"],
  ["unused10", "u32"],
]);
/** Kernels before 7.36 send only major, minor, max_readahead, flags. */
export const FUSE_COMPAT_INIT_IN_SIZE = 16;

export const fuse_init_out = defineStruct("fuse_init_out", 64, [
  ["major", "u32"],
  ["minor", "u32"],
  ["max_readahead", "u32"],
  ["flags", "u32"],
  ["max_background", "u16"],
  ["congestion_threshold", "u16"],
  ["max_write", "u32"],
  ["time_gran", "u32"],
  ["max_pages", "u16"],
  ["map_alignment", "u16"],
  ["flags2", "u32"],
  ["max_stack_depth", "u32"],
  ["request_timeout", "u16"],
  ["unused0", "u16"],
  ["unused1", "u16"],
  ["unused2", "u16"],
  ["unused3", "u16"],
  ["unused4", "u16"],
  ["unused5", "u16"],
  ["unused6", "u16"],
  ["unused7", "u16"],
  ["unused8", "u16"],
  ["unused9", "u16"],
  ["unused10", "u16"],
]);

export const fuse_forget_in = defineStruct("fuse_forget_in", 8, [["nlookup", "u64"]]);
export const fuse_forget_one = defineStruct("fuse_forget_one", 16, [
  ["nodeid", "u64"],
  ["nlookup", "u64"],
]);
export const fuse_batch_forget_in = defineStruct("fuse_batch_forget_in", 8, [
  ["count", "u32"],
  ["dummy", "u32"],
]);
export const fuse_getattr_in = defineStruct("fuse_getattr_in", 16, [
  ["getattr_flags", "u32"],
  ["dummy", "u32"],
  ["fh", "u64"],
]);
export const fuse_setattr_in = defineStruct("fuse_setattr_in", 88, [
  ["valid", "u32"],
  ["padding", "u32"],
  ["fh", "u64"],
  ["size", "u64"],
  ["lock_owner", "u64"],
  ["atime", "u64"],
  ["mtime", "u64"],
  ["ctime", "u64"],
  ["atimensec", "u32"],
  ["mtimensec", "u32"],
  ["ctimensec", "u32"],
  ["mode", "u32"],
  ["unused4", "u32"],
  ["uid", "u32"],
  ["gid", "u32"],
  ["unused5", "u32"],
]);
export const fuse_mknod_in = defineStruct("fuse_mknod_in", 16, [
  ["mode", "u32"],
  ["rdev", "u32"],
  ["umask", "u32"],
  ["padding", "u32"],
]);
export const fuse_mkdir_in = defineStruct("fuse_mkdir_in", 8, [
  ["mode", "u32"],
  ["umask", "u32"],
]);
export const fuse_rename_in = defineStruct("fuse_rename_in", 8, [["newdir", "u64"]]);
export const fuse_rename2_in = defineStruct("fuse_rename2_in", 16, [
  ["newdir", "u64"],
  ["flags", "u32"],
  ["padding", "u32"],
]);
export const fuse_link_in = defineStruct("fuse_link_in", 8, [["oldnodeid", "u64"]]);
export const fuse_open_in = defineStruct("fuse_open_in", 8, [
  ["flags", "u32"],
  ["open_flags", "u32"],
]);
export const fuse_create_in = defineStruct("fuse_create_in", 16, [
  ["flags", "u32"],
  ["mode", "u32"],
  ["umask", "u32"],
  ["open_flags", "u32"],
]);
export const fuse_open_out = defineStruct("fuse_open_out", 16, [
  ["fh", "u64"],
  ["open_flags", "u32"],
  ["backing_id", "i32"],
]);
export const fuse_release_in = defineStruct("fuse_release_in", 24, [
  ["fh", "u64"],
  ["flags", "u32"],
  ["release_flags", "u32"],
  ["lock_owner", "u64"],
]);
export const fuse_flush_in = defineStruct("fuse_flush_in", 24, [
  ["fh", "u64"],
  ["unused", "u32"],
  ["padding", "u32"],
  ["lock_owner", "u64"],
]);
export const fuse_read_in = defineStruct("fuse_read_in", 40, [
  ["fh", "u64"],
  ["offset", "u64"],
  ["size", "u32"],
  ["read_flags", "u32"],
  ["lock_owner", "u64"],
  ["flags", "u32"],
  ["padding", "u32"],
]);
export const fuse_write_in = defineStruct("fuse_write_in", 40, [
  ["fh", "u64"],
  ["offset", "u64"],
  ["size", "u32"],
  ["write_flags", "u32"],
  ["lock_owner", "u64"],
  ["flags", "u32"],
  ["padding", "u32"],
]);
export const fuse_write_out = defineStruct("fuse_write_out", 8, [
  ["size", "u32"],
  ["padding", "u32"],
]);
export const fuse_kstatfs = defineStruct("fuse_kstatfs", 80, [
  ["blocks", "u64"],
  ["bfree", "u64"],
  ["bavail", "u64"],
  ["files", "u64"],
  ["ffree", "u64"],
  ["bsize", "u32"],
  ["namelen", "u32"],
  ["frsize", "u32"],
  ["padding", "u32"],
  ["spare0", "u32"],
  ["spare1", "u32"],
  ["spare2", "u32"],
  ["spare3", "u32"],
  ["spare4", "u32"],
  ["spare5", "u32"],
]);
export const fuse_fsync_in = defineStruct("fuse_fsync_in", 16, [
  ["fh", "u64"],
  ["fsync_flags", "u32"],
  ["padding", "u32"],
]);
/** The 8-byte form the kernel sends unless FUSE_SETXATTR_EXT was negotiated (we never ask). */
export const fuse_setxattr_in = defineStruct("fuse_setxattr_in (compat)", 8, [
  ["size", "u32"],
  ["flags", "u32"],
]);
export const fuse_getxattr_in = defineStruct("fuse_getxattr_in", 8, [
  ["size", "u32"],
  ["padding", "u32"],
]);
export const fuse_getxattr_out = defineStruct("fuse_getxattr_out", 8, [
  ["size", "u32"],
  ["padding", "u32"],
]);
export const fuse_access_in = defineStruct("fuse_access_in", 8, [
  ["mask", "u32"],
  ["padding", "u32"],
]);
export const fuse_interrupt_in = defineStruct("fuse_interrupt_in", 8, [["unique", "u64"]]);
export const fuse_fallocate_in = defineStruct("fuse_fallocate_in", 32, [
  ["fh", "u64"],
  ["offset", "u64"],
  ["length", "u64"],
  ["mode", "u32"],
  ["padding", "u32"],
]);
export const fuse_lseek_in = defineStruct("fuse_lseek_in", 24, [
  ["fh", "u64"],
  ["offset", "u64"],
  ["whence", "u32"],
  ["padding", "u32"],
]);
export const fuse_lseek_out = defineStruct("fuse_lseek_out", 8, [["offset", "u64"]]);
/** fuse_dirent without its name (namelen bytes, then zero padding to 8). */
export const fuse_dirent = defineStruct("fuse_dirent (head)", 24, [
  ["ino", "u64"],
  ["off", "u64"],
  ["namelen", "u32"],
  ["type", "u32"],
]);
export const fuse_notify_inval_inode_out = defineStruct("fuse_notify_inval_inode_out", 24, [
  ["ino", "u64"],
  ["off", "i64"],
  ["len", "i64"],
]);
export const fuse_notify_inval_entry_out = defineStruct("fuse_notify_inval_entry_out", 16, [
  ["parent", "u64"],
  ["namelen", "u32"],
  ["flags", "u32"],
]);

/** FUSE_NAME_OFFSET: where a fuse_dirent's name starts. */
export const FUSE_NAME_OFFSET = fuse_dirent.size;
/** FUSE_NAME_OFFSET_DIRENTPLUS: a direntplus is an entry_out followed by a dirent. */
export const FUSE_NAME_OFFSET_DIRENTPLUS = FUSE_ENTRY_OUT_SIZE + fuse_dirent.size;

/** FUSE_REC_ALIGN: records in READDIR replies are padded to 8 bytes. */
export function fuseRecAlign(n: number): number {
  return (n + 7) & ~7;
}
