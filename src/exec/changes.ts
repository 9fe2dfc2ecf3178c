/**
 * The exact change report of a command: what its run did to the vibe, read
 * from the vibe's change journal (every mutation appends a line; writes are
 * journaled on the first write of each inode after the mark that starts a
 * run), never from a scan of the tree.
 *
 * Paths of deleted entries are paths as they were before the run; all other
 * paths are where the entry is now. A directory rename is reported once (the
 * directory) plus any changed entries under its new path.
 */
import type { InodeRecord, JournalEntry } from "../meta/meta_store.ts";
import type { FileKind } from "../vfs/vfs.ts";

export type ChangeKind = "added" | "modified" | "deleted" | "renamed";

export interface Change {
  path: string;
  kind: ChangeKind;
  /** For renames: where the entry was before the run. */
  from?: string;
  /** file, dir, symlink, fifo, socket … (null when unknown: entries from an old journal). */
  type: FileKind | null;
  /** Size now (files: bytes; symlinks: target length; deleted: 0). */
  bytes: number;
  /** The bytes changed (writes, truncation, a replaced entry). */
  content: boolean;
  /** Permission bits now (absent for deletions). */
  mode?: string;
  /** The exec bit flipped (`chmod +x` / `-x`) on an entry that existed before. */
  execChanged?: boolean;
  /** A symlink whose target changed, or an entry replaced by one of another type. */
  replaced?: boolean;
}

interface Pending {
  kind: ChangeKind;
  ino: number;
  type: FileKind | null;
  from?: string;
  content: boolean;
  prevMode?: number;
  replaced?: boolean;
}

export interface FoldResult {
  changes: Change[];
  /** False when the run contained a restore (the journal cannot say what it did per path). */
  exact: boolean;
}

const CREATE_OPS = new Set(["create", "mkdir", "symlink", "link"]);
const TOUCH_OPS = new Set(["write", "truncate", "setattr", "chmod"]);

/**
 * Folds journal entries (oldest first) into per-path changes. `inode`
 * returns an inode's current row (null when it is gone).
 */
export function foldJournal(
  entries: readonly JournalEntry[],
  inode: (ino: number) => InodeRecord | null,
): FoldResult {
  const map = new Map<string, Pending>();
  let exact = true;
  const touch = (path: string, e: JournalEntry): Pending => {
    let p = map.get(path);
    if (!p || p.kind === "deleted") {
      p = { kind: p ? "modified" : "modified", ino: e.ino, type: e.kind ?? null, content: false };
      map.set(path, p);
    }
    return p;
  };
  for (const e of entries) {
    if (CREATE_OPS.has(e.op)) {
      const before = map.get(e.path);
      if (before?.kind === "deleted") {
        map.set(e.path, {
          kind: "modified",
          ino: e.ino,
          type: e.kind ?? null,
          content: true,
          replaced: true,
        });
      } else {
        map.set(e.path, { kind: "added", ino: e.ino, type: e.kind ?? null, content: true });
      }
    } else if (TOUCH_OPS.has(e.op)) {
      const p = touch(e.path, e);
      if (e.op === "write" || e.op === "truncate") p.content = true;
      if (
        e.op === "chmod" && p.kind !== "added" && p.prevMode === undefined && e.prevMode != null
      ) {
        p.prevMode = e.prevMode;
      }
    } else if (e.op === "unlink" || e.op === "rmdir") {
      const p = map.get(e.path);
      if (p?.kind === "added") {
        map.delete(e.path);
      } else if (p?.kind === "renamed") {
        map.delete(e.path);
        map.set(p.from!, { kind: "deleted", ino: e.ino, type: p.type, content: true });
      } else if (p?.kind !== "deleted") {
        map.set(e.path, {
          kind: "deleted",
          ino: e.ino,
          type: e.kind ?? p?.type ?? null,
          content: true,
        });
      }
    } else if (e.op === "rename" && e.path2 !== null) {
      rename(map, e.path, e.path2, e);
    } else if (e.op === "exchange" && e.path2 !== null) {
      for (const path of [e.path, e.path2]) {
        const p = touch(path, e);
        p.content = true;
        p.type = null;
      }
    } else if (e.op === "restore") {
      exact = false;
    }
  }
  const changes: Change[] = [];
  for (const [path, p] of map) {
    const now = p.kind === "deleted" ? null : inode(p.ino);
    if (p.kind !== "deleted" && !now) continue; // gone again without an unlink entry (orphan)
    const c: Change = {
      path,
      kind: p.kind,
      type: now?.kind ?? p.type,
      bytes: now ? (now.kind === "symlink" ? (now.target ?? "").length : now.size ?? 0) : 0,
      content: p.content,
    };
    if (p.from !== undefined) c.from = p.from;
    if (now) c.mode = (now.mode & 0o7777).toString(8).padStart(4, "0");
    if (now && p.prevMode !== undefined && ((p.prevMode ^ now.mode) & 0o111) !== 0) {
      c.execChanged = true;
    }
    if (p.replaced) c.replaced = true;
    changes.push(c);
  }
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes, exact };
}

function rename(map: Map<string, Pending>, from: string, to: string, e: JournalEntry): void {
  // Changed entries below a renamed directory move with it (deletions keep
  // their pre-run paths).
  const prefix = `${from}/`;
  for (const [k, p] of [...map]) {
    if (k.startsWith(prefix) && p.kind !== "deleted") {
      map.delete(k);
      map.set(`${to}/${k.slice(prefix.length)}`, p);
    }
  }
  const p = map.get(from);
  const target = map.get(to);
  if (p && p.kind !== "deleted") map.delete(from);
  const replaced = target?.kind === "deleted" ? true : undefined;
  if (p?.kind === "added") {
    map.set(to, replaced ? { ...p, kind: "modified", replaced } : p);
    return;
  }
  const origin = p?.kind === "renamed" ? p.from! : from;
  if (origin === to) {
    // Back where it started: only its own changes remain.
    if (p && (p.content || p.prevMode !== undefined)) map.set(to, { ...p, kind: "modified" });
    else map.delete(to);
    return;
  }
  const moved: Pending = {
    kind: "renamed",
    ino: e.ino,
    type: e.kind ?? p?.type ?? null,
    from: origin,
    content: p?.content ?? false,
  };
  if (p?.prevMode !== undefined) moved.prevMode = p.prevMode;
  if (replaced) moved.replaced = true;
  map.set(to, moved);
}
