/**
 * POSIX calls Deno does not offer (renameat2 flags, mkfifo, nanosecond
 * utimensat and statx, unlink/rmdir as distinct syscalls, open flags,
 * xattrs, a step-by-step readdir) plus error helpers, for mount tests.
 *
 * Every libc call runs synchronously in a dedicated worker thread
 * (tests/helpers/posix_worker.ts) so errno is read on the calling thread and
 * the main event loop never blocks; that keeps an in-process FUSE server
 * answering while a test calls into its mount. Linux only.
 *
 * Failures reject with `PosixError`, whose `code` is the errno name — the
 * same `code` property Deno's own fs errors carry, so `errCode` reads both.
 */
import { errnoName } from "../../ffi/errno_linux.ts";

/** A failed libc call: `code` is the errno name (e.g. "ENOENT"). */
export class PosixError extends Error {
  constructor(readonly call: string, readonly errno: number, readonly path: string) {
    const code = errnoName(errno);
    super(`${call} "${path}" failed: ${code} (errno ${errno})`);
    this.code = code;
  }
  readonly code: string;
}

/**
 * The errno name of an error thrown by a Deno fs call or a `Posix` call
 * ("ENOENT", …), or `"?" + error name` for anything else (no paths, so two
 * roots' outcomes compare equal).
 */
export function errCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  const m = /\(os error (\d+)\)/.exec(String((e as Error)?.message ?? e));
  if (m) return errnoName(Number(m[1]));
  return "?" + String((e as Error)?.name ?? typeof e);
}

/** Runs `fn` and returns "ok" or the errno name it failed with. */
export async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return "ok";
  } catch (e) {
    return errCode(e);
  }
}

/**
 * Asserts that `promise` rejects with errno name `code` (or one of `code`);
 * the message names `what` and what actually happened.
 */
export async function assertFails(
  promise: Promise<unknown>,
  code: string | readonly string[],
  what: string,
): Promise<void> {
  const codes = typeof code === "string" ? [code] : code;
  let value: unknown;
  try {
    value = await promise;
  } catch (e) {
    const got = errCode(e);
    if (codes.includes(got)) return;
    throw new Error(`Expected ${what} to fail with ${codes.join(" or ")}, got ${got}: ${e}`);
  }
  throw new Error(
    `Expected ${what} to fail with ${codes.join(" or ")}, it succeeded (${String(value)})`,
  );
}

/** A nanosecond timestamp. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** The fields of `struct statx` the tests read (STATX_BASIC_STATS). */
export interface Statx {
  mask: number;
  nlink: number;
  uid: number;
  gid: number;
  /** st_mode including the file-type bits (S_IFMT). */
  mode: number;
  ino: bigint;
  size: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  rdevMajor: number;
  rdevMinor: number;
}

/** The fields of `struct statvfs` the tests read. */
export interface StatVfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFIFO = 0o010000;

/** utimensat special nanosecond values. */
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

const ARM = Deno.build.arch === "aarch64";
/** open(2) flags for Linux; O_DIRECTORY and O_NOFOLLOW differ on aarch64. */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  DIRECTORY: ARM ? 0o40000 : 0o200000,
  NOFOLLOW: ARM ? 0o100000 : 0o400000,
} as const;

/** renameat2 flags. */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
/** setxattr flags. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

interface Reply {
  id: number;
  value?: unknown;
  errno?: number;
  error?: string;
}

/**
 * A worker thread making libc calls. Calls may be issued concurrently; each
 * resolves with its own reply. `close()` ends the worker (owners must call it,
 * or Deno's test sanitizers see a leaked worker).
 */
export class Posix {
  #worker: Worker;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;

  private constructor() {
    this.#worker = new Worker(new URL("./posix_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.#pending.get(e.data.id);
      if (p === undefined) return;
      this.#pending.delete(e.data.id);
      if (e.data.error !== undefined) p.reject(new Error(e.data.error));
      else if (e.data.errno !== undefined) p.reject(new PosixError("", e.data.errno, ""));
      else p.resolve(e.data.value);
    };
    this.#worker.onerror = (e) => {
      for (const p of this.#pending.values()) p.reject(new Error(`posix worker: ${e.message}`));
      this.#pending.clear();
    };
  }

  /** Starts a worker; the first call waits for it to load. */
  static open(): Posix {
    return new Posix();
  }

  /** Terminates the worker; pending calls reject. */
  close(): void {
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("posix worker closed"));
    this.#pending.clear();
  }

  async #call<T>(call: string, path: string, ...args: unknown[]): Promise<T> {
    const id = this.#next++;
    try {
      return await new Promise<T>((resolve, reject) => {
        this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        this.#worker.postMessage({ id, call, args });
      });
    } catch (e) {
      if (e instanceof PosixError) throw new PosixError(call, e.errno, path);
      throw e;
    }
  }

  /** renameat2(2) with RENAME_NOREPLACE / RENAME_EXCHANGE (0: plain rename). */
  renameat2(from: string, to: string, flags: number): Promise<void> {
    return this.#call("renameat2", `${from} -> ${to}`, from, to, flags);
  }
  /** mkfifo(3). */
  mkfifo(path: string, mode = 0o644): Promise<void> {
    return this.#call("mkfifo", path, path, mode);
  }
  /** mknod(2); `mode` includes the S_IF* type bits. */
  mknod(path: string, mode: number, dev = 0): Promise<void> {
    return this.#call("mknod", path, path, mode, dev);
  }
  /** utimensat(2) with nanoseconds; nsec may be UTIME_NOW or UTIME_OMIT. */
  utimens(path: string, atime: Timespec, mtime: Timespec, nofollow = false): Promise<void> {
    return this.#call("utimensat", path, path, [[atime.sec, atime.nsec], [
      mtime.sec,
      mtime.nsec,
    ]], nofollow);
  }
  /** statx(2) (`lstat` semantics when `nofollow`). */
  statx(path: string, nofollow = false): Promise<Statx> {
    return this.#call("statx", path, path, nofollow);
  }
  /** unlink(2): never removes a directory (EISDIR). */
  unlink(path: string): Promise<void> {
    return this.#call("unlink", path, path);
  }
  /** rmdir(2): never removes a non-directory (ENOTDIR). */
  rmdir(path: string): Promise<void> {
    return this.#call("rmdir", path, path);
  }
  /** lchown(2); -1 (0xffffffff) leaves that id unchanged. */
  lchown(path: string, uid: number, gid: number): Promise<void> {
    return this.#call("lchown", path, path, uid >>> 0, gid >>> 0);
  }
  /** open(2) with raw flags (see `O`), then close(2) at once. */
  openClose(path: string, flags: number, mode = 0o644): Promise<void> {
    return this.#call("openClose", path, path, flags, mode);
  }
  /** setxattr(2) / lsetxattr(2); flags 0, XATTR_CREATE or XATTR_REPLACE. */
  setxattr(path: string, name: string, value: Uint8Array, flags = 0, nofollow = false) {
    return this.#call<void>("setxattr", path, path, name, value, flags, nofollow);
  }
  /** getxattr(2); with `size`, a buffer of exactly that size (ERANGE if short). */
  getxattr(path: string, name: string, size: number | null = null, nofollow = false) {
    return this.#call<Uint8Array>("getxattr", path, path, name, size, nofollow);
  }
  /** listxattr(2): the names, in the order the filesystem gives them. */
  listxattr(path: string, nofollow = false): Promise<string[]> {
    return this.#call("listxattr", path, path, nofollow);
  }
  /** removexattr(2). */
  removexattr(path: string, name: string, nofollow = false): Promise<void> {
    return this.#call("removexattr", path, path, name, nofollow);
  }
  /** opendir(3); returns a handle for `readdirBatch` / `closedir`. */
  opendir(path: string): Promise<number> {
    return this.#call("opendir", path, path);
  }
  /** Up to `max` further names from readdir(3) (incl. "." and ".."). */
  readdirBatch(handle: number, max: number): Promise<{ names: string[]; done: boolean }> {
    return this.#call("readdirBatch", `dir#${handle}`, handle, max);
  }
  /** closedir(3). */
  closedir(handle: number): Promise<void> {
    return this.#call("closedir", `dir#${handle}`, handle);
  }
  /** statvfs(3). */
  statvfs(path: string): Promise<StatVfs> {
    return this.#call("statvfs", path, path);
  }
}

/** Runs a program; returns its exit code and decoded output. Never throws on exit code. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; stdin?: Uint8Array } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

/** Whether `python3` runs here (checked once, synchronously, at registration time). */
export function hasPython3(): boolean {
  if (python3 === null) {
    try {
      python3 =
        new Deno.Command("python3", { args: ["-c", "import mmap"], stdout: "null", stderr: "null" })
          .outputSync().success;
    } catch {
      python3 = false;
    }
  }
  return python3;
}
let python3: boolean | null = null;

/** Sorted names of `dir` (readDir), for assertions. */
export async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** Resolves after `ms` milliseconds (to let a coarse filesystem clock tick). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
