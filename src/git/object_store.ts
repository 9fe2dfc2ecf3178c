/**
 * Git object access for vibe. `.git` stays the source of truth: everything
 * here reads and writes the repository's real object database and refs in the
 * formats real `git` uses, so `git fsck`, `git log` and `git diff` agree.
 *
 * Hot path (tree walks, blob reads, sizes) is `ObjectReader`; it must stay
 * within 2x of a pipelined `git cat-file --batch`. Objects are immutable, so
 * anything derived from an oid may be cached forever.
 */
import type { Oid } from "../types.ts";

export type ObjectType = "blob" | "tree" | "commit" | "tag";

export interface TreeEntry {
  name: string;
  /** Git mode: 0o100644, 0o100755, 0o120000, 0o040000 or 0o160000. */
  mode: number;
  oid: Oid;
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Minutes east of UTC, as git's "+0130" → 90. */
  tzOffsetMinutes: number;
}

export interface Commit {
  oid: Oid;
  tree: Oid;
  parents: Oid[];
  author: Signature;
  committer: Signature;
  message: string;
}

export interface RawObject {
  type: ObjectType;
  data: Uint8Array;
}

/** What HEAD says: a branch (possibly unborn) or a detached commit. */
export interface HeadState {
  /** Full ref name ("refs/heads/main") or null when detached. */
  branch: string | null;
  /** The commit HEAD resolves to, or null on an unborn branch (empty repo). */
  oid: Oid | null;
}

export interface ObjectReader {
  /** The object with its type. Throws VibeError ENOENT when missing, CORRUPT when unreadable. */
  readObject(oid: Oid): Promise<RawObject>;
  /** Blob bytes. Throws VibeError EINVAL if the object is not a blob. */
  readBlob(oid: Oid): Promise<Uint8Array>;
  /** Size of a blob in bytes, from the object header, without inflating the whole blob. */
  blobSize(oid: Oid): Promise<number>;
  /** Entries of a tree in git order. */
  readTree(oid: Oid): Promise<TreeEntry[]>;
  readCommit(oid: Oid): Promise<Commit>;
  hasObject(oid: Oid): Promise<boolean>;
  /** Value of a full ref name ("HEAD", "refs/heads/main"), following symrefs; null when absent. */
  resolveRef(name: string): Promise<Oid | null>;
  readHead(): Promise<HeadState>;
  /**
   * Resolves a revision to a commit oid: full or abbreviated hex, HEAD, branch,
   * tag (peeled), remote-tracking names, full ref names, and suffixes ~N, ^N,
   * ^{commit}. Throws VibeError USAGE with a clear message when unknown or ambiguous.
   */
  revParse(rev: string): Promise<Oid>;
  /** Drops cached pack lists etc. so objects and refs written by others are seen. */
  refresh(): void;
  close(): void;
}

export interface NewCommit {
  tree: Oid;
  parents: Oid[];
  author: Signature;
  committer: Signature;
  message: string;
}

export interface ObjectWriter {
  writeBlob(data: Uint8Array): Promise<Oid>;
  /** Writes a tree; entries may come in any order (the writer sorts them git's way). */
  writeTree(entries: TreeEntry[]): Promise<Oid>;
  writeCommit(commit: NewCommit): Promise<Oid>;
  /**
   * Moves `ref` to `newOid` with git's lock-file protocol (`<ref>.lock`, then
   * rename), so concurrent vibe processes and a concurrent real `git` are
   * excluded. Compare-and-swap: `expectedOld` is the value the caller saw
   * (null = the ref must not exist, undefined = no check). Throws VibeError
   * LOCKED when the lock is held, CONFLICT when the ref moved. Appends a
   * reflog entry when the ref has a reflog or is a branch (as git does).
   */
  updateRef(
    ref: string,
    newOid: Oid,
    expectedOld: Oid | null | undefined,
    reflogMessage: string,
  ): Promise<void>;
  /** Deletes a ref (loose and packed) under the same lock protocol. */
  deleteRef(ref: string, expectedOld: Oid | undefined): Promise<void>;
}

/** Location of a repository, as found from a directory inside it. */
export interface RepoPaths {
  /** The work tree root (absolute). */
  workTree: string;
  /** The per-worktree git dir (HEAD, index); `.git` for the main worktree. */
  gitDir: string;
  /** The shared git dir (objects, refs, packed-refs, config). */
  commonDir: string;
}
