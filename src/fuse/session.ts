/**
 * The FUSE session: the request loop on /dev/fuse and the opcode table.
 *
 * Opcodes answered ENOSYS, and why (README material):
 * - FUSE_GETLK, FUSE_SETLK, FUSE_SETLKW: POSIX/BSD locks stay in the kernel
 *   (we never negotiate FUSE_POSIX_LOCKS / FUSE_FLOCK_LOCKS, so the kernel
 *   keeps lock state locally; correct because every access goes through it).
 * - FUSE_BMAP: block mapping exists only for block-device (fuseblk) mounts.
 * - FUSE_IOCTL: no ioctls are defined on vibe files (the kernel turns ENOSYS
 *   into ENOTTY for the caller).
 * - FUSE_POLL: files are always ready; on ENOSYS the kernel stops asking and
 *   reports the default poll mask.
 * - FUSE_NOTIFY_REPLY: only follows FUSE_NOTIFY_RETRIEVE, which we never send.
 * - FUSE_COPY_FILE_RANGE, FUSE_COPY_FILE_RANGE_64: on ENOSYS the kernel falls
 *   back to copying through the page cache (read + write), which is what a
 *   channel-side copy would do anyway.
 * - FUSE_SETUPMAPPING, FUSE_REMOVEMAPPING: DAX windows (virtiofs only).
 * - FUSE_SYNCFS: sent only by virtiofs and submounts; the Vfs has no syncfs.
 * - FUSE_TMPFILE: O_TMPFILE needs an unnamed inode, which the Vfs cannot
 *   create; callers get EOPNOTSUPP and fall back to named temp files.
 * - FUSE_STATX: on ENOSYS the kernel falls back to GETATTR (no birth time).
 * - CUSE_INIT and anything unknown.
 *
 * Invariants:
 * - The fd is O_NONBLOCK and watched by the process-wide reactor (one
 *   poll(2) for every mount); when it is readable the session reads requests
 *   until EAGAIN and dispatches each as soon as it is read, without waiting
 *   for earlier ones, so a slow read never blocks a GETATTR.
 * - A handler decodes all its arguments synchronously, before its first
 *   await; only handlers flagged `retainsBuffer` (WRITE) keep views into the
 *   request buffer, and the reader takes a fresh buffer for them.
 * - Replies are encoded into one scratch buffer and written synchronously in
 *   the same tick (writes to /dev/fuse never block); notifications are
 *   written from the blocking pool because the kernel may wait for page or
 *   directory locks that an in-flight request holds.
 * - Lookup counts: every reply the kernel accepts that hands out an inode
 *   (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK, each READDIRPLUS entry
 *   other than "." and "..") counts +1 for that inode, both in the Vfs
 *   (which counts it in the call that produced the attrs) and in the
 *   session's ledger. When the kernel does not take such a reply (the
 *   request was interrupted and already answered, or the write failed), the
 *   session gives the reference back with `vfs.forget(ino, 1)`. LOOKUP of
 *   "." and ".." (export support) yields references the Vfs cannot count;
 *   the ledger holds them as `extra` and FORGET consumes those first. When
 *   the session ends, every reference the kernel still held is forgotten
 *   (the kernel sends no FORGETs at unmount).
 * - INTERRUPT: a read-only request still running whose caller is being
 *   killed (SIGKILL pending) is answered EINTR at once and its late result is
 *   dropped (with its lookup counts given back), so the process can die
 *   without waiting for the Vfs. Interrupts by handled signals are ignored,
 *   as are interrupts of requests with side effects: they complete and
 *   report their real result. An INTERRUPT for a request not (yet) in flight
 *   is answered EAGAIN after a short delay, as the protocol asks.
 */
import type { Attr, Vfs } from "../vfs/vfs.ts";
import { VibeError } from "../errors.ts";
import {
  closeFd,
  fuseBackingClose,
  fuseBackingOpen,
  O_CLOEXEC,
  O_RDONLY,
  openPath,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  readSync,
  writeAsync,
  writeSync,
  writevSync,
} from "../../ffi/libc_linux.ts";
import { reactor } from "./reactor.ts";
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import * as abi from "./abi.ts";
import * as h from "./handlers.ts";
import {
  decodeInHeader,
  decodeInitIn,
  encodeName,
  FrameError,
  getU64,
  type InHeader,
  type InitIn,
  putAttrOut,
  putEntryOut,
  putOutHeader,
  putStatfs,
  putU64,
  type Timeout,
  toTimeout,
  writeStruct,
} from "./codec.ts";
import { ErrnoMapper } from "./errno_map.ts";
import { FileIoModes, type IoMode } from "./io_modes.ts";

/** Options of a session (mod.ts fills the defaults). */
export interface SessionOptions {
  attrTimeoutSec: number;
  entryTimeoutSec: number;
  /** How long the kernel may cache "no such entry" (0: never). */
  negativeTimeoutSec: number;
  keepCache: (ino: number) => boolean;
  /**
   * For read-only opens: a host file holding exactly the file's bytes, which
   * never changes (a clean blob's cache file), to pass reads through to; or
   * null. Unset: no passthrough.
   */
  backingFile?: (ino: number) => string | null;
  log: (msg: string) => void;
  /** Largest WRITE payload we accept (max_write); the read buffers are this plus header room. */
  maxWrite: number;
  /** Called with a copy of every raw request frame (golden-frame capture). */
  onFrame?: (frame: Uint8Array) => void;
}

/** Counters of a session. */
export interface FuseStats {
  requests: number;
  inFlight: number;
  byOpcode: Record<string, number>;
  /** Regular files open now, by I/O mode (page cache or passthrough). */
  openFiles: Record<IoMode, number>;
  /** Whether read-only opens may be passed through (negotiated and not turned off). */
  passthrough: boolean;
}

/** What INIT negotiated. */
export interface InitInfo {
  /** Kernel's protocol version. */
  kernelMajor: number;
  kernelMinor: number;
  /** Minor version in use: min(kernel, ours). */
  minor: number;
  /** Flags the kernel offered (flags | flags2 << 32, as a bigint-free pair). */
  kernelFlags: number;
  kernelFlags2: number;
  /** Flags we replied with (FUSE_INIT_EXT only to ask for passthrough in flags2). */
  flags: number;
  flags2: number;
  /** Whether reads may be passed through to backing files (FUSE_PASSTHROUGH). */
  passthrough: boolean;
  maxWrite: number;
  maxReadahead: number;
  maxPages: number;
}

/** The answer to INIT: flags we ask for when the kernel offers them (see mod.ts for why). */
export const WANTED_INIT_FLAGS = abi.FUSE_ASYNC_READ | abi.FUSE_ATOMIC_O_TRUNC |
  abi.FUSE_EXPORT_SUPPORT | abi.FUSE_BIG_WRITES | abi.FUSE_AUTO_INVAL_DATA |
  abi.FUSE_DO_READDIRPLUS | abi.FUSE_READDIRPLUS_AUTO | abi.FUSE_ASYNC_DIO |
  abi.FUSE_PARALLEL_DIROPS | abi.FUSE_MAX_PAGES | abi.FUSE_CACHE_SYMLINKS;
/** max_pages we ask for (256 × 4 KiB = 1 MiB requests; the kernel's default limit). */
export const MAX_PAGES = 256;
/** Background requests (readahead, async reads) the kernel may keep in flight. */
export const MAX_BACKGROUND = 64;
export const CONGESTION_THRESHOLD = 48;

/** A decoded request being served. */
export interface Req {
  readonly h: InHeader;
  readonly op: OpSpec;
  /** View and bytes over the frame; valid until the handler's first await (unless retainsBuffer). */
  readonly v: DataView;
  readonly b: Uint8Array;
  /** Offset of the op's arguments and the end of them (extensions excluded). */
  readonly arg: number;
  readonly argEnd: number;
  /** True once a reply was written (or dropped); later replies are discarded. */
  answered: boolean;
}

export type Handler = (s: FuseSession, r: Req) => Promise<void> | void;

/** One row of the opcode table. */
interface OpSpec {
  readonly opcode: number;
  readonly name: string;
  /** Size of the fixed argument struct (checked before the handler runs). */
  readonly argSize: number;
  /** null: answered ENOSYS. */
  readonly handler: Handler | null;
  /** FORGET and BATCH_FORGET: the kernel expects no reply. */
  readonly noReply?: boolean;
  /** Read-only: may be answered EINTR when interrupted. */
  readonly interruptible?: boolean;
  /** Keeps views into the request buffer until it settles. */
  readonly retainsBuffer?: boolean;
}

/** Room for the request header and fixed args on top of max_write. */
const READ_HEADER_ROOM = 4096;
/** Replies up to this many payload bytes are copied into the scratch buffer; larger ones use writev. */
const COPY_REPLY_MAX = 64 * 1024;
/** Requests read per wake-up before yielding to the event loop (poll wakes us again). */
const MAX_DRAIN = 256;
/** How long to poll the device ourselves after a reply when nothing is in flight. */
const SPIN_US = 50;
/** Requests taken in a row by spinning before going through poll(2) again. */
const SPIN_MAX = 64;
/** Request buffers kept for reuse (WRITE requests keep theirs until handled). */
const FREE_BUFFERS = 4;
/** Delay before answering EAGAIN to an INTERRUPT whose target is not in flight. */
const INTERRUPT_RETRY_MS = 10;

interface LedgerEntry {
  /** References the kernel holds (its nlookup). */
  kernel: number;
  /** Of those, references the Vfs did not count (LOOKUP of "." and ".."). */
  extra: number;
}

/**
 * Serves one mounted filesystem on an open /dev/fuse fd. Owns the fd: closes
 * it when the session ends.
 */
export class FuseSession {
  readonly vfs: Vfs;
  readonly fd: number;
  readonly opts: SessionOptions;
  readonly initDone: Promise<InitInfo>;
  /** Resolves when every reader stopped, the fd is closed and the kernel's references are forgotten. */
  readonly closed: Promise<void>;
  /** Why the session ended (set once it starts ending). */
  endReason: string | null = null;

  readonly attrValid: Timeout;
  readonly entryValid: Timeout;
  readonly negativeValid: Timeout;
  readonly errnos: ErrnoMapper;

  #init: InitInfo | null = null;
  #resolveInit!: (i: InitInfo) => void;
  #rejectInit!: (e: Error) => void;
  #resolveClosed!: () => void;
  /** The buffer the next request is read into (null once stopped). */
  #buf: Uint8Array<ArrayBuffer> | null = null;
  #spins = 0;
  #stopped = false;
  #pendingNotifies = 0;
  #notifiesDrained: (() => void) | null = null;
  #freeBuffers: Uint8Array<ArrayBuffer>[] = [];
  readonly #bufSize: number;
  readonly #scratch: Uint8Array<ArrayBuffer>;
  readonly #sv: DataView;
  /** Off-heap home of reply headers sent with writev. */
  readonly #hdr: Uint8Array<ArrayBuffer>;
  readonly #hv: DataView;
  readonly #inflight = new Map<number, Req>();
  readonly #ledger = new Map<number, LedgerEntry>();
  #nextFh = 1;
  #io: FileIoModes = new FileIoModes(null, () => {});
  #requests = 0;
  readonly #byOpcode: Record<string, number> = {};
  readonly #loggedOnce = new Set<string>();

  constructor(fd: number, vfs: Vfs, opts: SessionOptions) {
    this.fd = fd;
    this.vfs = vfs;
    this.opts = opts;
    this.attrValid = toTimeout(opts.attrTimeoutSec);
    this.entryValid = toTimeout(opts.entryTimeoutSec);
    this.negativeValid = toTimeout(opts.negativeTimeoutSec);
    this.errnos = new ErrnoMapper(opts.log);
    this.#bufSize = Math.max(abi.FUSE_MIN_READ_BUFFER, opts.maxWrite + READ_HEADER_ROOM);
    this.#scratch = new Uint8Array(2 * COPY_REPLY_MAX);
    this.#sv = new DataView(this.#scratch.buffer);
    this.#hdr = new Uint8Array(4096);
    this.#hv = new DataView(this.#hdr.buffer);
    this.initDone = new Promise((res, rej) => {
      this.#resolveInit = res;
      this.#rejectInit = rej;
    });
    this.initDone.catch(() => {});
    this.closed = new Promise((res) => (this.#resolveClosed = res));
  }

  /**
   * Starts serving: the fd (opened O_NONBLOCK) joins the process-wide
   * reactor, which calls `#onReady` whenever requests are waiting. Call once,
   * after mount(2) attached the fd.
   */
  start(): void {
    this.#buf = this.#takeBuffer();
    reactor.add(this.fd, (revents) => this.#onReady(revents));
  }

  /** The negotiated INIT parameters, once known. */
  get init(): InitInfo | null {
    return this.#init;
  }

  stats(): FuseStats {
    return {
      requests: this.#requests,
      inFlight: this.#inflight.size,
      byOpcode: { ...this.#byOpcode },
      openFiles: this.#io.counts(),
      passthrough: this.#io.passthroughOn,
    };
  }

  /**
   * Marks the session as ending: no more replies are written, the fd leaves
   * the reactor and the session finishes (closes the fd, returns the
   * kernel's references to the Vfs).
   */
  end(reason: string): void {
    if (this.endReason !== null) return;
    this.endReason = reason;
    this.#rejectInit(new Error(`FUSE session ended before INIT: ${reason}`));
    // Leave the reactor after the current dispatch (if any) has returned.
    queueMicrotask(() => this.#stop());
  }

  // ---- reading ----

  #takeBuffer(): Uint8Array<ArrayBuffer> {
    return this.#freeBuffers.pop() ?? new Uint8Array(this.#bufSize);
  }

  #giveBuffer(b: Uint8Array<ArrayBuffer>): void {
    if (this.#freeBuffers.length < FREE_BUFFERS) this.#freeBuffers.push(b);
  }

  /**
   * Reads every waiting request (non-blocking reads until EAGAIN) and
   * dispatches each; handlers run concurrently. An error or hang-up on the
   * device means the connection is gone (unmounted or aborted).
   */
  #onReady(revents: number): void {
    this.#spins = 0;
    if (this.endReason === null && (revents & (POLLERR | POLLHUP | POLLNVAL)) === 0) {
      for (let drained = 0; this.endReason === null && drained < MAX_DRAIN; drained++) {
        const n = readSync(this.fd, this.#buf!);
        if (n === "EAGAIN") return;
        if (n === "EINTR") continue;
        if (typeof n === "string" || n <= 0) {
          if (n === "ENOENT") continue; // the request was interrupted before we read it
          this.end(n === "ENODEV" ? "device closed (unmounted)" : `read of /dev/fuse failed: ${n}`);
          break;
        }
        if (this.#dispatch(this.#buf!, n)) this.#buf = this.#takeBuffer();
      }
      if (this.endReason === null) return;
    } else {
      this.end("device closed (unmounted)");
    }
    this.#stop();
  }

  /** Leaves the reactor and finishes (once). */
  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    reactor.remove(this.fd);
    if (this.#buf) this.#giveBuffer(this.#buf);
    this.#buf = null;
    void this.#finish();
  }

  async #finish(): Promise<void> {
    if (this.#pendingNotifies > 0) {
      await new Promise<void>((res) => (this.#notifiesDrained = res));
    }
    closeFd(this.fd);
    // The kernel sends no FORGETs at unmount: give back every reference it held.
    for (const [ino, e] of this.#ledger) {
      const n = e.kernel - e.extra;
      if (n > 0) this.vfs.forget(ino, n);
    }
    this.#ledger.clear();
    this.#freeBuffers = [];
    this.#resolveClosed();
  }

  /** Handles one frame; true when a handler keeps the buffer (the reader must take another). */
  #dispatch(buf: Uint8Array<ArrayBuffer>, n: number): boolean {
    if (this.opts.onFrame) this.opts.onFrame(buf.slice(0, n));
    const v = new DataView(buf.buffer, 0, n);
    if (n < abi.fuse_in_header.size) {
      this.opts.log(`fuse: short frame of ${n} bytes ignored`);
      return false;
    }
    const h = decodeInHeader(v);
    const op = OPS.get(h.opcode) ?? unknownOp(h.opcode);
    this.#requests++;
    this.#byOpcode[op.name] = (this.#byOpcode[op.name] ?? 0) + 1;
    const argEnd = h.len - h.totalExtlen * 8;
    const r: Req = {
      h,
      op,
      v,
      b: buf.subarray(0, n),
      arg: abi.fuse_in_header.size,
      argEnd,
      answered: false,
    };
    if (h.len !== n || argEnd < r.arg + op.argSize) {
      this.#logOnce(
        `frame:${op.name}`,
        `fuse: malformed ${op.name} frame (${n} bytes, len ${h.len})`,
      );
      if (!op.noReply) this.replyError(r, LINUX_ERRNO.EIO);
      return false;
    }
    if (op.handler === null) {
      if (!op.noReply) this.replyError(r, LINUX_ERRNO.ENOSYS);
      return false;
    }
    if (op.noReply || h.opcode === abi.FUSE_INTERRUPT || h.opcode === abi.FUSE_INIT) {
      try {
        void op.handler(this, r);
      } catch (e) {
        this.#fail(r, e);
      }
      return false;
    }
    this.#inflight.set(h.unique, r);
    let p: Promise<void> | void;
    try {
      p = op.handler(this, r);
    } catch (e) {
      this.#fail(r, e);
      this.#settled(r);
      return false;
    }
    if (p === undefined) {
      this.#settled(r);
      return false;
    }
    p.then(
      () => this.#settled(r, op.retainsBuffer ? buf : null),
      (e) => {
        this.#fail(r, e);
        this.#settled(r, op.retainsBuffer ? buf : null);
      },
    );
    return op.retainsBuffer === true;
  }

  #settled(r: Req, buf: Uint8Array<ArrayBuffer> | null = null): void {
    this.#inflight.delete(r.h.unique);
    if (buf !== null) this.#giveBuffer(buf);
    if (!r.answered) {
      this.#logOnce(`noreply:${r.op.name}`, `fuse: ${r.op.name} handler gave no reply (bug)`);
      this.replyError(r, LINUX_ERRNO.EIO);
    }
    if (this.#inflight.size === 0) this.#spinRead();
  }

  /**
   * A program doing one file operation after another sends its next request
   * a few microseconds after our reply; waiting for it in poll(2) costs two
   * thread hand-offs (the blocking pool, then the event loop) per request.
   * So when nothing is in flight, poll the device ourselves for a moment.
   * Bounded: at most SPIN_US per reply and SPIN_MAX requests in a row taken
   * this way before the next round goes through poll(2) and the event loop
   * (timers, the control socket, other mounts).
   */
  #spinRead(): void {
    if (this.endReason !== null || this.#buf === null || this.#spins >= SPIN_MAX) return;
    const until = performance.now() + SPIN_US / 1000;
    do {
      const n = readSync(this.fd, this.#buf);
      if (n === "EAGAIN" || n === "EINTR" || n === "ENOENT") continue;
      if (typeof n === "string" || n <= 0) return; // the poll path reports the end
      this.#spins++;
      if (this.#dispatch(this.#buf, n)) this.#buf = this.#takeBuffer();
      return;
    } while (performance.now() < until);
  }

  #fail(r: Req, e: unknown): void {
    if (r.answered) return;
    const errno = e instanceof FrameError
      ? LINUX_ERRNO[e.errno]
      : this.errnos.toErrno(e, r.op.name, r.h.nodeid);
    if (!r.op.noReply) this.replyError(r, errno);
  }

  #logOnce(key: string, msg: string): void {
    if (this.#loggedOnce.has(key)) return;
    this.#loggedOnce.add(key);
    this.opts.log(msg);
  }

  // ---- replying ----

  /** Writes `scratch[0, 16 + bodyLen)` as the reply to `r`; false when the kernel did not take it. */
  #send(r: Req, bodyLen: number, error = 0): boolean {
    if (r.answered) return false;
    r.answered = true;
    if (this.endReason !== null) return false;
    const len = abi.fuse_out_header.size + bodyLen;
    putOutHeader(this.#sv, 0, len, -error, r.h.unique);
    return this.#checkWrite(r, writeSync(this.fd, this.#scratch, len));
  }

  #checkWrite(r: Req, res: number | string): boolean {
    if (typeof res === "number") return true;
    // ENOENT: the request is gone (interrupted and abandoned); ENODEV: unmounted.
    if (res !== "ENOENT" && res !== "ENODEV") {
      this.#logOnce(`write:${res}`, `fuse: reply to ${r.op.name} failed: ${res}`);
    }
    return false;
  }

  /** The scratch buffer's view for building a reply body at offset 16. */
  get body(): DataView {
    return this.#sv;
  }

  replyError(r: Req, errno: number): void {
    this.#send(r, 0, errno);
  }

  replyEmpty(r: Req): void {
    this.#send(r, 0);
  }

  /** Replies with raw bytes (READ, READLINK, GETXATTR, LISTXATTR). */
  replyBytes(r: Req, data: Uint8Array): void {
    if (data.length <= COPY_REPLY_MAX) {
      this.#scratch.set(data, abi.fuse_out_header.size);
      this.#send(r, data.length);
      return;
    }
    if (r.answered) return;
    r.answered = true;
    if (this.endReason !== null) return;
    const len = abi.fuse_out_header.size + data.length;
    putOutHeader(this.#hv, 0, len, 0, r.h.unique);
    // Arrays this large live off-heap, so writev may take their address.
    this.#checkWrite(r, writevSync(this.fd, [this.#hdr.subarray(0, 16), data]));
  }

  /** Replies with a fuse_entry_out; gives the reference back when the kernel does not take it. */
  replyEntry(r: Req, attr: Attr, extra = false): void {
    const end = putEntryOut(this.#sv, 16, attr, this.entryValid, this.attrValid);
    if (this.#send(r, end - 16)) this.#handedOut(attr.ino, extra);
    else this.#giveBack(attr.ino, extra);
  }

  replyNegativeEntry(r: Req): void {
    const end = putEntryOut(this.#sv, 16, null, this.negativeValid, this.negativeValid);
    this.#send(r, end - 16);
  }

  replyAttr(r: Req, attr: Attr): void {
    const end = putAttrOut(this.#sv, 16, attr, this.attrValid);
    this.#send(r, end - 16);
  }

  /** Replies to OPENDIR (directories have no I/O mode). */
  replyOpenDir(r: Req, openFlags: number): void {
    const end = writeStruct(abi.fuse_open_out, this.#sv, 16, {
      fh: this.#nextFh++,
      open_flags: openFlags,
    });
    this.#send(r, end - 16);
  }

  /**
   * Before changing the bytes of `ino` (open for writing, O_TRUNC, truncate):
   * throws ETXTBSY while it is open with passthrough (its bytes must not
   * change until those opens are closed, io_modes.ts), else keeps it from
   * being pinned until the returned function is called, so a read-only open
   * arriving during the handler's await cannot pin the old bytes.
   */
  holdUnpinned(ino: number): () => void {
    if (this.#io.pinned(ino)) {
      throw new VibeError(
        "ETXTBSY",
        `Inode ${ino} is open read-only with passthrough; close those descriptors to change it`,
      );
    }
    return this.#io.hold(ino);
  }

  /**
   * Replies to OPEN of a regular file (read-only opens of a pinned inode, or
   * any open of an unpinned one). `openFlags` are those for page-cache I/O;
   * a read-only open may be passed through to `backingPath` instead.
   */
  replyOpenFile(
    r: Req,
    ino: number,
    openFlags: number,
    readOnly: boolean,
    backingPath: string | null,
  ): void {
    const fh = this.#nextFh++;
    const io = this.#io.open(fh, ino, readOnly, readOnly ? backingPath : null);
    const end = writeStruct(abi.fuse_open_out, this.#sv, 16, {
      fh,
      open_flags: ioFlags(openFlags, io.mode),
      backing_id: io.backingId,
    });
    if (!this.#send(r, end - 16)) this.#io.release(fh);
  }

  /** RELEASE of a regular file's `fh`. */
  releaseFile(fh: number): void {
    this.#io.release(fh);
  }

  /** Replies to CREATE; a read-only create of a pinned inode (it existed) shares its backing. */
  replyCreate(r: Req, attr: Attr, openFlags: number, readOnly = false): void {
    const fh = this.#nextFh++;
    const io = this.#io.open(fh, attr.ino, readOnly, null);
    let end = putEntryOut(this.#sv, 16, attr, this.entryValid, this.attrValid);
    end = writeStruct(abi.fuse_open_out, this.#sv, end, {
      fh,
      open_flags: ioFlags(openFlags, io.mode),
      backing_id: io.backingId,
    });
    if (this.#send(r, end - 16)) this.#handedOut(attr.ino, false);
    else {
      this.#giveBack(attr.ino, false);
      this.#io.release(fh);
    }
  }

  /** Replies with one fixed struct. */
  replyStruct<F extends string>(
    r: Req,
    layout: abi.StructLayout<F>,
    values: Partial<Record<F, number>>,
  ): void {
    const end = writeStruct(layout, this.#sv, 16, values);
    this.#send(r, end - 16);
  }

  replyStatfs(r: Req, s: Parameters<typeof putStatfs>[2]): void {
    const end = putStatfs(this.#sv, 16, s);
    this.#send(r, end - 16);
  }

  /** Sends a READDIR(PLUS) body already built in scratch; `entries` are the inodes it hands out. */
  replyDirents(r: Req, bodyLen: number, entries: readonly number[]): void {
    const ok = this.#send(r, bodyLen);
    for (const ino of entries) {
      if (ok) this.#handedOut(ino, false);
      else this.#giveBack(ino, false);
    }
  }

  /** Scratch bytes (for building READDIR bodies at offset 16). */
  get scratch(): Uint8Array<ArrayBuffer> {
    return this.#scratch;
  }

  // ---- lookup ledger ----

  #handedOut(ino: number, extra: boolean): void {
    const e = this.#ledger.get(ino);
    if (e) {
      e.kernel++;
      if (extra) e.extra++;
    } else {
      this.#ledger.set(ino, { kernel: 1, extra: extra ? 1 : 0 });
    }
  }

  #giveBack(ino: number, extra: boolean): void {
    if (!extra) this.vfs.forget(ino, 1);
  }

  /** The kernel dropped `n` references to `ino`. */
  forget(ino: number, n: number): void {
    const e = this.#ledger.get(ino);
    if (!e) {
      if (ino !== abi.FUSE_ROOT_ID) {
        this.#logOnce("forget:unknown", `fuse: FORGET of inode ${ino} that was never handed out`);
      }
      return;
    }
    const take = Math.min(n, e.kernel);
    if (take < n) {
      this.#logOnce("forget:over", `fuse: FORGET of ${n} > ${e.kernel} for inode ${ino}`);
    }
    const fromExtra = Math.min(e.extra, take);
    e.kernel -= take;
    e.extra -= fromExtra;
    if (e.kernel === 0) this.#ledger.delete(ino);
    if (take - fromExtra > 0) this.vfs.forget(ino, take - fromExtra);
  }

  // ---- INIT / INTERRUPT ----

  handleInit(r: Req): void {
    const k: InitIn = decodeInitIn(r.v, r.arg, r.argEnd - r.arg);
    if (k.major > abi.FUSE_KERNEL_VERSION) {
      // Tell the kernel our major; it sends a new INIT.
      const end = writeStruct(abi.fuse_init_out, this.#sv, 16, {
        major: abi.FUSE_KERNEL_VERSION,
        minor: abi.FUSE_KERNEL_MINOR_VERSION,
      });
      this.#send(r, end - 16);
      return;
    }
    const minor = Math.min(k.minor, abi.FUSE_KERNEL_MINOR_VERSION);
    if (k.major < abi.FUSE_KERNEL_VERSION || minor < abi.FUSE_MIN_MINOR_VERSION) {
      this.replyError(r, LINUX_ERRNO.EPROTO);
      this.#rejectInit(
        new Error(
          `kernel FUSE protocol ${k.major}.${k.minor} is older than 7.${abi.FUSE_MIN_MINOR_VERSION}`,
        ),
      );
      return;
    }
    let flags = (WANTED_INIT_FLAGS & k.flags) >>> 0;
    // Passthrough: offered in flags2 (behind INIT_EXT), needs CAP_SYS_ADMIN for backing files.
    const passthrough = this.opts.backingFile !== undefined && Deno.uid() === 0 &&
      (k.flags & abi.FUSE_INIT_EXT) !== 0 && (k.flags2 & abi.FUSE_PASSTHROUGH_2) !== 0;
    const flags2 = passthrough ? abi.FUSE_PASSTHROUGH_2 : 0;
    if (passthrough) flags = (flags | abi.FUSE_INIT_EXT) >>> 0;
    const maxPages = (flags & abi.FUSE_MAX_PAGES) !== 0 ? MAX_PAGES : 32;
    const maxWrite = Math.min(this.opts.maxWrite, maxPages * 4096);
    const info: InitInfo = {
      kernelMajor: k.major,
      kernelMinor: k.minor,
      minor,
      kernelFlags: k.flags,
      kernelFlags2: k.flags2,
      flags,
      flags2,
      passthrough,
      maxWrite,
      maxReadahead: k.maxReadahead,
      maxPages,
    };
    const end = writeStruct(abi.fuse_init_out, this.#sv, 16, {
      major: abi.FUSE_KERNEL_VERSION,
      minor,
      max_readahead: k.maxReadahead,
      flags,
      max_background: MAX_BACKGROUND,
      congestion_threshold: CONGESTION_THRESHOLD,
      max_write: maxWrite,
      time_gran: 1,
      max_pages: maxPages,
      flags2,
      // Backing files must sit on a filesystem that is not itself stacked.
      max_stack_depth: passthrough ? 1 : 0,
    });
    if (this.#send(r, end - 16)) {
      if (passthrough) {
        this.#io = new FileIoModes({
          open: (path) => {
            const fd = openPath(path, O_RDONLY | O_CLOEXEC);
            if (typeof fd === "string") return fd;
            try {
              return fuseBackingOpen(this.fd, fd);
            } finally {
              closeFd(fd);
            }
          },
          close: (id) => {
            const e = fuseBackingClose(this.fd, id);
            if (e !== null && this.endReason === null) {
              this.#logOnce("backing-close", `fuse: closing backing id ${id}: ${e}`);
            }
          },
        }, this.opts.log);
      }
      this.#init = info;
      this.#resolveInit(info);
    } else {
      this.#rejectInit(new Error("the kernel refused the INIT reply"));
    }
  }

  handleInterrupt(r: Req): void {
    const target = getU64(r.v, r.arg + abi.fuse_interrupt_in.at.unique);
    const act = (): boolean => {
      const t = this.#inflight.get(target);
      if (!t) return false;
      if (!t.answered && t.op.interruptible) {
        void callerIsDying(t.h.pid).then((dying) => {
          if (dying && !t.answered) this.replyError(t, LINUX_ERRNO.EINTR);
        });
      }
      return true;
    };
    if (act()) return;
    setTimeout(() => {
      if (!act()) this.#send(r, 0, LINUX_ERRNO.EAGAIN);
    }, INTERRUPT_RETRY_MS);
  }

  // ---- notifications ----

  /** FUSE_NOTIFY_INVAL_INODE: drop cached attrs and the data in [off, off+len) (len 0: to the end). */
  notifyInvalInode(ino: number, off: number, len: number): Promise<void> {
    const o = abi.fuse_notify_inval_inode_out;
    const buf = new Uint8Array(abi.fuse_out_header.size + o.size);
    const v = new DataView(buf.buffer);
    putOutHeader(v, 0, buf.length, abi.FUSE_NOTIFY_INVAL_INODE, 0);
    putU64(v, 16 + o.at.ino, ino);
    putU64(v, 16 + o.at.off, off);
    putU64(v, 16 + o.at.len, len);
    return this.#notify(buf);
  }

  /** FUSE_NOTIFY_INVAL_ENTRY: drop the cached dentry `name` in `parent` (positive or negative). */
  notifyInvalEntry(parent: number, name: string): Promise<void> {
    const o = abi.fuse_notify_inval_entry_out;
    const nameBytes = encodeName(name);
    const buf = new Uint8Array(abi.fuse_out_header.size + o.size + nameBytes.length + 1);
    const v = new DataView(buf.buffer);
    putOutHeader(v, 0, buf.length, abi.FUSE_NOTIFY_INVAL_ENTRY, 0);
    writeStruct(o, v, 16, { parent, namelen: nameBytes.length, flags: 0 });
    buf.set(nameBytes, 16 + o.size);
    return this.#notify(buf);
  }

  /**
   * Writes a notification from the blocking pool: the kernel may need page or
   * directory locks held by requests this loop has yet to answer. Failures
   * are ignored: ENOENT means nothing was cached, anything else that the
   * connection is gone.
   */
  async #notify(buf: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.#init === null || this.endReason !== null) return;
    this.#pendingNotifies++;
    try {
      await writeAsync(this.fd, buf);
    } finally {
      if (--this.#pendingNotifies === 0 && this.#notifiesDrained) {
        this.#notifiesDrained();
        this.#notifiesDrained = null;
      }
    }
  }
}

/**
 * True when thread `tid` has SIGKILL pending, i.e. it is being killed (the
 * kernel turns every fatal signal into a group-wide SIGKILL). INTERRUPTs for
 * handled signals are ignored: answering EINTR there would make stat(2) or
 * open(2) fail in programs that never expect it (Node's SIGCHLD, Go's SIGURG).
 */
async function callerIsDying(tid: number): Promise<boolean> {
  if (tid === 0) return false; // a caller outside our pid namespace: cannot tell
  let status: string;
  try {
    status = await Deno.readTextFile(`/proc/${tid}/status`);
  } catch (e) {
    return e instanceof Deno.errors.NotFound; // already gone
  }
  const SIGKILL_BIT = 1 << (9 - 1);
  for (const key of ["SigPnd:", "ShdPnd:"]) {
    const at = status.indexOf(key);
    if (at < 0) continue;
    const hex = status.slice(at + key.length, status.indexOf("\n", at)).trim();
    if (parseInt(hex.slice(-8), 16) & SIGKILL_BIT) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The opcode table: names, handlers, fixed argument sizes in one place.

/** open_flags for an I/O mode, from those for page-cache I/O. */
function ioFlags(cacheFlags: number, mode: IoMode): number {
  if (mode === "cache") return cacheFlags;
  return ((cacheFlags & ~abi.FOPEN_KEEP_CACHE) | abi.FOPEN_PASSTHROUGH) >>> 0;
}

/** Row flags. */
const RO = { interruptible: true } as const;
const NO_REPLY = { noReply: true } as const;

function row(
  opcode: number,
  name: string,
  argSize: number,
  handler: Handler | null,
  flags: Partial<Pick<OpSpec, "noReply" | "interruptible" | "retainsBuffer">> = {},
): OpSpec {
  return { opcode, name, argSize, handler, ...flags };
}

const TABLE: OpSpec[] = [
  row(abi.FUSE_LOOKUP, "FUSE_LOOKUP", 0, h.lookup, RO),
  row(abi.FUSE_FORGET, "FUSE_FORGET", abi.fuse_forget_in.size, h.forget, NO_REPLY),
  row(abi.FUSE_GETATTR, "FUSE_GETATTR", abi.fuse_getattr_in.size, h.getattr, RO),
  row(abi.FUSE_SETATTR, "FUSE_SETATTR", abi.fuse_setattr_in.size, h.setattr),
  row(abi.FUSE_READLINK, "FUSE_READLINK", 0, h.readlink, RO),
  row(abi.FUSE_SYMLINK, "FUSE_SYMLINK", 0, h.symlink),
  row(abi.FUSE_MKNOD, "FUSE_MKNOD", abi.fuse_mknod_in.size, h.mknod),
  row(abi.FUSE_MKDIR, "FUSE_MKDIR", abi.fuse_mkdir_in.size, h.mkdir),
  row(abi.FUSE_UNLINK, "FUSE_UNLINK", 0, h.unlink),
  row(abi.FUSE_RMDIR, "FUSE_RMDIR", 0, h.rmdir),
  row(abi.FUSE_RENAME, "FUSE_RENAME", abi.fuse_rename_in.size, h.rename),
  row(abi.FUSE_LINK, "FUSE_LINK", abi.fuse_link_in.size, h.link),
  row(abi.FUSE_OPEN, "FUSE_OPEN", abi.fuse_open_in.size, h.open),
  row(abi.FUSE_READ, "FUSE_READ", abi.fuse_read_in.size, h.read, RO),
  row(abi.FUSE_WRITE, "FUSE_WRITE", abi.fuse_write_in.size, h.write, { retainsBuffer: true }),
  row(abi.FUSE_STATFS, "FUSE_STATFS", 0, h.statfs, RO),
  row(abi.FUSE_RELEASE, "FUSE_RELEASE", abi.fuse_release_in.size, h.release),
  row(abi.FUSE_FSYNC, "FUSE_FSYNC", abi.fuse_fsync_in.size, h.fsync),
  row(abi.FUSE_SETXATTR, "FUSE_SETXATTR", abi.fuse_setxattr_in.size, h.setxattr),
  row(abi.FUSE_GETXATTR, "FUSE_GETXATTR", abi.fuse_getxattr_in.size, h.getxattr, RO),
  row(abi.FUSE_LISTXATTR, "FUSE_LISTXATTR", abi.fuse_getxattr_in.size, h.listxattr, RO),
  row(abi.FUSE_REMOVEXATTR, "FUSE_REMOVEXATTR", 0, h.removexattr),
  // Never sent (every OPEN/CREATE reply sets FOPEN_NOFLUSH), answered all the same.
  row(abi.FUSE_FLUSH, "FUSE_FLUSH", abi.fuse_flush_in.size, h.empty),
  row(abi.FUSE_INIT, "FUSE_INIT", abi.FUSE_COMPAT_INIT_IN_SIZE, h.init),
  row(abi.FUSE_OPENDIR, "FUSE_OPENDIR", abi.fuse_open_in.size, h.opendir),
  row(abi.FUSE_READDIR, "FUSE_READDIR", abi.fuse_read_in.size, h.readdir, RO),
  row(abi.FUSE_RELEASEDIR, "FUSE_RELEASEDIR", abi.fuse_release_in.size, h.empty),
  row(abi.FUSE_FSYNCDIR, "FUSE_FSYNCDIR", abi.fuse_fsync_in.size, h.fsync),
  row(abi.FUSE_GETLK, "FUSE_GETLK", 0, null),
  row(abi.FUSE_SETLK, "FUSE_SETLK", 0, null),
  row(abi.FUSE_SETLKW, "FUSE_SETLKW", 0, null),
  row(abi.FUSE_ACCESS, "FUSE_ACCESS", abi.fuse_access_in.size, h.access, RO),
  row(abi.FUSE_CREATE, "FUSE_CREATE", abi.fuse_create_in.size, h.create),
  row(abi.FUSE_INTERRUPT, "FUSE_INTERRUPT", abi.fuse_interrupt_in.size, h.interrupt),
  row(abi.FUSE_BMAP, "FUSE_BMAP", 0, null),
  row(abi.FUSE_DESTROY, "FUSE_DESTROY", 0, h.destroy),
  row(abi.FUSE_IOCTL, "FUSE_IOCTL", 0, null),
  row(abi.FUSE_POLL, "FUSE_POLL", 0, null),
  row(abi.FUSE_NOTIFY_REPLY, "FUSE_NOTIFY_REPLY", 0, null),
  row(
    abi.FUSE_BATCH_FORGET,
    "FUSE_BATCH_FORGET",
    abi.fuse_batch_forget_in.size,
    h.batchForget,
    NO_REPLY,
  ),
  row(abi.FUSE_FALLOCATE, "FUSE_FALLOCATE", abi.fuse_fallocate_in.size, h.fallocate),
  row(abi.FUSE_READDIRPLUS, "FUSE_READDIRPLUS", abi.fuse_read_in.size, h.readdirplus, RO),
  row(abi.FUSE_RENAME2, "FUSE_RENAME2", abi.fuse_rename2_in.size, h.rename2),
  row(abi.FUSE_LSEEK, "FUSE_LSEEK", abi.fuse_lseek_in.size, h.lseek, RO),
  row(abi.FUSE_COPY_FILE_RANGE, "FUSE_COPY_FILE_RANGE", 0, null),
  row(abi.FUSE_SETUPMAPPING, "FUSE_SETUPMAPPING", 0, null),
  row(abi.FUSE_REMOVEMAPPING, "FUSE_REMOVEMAPPING", 0, null),
  row(abi.FUSE_SYNCFS, "FUSE_SYNCFS", 0, null),
  row(abi.FUSE_TMPFILE, "FUSE_TMPFILE", 0, null),
  row(abi.FUSE_STATX, "FUSE_STATX", 0, null),
  row(abi.FUSE_COPY_FILE_RANGE_64, "FUSE_COPY_FILE_RANGE_64", 0, null),
  row(abi.CUSE_INIT, "CUSE_INIT", 0, null),
];

/** Opcode → row. */
export const OPS: ReadonlyMap<number, OpSpec> = new Map(TABLE.map((o) => [o.opcode, o]));

const unknownOps = new Map<number, OpSpec>();

function unknownOp(opcode: number): OpSpec {
  let op = unknownOps.get(opcode);
  if (!op) {
    op = { opcode, name: `FUSE_OP_${opcode}`, argSize: 0, handler: null };
    unknownOps.set(opcode, op);
  }
  return op;
}

/** Name of an opcode ("FUSE_LOOKUP"), for logs and tests. */
export function opcodeName(opcode: number): string {
  return OPS.get(opcode)?.name ?? `FUSE_OP_${opcode}`;
}

/** Opcodes answered ENOSYS. */
export function enosysOpcodes(): string[] {
  return TABLE.filter((o) => o.handler === null).map((o) => o.name);
}

/** Human form of INIT flags (flags, flags2), for logs and tests. */
export function describeInitFlags(flags: number, flags2 = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < 32; i++) {
    if ((flags >>> i) & 1) out.push(abi.INIT_FLAG_NAMES[i] ?? `bit${i}`);
  }
  for (let i = 0; i < 32; i++) {
    if ((flags2 >>> i) & 1) out.push(abi.INIT_FLAG_NAMES[32 + i] ?? `bit${32 + i}`);
  }
  return out;
}
