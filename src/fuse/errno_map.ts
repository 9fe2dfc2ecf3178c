/**
 * The one table mapping the core's symbolic errno names to the Linux errno
 * numbers FUSE replies carry (negated in fuse_out_header.error).
 *
 * Invariant: every `ErrnoName` of src/errors.ts has an entry (the type checks
 * it). Anything else — a domain code (CONFLICT, LOCKED, …), a non-VibeError
 * throw (a bug) — becomes EIO and is logged once per (opcode, code) with the
 * inode, so a flood of one failure leaves one line.
 */
import { type ErrnoName, VibeError } from "../errors.ts";
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";

/** Core errno name → Linux errno number. */
export const FUSE_ERRNO: Readonly<Record<ErrnoName, number>> = {
  EPERM: LINUX_ERRNO.EPERM,
  ENOENT: LINUX_ERRNO.ENOENT,
  EIO: LINUX_ERRNO.EIO,
  ENXIO: LINUX_ERRNO.ENXIO,
  EBADF: LINUX_ERRNO.EBADF,
  EAGAIN: LINUX_ERRNO.EAGAIN,
  EACCES: LINUX_ERRNO.EACCES,
  EBUSY: LINUX_ERRNO.EBUSY,
  EEXIST: LINUX_ERRNO.EEXIST,
  EXDEV: LINUX_ERRNO.EXDEV,
  ENOTDIR: LINUX_ERRNO.ENOTDIR,
  EISDIR: LINUX_ERRNO.EISDIR,
  EINVAL: LINUX_ERRNO.EINVAL,
  EFBIG: LINUX_ERRNO.EFBIG,
  ENOSPC: LINUX_ERRNO.ENOSPC,
  EROFS: LINUX_ERRNO.EROFS,
  EMLINK: LINUX_ERRNO.EMLINK,
  ENAMETOOLONG: LINUX_ERRNO.ENAMETOOLONG,
  ENOSYS: LINUX_ERRNO.ENOSYS,
  ENOTEMPTY: LINUX_ERRNO.ENOTEMPTY,
  ELOOP: LINUX_ERRNO.ELOOP,
  ENODATA: LINUX_ERRNO.ENODATA,
  ENOTSUP: LINUX_ERRNO.EOPNOTSUPP,
  ESTALE: LINUX_ERRNO.ESTALE,
  EDQUOT: LINUX_ERRNO.EDQUOT,
  ERANGE: LINUX_ERRNO.ERANGE,
  ETXTBSY: LINUX_ERRNO.ETXTBSY,
};

/** Maps thrown values to errno numbers, logging unknown ones once. */
export class ErrnoMapper {
  readonly #logged = new Set<string>();

  constructor(private readonly log: (msg: string) => void) {}

  /** The positive Linux errno for `e`, thrown while serving `opcodeName` on inode `ino`. */
  toErrno(e: unknown, opcodeName: string, ino: number): number {
    if (e instanceof VibeError) {
      const n = (FUSE_ERRNO as Record<string, number | undefined>)[e.code];
      if (n !== undefined) return n;
    }
    const code = e instanceof VibeError ? e.code : (e as Error)?.name ?? typeof e;
    const key = `${opcodeName}:${code}`;
    if (!this.#logged.has(key)) {
      this.#logged.add(key);
      const msg = e instanceof Error ? e.message : String(e);
      this.log(`fuse: ${opcodeName} on inode ${ino} failed with ${code}, answered EIO: ${msg}`);
    }
    return LINUX_ERRNO.EIO;
  }
}
