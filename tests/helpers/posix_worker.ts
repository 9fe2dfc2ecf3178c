/**
 * Worker side of tests/helpers/posix.ts: performs libc calls synchronously on
 * this worker's own thread and posts `{ id, value }` or `{ id, errno }` back.
 *
 * Why a worker: errno is thread-local, so it must be read on the thread that
 * made the call, and a synchronous call on the main thread would block the
 * event loop — which deadlocks when the FUSE server under test runs in the
 * same process. Linux only (glibc, LP64: x86_64 and aarch64 layouts).
 */

const SYMBOLS = {
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
  // int renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned flags);
  renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
  // int mkfifo(const char *path, mode_t mode);
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  // int mknod(const char *path, mode_t mode, dev_t dev);
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  // int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags);
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  // int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf);
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  // int unlink(const char *path);
  unlink: { parameters: ["buffer"], result: "i32" },
  // int rmdir(const char *path);
  rmdir: { parameters: ["buffer"], result: "i32" },
  // int lchown(const char *path, uid_t owner, gid_t group);
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  // int open(const char *path, int flags, ... /* mode_t mode */);
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // int setxattr(const char *path, const char *name, const void *value, size_t size, int flags);
  setxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  // ssize_t getxattr(const char *path, const char *name, void *value, size_t size);
  getxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  // ssize_t listxattr(const char *path, char *list, size_t size);
  listxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  // int removexattr(const char *path, const char *name);
  removexattr: { parameters: ["buffer", "buffer"], result: "i32" },
  lremovexattr: { parameters: ["buffer", "buffer"], result: "i32" },
  // DIR *opendir(const char *path);
  opendir: { parameters: ["buffer"], result: "pointer" },
  // struct dirent *readdir(DIR *dir);
  readdir: { parameters: ["pointer"], result: "pointer" },
  // int closedir(DIR *dir);
  closedir: { parameters: ["pointer"], result: "i32" },
  // int statvfs(const char *path, struct statvfs *buf);
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
/** Offset of d_name in glibc's LP64 `struct dirent` (ino 8, off 8, reclen 2, type 1). */
const DIRENT_NAME_OFFSET = 19;

const lib = Deno.dlopen("libc.so.6", SYMBOLS);
const libc = lib.symbols;
const enc = new TextEncoder();
const dec = new TextDecoder();
const dirs = new Map<number, Deno.PointerObject>();
let nextDir = 1;

function cstr(s: string): Uint8Array<ArrayBuffer> {
  return enc.encode(s + "\0");
}

function errnoCell(): Int32Array {
  const p = libc.__errno_location();
  if (p === null) throw new Error("__errno_location returned NULL");
  return new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
}

class Failed {
  constructor(readonly errno: number) {}
}

/** Throws `Failed` with the current errno when `rc` is negative. */
function check<T extends number | bigint>(rc: T): T {
  if (rc < 0) throw new Failed(errnoCell()[0]!);
  return rc;
}

function timespecs(
  times: [number, number][],
): Uint8Array<ArrayBuffer> {
  const buf = new BigInt64Array(4);
  times.forEach(([sec, nsec], i) => {
    buf[i * 2] = BigInt(sec);
    buf[i * 2 + 1] = BigInt(nsec);
  });
  return new Uint8Array(buf.buffer);
}

function statx(path: string, nofollow: boolean) {
  const buf = new Uint8Array(256);
  check(
    libc.statx(AT_FDCWD, cstr(path), nofollow ? AT_SYMLINK_NOFOLLOW : 0, STATX_BASIC_STATS, buf),
  );
  const v = new DataView(buf.buffer);
  const ts = (off: number) => ({
    sec: Number(v.getBigInt64(off, true)),
    nsec: v.getUint32(off + 8, true),
  });
  return {
    mask: v.getUint32(0, true),
    nlink: v.getUint32(16, true),
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    mode: v.getUint16(28, true),
    ino: v.getBigUint64(32, true),
    size: Number(v.getBigUint64(40, true)),
    atime: ts(64),
    ctime: ts(96),
    mtime: ts(112),
    rdevMajor: v.getUint32(128, true),
    rdevMinor: v.getUint32(132, true),
  };
}

function getxattr(path: string, name: string, size: number | null, nofollow: boolean) {
  const fn = nofollow ? libc.lgetxattr : libc.getxattr;
  const want = size ?? Number(check(fn(cstr(path), cstr(name), null, 0n)));
  const buf = new Uint8Array(want);
  const n = Number(check(fn(cstr(path), cstr(name), buf, BigInt(want))));
  return buf.slice(0, n);
}

function listxattr(path: string, nofollow: boolean) {
  const fn = nofollow ? libc.llistxattr : libc.listxattr;
  const want = Number(check(fn(cstr(path), null, 0n)));
  const buf = new Uint8Array(want);
  const n = Number(check(fn(cstr(path), buf, BigInt(want))));
  return dec.decode(buf.subarray(0, n)).split("\0").filter((s) => s !== "");
}

/** Reads up to `max` names from an open directory stream; `done` at its end. */
function readdirBatch(handle: number, max: number) {
  const dir = dirs.get(handle);
  if (dir === undefined) throw new Failed(9); // EBADF
  const names: string[] = [];
  const errno = errnoCell();
  while (names.length < max) {
    errno[0] = 0;
    const ent = libc.readdir(dir);
    if (ent === null) {
      if (errno[0] !== 0) throw new Failed(errno[0]!);
      return { names, done: true };
    }
    names.push(Deno.UnsafePointerView.getCString(ent, DIRENT_NAME_OFFSET));
  }
  return { names, done: false };
}

function statvfs(path: string) {
  const buf = new BigUint64Array(14);
  check(libc.statvfs(cstr(path), buf));
  const n = (i: number) => Number(buf[i]!);
  return {
    bsize: n(0),
    frsize: n(1),
    blocks: n(2),
    bfree: n(3),
    bavail: n(4),
    files: n(5),
    ffree: n(6),
    namemax: n(10),
  };
}

// deno-lint-ignore no-explicit-any
type Args = any[];

const CALLS: Record<string, (...a: Args) => unknown> = {
  renameat2: (from: string, to: string, flags: number) =>
    check(libc.renameat2(AT_FDCWD, cstr(from), AT_FDCWD, cstr(to), flags)),
  mkfifo: (path: string, mode: number) => check(libc.mkfifo(cstr(path), mode)),
  mknod: (path: string, mode: number, dev: number) =>
    check(libc.mknod(cstr(path), mode, BigInt(dev))),
  utimensat: (path: string, times: [number, number][], nofollow: boolean) =>
    check(
      libc.utimensat(AT_FDCWD, cstr(path), timespecs(times), nofollow ? AT_SYMLINK_NOFOLLOW : 0),
    ),
  statx,
  unlink: (path: string) => check(libc.unlink(cstr(path))),
  rmdir: (path: string) => check(libc.rmdir(cstr(path))),
  lchown: (path: string, uid: number, gid: number) => check(libc.lchown(cstr(path), uid, gid)),
  openClose: (path: string, flags: number, mode: number) => {
    const fd = check(libc.open(cstr(path), flags, mode));
    check(libc.close(fd));
  },
  setxattr: (
    path: string,
    name: string,
    value: Uint8Array<ArrayBuffer>,
    flags: number,
    nofollow: boolean,
  ) =>
    check(
      (nofollow ? libc.lsetxattr : libc.setxattr)(
        cstr(path),
        cstr(name),
        value,
        BigInt(value.length),
        flags,
      ),
    ),
  getxattr,
  listxattr,
  removexattr: (path: string, name: string, nofollow: boolean) =>
    check((nofollow ? libc.lremovexattr : libc.removexattr)(cstr(path), cstr(name))),
  opendir: (path: string) => {
    const dir = libc.opendir(cstr(path));
    if (dir === null) throw new Failed(errnoCell()[0]!);
    const handle = nextDir++;
    dirs.set(handle, dir);
    return handle;
  },
  readdirBatch,
  closedir: (handle: number) => {
    const dir = dirs.get(handle);
    if (dir === undefined) throw new Failed(9);
    dirs.delete(handle);
    check(libc.closedir(dir));
  },
  statvfs,
};

interface Request {
  id: number;
  call: string;
  args: Args;
}

/** The worker global scope (this module is type-checked with the window lib). */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e: MessageEvent<Request>) => {
  const { id, call, args } = e.data;
  const fn = CALLS[call];
  try {
    if (fn === undefined) throw new Error(`Unknown posix call "${call}"`);
    const value = fn(...args);
    scope.postMessage({ id, value: typeof value === "bigint" ? Number(value) : value });
  } catch (err) {
    if (err instanceof Failed) scope.postMessage({ id, errno: err.errno });
    else scope.postMessage({ id, error: String(err) });
  }
};
