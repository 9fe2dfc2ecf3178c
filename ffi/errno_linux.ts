/**
 * Linux errno numbers ↔ names. x86_64 and aarch64 share the asm-generic
 * numbering for every value listed here (see include/uapi/asm-generic/errno-base.h
 * and errno.h), so one table serves both.
 */

/** errno name → number on Linux (x86_64, aarch64). */
export const LINUX_ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  ENODATA: 61,
  ETIME: 62,
  EPROTO: 71,
  EOVERFLOW: 75,
  EILSEQ: 84,
  ENOTSOCK: 88,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ESTALE: 116,
  EDQUOT: 122,
  ECANCELED: 125,
} as const;

/** An errno name this table knows. */
export type LinuxErrnoName = keyof typeof LINUX_ERRNO;

/** ENOTSUP is EOPNOTSUPP on Linux. */
export const ENOTSUP = LINUX_ERRNO.EOPNOTSUPP;

const NAMES = new Map<number, LinuxErrnoName>(
  (Object.entries(LINUX_ERRNO) as [LinuxErrnoName, number][]).map(([k, v]) => [v, k]),
);

/** The name of errno `n` ("ENOENT"), or `"E#<n>"` for numbers outside the table. */
export function errnoName(n: number): string {
  return NAMES.get(n) ?? `E#${n}`;
}
