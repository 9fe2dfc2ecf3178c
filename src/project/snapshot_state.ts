/**
 * The part of a vibe's state that differs from its base, as rows: what a
 * snapshot stores and a fork copies. Clean rows are cached views of git, so
 * they are left out (and rebuilt lazily), which keeps the cost O(changes)
 * however much of the repository the vibe has loaded.
 */
import { GIT_MODE, type Ino, type Oid } from "../types.ts";
import type { TreeEntry } from "../git/object_store.ts";
import type {
  InodeRecord,
  MetaStore,
  StateDirent,
  StateRows,
  StateXattr,
} from "../meta/meta_store.ts";
import { ROOT_INO } from "../vfs/vfs.ts";

export interface CapturedState {
  rows: StateRows;
  /** Materialized files among `rows.inodes` (their bytes are in the delta). */
  materialized: InodeRecord[];
  nextIno: Ino;
}

const isGitlink = (n: InodeRecord) => n.gitMode === GIT_MODE.GITLINK;

/** A clean directory as its unloaded row: its entries come from its git tree again. */
function asUnloaded(n: InodeRecord): InodeRecord {
  return { ...n, loaded: false, nlink: 2, nextCookie: 1 };
}

/**
 * Reads the rows that make up the vibe's changes, synchronously (so, in one
 * process, no Vfs call interleaves):
 * - every loaded directory in D, with all its entries and their inode rows,
 *   where D starts as the dirty loaded directories; a clean child directory
 *   not in D is stored unloaded;
 * - the root row when the root is dirty or in D (else a restore uses a
 *   fresh root);
 * - hard links: when a stored file has more links than the stored entries
 *   show (a link made to a clean file leaves its first directory clean), the
 *   directories holding its other links and their ancestors join D, so the
 *   inode keeps all its names;
 * - xattrs of stored inodes.
 * Unlinked-but-open inodes (nlink 0) are not part of the state.
 */
export function captureState(meta: MetaStore, vibe: string): CapturedState {
  const nextIno = meta.nextIno(vibe);
  const dirty = meta.dirtyInodes(vibe);
  const nodes = new Map<Ino, InodeRecord>();
  const dirents: StateDirent[] = [];
  const inD = new Set<Ino>();
  const pending: Ino[] = [];

  const linksSeen = new Map<Ino, number>();
  const addEntries = (entries: { dirent: StateDirent; node: InodeRecord }[]) => {
    for (const { dirent, node } of entries) {
      dirents.push(dirent);
      nodes.set(node.ino, node);
      linksSeen.set(node.ino, (linksSeen.get(node.ino) ?? 0) + 1);
    }
  };
  for (const n of dirty) {
    if (n.kind === "dir" && n.loaded && n.nlink > 0) inD.add(n.ino);
  }
  addEntries(meta.dirtyDirEntries(vibe));
  const root = dirty.find((n) => n.ino === ROOT_INO);
  if (root) nodes.set(ROOT_INO, root);

  // Hard-link closure (rare: only files with nlink > 1 are looked at).
  const checkLinks = (list: InodeRecord[]) => {
    for (const n of list) {
      if (n.kind === "dir" || n.nlink <= 1 || (linksSeen.get(n.ino) ?? 0) >= n.nlink) continue;
      for (const l of meta.linksOf(vibe, n.ino)) {
        let cur: Ino = l.parent;
        while (cur !== 0 && !inD.has(cur)) {
          inD.add(cur);
          pending.push(cur);
          cur = (meta.getInode(vibe, cur)?.parent) ?? 0;
        }
      }
    }
  };
  checkLinks([...nodes.values()]);
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const entries = meta.dirEntries(vibe, dir);
    addEntries(entries);
    if (dir === ROOT_INO && !nodes.has(ROOT_INO)) {
      const r = meta.getInode(vibe, ROOT_INO);
      if (r) nodes.set(ROOT_INO, r);
    }
    checkLinks(entries.map((e) => e.node));
  }

  const inodes: InodeRecord[] = [];
  const materialized: InodeRecord[] = [];
  for (const n of nodes.values()) {
    const row = n.kind === "dir" && !n.dirty && n.loaded && !inD.has(n.ino) && !isGitlink(n)
      ? asUnloaded(n)
      : n;
    inodes.push(row);
    if (row.kind === "file" && row.materialized) materialized.push(row);
  }
  const xattrs: StateXattr[] = nodes.size === 0
    ? []
    : meta.allXattrs(vibe).filter((x) => nodes.has(x.ino));
  return { rows: { inodes, dirents, xattrs }, materialized, nextIno };
}

const isTree = (e: TreeEntry) => e.mode === GIT_MODE.TREE;

/**
 * How many paths the captured state changes against the base tree, from the
 * metadata alone (no file is read): a file whose inode changed in any way
 * counts, even if its bytes equal the base again. Uses the tree cache (every
 * tree of an indexed commit is there); an uncached tree counts as empty.
 */
export function countChangedPaths(meta: MetaStore, rows: StateRows, baseTree: Oid): number {
  const byIno = new Map(rows.inodes.map((n) => [n.ino, n]));
  const entriesOf = new Map<Ino, StateDirent[]>();
  for (const d of rows.dirents) {
    let l = entriesOf.get(d.parent);
    if (!l) entriesOf.set(d.parent, l = []);
    l.push(d);
  }
  const tree = (oid: Oid | null) => (oid ? meta.getTree(oid) ?? [] : []);
  const files = (e: TreeEntry) => (isTree(e) ? meta.treeFiles(e.oid) ?? 1 : 1);

  const treeDiff = (a: Oid | null, b: Oid | null): number => {
    if (a === b) return 0;
    const ea = tree(a);
    const eb = tree(b);
    const mb = new Map(eb.map((e) => [e.name, e]));
    const ma = new Set(ea.map((e) => e.name));
    let n = 0;
    for (const x of ea) {
      const y = mb.get(x.name);
      if (!y) n += files(x);
      else if (x.oid === y.oid && x.mode === y.mode) continue;
      else if (isTree(x) && isTree(y)) n += treeDiff(x.oid, y.oid);
      else n += isTree(x) || isTree(y) ? files(x) + files(y) : 1;
    }
    for (const y of eb) if (!ma.has(y.name)) n += files(y);
    return n;
  };

  const child = (c: InodeRecord, b: TreeEntry | null): number => {
    if (c.kind === "dir") {
      const notTree = b && !isTree(b) ? 1 : 0;
      if (isGitlink(c) && !c.dirty) {
        return b && b.mode === GIT_MODE.GITLINK && b.oid === c.oid ? 0 : 1 + (b ? files(b) : 0);
      }
      const baseSub = b && isTree(b) ? b.oid : null;
      if (entriesOf.has(c.ino) || (c.dirty && c.loaded)) return dir(c.ino, baseSub) + notTree;
      return treeDiff(baseSub, c.oid) + notTree;
    }
    if (!b) return 1;
    if (isTree(b)) return files(b) + 1;
    return c.dirty || c.oid !== b.oid ? 1 : 0;
  };

  const dir = (ino: Ino, baseOid: Oid | null): number => {
    const base = new Map(tree(baseOid).map((e) => [e.name, e]));
    let n = 0;
    const seen = new Set<string>();
    for (const d of entriesOf.get(ino) ?? []) {
      const c = byIno.get(d.ino);
      if (!c) continue;
      // Untracked layers are no change (as in tree_build.ts).
      if (c.volatile || (c.origin !== null && !c.dirty)) continue;
      seen.add(d.name);
      n += child(c, base.get(d.name) ?? null);
    }
    for (const [name, b] of base) if (!seen.has(name)) n += files(b);
    return n;
  };

  const root = byIno.get(ROOT_INO);
  if (!root) return 0;
  return root.loaded ? dir(ROOT_INO, baseTree) : treeDiff(baseTree, root.oid);
}

/** Where a restore changed what the kernel may have cached. */
export interface StateChanges {
  /** Inodes that appeared, disappeared, or whose row, bytes or xattrs changed. */
  inos: Ino[];
  /** Directory entries that appeared, disappeared or point elsewhere now. */
  entries: { parent: Ino; name: string }[];
}

function rowKey(n: InodeRecord): string {
  return JSON.stringify(n);
}

/**
 * Differences between two full states of a vibe (before and after a
 * restore). `bytesChanged` names inodes whose delta bytes were replaced.
 */
export function stateChanges(
  before: StateRows,
  after: StateRows,
  bytesChanged: Set<Ino>,
): StateChanges {
  const inos = new Set<Ino>(bytesChanged);
  const a = new Map(after.inodes.map((n) => [n.ino, n]));
  const b = new Map(before.inodes.map((n) => [n.ino, n]));
  for (const [ino, n] of b) {
    const m = a.get(ino);
    if (!m || rowKey(m) !== rowKey(n)) inos.add(ino);
  }
  for (const ino of a.keys()) if (!b.has(ino)) inos.add(ino);
  const xattrKeys = (rows: StateRows) => {
    const m = new Map<Ino, string[]>();
    for (const x of rows.xattrs) {
      let l = m.get(x.ino);
      if (!l) m.set(x.ino, l = []);
      l.push(`${x.name}=${Array.from(x.value).join(",")}`);
    }
    return new Map([...m].map(([k, v]) => [k, v.sort().join("\n")]));
  };
  const xb = xattrKeys(before);
  const xa = xattrKeys(after);
  for (const ino of new Set([...xb.keys(), ...xa.keys()])) {
    if (xb.get(ino) !== xa.get(ino)) inos.add(ino);
  }
  const key = (d: StateDirent) => `${d.parent}/${d.name}`;
  const eb = new Map(before.dirents.map((d) => [key(d), d]));
  const ea = new Map(after.dirents.map((d) => [key(d), d]));
  const entries: { parent: Ino; name: string }[] = [];
  for (const [k, d] of eb) {
    if (ea.get(k)?.ino !== d.ino) entries.push({ parent: d.parent, name: d.name });
  }
  for (const [k, d] of ea) if (!eb.has(k)) entries.push({ parent: d.parent, name: d.name });
  for (const e of entries) inos.add(e.parent);
  return { inos: [...inos].sort((x, y) => x - y), entries };
}
