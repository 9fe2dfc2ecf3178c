/**
 * File cloning on Linux: `ioctl(dst_fd, FICLONE, src_fd)` shares the source's
 * data extents with the destination (btrfs, xfs with reflink=1, bcachefs, …);
 * no data block is written. libc is opened lazily, on the first clone.
 * Wrappers return an errno name instead of throwing.
 *
 * Own symbol table (not libc_linux.ts): the ioctl forms differ; errno
 * names come from the one table in errno_linux.ts.
 */
import { errnoName } from "./errno_linux.ts";

/** `_IOW(0x94, 9, int)` from <linux/fs.h>. */
export const FICLONE = 0x40049409n;

// Open flags of the generic Linux ABI (x86_64 and aarch64 agree).
const O_RDONLY = 0;
const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_CLOEXEC = 0o2000000;

const SYMBOLS = {
  // int open(const char *pathname, int flags, mode_t mode);  (variadic; ints pass as fixed)
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // int ioctl(int fd, unsigned long request, int src_fd);  (variadic; FICLONE takes an int)
  ioctl: { parameters: ["i32", "u64", "i32"], result: "i32" },
  // int ioctl(int fd, unsigned long request, struct fiemap *map);  (the same symbol, FIEMAP's form)
  ioctl_ptr: { name: "ioctl", parameters: ["i32", "u64", "buffer"], result: "i32" },
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS> {
  if (!lib) lib = Deno.dlopen("libc.so.6", SYMBOLS);
  return lib;
}

function lastErrno(): string {
  const p = libc().symbols.__errno_location();
  return errnoName(p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0));
}

const cstr = (s: string) => new TextEncoder().encode(s + "\0");

/**
 * Makes `dst` (created or truncated, mode 0644 before umask) a clone of
 * `src`. Returns null on success, else the errno name of the failing call;
 * "EOPNOTSUPP", "EXDEV", "EINVAL" or "ENOTTY" mean the filesystem cannot
 * clone here (the caller copies instead). On failure `dst` may exist, empty.
 */
export function ficlone(src: string, dst: string): string | null {
  const sym = libc().symbols;
  const s = sym.open(cstr(src), O_RDONLY | O_CLOEXEC, 0);
  if (s < 0) return lastErrno();
  try {
    const d = sym.open(cstr(dst), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644);
    if (d < 0) return lastErrno();
    try {
      return sym.ioctl(d, FICLONE, s) === 0 ? null : lastErrno();
    } finally {
      sym.close(d);
    }
  } finally {
    sym.close(s);
  }
}

/** `_IOWR('f', 11, struct fiemap)` from <linux/fs.h>. */
export const FS_IOC_FIEMAP = 0xc020660bn;

/** One mapped range of a file (struct fiemap_extent, flags as the kernel gives them). */
export interface Extent {
  logical: bigint;
  physical: bigint;
  length: bigint;
  flags: number;
}

const FIEMAP_HEADER = 32;
const FIEMAP_EXTENT = 56;
const FIEMAP_FLAG_SYNC = 0x1;
const FIEMAP_EXTENT_LAST = 0x1;
/** Room for this many extents per call; a file with more is reported as unknown (null). */
const MAX_EXTENTS = 32;

/**
 * The data extents of `path` (FS_IOC_FIEMAP with FIEMAP_FLAG_SYNC: dirty
 * pages are written back first, so an overwrite not flushed yet cannot
 * show the old blocks), or null when the filesystem cannot tell (tmpfs,
 * errors) or the file has more than 32 extents.
 */
export function fileExtents(path: string): Extent[] | null {
  const sym = libc().symbols;
  const fd = sym.open(cstr(path), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return null;
  try {
    const buf = new Uint8Array(FIEMAP_HEADER + MAX_EXTENTS * FIEMAP_EXTENT);
    const v = new DataView(buf.buffer);
    v.setBigUint64(0, 0n, true); // fm_start
    v.setBigUint64(8, 0xffffffffffffffffn, true); // fm_length: to the end
    v.setUint32(16, FIEMAP_FLAG_SYNC, true); // fm_flags
    v.setUint32(24, MAX_EXTENTS, true); // fm_extent_count
    if (sym.ioctl_ptr(fd, FS_IOC_FIEMAP, buf) !== 0) return null;
    const mapped = v.getUint32(20, true);
    const out: Extent[] = [];
    for (let i = 0; i < mapped; i++) {
      const o = FIEMAP_HEADER + i * FIEMAP_EXTENT;
      out.push({
        logical: v.getBigUint64(o, true),
        physical: v.getBigUint64(o + 8, true),
        length: v.getBigUint64(o + 16, true),
        flags: v.getUint32(o + 40, true),
      });
    }
    if (mapped > 0 && !(out[mapped - 1]!.flags & FIEMAP_EXTENT_LAST)) return null;
    return out;
  } finally {
    sym.close(fd);
  }
}
