/**
 * The metadata store: vibes, their inodes and directory entries, the tree
 * cache, the change journal, snapshots and locks. One implementation
 * (`SqliteMetaStore`) lives beside this file; it is the only module that
 * imports `node:sqlite`.
 *
 * Invariants: every mutating method is atomic; `transaction` nests (inner
 * calls join the outer transaction). Writers from several processes are
 * serialized by SQLite (WAL, busy timeout).
 */
import type { Ino, Oid, QuotaUsage, Timespec } from "../types.ts";
import type { FileKind } from "../vfs/vfs.ts";
import type { TreeEntry } from "../git/object_store.ts";

export type VibeState = "active" | "promoted" | "committed";

export interface VibeRecord {
  id: string;
  baseCommit: Oid;
  baseTree: Oid;
  /** Branch the vibe was spawned from ("refs/heads/main"), null when from a detached rev. */
  baseRef: string | null;
  createdMs: number;
  state: VibeState;
  uid: number;
  gid: number;
  mountPath: string | null;
  transport: string | null;
  promotedCommit: Oid | null;
  promotedMs: number | null;
  /** Journal sequence number at the last promote: later entries are unpromoted work. */
  promotedSeq: number | null;
}

/** One inode of a vibe, as stored. */
export interface InodeRecord {
  ino: Ino;
  kind: FileKind;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** Size of materialized files and new symlinks; null when it comes from the git object. */
  size: number | null;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Git object of clean content: a blob (file, symlink), a tree (dir), a commit (submodule). */
  oid: Oid | null;
  /** The git mode the object had in the base tree (null for nodes created in the vibe). */
  gitMode: number | null;
  /** File bytes live in the delta store. */
  materialized: boolean;
  /** Directory: its dirents rows are complete and authoritative. */
  loaded: boolean;
  /** Differs from the base (this inode or, for dirs, something below it). */
  dirty: boolean;
  /**
   * Inside an untracked layer (not whitelisted with `report`): never shown by
   * status, diff or promote, never journaled. New nodes inherit it from
   * their directory.
   */
  volatile: boolean;
  /**
   * Where a layer node's clean bytes (file), entries (dir) come from:
   * "root:<path>" (the project root's copy) or "cache:<digest>[/<path>]"
   * (.vibe/cache/store). Null outside layers and for a layer's private root.
   */
  origin: string | null;
  /** Inside a shared-readonly layer: every mutation answers EROFS. */
  readOnly: boolean;
  /** Target of a symlink created or changed in the vibe. */
  target: string | null;
  /** Directory: the parent directory (root: 0). Files: the parent they were first seen in. */
  parent: Ino;
  /** Directory: the cookie the next new entry gets. */
  nextCookie: number;
}

/** The inode fields a tree walk (status, diff, promote) reads. */
export type TreeNodeRecord =
  & Pick<
    InodeRecord,
    "ino" | "kind" | "mode" | "oid" | "gitMode" | "materialized" | "dirty" | "target"
  >
  & Partial<Pick<InodeRecord, "volatile" | "origin">>;

/** An untracked layer of one vibe, as resolved at spawn (see src/layers/). */
export interface VibeLayerRecord {
  /** Path relative to the vibe root, "/"-separated. */
  path: string;
  mode: "copy-on-write" | "shared-readonly" | "private";
  /** As configured: "root" or "cache:<name>" ("" for private layers). */
  source: string;
  /** Resolved origin of the layer root: "root:<path>", "cache:<digest>"; null when private. */
  origin: string | null;
  /** Whitelisted: the vibe's changes under it are reported like any other. */
  report: boolean;
}

export interface DirentRecord {
  name: string;
  ino: Ino;
  cookie: number;
}

/** A directory entry joined with its inode's kind (for readdir). */
export interface ListedDirent extends DirentRecord {
  kind: FileKind;
}

export type JournalOp =
  | "create"
  | "write"
  | "truncate"
  | "mkdir"
  | "symlink"
  | "link"
  | "unlink"
  | "rmdir"
  | "rename"
  | "chmod"
  | "setattr"
  | "exchange"
  | "restore";

export interface JournalEntry {
  seq: number;
  vibe: string;
  timeMs: number;
  op: JournalOp;
  path: string;
  path2: string | null;
  ino: Ino;
  size: number | null;
  /** The inode's kind (null in entries written before schema 3). */
  kind?: FileKind | null;
  /** chmod: permission bits after the change. */
  mode?: number | null;
  /** chmod: permission bits before the change. */
  prevMode?: number | null;
}

/** One line of the audit log: an exec, a policy decision, an approval or an undo. */
export interface AuditRecord {
  seq: number;
  timeMs: number;
  vibe: string | null;
  event: "exec" | "denied" | "approval-required" | "undo";
  /** `{argv}` or `{shell}` as given. */
  command: { argv?: string[]; shell?: string };
  cwd: string | null;
  action: string;
  categories: string[];
  reason: string;
  exitCode: number | null;
  signal: string | null;
  changed: number | null;
  durationMs: number | null;
  checkpoint: string | null;
  token: string | null;
}

/** A command waiting for `vibe approve <token>`. */
export interface ApprovalRecord {
  token: string;
  createdMs: number;
  expiresMs: number;
  /** The exec request, as JSON-able data. */
  request: Record<string, unknown>;
  usedMs: number | null;
}

/** A directory entry with its directory, as stored (snapshots, forks, restores). */
export interface StateDirent {
  parent: Ino;
  name: string;
  ino: Ino;
  cookie: number;
}

/** An extended attribute row. */
export interface StateXattr {
  ino: Ino;
  name: string;
  value: Uint8Array;
}

/** Inode, entry and xattr rows that make up (part of) a vibe's state. */
export interface StateRows {
  inodes: InodeRecord[];
  dirents: StateDirent[];
  xattrs: StateXattr[];
}

/** One entry of a directory joined with its inode row. */
export interface EntryWithNode {
  dirent: StateDirent;
  node: InodeRecord;
}

/** A snapshot's own row (its state rows are read with `snapshotRows`). */
export interface SnapshotRecord {
  vibe: string;
  name: string;
  createdMs: number;
  /** The vibe's last journal seq when the snapshot was taken. */
  version: number;
  /** The vibe's `next_ino` when the snapshot was taken. */
  nextIno: Ino;
  /** Figures about the snapshot (files, bytes, method …), as JSON. */
  info: Record<string, unknown>;
}

export interface MetaStore {
  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); joins an enclosing one. */
  transaction<T>(fn: () => T): T;
  /** Makes every committed change durable against power loss. */
  syncDurable(): void;
  close(): void;

  getSetting(key: string): string | null;
  setSetting(key: string, value: string): void;
  /** True when the setting existed. */
  deleteSetting(key: string): boolean;

  /** Files (non-tree entries, recursively) below a cached tree; null when not cached. */
  treeFiles(oid: Oid): number | null;
  getTree(oid: Oid): TreeEntry[] | null;
  /** How many trees are cached. */
  treeCount(): number;
  /**
   * Caches a tree: `data` is git's encoding of it, `files` the count of files
   * below it. Callers insert subtrees before their parents.
   */
  putTree(oid: Oid, data: Uint8Array, files: number): void;
  markCommitIndexed(oid: Oid, tree: Oid, files: number): void;
  /** Root tree of an indexed commit (null when not indexed). */
  indexedCommitTree(oid: Oid): Oid | null;

  getVibe(id: string): VibeRecord | null;
  listVibes(): VibeRecord[];
  insertVibe(v: VibeRecord, root: InodeRecord): void;
  updateVibe(id: string, fields: Partial<Omit<VibeRecord, "id">>): void;
  /** Deletes a vibe and all its rows (inodes, dirents, xattrs, journal, snapshots). */
  deleteVibe(id: string): void;
  /** Reserves `count` consecutive inode numbers for the vibe; returns the first. */
  allocInos(vibe: string, count: number): Ino;

  getInode(vibe: string, ino: Ino): InodeRecord | null;
  putInode(vibe: string, node: InodeRecord): void;
  deleteInode(vibe: string, ino: Ino): void;
  /** Inodes with nlink 0 (unlinked while in use), to reclaim on open. */
  orphanInodes(vibe: string): Ino[];
  /** Every materialized inode (for delta garbage collection). */
  materializedInos(vibe: string): Ino[];

  getDirent(vibe: string, parent: Ino, name: string): DirentRecord | null;
  putDirent(vibe: string, parent: Ino, d: DirentRecord): void;
  deleteDirent(vibe: string, parent: Ino, name: string): void;
  /** Entries with cookie > afterCookie in cookie order. */
  listDirents(vibe: string, parent: Ino, afterCookie: number, limit: number): ListedDirent[];
  countDirents(vibe: string, parent: Ino): number;
  /** What a tree walk needs of each entry of a loaded directory (a narrow, fast query). */
  listTreeChildren(vibe: string, parent: Ino): { name: string; node: TreeNodeRecord }[];
  /** Records the layers of a vibe (spawn, fork); replaces any it had. */
  putVibeLayers(vibe: string, layers: VibeLayerRecord[]): void;
  /** The layers of a vibe, by path. */
  vibeLayers(vibe: string): VibeLayerRecord[];
  /** Ids of vibes with a layer whose origin starts with `prefix`. */
  vibesUsingOrigin(prefix: string): string[];

  /** Every (parent, name) that links to `ino`. */
  linksOf(vibe: string, ino: Ino): { parent: Ino; name: string }[];

  getXattr(vibe: string, ino: Ino, name: string): Uint8Array | null;
  setXattr(vibe: string, ino: Ino, name: string, value: Uint8Array): void;
  /** True when it existed. */
  removeXattr(vibe: string, ino: Ino, name: string): boolean;
  listXattrs(vibe: string, ino: Ino): string[];

  /** The next inode number the vibe will hand out. */
  nextIno(vibe: string): Ino;
  /** Every inode with dirty = 1. */
  dirtyInodes(vibe: string): InodeRecord[];
  /** Every entry of every dirty, loaded directory with its inode row, in one query. */
  dirtyDirEntries(vibe: string): EntryWithNode[];
  /** Every entry of one directory with its inode row. */
  dirEntries(vibe: string, parent: Ino): EntryWithNode[];
  /** Every xattr row of the vibe. */
  allXattrs(vibe: string): StateXattr[];
  /** Every inode, entry and xattr row of the vibe. */
  stateRows(vibe: string): StateRows;
  /**
   * Replaces every inode, entry and xattr row of the vibe by `rows` and sets
   * `next_ino` to max(its current value, `nextIno`) (numbers are never
   * reused). One transaction (joins an enclosing one).
   */
  replaceState(vibe: string, rows: StateRows, nextIno: Ino): void;

  /** Stores a snapshot row and its state rows in one transaction. */
  insertSnapshot(snap: SnapshotRecord, rows: StateRows): void;
  getSnapshot(vibe: string, name: string): SnapshotRecord | null;
  /** Snapshots of a vibe, oldest first. */
  listSnapshots(vibe: string): SnapshotRecord[];
  snapshotRows(vibe: string, name: string): StateRows;
  /** Deletes a snapshot's rows; true when it existed. */
  deleteSnapshot(vibe: string, name: string): boolean;

  appendJournal(e: Omit<JournalEntry, "seq">): void;
  appendAudit(a: Omit<AuditRecord, "seq">): number;
  /** Delta bytes and changed files of a vibe, as its quota counts them. */
  quotaUsage(vibe: string): QuotaUsage;
  /** Audit lines oldest first, optionally of one vibe and from a time on. */
  readAudit(opts: { vibe?: string; sinceMs?: number; limit?: number }): AuditRecord[];
  putApproval(a: ApprovalRecord): void;
  getApproval(token: string): ApprovalRecord | null;
  /** Marks an approval used; false when it was used already (one run per token). */
  useApproval(token: string, nowMs: number): boolean;
  /** Settings whose key starts with `prefix`. */
  listSettings(prefix: string): { key: string; value: string }[];
  readJournal(vibe: string, afterSeq: number, limit: number): JournalEntry[];
  /** Last journal sequence number of a vibe (0 when none). */
  lastJournalSeq(vibe: string): number;
  /** Every vibe's last journal sequence number, in one query. */
  lastJournalSeqs(): Map<string, number>;
  /** The last `n` journal entries of a vibe, oldest first. */
  tailJournal(vibe: string, n: number): JournalEntry[];

  /**
   * Takes a named lock row (owner string, pid) if it is free or its holder
   * process is gone. Returns false when someone else holds it.
   */
  tryLock(name: string, owner: string): boolean;
  unlock(name: string, owner: string): void;
  /** Deletes lock rows whose holder process is gone; returns how many. */
  clearDeadLocks(): number;
}
