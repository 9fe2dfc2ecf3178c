/**
 * Turns a vibe's state into git trees, visiting only dirty directories
 * (O(changes)), and lists what changed against the base tree on the way.
 *
 * The same walk serves three callers through its `ObjectSink`: promote
 * (writes into `.git`), diff (writes into vibe's scratch object store) and
 * status (hashes only, writes nothing).
 */
import { GIT_MODE, type Ino, type Oid } from "../types.ts";
import type { TreeEntry } from "../git/object_store.ts";
import { encodeTree, hashObject } from "../git/object_hash.ts";
import type { TreeNodeRecord } from "../meta/meta_store.ts";
import type { TreeSource, WorkspaceVfs } from "../vfs/workspace_vfs.ts";

/** Where built objects go. */
export interface ObjectSink {
  writeBlob(data: Uint8Array): Promise<Oid>;
  writeTree(entries: TreeEntry[]): Promise<Oid>;
}

/** Computes oids without storing anything. */
export const hashingSink: ObjectSink = {
  writeBlob: (data) => Promise.resolve(hashObject("blob", data)),
  writeTree: (entries) => Promise.resolve(hashObject("tree", encodeTree(entries))),
};

export type ChangeStatus = "A" | "M" | "D" | "T";

export interface PathChange {
  path: string;
  status: ChangeStatus;
  /** Git mode and oid before (null for added) and after (null for deleted). */
  oldMode: number | null;
  newMode: number | null;
  oldOid: Oid | null;
  newOid: Oid | null;
}

export interface BuildResult {
  tree: Oid;
  changes: PathChange[];
  /** Paths git cannot store (FIFOs), left out of the tree. */
  skipped: string[];
}

const encoder = new TextEncoder();
const isTree = (mode: number) => mode === GIT_MODE.TREE;

/** Builds the vibe's current root tree into `sink` and lists changes against the base. */
/** What the walk reads of a workspace (the dashboard passes a read-only view). */
export type TreeView = Pick<WorkspaceVfs, "vibe" | "node" | "treeChildren" | "materializedBytes">;

export async function buildTree(
  ws: TreeView,
  sink: ObjectSink,
  trees: TreeSource,
): Promise<BuildResult> {
  const changes: PathChange[] = [];
  const skipped: string[] = [];
  const ctx = { ws, sink, trees, changes, skipped };
  const root = ws.node(1);
  const baseTree = ws.vibe.baseTree;
  let tree: Oid;
  if (!root.dirty) {
    tree = baseTree;
  } else {
    tree = (await buildDir(ctx, 1, baseTree, "")) ?? (await sink.writeTree([]));
  }
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { tree, changes, skipped };
}

interface Ctx {
  ws: TreeView;
  sink: ObjectSink;
  trees: TreeSource;
  changes: PathChange[];
  skipped: string[];
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}/${name}` : name);

/** Builds a dirty directory; null when it holds nothing git can store. */
async function buildDir(
  ctx: Ctx,
  ino: Ino,
  baseOid: Oid | null,
  prefix: string,
): Promise<Oid | null> {
  const base = baseOid ? await ctx.trees(baseOid) : [];
  const baseByName = new Map(base.map((e) => [e.name, e]));
  const out: TreeEntry[] = [];
  const seen = new Set<string>();
  for (const { name, node } of await ctx.ws.treeChildren(ino)) {
    seen.add(name);
    const path = join(prefix, name);
    const b = baseByName.get(name) ?? null;
    // Untracked layers: volatile nodes are never reported, and content a
    // whitelisted layer shows unchanged from its source is not the vibe's work.
    if (node.volatile || (node.origin != null && !node.dirty)) {
      if (b) await recordGone(ctx, b, path);
      continue;
    }
    const entry = await entryFor(ctx, node, path, b);
    if (!entry) {
      // A directory that built empty already recorded its changes against a
      // base subtree; anything else that vanished from git's view is gone.
      const recorded = node.kind === "dir" && b !== null && isTree(b.mode);
      if (b && !recorded) await recordGone(ctx, b, path);
      continue;
    }
    out.push({ name, mode: entry.mode, oid: entry.oid });
    await compare(ctx, b, entry, path);
  }
  for (const b of base) {
    if (!seen.has(b.name)) await recordGone(ctx, b, join(prefix, b.name));
  }
  if (out.length === 0) return null;
  return await ctx.sink.writeTree(out);
}

/** The tree entry a node becomes; null when it has no git form (FIFO, empty dir). */
async function entryFor(
  ctx: Ctx,
  node: TreeNodeRecord,
  path: string,
  base: TreeEntry | null,
): Promise<{ mode: number; oid: Oid; built?: boolean } | null> {
  switch (node.kind) {
    case "dir": {
      if (node.gitMode === GIT_MODE.GITLINK && node.oid && !node.dirty) {
        return { mode: GIT_MODE.GITLINK, oid: node.oid };
      }
      if (!node.dirty && node.oid && node.gitMode === GIT_MODE.TREE) {
        return { mode: GIT_MODE.TREE, oid: node.oid };
      }
      const baseSub = base && isTree(base.mode) ? base.oid : null;
      const oid = await buildDir(ctx, node.ino, baseSub, path);
      return oid ? { mode: GIT_MODE.TREE, oid, built: true } : null;
    }
    case "file": {
      const mode = (node.mode & 0o100) !== 0 ? GIT_MODE.EXEC : GIT_MODE.FILE;
      if (!node.materialized && node.oid) return { mode, oid: node.oid };
      // A layer file changed only in its attributes still reads from its source.
      const bytes = node.materialized || node.origin != null
        ? ctx.ws.materializedBytes(node.ino)
        : new Uint8Array(0);
      return { mode, oid: await ctx.sink.writeBlob(bytes) };
    }
    case "symlink": {
      if (node.target === null && node.oid) return { mode: GIT_MODE.SYMLINK, oid: node.oid };
      return {
        mode: GIT_MODE.SYMLINK,
        oid: await ctx.sink.writeBlob(encoder.encode(node.target ?? "")),
      };
    }
    default:
      ctx.skipped.push(path);
      return null;
  }
}

/** Records the change between a base entry (maybe absent) and the new entry at `path`. */
async function compare(
  ctx: Ctx,
  b: TreeEntry | null,
  e: { mode: number; oid: Oid; built?: boolean },
  path: string,
): Promise<void> {
  if (b && b.mode === e.mode && b.oid === e.oid) return;
  if (isTree(e.mode)) {
    // A built dir already recorded its own changes against the base subtree.
    if (e.built) {
      if (b && !isTree(b.mode)) await recordGone(ctx, b, path);
      return;
    }
    if (b && !isTree(b.mode)) await recordGone(ctx, b, path);
    await diffTrees(ctx, b && isTree(b.mode) ? b.oid : null, e.oid, path);
    return;
  }
  if (!b) {
    ctx.changes.push(change(path, "A", null, e));
  } else if (isTree(b.mode)) {
    await recordGone(ctx, b, path);
    ctx.changes.push(change(path, "A", null, e));
  } else {
    const typeChanged = (b.mode === GIT_MODE.SYMLINK) !== (e.mode === GIT_MODE.SYMLINK) ||
      (b.mode === GIT_MODE.GITLINK) !== (e.mode === GIT_MODE.GITLINK);
    ctx.changes.push(change(path, typeChanged ? "T" : "M", b, e));
  }
}

function change(
  path: string,
  status: ChangeStatus,
  b: { mode: number; oid: Oid } | null,
  e: { mode: number; oid: Oid } | null,
): PathChange {
  return {
    path,
    status,
    oldMode: b?.mode ?? null,
    newMode: e?.mode ?? null,
    oldOid: b?.oid ?? null,
    newOid: e?.oid ?? null,
  };
}

/** Everything under a base entry that no longer exists. */
async function recordGone(ctx: Ctx, b: TreeEntry, path: string): Promise<void> {
  if (isTree(b.mode)) await diffTrees(ctx, b.oid, null, path);
  else ctx.changes.push(change(path, "D", b, null));
}

/** Changes between two git trees (either may be null = empty), recursing only where they differ. */
async function diffTrees(ctx: Ctx, a: Oid | null, b: Oid | null, prefix: string): Promise<void> {
  if (a === b) return;
  const ea = a ? await ctx.trees(a) : [];
  const eb = b ? await ctx.trees(b) : [];
  const mb = new Map(eb.map((e) => [e.name, e]));
  const ma = new Map(ea.map((e) => [e.name, e]));
  for (const x of ea) {
    const y = mb.get(x.name) ?? null;
    const path = join(prefix, x.name);
    if (!y) await recordGone(ctx, x, path);
    else if (x.mode !== y.mode || x.oid !== y.oid) await compare(ctx, x, y, path);
  }
  for (const y of eb) {
    if (ma.has(y.name)) continue;
    const path = join(prefix, y.name);
    if (isTree(y.mode)) await diffTrees(ctx, null, y.oid, path);
    else ctx.changes.push(change(path, "A", null, y));
  }
}
