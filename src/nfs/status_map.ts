/**
 * The one table from the core's error codes to NFSv3 status (nfsstat3,
 * RFC 1813 §2.6), and the server-side NFS statuses raised by the channel
 * itself (bad handles, guards, cookies).
 *
 * Invariants:
 * - Every `ErrnoName` of src/errors.ts has an entry (the type checks it).
 * - Transient failures (EAGAIN, EBUSY, the domain code LOCKED) answer
 *   NFS3ERR_JUKEBOX, which makes the client retry after a pause.
 * - Anything else — another domain code, a non-VibeError throw (a bug) —
 *   answers NFS3ERR_SERVERFAULT and is logged once per (procedure, code)
 *   with the inode, so a flood of one failure leaves one line.
 */
import { type ErrnoName, type ErrorCode, VibeError } from "../errors.ts";

export const NFS3_OK = 0;
export const NFS3ERR_PERM = 1;
export const NFS3ERR_NOENT = 2;
export const NFS3ERR_IO = 5;
export const NFS3ERR_NXIO = 6;
export const NFS3ERR_ACCES = 13;
export const NFS3ERR_EXIST = 17;
export const NFS3ERR_XDEV = 18;
export const NFS3ERR_NODEV = 19;
export const NFS3ERR_NOTDIR = 20;
export const NFS3ERR_ISDIR = 21;
export const NFS3ERR_INVAL = 22;
export const NFS3ERR_FBIG = 27;
export const NFS3ERR_NOSPC = 28;
export const NFS3ERR_ROFS = 30;
export const NFS3ERR_MLINK = 31;
export const NFS3ERR_NAMETOOLONG = 63;
export const NFS3ERR_NOTEMPTY = 66;
export const NFS3ERR_DQUOT = 69;
export const NFS3ERR_STALE = 70;
export const NFS3ERR_REMOTE = 71;
export const NFS3ERR_BADHANDLE = 10001;
export const NFS3ERR_NOT_SYNC = 10002;
export const NFS3ERR_BAD_COOKIE = 10003;
export const NFS3ERR_NOTSUPP = 10004;
export const NFS3ERR_TOOSMALL = 10005;
export const NFS3ERR_SERVERFAULT = 10006;
export const NFS3ERR_BADTYPE = 10007;
export const NFS3ERR_JUKEBOX = 10008;

/** Core errno name → nfsstat3. */
export const NFS3_STATUS: Readonly<Record<ErrnoName, number>> = {
  EPERM: NFS3ERR_PERM,
  ENOENT: NFS3ERR_NOENT,
  EIO: NFS3ERR_IO,
  ENXIO: NFS3ERR_NXIO,
  /** No file descriptors cross this channel; a core EBADF is an I/O failure to the client. */
  EBADF: NFS3ERR_IO,
  EAGAIN: NFS3ERR_JUKEBOX,
  EACCES: NFS3ERR_ACCES,
  EBUSY: NFS3ERR_JUKEBOX,
  EEXIST: NFS3ERR_EXIST,
  EXDEV: NFS3ERR_XDEV,
  ENOTDIR: NFS3ERR_NOTDIR,
  EISDIR: NFS3ERR_ISDIR,
  EINVAL: NFS3ERR_INVAL,
  EFBIG: NFS3ERR_FBIG,
  ENOSPC: NFS3ERR_NOSPC,
  EROFS: NFS3ERR_ROFS,
  EMLINK: NFS3ERR_MLINK,
  ENAMETOOLONG: NFS3ERR_NAMETOOLONG,
  ENOSYS: NFS3ERR_NOTSUPP,
  ENOTEMPTY: NFS3ERR_NOTEMPTY,
  /** The server never follows symlinks; a loop reported by the core is a bad argument. */
  ELOOP: NFS3ERR_INVAL,
  /** Extended attributes do not exist in NFSv3; should one leak through, it is an I/O error. */
  ENODATA: NFS3ERR_IO,
  ENOTSUP: NFS3ERR_NOTSUPP,
  ESTALE: NFS3ERR_STALE,
  EDQUOT: NFS3ERR_DQUOT,
  /** Only xattr calls raise ERANGE (not used by NFSv3). */
  ERANGE: NFS3ERR_INVAL,
  /** Raised only by the FUSE channel (passthrough); as NFS3 has no such status, "try again". */
  ETXTBSY: NFS3ERR_JUKEBOX,
};

/** Domain codes with a meaning for NFS clients; the rest are server faults. */
const DOMAIN_STATUS: Partial<Record<ErrorCode, number>> = {
  LOCKED: NFS3ERR_JUKEBOX,
  CORRUPT: NFS3ERR_IO,
};

/** An NFS status raised by the channel itself (not by the Vfs). */
export class NfsStatusError extends Error {
  constructor(readonly status: number, message = `NFS status ${status}`) {
    super(message);
    this.name = "NfsStatusError";
  }
}

/** Maps thrown values to nfsstat3, logging unknown ones once. */
export class StatusMapper {
  private readonly logged = new Set<string>();

  constructor(private readonly log: (msg: string) => void) {}

  /**
   * The status for `e`, thrown while serving procedure `proc` on inode `ino`
   * (0 when unknown). `enoentIsStale`: the operation addressed the handle's
   * own inode, so "no such entry" means the handle went stale.
   */
  toStatus(e: unknown, proc: string, ino: number, enoentIsStale = false): number {
    if (e instanceof NfsStatusError) return e.status;
    if (e instanceof VibeError) {
      if (enoentIsStale && e.code === "ENOENT") return NFS3ERR_STALE;
      const s = (NFS3_STATUS as Record<string, number | undefined>)[e.code] ??
        DOMAIN_STATUS[e.code];
      if (s !== undefined) return s;
    }
    const code = e instanceof VibeError ? e.code : (e as Error)?.name ?? typeof e;
    const key = `${proc}:${code}`;
    if (!this.logged.has(key)) {
      this.logged.add(key);
      const msg = e instanceof Error ? e.message : String(e);
      this.log(`nfs: ${proc} on inode ${ino} failed with ${code}, answered SERVERFAULT: ${msg}`);
    }
    return NFS3ERR_SERVERFAULT;
  }
}
