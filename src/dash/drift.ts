/**
 * A vibe's drift (changed paths and delta bytes) computed by the dashboard
 * without the vibe's owner lock and without asking the daemon.
 *
 * It runs the same walk as `vibe status` (`buildTree` with a hashing sink)
 * over a read-only view of the vibe: inode and entry rows straight from the
 * metadata (SQLite in WAL mode, so reading never blocks the daemon's writes)
 * and materialized bytes straight from `.vibe/sessions/<id>/delta/`. Every
 * change a mount makes reaches both before it is answered, so the view is
 * at most one write behind; the collector recomputes after the journal
 * moves.
 *
 * Cost: O(changed paths) rows plus the bytes of materialized files whose
 * inode row (size, mtime, ctime) changed since the last walk; unchanged
 * files reuse their bytes and oid from the previous walk.
 */
import { VibeError } from "../errors.ts";
import { GIT_MODE, type Ino, type Oid } from "../types.ts";
import { encodeTree, hashObject } from "../git/object_hash.ts";
import type { TreeEntry } from "../git/object_store.ts";
import type { MetaStore, TreeNodeRecord, VibeRecord } from "../meta/meta_store.ts";
import { buildTree, type ObjectSink, type PathChange } from "../project/tree_build.ts";
import type { TreeSource } from "../vfs/workspace_vfs.ts";
import { MAX_DIFF_BYTES } from "./lines.ts";

export interface Drift {
  changes: PathChange[];
  /** Apparent size of every file in the vibe's delta directory. */
  deltaBytes: number;
  /** New contents of changed files up to MAX_DIFF_BYTES, by oid (for line overlap). */
  contents: Map<Oid, Uint8Array>;
}

interface Memo {
  stamp: string;
  bytes: Uint8Array;
  oid: Oid;
}

/** Per-vibe cache of materialized bytes between walks, keyed by inode. */
export class DriftMemo {
  byIno = new Map<Ino, Memo>();
}

function cleanNode(e: TreeEntry): TreeNodeRecord {
  const kind = e.mode === GIT_MODE.TREE || e.mode === GIT_MODE.GITLINK
    ? "dir"
    : e.mode === GIT_MODE.SYMLINK
    ? "symlink"
    : "file";
  return {
    ino: -1,
    kind,
    mode: e.mode,
    oid: e.oid,
    gitMode: e.mode,
    materialized: false,
    dirty: false,
    target: null,
  };
}

/**
 * The members of WorkspaceVfs that `buildTree` reads, answered from rows
 * and delta files only (no lock, no cache shared with the daemon).
 */
class ReadOnlyVibe {
  readonly vibe: VibeRecord;
  #meta: MetaStore;
  #deltaDir: string;
  #trees: TreeSource;
  #prev: DriftMemo;
  #next = new DriftMemo();
  readonly oids = new WeakMap<Uint8Array, Oid>();

  constructor(
    vibe: VibeRecord,
    meta: MetaStore,
    deltaDir: string,
    trees: TreeSource,
    memo: DriftMemo,
  ) {
    this.vibe = vibe;
    this.#meta = meta;
    this.#deltaDir = deltaDir;
    this.#trees = trees;
    this.#prev = memo;
  }

  get memo(): DriftMemo {
    return this.#next;
  }

  node(ino: Ino) {
    const n = this.#meta.getInode(this.vibe.id, ino);
    if (!n) throw new VibeError("ESTALE", `Inode ${ino} of vibe "${this.vibe.id}" does not exist`);
    return n;
  }

  /** Rows of a loaded directory; an unloaded one is its git tree overlaid by any rows it has. */
  async treeChildren(ino: Ino): Promise<{ name: string; node: TreeNodeRecord }[]> {
    const dir = this.node(ino);
    const rows = this.#meta.listTreeChildren(this.vibe.id, ino);
    if (dir.loaded) return rows;
    const base = dir.oid && dir.gitMode !== GIT_MODE.GITLINK ? await this.#trees(dir.oid) : [];
    const have = new Set(rows.map((r) => r.name));
    for (const e of base) if (!have.has(e.name)) rows.push({ name: e.name, node: cleanNode(e) });
    return rows;
  }

  materializedBytes(ino: Ino): Uint8Array {
    const n = this.#meta.getInode(this.vibe.id, ino);
    const stamp = n
      ? `${n.size}:${n.mtime.sec}.${n.mtime.nsec}:${n.ctime.sec}.${n.ctime.nsec}`
      : "";
    const old = this.#prev.byIno.get(ino);
    if (old && stamp !== "" && old.stamp === stamp) {
      this.#next.byIno.set(ino, old);
      this.oids.set(old.bytes, old.oid);
      return old.bytes;
    }
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(`${this.#deltaDir}/${ino}`);
    } catch {
      // Removed or replaced while we looked: the next walk sees the new rows.
      bytes = new Uint8Array(0);
    }
    if (stamp !== "") {
      const oid = hashObject("blob", bytes);
      this.oids.set(bytes, oid);
      this.#next.byIno.set(ino, { stamp, bytes, oid });
    }
    return bytes;
  }
}

/** Sum of apparent sizes in a delta directory (0 when it is missing). */
export function deltaUsage(deltaDir: string): number {
  let total = 0;
  try {
    for (const e of Deno.readDirSync(deltaDir)) {
      try {
        total += Deno.statSync(`${deltaDir}/${e.name}`).size;
      } catch { /* removed meanwhile */ }
    }
  } catch { /* no delta yet */ }
  return total;
}

/**
 * Computes a vibe's drift; `memo` carries bytes and oids from the previous
 * walk of the same vibe and is replaced by the returned one.
 */
export async function computeDrift(
  vibe: VibeRecord,
  meta: MetaStore,
  sessionDir: string,
  trees: TreeSource,
  memo: DriftMemo,
): Promise<{ drift: Drift; memo: DriftMemo }> {
  const deltaDir = `${sessionDir}/delta`;
  const view = new ReadOnlyVibe(vibe, meta, deltaDir, trees, memo);
  const contents = new Map<Oid, Uint8Array>();
  const sink: ObjectSink = {
    writeBlob: (data) => {
      const oid = view.oids.get(data) ?? hashObject("blob", data);
      if (data.length <= MAX_DIFF_BYTES) contents.set(oid, data);
      return Promise.resolve(oid);
    },
    writeTree: (entries) => Promise.resolve(hashObject("tree", encodeTree(entries))),
  };
  // buildTree reads only vibe, node, treeChildren and materializedBytes.
  const built = await buildTree(view, sink, trees);
  const kept = new Map<Oid, Uint8Array>();
  for (const c of built.changes) {
    const b = c.newOid ? contents.get(c.newOid) : undefined;
    if (b && c.newOid) kept.set(c.newOid, b);
  }
  return {
    drift: { changes: built.changes, deltaBytes: deltaUsage(deltaDir), contents: kept },
    memo: view.memo,
  };
}
