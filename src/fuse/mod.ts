/**
 * The FUSE channel: serves a `Vfs` at a mountpoint by speaking the kernel's
 * FUSE protocol on /dev/fuse directly (no libfuse, no native addon).
 *
 * INIT flags we ask for (each only when the kernel offers it):
 * - FUSE_ASYNC_READ: several READs of one file in flight (readahead).
 * - FUSE_BIG_WRITES + FUSE_MAX_PAGES (max_pages 256): WRITE/READ requests up
 *   to 1 MiB; the read buffers are max_write + 4 KiB. The mount's readahead
 *   (sysfs read_ahead_kb, 128 KiB by default) is raised to 1 MiB too, or
 *   sequential READs would stay at 128 KiB.
 * - FUSE_PARALLEL_DIROPS: lookups and readdirs of one directory run in parallel.
 * - FUSE_DO_READDIRPLUS + FUSE_READDIRPLUS_AUTO: `ls -l` and `find` get
 *   attrs with the listing; the kernel picks plain READDIR when plus does not pay.
 * - FUSE_ATOMIC_O_TRUNC: open(O_TRUNC) is one OPEN instead of OPEN + SETATTR.
 * - FUSE_EXPORT_SUPPORT: we answer LOOKUP of "." and ".." (NFS re-export,
 *   open_by_handle_at).
 * - FUSE_AUTO_INVAL_DATA: when a fresh GETATTR shows a new mtime or size, the
 *   kernel drops the file's cached pages — a safety net for changes made
 *   behind the kernel's back that nobody announced with `invalidateInode`.
 * - FUSE_CACHE_SYMLINKS: symlink targets are cached in the page cache
 *   (vibe's symlinks never change in place; a new target is a new inode).
 * - FUSE_ASYNC_DIO: O_DIRECT I/O may be submitted in parallel.
 * Not asked: FUSE_WRITEBACK_CACHE (the kernel would own mtime/size and delay
 * writes; vibe's delta store must see writes when they happen),
 * FUSE_POSIX_LOCKS/FUSE_FLOCK_LOCKS (locks stay in the kernel, which sees every
 * access), FUSE_POSIX_ACL, FUSE_HANDLE_KILLPRIV(_V2) (the kernel clears
 * setuid bits itself with a SETATTR), FUSE_SPLICE_*, FUSE_SETXATTR_EXT, and no
 * flags2 bit but FUSE_PASSTHROUGH — so the reply sets FUSE_INIT_EXT only to
 * ask for passthrough (when `backingFile` is given and we are root; the
 * kernel's flags2 offer is decoded and reported in `InitInfo`).
 *
 * Cache timeouts (defaults): attributes 1 s, entries 1 s, negative entries
 * 1 s. Every change made through the mount passes through this kernel, which
 * updates or drops its own cache entries, so the timeouts only bound how long
 * a change made behind the kernel's back stays invisible when nobody called
 * `invalidateInode`/`invalidateEntry`. Negative entries are cached as long as
 * positive ones: tools probe many missing paths (module resolution, `git`
 * lookups), and a create through the mount replaces the negative entry at
 * once. Open files drop their page cache on open unless `keepCache(ino)` says
 * the content cannot change behind the kernel's back (clean git blobs).
 * Read-only opens of files `backingFile(ino)` names a host file for are
 * passed through to it (FOPEN_PASSTHROUGH, io_modes.ts): the kernel reads that
 * file itself, with its page cache, and READ never reaches this process.
 *
 * The serving process and its own mounts: every request is answered on this
 * process's JS thread, so that thread must never wait on the mount itself.
 * Forbidden in the serving process: synchronous fs calls into the mount
 * (`Deno.*Sync`), and spawning a child with `cwd` inside the mount or an
 * executable that lives there (Deno's spawn blocks the JS thread until the
 * child has exec'd, and the child's chdir/exec needs an answer) — use
 * `sh -c 'cd … && exec …'` or the Vfs directly. Closing a file is safe: every
 * OPEN/CREATE reply sets FOPEN_NOFLUSH, so close(2) sends no FLUSH to wait
 * for. If the process dies while one of its own threads is inside a syscall
 * on the mount, that thread keeps the /dev/fuse fd alive and waits forever;
 * `echo 1 > /sys/fs/fuse/connections/<minor>/abort` frees it.
 */
import { VibeError } from "../errors.ts";
import type { Vfs } from "../vfs/vfs.ts";
import { closeFd, O_CLOEXEC, O_NONBLOCK, O_RDWR, openPath } from "../../ffi/libc_linux.ts";
import {
  abortConnection,
  devString,
  isFuseMounted,
  mountFuseFd,
  setReadAheadKb,
  unmountFuse,
} from "./mount.ts";
import { FuseSession, type FuseStats, type InitInfo } from "./session.ts";

export type { FuseStats, InitInfo } from "./session.ts";

export interface FuseMountOptions {
  /**
   * Attribute/entry cache timeouts in seconds. Default 1 and 1: all changes
   * through the mount keep the kernel's cache right by themselves; the
   * timeouts bound staleness of unannounced outside changes.
   */
  attrTimeoutSec?: number;
  entryTimeoutSec?: number;
  /** How long "no such entry" is cached, in seconds (default: `entryTimeoutSec`; 0 disables). */
  negativeTimeoutSec?: number;
  /** Files whose content never changes behind the kernel's back (clean git blobs) may keep the
   *  page cache across opens: return true to set FOPEN_KEEP_CACHE on OPEN. */
  keepCache?: (ino: number) => boolean;
  /** A host file holding exactly the bytes of `ino` that never change (a clean blob's cache
   *  file), for read-only opens to be passed through to; null: not this one. Unset: off. */
  backingFile?: (ino: number) => string | null;
  /** Default true (root mounts for agents running as other users). */
  allowOther?: boolean;
  /** Shown as the source in /proc/mounts (default "vibe"), e.g. "vibe:<id>". */
  fsName?: string;
  /** Default: console.error. */
  log?: (msg: string) => void;
}

export interface FuseMount {
  readonly mountpoint: string;
  /** Kernel cache invalidation (FUSE_NOTIFY_INVAL_INODE / INVAL_ENTRY) after outside changes.
   *  `offset`/`length` default to 0/0 = attributes and all cached data; a negative offset
   *  drops only the attributes. Best effort: resolves once the kernel has processed it. */
  invalidateInode(ino: number, offset?: number, length?: number): Promise<void>;
  invalidateEntry(parent: number, name: string): Promise<void>;
  /** Unmounts (umount2, MNT_DETACH fallback) and ends the loop; resolves when the loop is done. */
  unmount(): Promise<void>;
  /** Resolves when the session ends (unmounted from outside, DESTROY, or device error). */
  readonly closed: Promise<void>;
  stats(): FuseStats;
  /** What INIT negotiated with the kernel. */
  readonly init: InitInfo;
}

/** Internal hooks (tests, golden-frame capture). */
export interface FuseInternalOptions {
  onFrame?: (frame: Uint8Array) => void;
  /** Grace after a lazy unmount before the connection is aborted through fusectl (default 2000). */
  detachGraceMs?: number;
}

/** max_write and max_read: 1 MiB (256 pages). */
const MAX_IO = 1024 * 1024;
const INIT_TIMEOUT_MS = 10_000;

/**
 * Mounts `vfs` at `mountpoint` (created if missing) and resolves once the
 * mount is READY: the INIT handshake is done and a stat of the mountpoint has
 * been answered through the kernel by this session. Needs root (mount(2));
 * unprivileged mounts through fusermount3 are not implemented.
 */
export async function mountFuse(
  vfs: Vfs,
  mountpoint: string,
  opts: FuseMountOptions = {},
  internal: FuseInternalOptions = {},
): Promise<FuseMount> {
  if (Deno.build.os !== "linux") {
    throw new VibeError("ENOSYS", `Cannot mount "${mountpoint}": the FUSE channel is Linux only`);
  }
  if (Deno.uid() !== 0) {
    throw new VibeError(
      "EPERM",
      `Cannot mount "${mountpoint}": FUSE mounts need root (run vibe as root, e.g. with sudo; ` +
        `unprivileged mounts through fusermount3 are not supported yet)`,
    );
  }
  const log = opts.log ?? ((m: string) => console.error(m));
  await Deno.mkdir(mountpoint, { recursive: true });
  const target = await Deno.realPath(mountpoint);
  const under = await Deno.stat(target);

  const fd = openPath("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (typeof fd === "string") {
    throw new VibeError(
      fd === "ENOENT" ? "ENOENT" : fd === "EACCES" ? "EACCES" : "EIO",
      fd === "ENOENT"
        ? `Cannot mount "${target}": /dev/fuse is missing (load the module: "modprobe fuse")`
        : `Cannot mount "${target}": /dev/fuse cannot be opened: ${fd}`,
    );
  }
  const session = new FuseSession(fd, vfs, {
    attrTimeoutSec: opts.attrTimeoutSec ?? 1,
    entryTimeoutSec: opts.entryTimeoutSec ?? 1,
    negativeTimeoutSec: opts.negativeTimeoutSec ?? opts.entryTimeoutSec ?? 1,
    keepCache: opts.keepCache ?? (() => false),
    ...(opts.backingFile ? { backingFile: opts.backingFile } : {}),
    log,
    maxWrite: MAX_IO,
    ...(internal.onFrame ? { onFrame: internal.onFrame } : {}),
  });
  try {
    mountFuseFd(opts.fsName ?? "vibe", target, {
      fd,
      uid: Deno.uid() ?? 0,
      gid: Deno.gid() ?? 0,
      allowOther: opts.allowOther ?? true,
      maxRead: MAX_IO,
    });
  } catch (e) {
    session.end("mount failed");
    closeFd(fd);
    throw e;
  }
  session.start();
  let dev: string | null = null;
  let devMinor = -1;
  try {
    const init = await withTimeout(session.initDone, INIT_TIMEOUT_MS, "the kernel's INIT");
    const st = await Deno.stat(target); // answered by this session through the kernel
    if (st.dev === under.dev) throw new Error("the mountpoint still shows the directory below");
    dev = devString(st.dev);
    devMinor = Number(dev.split(":")[1]);
    await setReadAheadKb(dev, init.maxWrite / 1024);
    return new Mounted(session, target, dev, devMinor, init, internal.detachGraceMs ?? 2000, log);
  } catch (e) {
    session.end("mount not ready");
    await unmountFuse(target, dev).catch(() => {});
    await withTimeout(session.closed, INIT_TIMEOUT_MS, "the session to end").catch(() => {});
    throw new VibeError(
      "EIO",
      `Cannot mount "${target}": the FUSE mount did not become ready: ${(e as Error).message}`,
    );
  }
}

class Mounted implements FuseMount {
  readonly closed: Promise<void>;
  #unmounting: Promise<void> | null = null;

  constructor(
    private readonly session: FuseSession,
    readonly mountpoint: string,
    private readonly dev: string,
    private readonly devMinor: number,
    readonly init: InitInfo,
    private readonly detachGraceMs: number,
    private readonly log: (msg: string) => void,
  ) {
    this.closed = session.closed;
    // A session that ends by itself (abort, device error) must not leave a dead mount behind.
    void session.closed.then(async () => {
      if (this.#unmounting === null && await isFuseMounted(mountpoint, dev).catch(() => false)) {
        await unmountFuse(mountpoint, dev).catch(() => {});
      }
    });
  }

  invalidateInode(ino: number, offset = 0, length = 0): Promise<void> {
    return this.session.notifyInvalInode(ino, offset, length);
  }

  invalidateEntry(parent: number, name: string): Promise<void> {
    return this.session.notifyInvalEntry(parent, name);
  }

  unmount(): Promise<void> {
    this.#unmounting ??= this.#unmount();
    return this.#unmounting;
  }

  async #unmount(): Promise<void> {
    if (this.session.endReason === null) {
      const how = await unmountFuse(this.mountpoint, this.dev);
      if (how === "detached") {
        // Open files keep a lazily detached connection alive: give them a grace period, then abort.
        const done = await withTimeout(this.session.closed, this.detachGraceMs, "open files")
          .then(() => true, () => false);
        if (!done && !(await abortConnection(this.devMinor))) {
          this.log(
            `fuse: "${this.mountpoint}" is detached but still in use; the session ends when the last file closes`,
          );
        }
      }
    }
    await this.session.closed;
  }

  stats(): FuseStats {
    return this.session.stats();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
