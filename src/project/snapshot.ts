/**
 * Snapshots, restore and fork: recovery points of a vibe that cost
 * O(changed files) and, on a reflink filesystem, no new data blocks.
 *
 * A vibe's state is its rows (inodes, entries, xattrs) plus the delta files
 * of its materialized inodes. Only the part that differs from the base is
 * captured (`captureState`); the delta files go to
 * `.vibe/sessions/<id>/snapshots/<name>/<ino>` as hard links where the
 * filesystem can reflink (no data block, no new inode: half the cost of a
 * clone on btrfs), else as real copies. A hard-linked delta file is never
 * written in place: the delta store first replaces it by a reflink of
 * itself (DeltaStore#writable), so the snapshot keeps its bytes and the two
 * share every block the vibe does not rewrite. Restore and fork link the
 * same way.
 *
 * Crash ordering:
 * - snapshot: files are cloned into the final directory first, then every
 *   row and the snapshot row commit in one transaction. A directory without
 *   a row is a crash leftover; `vibe gc` and the next snapshot remove it.
 * - restore: the snapshot's files are cloned to delta names that the
 *   current state does not reference (files whose delta still maps the
 *   snapshot copy's blocks are left as they are), then one transaction replaces every
 *   row, then delta files the restored state does not reference are
 *   removed. So a crash leaves the old state or the new one, plus at worst
 *   unreferenced delta files (gc). A restored file whose inode number also
 *   names a file with other bytes in the current state gets a fresh number
 *   (numbers are never reused), which is what keeps both sets of bytes
 *   apart until the commit — and what a replaced file is to POSIX.
 * - fork: files are cloned into the new vibe's session directory, then the
 *   vibe row and its rows commit in one transaction; a session directory
 *   without a vibe row is removed by `vibe gc`.
 *
 * Operations that read or change a vibe's state hold its owner lock
 * (`Project.workspace`) and run synchronously from reading rows to
 * committing, so no Vfs call of the same process interleaves and the
 * captured rows and bytes agree.
 */
import { VibeError } from "../errors.ts";
import type { Ino } from "../types.ts";
import type { InodeRecord, StateRows, VibeRecord } from "../meta/meta_store.ts";
import { canReflink, cloneFile, type CloneMethod, sameBlocks } from "../snapshot/clone.ts";
import { rootInode } from "../vfs/workspace_vfs.ts";
import { ROOT_INO } from "../vfs/vfs.ts";
import { validateVibeId } from "./ids.ts";
import type { Project } from "./project.ts";
import {
  type CapturedState,
  captureState,
  countChangedPaths,
  stateChanges,
} from "./snapshot_state.ts";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Snapshot names follow the vibe id rules (a path component and a shell word). */
export function validateSnapshotName(name: string): void {
  const bad = (why: string) =>
    new VibeError(
      "USAGE",
      `Invalid snapshot name "${name}": ${why} (use 1-64 letters, digits, ".", "_" or "-", ` +
        `starting with a letter or digit, e.g. "before-refactor")`,
    );
  if (!NAME_RE.test(name)) {
    if (name.length === 0) throw bad("it is empty");
    if (name.length > 64) throw bad("it is longer than 64 characters");
    throw bad("it contains characters that are not allowed");
  }
  if (name.includes("..")) throw bad(`it contains ".."`);
  if (name.endsWith(".lock")) throw bad(`it ends with ".lock"`);
  if (name.endsWith(".")) throw bad(`it ends with "."`);
}

/** `snap-<UTC time>`, e.g. "snap-20250102T030405.678Z". */
export function defaultSnapshotName(nowMs = Date.now()): string {
  return `snap-${new Date(nowMs).toISOString().replace(/[-:]/g, "")}`;
}

function snapshotsRoot(project: Project, id: string): string {
  return `${project.sessionDir(id)}/snapshots`;
}

/** Where a snapshot's file clones live. */
export function snapshotDir(project: Project, id: string, name: string): string {
  return `${snapshotsRoot(project, id)}/${name}`;
}

function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

interface CloneTally {
  method: CloneMethod;
  files: number;
  bytesCopied: number;
}

/**
 * Stores every pair as cheaply as the filesystem allows while keeping both
 * sides independent: where it can reflink (`probeDir` tells), a hard link
 * (no data block, no new inode; the delta store replaces a shared file by a
 * reflink of itself before its first in-place write, see DeltaStore) or, if
 * hard links fail there, a reflink; elsewhere a real copy, and the method
 * is "copy". On failure removes what it created and rethrows with `what`.
 */
function shareAll(
  pairs: { src: string; dst: string }[],
  probeDir: string,
  what: string,
): CloneTally {
  const link = canReflink(probeDir);
  let copied = 0;
  let bytesCopied = 0;
  const done: string[] = [];
  try {
    for (const { src, dst } of pairs) {
      if (link) {
        try {
          Deno.linkSync(src, dst);
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) throw new VibeError("ENOENT", `${src} is missing`);
          // No hard links here (EMLINK, EPERM …): a reflink keeps the promise.
          if (cloneFile(src, dst) === "copy") {
            throw new VibeError("EIO", `${src} could be neither linked nor reflinked`);
          }
        }
      } else if (cloneFile(src, dst) === "copy") {
        copied++;
        bytesCopied += Deno.statSync(dst).size;
      }
      done.push(dst);
    }
  } catch (e) {
    for (const f of done) {
      try {
        Deno.removeSync(f);
      } catch { /* already gone */ }
    }
    if (e instanceof VibeError) throw new VibeError(e.code, `${what}: ${e.message}`);
    throw new VibeError("EIO", `${what}: ${(e as Error).message}`);
  }
  const method: CloneMethod = copied > 0 ? "copy" : link || pairs.length > 0 ? "reflink" : "copy";
  return { method, files: pairs.length, bytesCopied };
}

/** True when two paths name the same file (a hard link of it). */
function sameInode(a: string, b: string): boolean {
  try {
    const x = Deno.statSync(a);
    const y = Deno.statSync(b);
    return x.ino !== null && x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ snapshot

export interface SnapshotResult {
  vibe: string;
  name: string;
  createdMs: number;
  /** "reflink": no data block was written; "copy": `bytesCopied` bytes were. */
  method: CloneMethod;
  /** Materialized files cloned. */
  files: number;
  /** Apparent bytes of those files. */
  bytes: number;
  bytesCopied: number;
  /** Inode rows stored. */
  inodes: number;
  changedPaths: number;
  ms: number;
}

/** A snapshot whose files are cloned but whose rows are not committed yet. */
export interface PreparedSnapshot {
  vibe: VibeRecord;
  name: string;
  dir: string;
  state: CapturedState;
  tally: CloneTally;
  version: number;
  startMs: number;
}

/**
 * Removes snapshot directories of a vibe that have no snapshot row (left by
 * a crash between cloning and committing). The caller holds the vibe's lock.
 */
export function removeOrphanSnapshotDirs(project: Project, id: string): number {
  const root = snapshotsRoot(project, id);
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(root)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  const known = new Set(project.meta.listSnapshots(id).map((s) => s.name));
  let n = 0;
  for (const e of entries) {
    if (known.has(e.name)) continue;
    removeTree(`${root}/${e.name}`);
    n++;
  }
  return n;
}

/**
 * First half of a snapshot: captures the rows and clones the delta files
 * into the snapshot's final directory. Commits nothing: until
 * `commitSnapshot`, the directory is a leftover to gc (this is the point a
 * crash test stops at). The caller holds the vibe's lock.
 */
export function prepareSnapshot(project: Project, id: string, name: string): PreparedSnapshot {
  const startMs = performance.now();
  const vibe = project.vibe(id);
  validateSnapshotName(name);
  if (project.meta.getSnapshot(id, name)) {
    throw new VibeError(
      "EEXIST",
      `Cannot snapshot "${id}" as "${name}": a snapshot with that name exists ` +
        `(use "vibe snapshot-rm ${id} ${name}" first, or another name)`,
    );
  }
  removeOrphanSnapshotDirs(project, id);
  const version = project.meta.lastJournalSeq(id);
  const state = captureState(project.meta, id);
  const dir = snapshotDir(project, id, name);
  Deno.mkdirSync(dir, { recursive: true });
  const delta = `${project.sessionDir(id)}/delta`;
  let tally: CloneTally;
  try {
    tally = shareAll(
      state.materialized.map((n) => ({ src: `${delta}/${n.ino}`, dst: `${dir}/${n.ino}` })),
      delta, // same filesystem as `dir`; its probe is cached
      `Cannot snapshot "${id}"`,
    );
  } catch (e) {
    removeTree(dir);
    throw e;
  }
  // The vibe's files may now be shared with the snapshot: before writing one
  // in place, its store checks again (and unshares it).
  project.openWorkspace(id)?.delta.forgetOwnership();
  return { vibe, name, dir, state, tally, version, startMs };
}

/** Second half: every row and the snapshot row, in one transaction. */
export function commitSnapshot(project: Project, p: PreparedSnapshot): SnapshotResult {
  const createdMs = Date.now();
  const bytes = p.state.materialized.reduce((s, n) => s + (n.size ?? 0), 0);
  const changedPaths = countChangedPaths(project.meta, p.state.rows, p.vibe.baseTree);
  const figures = {
    method: p.tally.method,
    files: p.tally.files,
    bytes,
    bytesCopied: p.tally.bytesCopied,
    inodes: p.state.rows.inodes.length,
    changedPaths,
  };
  try {
    project.meta.insertSnapshot({
      vibe: p.vibe.id,
      name: p.name,
      createdMs,
      version: p.version,
      nextIno: p.state.nextIno,
      info: figures,
    }, p.state.rows);
  } catch (e) {
    removeTree(p.dir);
    throw e;
  }
  return {
    vibe: p.vibe.id,
    name: p.name,
    createdMs,
    ...figures,
    ms: performance.now() - p.startMs,
  };
}

/**
 * Takes a snapshot of the vibe's current state. O(changed files): rows of
 * dirty inodes and of the entries of dirty directories, and one clone per
 * materialized file (no data blocks on a reflink filesystem).
 */
export function snapshotVibe(project: Project, id: string, name?: string): SnapshotResult {
  project.workspace(id); // the owner lock: no other process changes the vibe meanwhile
  let chosen = name;
  if (chosen === undefined) {
    const base = defaultSnapshotName();
    chosen = base;
    for (let i = 2; project.meta.getSnapshot(id, chosen); i++) chosen = `${base}-${i}`;
  }
  return commitSnapshot(project, prepareSnapshot(project, id, chosen));
}

export interface SnapshotInfo {
  name: string;
  createdMs: number;
  /** The vibe's journal seq when taken; later entries are changes since. */
  version: number;
  changedPaths: number;
  files: number;
  /** Apparent bytes of the snapshot's files. */
  bytes: number;
  /**
   * "reflink": the files share their blocks with the vibe (and each other)
   * until either side rewrites them; "copy": `bytes` are the snapshot's own.
   */
  method: CloneMethod;
  bytesCopied: number;
  inodes: number;
}

const numOf = (v: unknown) => (typeof v === "number" ? v : 0);

/** The vibe's snapshots, oldest first. */
export function listSnapshots(project: Project, id: string): SnapshotInfo[] {
  project.vibe(id);
  return project.meta.listSnapshots(id).map((s) => ({
    name: s.name,
    createdMs: s.createdMs,
    version: s.version,
    changedPaths: numOf(s.info["changedPaths"]),
    files: numOf(s.info["files"]),
    bytes: numOf(s.info["bytes"]),
    method: s.info["method"] === "reflink" ? "reflink" : "copy",
    bytesCopied: numOf(s.info["bytesCopied"]),
    inodes: numOf(s.info["inodes"]),
  }));
}

function missingSnapshot(id: string, name: string): VibeError {
  return new VibeError(
    "ENOENT",
    `Snapshot "${name}" of vibe "${id}" does not exist (run "vibe snapshots ${id}" to list them)`,
  );
}

/** Deletes a snapshot: its rows (one transaction), then its files. */
export function removeSnapshot(project: Project, id: string, name: string): { name: string } {
  project.workspace(id);
  if (!project.meta.deleteSnapshot(id, name)) throw missingSnapshot(id, name);
  removeTree(snapshotDir(project, id, name));
  return { name };
}

// ------------------------------------------------------------------ restore

export interface RestoreOptions {
  /**
   * Inodes that leave the state but are still open (the daemon knows): they
   * stay as unlinked orphans (nlink 0) with their bytes, so open files keep
   * reading what they had, as POSIX has it for a replaced file.
   */
  keep?: (ino: Ino) => boolean;
}

export interface RestoreResult {
  vibe: string;
  name: string;
  method: CloneMethod;
  files: number;
  bytesCopied: number;
  /** Restored files that got a fresh inode number (see the module comment). */
  renumbered: number;
  /** Files left as they were: their delta still maps the snapshot copy's blocks. */
  unchanged: number;
  /** Inodes whose content, attributes or existence changed (for kernel cache invalidation). */
  inos: Ino[];
  /** Directory entries that appeared, vanished or point elsewhere now. */
  entries: { parent: Ino; name: string }[];
  ms: number;
}

/**
 * Returns the vibe exactly to a snapshot's state (bytes, modes, times,
 * xattrs, deletions, renames, links). Inode numbers stay where the bytes do
 * not change; `next_ino` never goes back. An open workspace of this process
 * (the daemon's, when mounted) drops its caches (`WorkspaceVfs.reset`).
 */
export function restoreVibe(
  project: Project,
  id: string,
  name: string,
  opts: RestoreOptions = {},
): RestoreResult {
  const startMs = performance.now();
  const ws = project.workspace(id);
  const vibe = project.vibe(id);
  const snap = project.meta.getSnapshot(id, name);
  if (!snap) throw missingSnapshot(id, name);
  const rows = project.meta.snapshotRows(id, name);
  const before = project.meta.stateRows(id);
  const current = new Map(before.inodes.map((n) => [n.ino, n]));
  let nextIno = Math.max(project.meta.nextIno(id), snap.nextIno);

  const dir = snapshotDir(project, id, name);
  // A file whose delta file still maps the very blocks of the snapshot's
  // copy (not written since: on a reflink filesystem any write lands in new
  // blocks) keeps its number and its delta file: restore costs O(files
  // changed since the snapshot), not O(files in it).
  const unchanged = new Set<Ino>();
  for (const n of rows.inodes) {
    const c = current.get(n.ino);
    if (
      n.kind === "file" && n.materialized && c?.kind === "file" && c.materialized &&
      c.size === n.size &&
      (sameInode(`${dir}/${n.ino}`, ws.delta.pathOf(n.ino)) ||
        sameBlocks(`${dir}/${n.ino}`, ws.delta.pathOf(n.ino)))
    ) unchanged.add(n.ino);
  }
  // Any other file whose number also names a file in the current state, with
  // bytes in the delta on either side, gets a fresh number (see the module comment).
  const renumber = new Map<Ino, Ino>();
  for (const n of rows.inodes) {
    const c = current.get(n.ino);
    if (
      n.kind !== "dir" && c && (n.materialized || c.materialized) && !unchanged.has(n.ino)
    ) renumber.set(n.ino, nextIno++);
  }
  const to = (ino: Ino) => renumber.get(ino) ?? ino;
  const inodes: InodeRecord[] = rows.inodes.map((n) => ({ ...n, ino: to(n.ino) }));
  if (!inodes.some((n) => n.ino === ROOT_INO)) inodes.push(rootInode(vibe));
  const present = new Set(inodes.map((n) => n.ino));
  const kept = opts.keep
    ? before.inodes.filter((c) => c.kind !== "dir" && !present.has(c.ino) && opts.keep!(c.ino))
    : [];
  const keptInos = new Set(kept.map((c) => c.ino));
  const after: StateRows = {
    inodes: [...inodes, ...kept.map((c) => ({ ...c, nlink: 0 }))],
    dirents: rows.dirents.map((d) => ({ ...d, ino: to(d.ino) })),
    xattrs: [
      ...rows.xattrs.map((x) => ({ ...x, ino: to(x.ino) })),
      ...before.xattrs.filter((x) => keptInos.has(x.ino)),
    ],
  };

  const pairs = rows.inodes.filter((n) =>
    n.kind === "file" && n.materialized && !unchanged.has(n.ino)
  ).map((n) => {
    const dst = to(n.ino);
    if (current.get(dst)?.materialized) {
      throw new VibeError("EIO", `Cannot restore "${id}": inode ${dst} would be overwritten`);
    }
    return { src: `${dir}/${n.ino}`, dst: ws.delta.pathOf(dst), ino: dst };
  });
  const tally = shareAll(pairs, ws.delta.dir, `Cannot restore "${id}" to "${name}"`);

  project.meta.transaction(() => {
    project.meta.replaceState(id, after, nextIno);
    project.meta.appendJournal({
      vibe: id,
      timeMs: Date.now(),
      op: "restore",
      path: "",
      path2: name,
      ino: ROOT_INO,
      size: null,
    });
  });
  ws.reset();
  const referenced = new Set(after.inodes.filter((n) => n.materialized).map((n) => n.ino));
  for (const c of before.inodes) {
    if (c.materialized && !referenced.has(c.ino)) ws.delta.remove(c.ino);
  }
  const changes = stateChanges(before, after, new Set(pairs.map((p) => p.ino)));
  return {
    vibe: id,
    name,
    method: tally.method,
    files: tally.files,
    bytesCopied: tally.bytesCopied,
    renumbered: renumber.size,
    unchanged: unchanged.size,
    inos: changes.inos,
    entries: changes.entries,
    ms: performance.now() - startMs,
  };
}

// ------------------------------------------------------------------ fork

export interface ForkResult {
  vibe: VibeRecord;
  from: string;
  method: CloneMethod;
  files: number;
  bytesCopied: number;
  ms: number;
}

/**
 * A new vibe on the same base commit whose state is `src`'s current state
 * (same rows and inode numbers, cloned delta files, same times — so it keeps
 * `src`'s creation time, from which clean files take theirs); independent
 * from then on. Snapshots and the journal of `src` are not carried over.
 */
export function forkVibe(project: Project, src: string, dst: string): ForkResult {
  const startMs = performance.now();
  validateVibeId(dst);
  const from = project.vibe(src);
  if (project.meta.getVibe(dst)) {
    throw new VibeError(
      "EEXIST",
      `Cannot fork "${src}" as "${dst}": a vibe with that id exists (use "vibe destroy ${dst}" first)`,
    );
  }
  const ws = project.workspace(src);
  const state = captureState(project.meta, src);
  const session = project.sessionDir(dst);
  removeTree(session); // a leftover of a crashed spawn or fork: it has no vibe row
  Deno.mkdirSync(`${session}/delta`, { recursive: true });
  const vibe: VibeRecord = {
    id: dst,
    baseCommit: from.baseCommit,
    baseTree: from.baseTree,
    baseRef: from.baseRef,
    // Clean files take their times from the vibe's creation time: a fresh time
    // would move every clean file's mtime past the source's build outputs.
    createdMs: from.createdMs,
    state: "active",
    uid: from.uid,
    gid: from.gid,
    mountPath: null,
    transport: null,
    promotedCommit: null,
    promotedMs: null,
    promotedSeq: null,
  };
  let tally: CloneTally;
  try {
    tally = shareAll(
      state.materialized.map((n) => ({
        src: ws.delta.pathOf(n.ino),
        dst: `${session}/delta/${n.ino}`,
      })),
      `${session}/delta`,
      `Cannot fork "${src}"`,
    );
    ws.delta.forgetOwnership();
    const inodes = state.rows.inodes.some((n) => n.ino === ROOT_INO)
      ? state.rows.inodes
      : [...state.rows.inodes, rootInode(vibe)];
    project.meta.transaction(() => {
      project.meta.insertVibe(vibe, rootInode(vibe));
      project.meta.replaceState(dst, { ...state.rows, inodes }, state.nextIno);
      // The fork's layers are the source's (same origins: same injected content).
      project.meta.putVibeLayers(dst, project.meta.vibeLayers(src));
    });
  } catch (e) {
    removeTree(session);
    throw e;
  }
  return {
    vibe,
    from: src,
    method: tally.method,
    files: tally.files,
    bytesCopied: tally.bytesCopied,
    ms: performance.now() - startMs,
  };
}
