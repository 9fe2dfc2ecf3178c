/** Shared vocabulary with no imports: ids, oids, times. */

/** A git object id: 40 lowercase hex digits (SHA-1 repositories). */
export type Oid = string;

/** An inode number. u64 in the protocols; vibe allocates below 2^53 so it is a safe JS number. */
export type Ino = number;

/** A point in time with nanosecond precision (what utimensat, FUSE and NFS carry). */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** Current time as a Timespec. */
export function nowTimespec(): Timespec {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

/** Git tree entry modes vibe understands. */
export const GIT_MODE = {
  FILE: 0o100644,
  EXEC: 0o100755,
  SYMLINK: 0o120000,
  TREE: 0o040000,
  GITLINK: 0o160000,
} as const;

/** Per-vibe limits; null is unlimited. */
export interface Quota {
  /** Apparent bytes of the vibe's changed files (its delta). */
  bytes: number | null;
  /** Files, symlinks and special files the vibe created or changed. */
  files: number | null;
}

/** What a vibe uses of its quota. */
export interface QuotaUsage {
  bytes: number;
  files: number;
}
