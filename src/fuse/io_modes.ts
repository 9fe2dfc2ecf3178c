/**
 * I/O mode of every open regular file, for FUSE passthrough (kernel ≥ 6.9).
 *
 * A read-only open of a file whose bytes lie unchanged in a host file (a
 * clean blob's finished cache file) is answered FOPEN_PASSTHROUGH with that
 * file registered as its backing: the kernel then reads the host file itself,
 * through that file's page cache, and READ never reaches the daemon.
 *
 * Invariants (the kernel's rules, fs/fuse/iomode.c, kept on our side):
 * - An inode is in caching mode (page-cache opens) or in passthrough mode,
 *   never both, and while it is in passthrough mode every open of it must be
 *   passed through to the same backing file; an open that breaks this fails
 *   with EIO in the program that opened.
 * - So an inode with page-cache opens gets no passthrough, and an inode with
 *   passthrough opens is *pinned*: read-only opens share its backing, and
 *   anything that would change its bytes (an open for writing, O_TRUNC, a
 *   truncate) fails with ETXTBSY until the last of them is closed — the
 *   errno Linux gives for writing to a running executable. A shared backing
 *   file (the blob cache serves every vibe) is never written.
 * - Our counts drop on RELEASE, which the kernel sends after dropping its
 *   own, so ours are never below the kernel's: a mode we grant never clashes.
 * - A backing id stays registered while the inode has passthrough opens and
 *   is closed with the last of them.
 *
 * What it changes for programs (README, "Passthrough"): while a clean big
 * file is open read-only, writing it in place (not replacing it by rename,
 * as editors and tools save) fails with ETXTBSY.
 */

export type IoMode = "cache" | "passthrough";

/** Registers host files with the kernel (FUSE_DEV_IOC_BACKING_OPEN / _CLOSE). */
export interface BackingRegistry {
  /** The backing id of `path`, or an errno name. */
  open(path: string): number | string;
  close(id: number): void;
}

interface InodeIo {
  cache: number;
  passthrough: number;
  backingId: number;
  backingPath: string;
}

/**
 * Errors after which passthrough cannot work on this mount at all (ELOOP: the
 * cache sits on a stacked filesystem such as overlayfs, deeper than allowed).
 */
const FATAL = new Set(["EPERM", "ENOTTY", "EINVAL", "EOPNOTSUPP", "ENOSYS", "ELOOP"]);

export class FileIoModes {
  #inodes = new Map<number, InodeIo>();
  #fhs = new Map<number, { ino: number; mode: IoMode }>();
  #registry: BackingRegistry | null;
  readonly #log: (msg: string) => void;

  constructor(registry: BackingRegistry | null, log: (msg: string) => void) {
    this.#registry = registry;
    this.#log = log;
  }

  /** Whether passthrough is still on (it turns off for good after a refusal that would repeat). */
  get passthroughOn(): boolean {
    return this.#registry !== null;
  }

  /** Whether `ino` has passthrough opens: its bytes must not change (ETXTBSY). */
  pinned(ino: number): boolean {
    return (this.#inodes.get(ino)?.passthrough ?? 0) > 0;
  }

  /**
   * Chooses the mode of a new open `fh` of `ino`, which must not be pinned
   * unless the open is read-only. `backingPath` is the host file holding the
   * file's bytes when the open is read-only and may be passed through, else
   * null. Returns the mode and, for passthrough, the backing id to put in the
   * reply.
   */
  open(
    fh: number,
    ino: number,
    readOnly: boolean,
    backingPath: string | null,
  ): { mode: IoMode; backingId: number } {
    let st = this.#inodes.get(ino);
    let mode: IoMode = "cache";
    let backingId = 0;
    if (st && st.passthrough > 0) {
      if (!readOnly) throw new Error(`open for writing of pinned inode ${ino}`);
      mode = "passthrough";
      backingId = st.backingId;
    } else if (readOnly && backingPath !== null && this.#registry && (!st || st.cache === 0)) {
      const id = this.#registry.open(backingPath);
      if (typeof id === "number") {
        st ??= { cache: 0, passthrough: 0, backingId: 0, backingPath: "" };
        st.backingId = id;
        st.backingPath = backingPath;
        mode = "passthrough";
        backingId = id;
      } else if (FATAL.has(id)) {
        this.#log(
          `fuse: passthrough off for this mount: the kernel refused a backing file (${id})`,
        );
        this.#registry = null;
      }
    }
    st ??= { cache: 0, passthrough: 0, backingId: 0, backingPath: "" };
    if (mode === "cache") st.cache++;
    else st.passthrough++;
    this.#inodes.set(ino, st);
    this.#fhs.set(fh, { ino, mode });
    return { mode, backingId };
  }

  /**
   * Counts as a page-cache open of `ino` until the returned function is
   * called: taken before an await that changes the file's bytes (truncate),
   * so no read-only open arriving meanwhile pins the inode.
   */
  hold(ino: number): () => void {
    const st = this.#inodes.get(ino) ?? { cache: 0, passthrough: 0, backingId: 0, backingPath: "" };
    st.cache++;
    this.#inodes.set(ino, st);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--st.cache <= 0 && st.passthrough <= 0 && this.#inodes.get(ino) === st) {
        this.#inodes.delete(ino);
      }
    };
  }

  /** RELEASE of `fh`: its mode no longer counts. */
  release(fh: number): void {
    const rec = this.#fhs.get(fh);
    if (!rec) return;
    this.#fhs.delete(fh);
    const st = this.#inodes.get(rec.ino);
    if (!st) return;
    if (rec.mode === "cache") st.cache--;
    else if (--st.passthrough === 0) this.#registry?.close(st.backingId);
    if (st.cache <= 0 && st.passthrough <= 0) this.#inodes.delete(rec.ino);
  }

  /** Open files by mode (stats, tests). */
  counts(): Record<IoMode, number> {
    const out: Record<IoMode, number> = { cache: 0, passthrough: 0 };
    for (const r of this.#fhs.values()) out[r.mode]++;
    return out;
  }
}
