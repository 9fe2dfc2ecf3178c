/**
 * The one error type of vibe's core. Every layer below the frontends throws
 * `VibeError`; each frontend (CLI, FUSE, NFS) maps `code` exactly once, in one
 * table. Codes are symbolic errno names (never numbers: they differ between
 * Linux, macOS and NFS) plus a few domain codes that no filesystem call yields.
 */

/** Symbolic errno names the core may raise from filesystem operations. */
export type ErrnoName =
  | "EPERM"
  | "ENOENT"
  | "EIO"
  | "ENXIO"
  | "EBADF"
  | "EAGAIN"
  | "EACCES"
  | "EBUSY"
  | "EEXIST"
  | "EXDEV"
  | "ENOTDIR"
  | "EISDIR"
  | "EINVAL"
  | "EFBIG"
  | "ENOSPC"
  | "EROFS"
  | "EMLINK"
  | "ENAMETOOLONG"
  | "ENOSYS"
  | "ENOTEMPTY"
  | "ELOOP"
  | "ENODATA"
  | "ENOTSUP"
  | "ESTALE"
  | "EDQUOT"
  | "ERANGE"
  | "ETXTBSY";

/**
 * Domain codes for failures that are not filesystem errno values.
 * - `CONFLICT`: a merge or compare-and-swap lost against concurrent work.
 * - `LOCKED`: a lock (git ref lock or metadata lock) is held by someone else.
 * - `CORRUPT`: on-disk state (metadata, objects) is unreadable.
 * - `NOT_INITIALIZED`: the project has no `.vibe/` yet.
 * - `USAGE`: the caller passed something invalid (bad id, bad rev, bad flag).
 */
export type DomainCode = "CONFLICT" | "LOCKED" | "CORRUPT" | "NOT_INITIALIZED" | "USAGE";

export type ErrorCode = ErrnoName | DomainCode;

/**
 * Error raised by the core. `message` is for people: sentence case, the quoted
 * name, a colon before the detail, and what to do, e.g.
 * `Cannot spawn "a1": a vibe with that id exists (use "vibe destroy a1" first)`.
 * `details` carries machine-readable extras (e.g. conflicting paths).
 */
/**
 * VibeErrors are expected outcomes (a negative LOOKUP throws one per file
 * created), and capturing a stack costs more than the rest of such a
 * request; they carry one only with VIBE_DEBUG set.
 */
const KEEP_STACKS = (() => {
  try {
    return Boolean(Deno.env.get("VIBE_DEBUG"));
  } catch {
    return false;
  }
})();
let savedLimit = Error.stackTraceLimit;

function withoutStack(message: string): string {
  savedLimit = Error.stackTraceLimit;
  if (!KEEP_STACKS) Error.stackTraceLimit = 0;
  return message;
}

export class VibeError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(withoutStack(message));
    Error.stackTraceLimit = savedLimit;
    this.name = "VibeError";
    this.code = code;
    this.details = details;
  }
}

/** Shorthand for throwing a filesystem error with a symbolic errno name. */
export function fsError(code: ErrnoName, message: string): VibeError {
  return new VibeError(code, message);
}

/** True when `e` is a VibeError with the given code. */
export function isCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof VibeError && e.code === code;
}
