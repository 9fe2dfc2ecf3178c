/**
 * Three-way merge of git trees, with git's (merge-ort's) outcome for the
 * cases it covers, minus rename detection.
 *
 * Cost is O(changes): a subtree is read only when base, ours and theirs all
 * differ there (ours == theirs → ours; ours == base → theirs; theirs == base
 * → ours), and blobs are read only when both sides changed the same file.
 *
 * Per path:
 * - one side changed it (content, mode, type, deletion) → that side;
 * - both changed a regular file → exec bit from the side that changed it,
 *   content by the line merge of diff3.ts; binary (NUL in the first 8000
 *   bytes of any version) → "content" conflict;
 * - both changed a symlink or submodule differently → "content" conflict;
 * - one side deleted, the other modified → "modify/delete";
 * - both added different entries → "add/add";
 * - kinds differ (file vs symlink vs submodule) → "mode";
 * - a file on one side where the merged result has a non-empty directory →
 *   "file/directory". A directory deleted on one side and modified on the
 *   other is merged entry by entry (files added under it survive; modified
 *   ones conflict as modify/delete), as git does.
 *
 * Stricter than git (reported as conflicts where git may merge): renames
 * are not detected (a rename on one side plus an edit on the other is a
 * modify/delete conflict); submodule changes on both sides are not
 * fast-forwarded; text near repeated lines (see diff3.ts); a file that was a
 * symlink in the base and a regular file on both sides. Not modelled at all:
 * .gitattributes merge drivers and renormalization, and rename/rename or
 * rename/delete (which git reports as conflicts, and which here look like
 * independent deletions and additions).
 *
 * Nothing is written when there are conflicts.
 */
import type { Oid } from "../types.ts";
import { GIT_MODE } from "../types.ts";
import { isBinary, merge3 } from "./diff3.ts";
import type { ObjectReader, ObjectWriter, TreeEntry } from "./object_store.ts";

export type ConflictKind = "content" | "modify/delete" | "add/add" | "file/directory" | "mode";

export interface Conflict {
  /** Slash-separated path from the root of the merged tree. */
  path: string;
  kind: ConflictKind;
}

export type MergeTreesResult =
  | { tree: Oid; conflicts: [] }
  | { tree: null; conflicts: Conflict[] };

export const EMPTY_TREE_OID: Oid = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** A merged entry: an existing object, a blob to write, or a tree to write. */
type Node =
  | { kind: "object"; mode: number; oid: Oid }
  | { kind: "blob"; mode: number; data: Uint8Array }
  | { kind: "tree"; entries: Map<string, Node> };

/** A merged directory: an existing tree (null = absent/empty) or new entries. */
type Dir =
  | { kind: "same"; oid: Oid | null }
  | { kind: "new"; entries: Map<string, Node> };

type Entry = TreeEntry | undefined;

/**
 * Merges the trees `ours` and `theirs` (tree oids) against `base`. Clean:
 * the merged tree's oid (one of the inputs when a side is unchanged,
 * otherwise newly written). Conflicted: every conflict sorted by path, and
 * nothing written.
 */
export async function mergeTrees(
  reader: ObjectReader,
  writer: ObjectWriter,
  base: Oid,
  ours: Oid,
  theirs: Oid,
): Promise<MergeTreesResult> {
  const conflicts: Conflict[] = [];
  const root = await mergeDir(reader, norm(base), norm(ours), norm(theirs), "", conflicts);
  if (conflicts.length > 0) {
    conflicts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { tree: null, conflicts };
  }
  if (root.kind === "same") {
    return { tree: root.oid ?? await writer.writeTree([]), conflicts: [] };
  }
  return { tree: await writeEntries(writer, root.entries), conflicts: [] };
}

function norm(tree: Oid | null): Oid | null {
  return tree === EMPTY_TREE_OID ? null : tree;
}

async function mergeDir(
  reader: ObjectReader,
  base: Oid | null,
  ours: Oid | null,
  theirs: Oid | null,
  prefix: string,
  conflicts: Conflict[],
): Promise<Dir> {
  if (ours === theirs || base === theirs) return { kind: "same", oid: ours };
  if (base === ours) return { kind: "same", oid: theirs };
  const read = (oid: Oid | null) => (oid ? reader.readTree(oid) : Promise.resolve([]));
  const [b, o, t] = await Promise.all([read(base), read(ours), read(theirs)]);
  const byName = (entries: TreeEntry[]) => new Map(entries.map((e) => [e.name, e]));
  const [mb, mo, mt] = [byName(b), byName(o), byName(t)];
  const names = new Set([...mb.keys(), ...mo.keys(), ...mt.keys()]);
  const merged = new Map<string, Node>();
  await Promise.all(
    [...names].map(async (name) => {
      const node = await mergeName(
        reader,
        mb.get(name),
        mo.get(name),
        mt.get(name),
        prefix + name,
        conflicts,
      );
      if (node) merged.set(name, node);
    }),
  );
  return merged.size === 0 ? { kind: "same", oid: null } : { kind: "new", entries: merged };
}

function sameEntry(x: Entry, y: Entry): boolean {
  return x === y || (x !== undefined && y !== undefined && x.mode === y.mode && x.oid === y.oid);
}

function asNode(e: Entry): Node | null {
  return e ? { kind: "object", mode: e.mode, oid: e.oid } : null;
}

const isTree = (e: Entry) => e !== undefined && e.mode === GIT_MODE.TREE;

async function mergeName(
  reader: ObjectReader,
  b: Entry,
  o: Entry,
  t: Entry,
  path: string,
  conflicts: Conflict[],
): Promise<Node | null> {
  if (sameEntry(o, t) || sameEntry(b, t)) return asNode(o);
  if (sameEntry(b, o)) return asNode(t);
  // Split each side into its directory part and its non-directory part.
  const treeOf = (e: Entry) => (isTree(e) ? e!.oid : null);
  const fileOf = (e: Entry) => (isTree(e) ? undefined : e);
  let dir: Dir = { kind: "same", oid: null };
  if (isTree(o) || isTree(t)) {
    dir = await mergeDir(reader, treeOf(b), treeOf(o), treeOf(t), `${path}/`, conflicts);
  }
  const file = await mergeFile(reader, fileOf(b), fileOf(o), fileOf(t), path, conflicts);
  const dirNode: Node | null = dir.kind === "new"
    ? { kind: "tree", entries: dir.entries }
    : dir.oid
    ? { kind: "object", mode: GIT_MODE.TREE, oid: dir.oid }
    : null;
  if (dirNode && file) {
    conflicts.push({ path, kind: "file/directory" });
    return null;
  }
  return dirNode ?? file;
}

type FileKind = "file" | "symlink" | "gitlink";

function kindOf(e: TreeEntry): FileKind {
  return e.mode === GIT_MODE.SYMLINK ? "symlink" : e.mode === GIT_MODE.GITLINK ? "gitlink" : "file";
}

/** Merges the non-directory entries at `path`; null = absent (or conflicted). */
async function mergeFile(
  reader: ObjectReader,
  b: Entry,
  o: Entry,
  t: Entry,
  path: string,
  conflicts: Conflict[],
): Promise<Node | null> {
  if (sameEntry(o, t) || sameEntry(b, t)) return asNode(o);
  if (sameEntry(b, o)) return asNode(t);
  const conflict = (kind: ConflictKind) => {
    conflicts.push({ path, kind });
    return null;
  };
  if (!b) return conflict("add/add");
  if (!o || !t) return conflict("modify/delete");
  const kind = kindOf(o);
  if (kind !== kindOf(t)) return conflict("mode");
  const mode = o.mode === b.mode ? t.mode : t.mode === b.mode || o.mode === t.mode ? o.mode : null;
  if (mode === null) return conflict("mode");
  if (o.oid === b.oid) return { kind: "object", mode, oid: t.oid };
  if (t.oid === b.oid || o.oid === t.oid) return { kind: "object", mode, oid: o.oid };
  if (kind !== "file" || kindOf(b) !== "file") return conflict("content");
  const [base, ours, theirs] = await Promise.all([
    reader.readBlob(b.oid),
    reader.readBlob(o.oid),
    reader.readBlob(t.oid),
  ]);
  if (isBinary(base) || isBinary(ours) || isBinary(theirs)) return conflict("content");
  const result = merge3(base, ours, theirs);
  if (!result.clean) return conflict("content");
  return { kind: "blob", mode, data: result.data };
}

async function writeEntries(writer: ObjectWriter, entries: Map<string, Node>): Promise<Oid> {
  const list = await Promise.all(
    [...entries].map(async ([name, node]): Promise<TreeEntry> => {
      switch (node.kind) {
        case "object":
          return { name, mode: node.mode, oid: node.oid };
        case "blob":
          return { name, mode: node.mode, oid: await writer.writeBlob(node.data) };
        case "tree":
          return { name, mode: GIT_MODE.TREE, oid: await writeEntries(writer, node.entries) };
      }
    }),
  );
  return await writer.writeTree(list);
}
