/**
 * libc symbols for Linux (glibc, x86_64/aarch64 LP64 layouts), opened lazily
 * on first use. Wrappers return an errno name (`"ENOENT"`) instead of
 * throwing; `statvfs` keeps its historical errno-number result.
 *
 * errno is thread-local: it is read right after a synchronous call, on the
 * same thread. Calls marked `nonblocking` run on Deno's blocking pool, where
 * errno cannot be read afterwards, so their wrappers report only success or
 * failure (`-1`); callers classify failures another way (e.g. `poll`).
 */
import { errnoName } from "./errno_linux.ts";

const SYMBOLS = {
  // int statvfs(const char *path, struct statvfs *buf);
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
  // int open(const char *path, int flags, ... /* mode_t mode */);
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // ssize_t read(int fd, void *buf, size_t count);  (on the blocking pool)
  read_nb: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  // ssize_t write(int fd, const void *buf, size_t count);
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // ssize_t write(int fd, const void *buf, size_t count);  (on the blocking pool)
  write_nb: {
    name: "write",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  // ssize_t writev(int fd, const struct iovec *iov, int iovcnt);
  writev: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  // int mount(const char *source, const char *target, const char *fstype,
  //           unsigned long flags, const void *data);
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  // int mount(...);  (on the blocking pool: an NFS mount waits for our own server)
  mount_nb: {
    name: "mount",
    parameters: ["buffer", "buffer", "buffer", "u64", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  // int umount2(const char *target, int flags);
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  // int umount2(const char *target, int flags);  (on the blocking pool)
  umount2_nb: { name: "umount2", parameters: ["buffer", "i32"], result: "i32", nonblocking: true },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout);
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout);  (on the blocking pool)
  poll_nb: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  // ssize_t read(int fd, void *buf, size_t count);
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // int eventfd(unsigned int initval, int flags);
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  // int ioctl(int fd, unsigned long request, void *arg);
  ioctl_ptr: { name: "ioctl", parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (!lib) lib = Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

const encoder = new TextEncoder();

function cstr(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s + "\0");
}

/** Reads the C errno of this thread after a failed synchronous call, as a number. */
export function lastErrno(): number {
  const p = libc().__errno_location();
  if (p === null) return 0;
  return new Deno.UnsafePointerView(p).getInt32(0);
}

function lastErrnoName(): string {
  return errnoName(lastErrno());
}

/** open(2) flags (identical on x86_64 and aarch64 for these). */
export const O_RDONLY = 0;
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
/** eventfd(2) flags. */
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
/** mount(2) flags. */
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
/** umount2(2) flags. */
export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
/** poll(2) event bits. */
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

/** The fields of `struct statvfs` vibe uses. */
export interface StatVfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

/**
 * statvfs(3); on failure the errno NUMBER. struct statvfs on LP64 glibc:
 * 11 unsigned longs then int[6] (112 bytes).
 */
export function statvfs(path: string): StatVfs | number {
  const buf = new BigUint64Array(14);
  const rc = libc().statvfs(cstr(path), buf);
  if (rc !== 0) return lastErrno();
  const n = (i: number) => Number(buf[i]!);
  return {
    bsize: n(0),
    frsize: n(1),
    blocks: n(2),
    bfree: n(3),
    bavail: n(4),
    files: n(5),
    ffree: n(6),
    favail: n(7),
    namemax: n(10),
  };
}

/** open(2): the new fd, or an errno name. */
export function openPath(path: string, flags: number, mode = 0): number | string {
  const fd = libc().open(cstr(path), flags, mode);
  return fd < 0 ? lastErrnoName() : fd;
}

/** close(2): null, or an errno name. */
export function closeFd(fd: number): string | null {
  return libc().close(fd) === 0 ? null : lastErrnoName();
}

/**
 * read(2) of up to `buf.length` bytes on Deno's blocking pool (the event loop
 * keeps running). Resolves with the byte count, or -1 on failure (errno is not
 * available: the call ran on another thread). `buf` must stay untouched until
 * the promise settles.
 */
export async function readAsync(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  return Number(await libc().read_nb(fd, buf, BigInt(buf.length)));
}

/** read(2), synchronously (for O_NONBLOCK fds): the byte count, or an errno name ("EAGAIN"). */
export function readSync(fd: number, buf: Uint8Array<ArrayBuffer>): number | string {
  const n = Number(libc().read(fd, buf, BigInt(buf.length)));
  return n < 0 ? lastErrnoName() : n;
}

// <linux/fuse.h>: _IOW(229, 1, struct fuse_backing_map) and _IOW(229, 2, uint32_t).
const FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501n;
const FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502n;

/**
 * Registers open file `fd` as a passthrough backing file on the FUSE
 * connection `devFd` (needs CAP_SYS_ADMIN): the backing id, or an errno name.
 */
export function fuseBackingOpen(devFd: number, fd: number): number | string {
  const map = new Uint8Array(16); // struct fuse_backing_map { i32 fd; u32 flags; u64 padding; }
  new DataView(map.buffer).setInt32(0, fd, true);
  const id = libc().ioctl_ptr(devFd, FUSE_DEV_IOC_BACKING_OPEN, map);
  return id < 0 ? lastErrnoName() : id;
}

/** Drops backing id `id` on the FUSE connection `devFd`: null, or an errno name. */
export function fuseBackingClose(devFd: number, id: number): string | null {
  const arg = new Uint32Array([id]);
  return libc().ioctl_ptr(devFd, FUSE_DEV_IOC_BACKING_CLOSE, arg) === 0 ? null : lastErrnoName();
}

/** eventfd(2): the fd, or an errno name. */
export function eventFd(flags: number): number | string {
  const fd = libc().eventfd(0, flags);
  return fd < 0 ? lastErrnoName() : fd;
}

/**
 * poll(2) on Deno's blocking pool: resolves with the ready count, or -1
 * (errno unavailable). `pfds` (struct pollfd[]: i32 fd, i16 events, i16
 * revents) must stay untouched until the promise settles.
 */
export async function pollAsync(pfds: Uint8Array<ArrayBuffer>, count: number, timeoutMs: number) {
  return await libc().poll_nb(pfds, BigInt(count), timeoutMs);
}

/** write(2) of `buf[0, len)`, synchronously: bytes written, or an errno name. */
export function writeSync(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  len = buf.length,
): number | string {
  const n = Number(libc().write(fd, buf, BigInt(len)));
  return n < 0 ? lastErrnoName() : n;
}

/** write(2) on the blocking pool: bytes written, or -1 (errno unavailable). */
export async function writeAsync(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  return Number(await libc().write_nb(fd, buf, BigInt(buf.length)));
}

/**
 * writev(2) of several buffers in one call, synchronously: bytes written, or
 * an errno name. Every part must live in an off-heap backing store (any
 * ArrayBuffer larger than a few dozen bytes), because the iovec holds raw
 * pointers; callers copy small parts into one buffer instead.
 */
export function writevSync(fd: number, parts: readonly Uint8Array[]): number | string {
  const iov = new BigUint64Array(parts.length * 2);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    iov[2 * i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(p)));
    iov[2 * i + 1] = BigInt(p.length);
  }
  const n = Number(libc().writev(fd, iov, parts.length));
  return n < 0 ? lastErrnoName() : n;
}

/** mount(2): null, or an errno name. */
export function mount(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data: string,
): string | null {
  const rc = libc().mount(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data));
  return rc === 0 ? null : lastErrnoName();
}

/**
 * mount(2) on the blocking pool, for mounts whose server is this process
 * (NFS): 0, or -1 (errno is the blocking thread's and is not available).
 */
export async function mountAsync(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data: string,
): Promise<number> {
  return await libc().mount_nb(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data));
}

/** umount2(2), synchronously: null, or an errno name. */
export function umount2(target: string, flags: number): string | null {
  return libc().umount2(cstr(target), flags) === 0 ? null : lastErrnoName();
}

/**
 * umount2(2) on the blocking pool, for filesystems whose unmount may need
 * this process to answer requests meanwhile: 0, or -1 (errno unavailable).
 */
export async function umount2Async(target: string, flags: number): Promise<number> {
  return await libc().umount2_nb(cstr(target), flags);
}

/** poll(2) of one fd: the returned events (0 on timeout), or an errno name. */
export function pollFd(fd: number, events: number, timeoutMs: number): number | string {
  const pfd = new Uint8Array(8);
  const v = new DataView(pfd.buffer);
  v.setInt32(0, fd, true);
  v.setInt16(4, events, true);
  const rc = libc().poll(pfd, 1n, timeoutMs);
  if (rc < 0) return lastErrnoName();
  return rc === 0 ? 0 : v.getUint16(6, true);
}
