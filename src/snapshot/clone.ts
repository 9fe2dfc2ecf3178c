/**
 * The file-cloning primitive of snapshots, restores and forks: a reflink
 * where the filesystem can (Linux FICLONE, macOS clonefile), a real copy
 * otherwise. A reflink shares data extents, so it costs metadata only and
 * the two files diverge block by block on later writes.
 */
import { VibeError } from "../errors.ts";
import { type Extent, ficlone, fileExtents } from "../../ffi/clone_linux.ts";
import { clonefile } from "../../ffi/clone_darwin.ts";

export type CloneMethod = "reflink" | "copy";

/**
 * Errno names where copying would fail the same way: reported, not retried.
 * Anything else (EOPNOTSUPP, ENOTSUP, EXDEV, EINVAL, ENOTTY, …) means this
 * filesystem or this pair of paths cannot clone, so the bytes are copied.
 */
const FATAL = new Set(["ENOENT", "ENOSPC", "EDQUOT", "EACCES", "EROFS", "ENOTDIR", "EISDIR"]);

function tryClone(src: string, dst: string): string | null {
  try {
    if (Deno.build.os === "linux") return ficlone(src, dst);
    if (Deno.build.os === "darwin") {
      try {
        Deno.removeSync(dst);
      } catch { /* clonefile needs dst absent */ }
      return clonefile(src, dst);
    }
  } catch {
    // dlopen failed (no libc here, or no --allow-ffi): copying still works.
  }
  return "ENOSYS";
}

/**
 * Makes `dst` (created or replaced) hold the bytes of `src`: a reflink when
 * possible, else a real copy. Returns which one happened. Throws `VibeError`
 * (ENOENT, ENOSPC, EDQUOT, EIO …) when neither works; `dst` is then absent.
 */
export function cloneFile(src: string, dst: string): CloneMethod {
  const err = tryClone(src, dst);
  if (err === null) return "reflink";
  if (FATAL.has(err)) {
    removeQuietly(dst);
    const code = err === "ENOENT" || err === "ENOSPC" || err === "EDQUOT" ? err : "EIO";
    throw new VibeError(code, `Cannot clone "${src}" to "${dst}": ${err}`);
  }
  try {
    Deno.copyFileSync(src, dst);
  } catch (e) {
    removeQuietly(dst);
    const c = (e as { code?: string }).code;
    const code = c === "ENOENT" || c === "ENOSPC" || c === "EDQUOT" ? c : "EIO";
    throw new VibeError(code, `Cannot copy "${src}" to "${dst}": ${(e as Error).message}`);
  }
  return "copy";
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* absent */ }
}

const probed = new Map<string, boolean>();

/**
 * True when files in `dir` can be reflinked to each other (probed once per
 * directory with a small temporary file, then cached for the process).
 */
export function canReflink(dir: string): boolean {
  const known = probed.get(dir);
  if (known !== undefined) return known;
  const a = `${dir}/.reflink-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const b = `${a}.clone`;
  let ok = false;
  try {
    Deno.writeFileSync(a, new Uint8Array(4096).fill(0x5a));
    ok = cloneFile(a, b) === "reflink";
  } catch {
    ok = false;
  } finally {
    removeQuietly(a);
    removeQuietly(b);
  }
  probed.set(dir, ok);
  return ok;
}

/**
 * Extent flags after which two files may hold different bytes at the same
 * addresses, or the addresses mean nothing: UNKNOWN, DELALLOC (not written
 * yet), ENCODED (compressed: several files may map parts of one extent),
 * ENCRYPTED, NOT_ALIGNED, DATA_INLINE, DATA_TAIL.
 */
const UNSURE = 0x2 | 0x4 | 0x8 | 0x80 | 0x100 | 0x200 | 0x400;
/** LAST and SHARED describe the list and the other owners, not the bytes. */
const IGNORED = 0x1 | 0x2000;

function sameExtent(a: Extent, b: Extent): boolean {
  return a.logical === b.logical && a.physical === b.physical && a.length === b.length &&
    (a.flags & ~IGNORED) === (b.flags & ~IGNORED);
}

/**
 * True only when `a` and `b` are known to hold the same bytes because they
 * map the same data blocks (one was reflinked from the other and neither
 * was written since: a write to a shared block always lands elsewhere).
 * The caller has checked the sizes agree. False means "unknown", never
 * "different": ext4 copies, tmpfs, macOS and unflushed writes all say false.
 */
export function sameBlocks(a: string, b: string): boolean {
  if (Deno.build.os !== "linux") return false;
  let ea: Extent[] | null, eb: Extent[] | null;
  try {
    ea = fileExtents(a);
    eb = fileExtents(b);
  } catch {
    return false; // no libc or no --allow-ffi
  }
  if (!ea || !eb || ea.length !== eb.length || ea.length === 0) return false;
  for (let i = 0; i < ea.length; i++) {
    if ((ea[i]!.flags | eb[i]!.flags) & UNSURE) return false;
    if (!sameExtent(ea[i]!, eb[i]!)) return false;
  }
  return true;
}
