/**
 * The conflict matrix: for every pair of vibes, the paths both changed, and
 * whether their changes overlap line-wise.
 *
 * "Overlap" (a hot cell) means merging the two vibes' versions of a path
 * would conflict by git's rules (`merge3` of `src/git/diff3.ts`: changes
 * that overlap or touch and differ): both modified the same lines of a text
 * file from the same base blob, added the path with different contents,
 * one deleted what the other modified, or changed a binary or large file
 * differently. Identical changes, and paths whose base versions differ
 * (vibes on different base commits), count as shared but not overlapping.
 *
 * Results are cached by (base oid, new oids): contents are immutable, so a
 * pair is merged once per version of each side.
 */
import { isBinary, merge3 } from "../git/diff3.ts";
import type { Oid } from "../types.ts";
import type { PathChange } from "../project/tree_build.ts";
import type { ConflictCell, SharedPath } from "./types.ts";

export interface VibeChanges {
  id: string;
  changes: PathChange[];
  /** New contents of changed files, by oid (files over the size limit are absent). */
  contents: Map<Oid, Uint8Array>;
}

export type BlobSource = (oid: Oid) => Promise<Uint8Array | null>;

const MERGE_BUDGET = 2_000_000;
const MAX_CACHE = 20_000;

export class OverlapIndex {
  #cache = new Map<string, boolean>();

  /** Cells for every pair of vibes that share at least one changed path, sorted by (a, b). */
  async cells(vibes: VibeChanges[], readBlob: BlobSource): Promise<ConflictCell[]> {
    const byPath = new Map<string, { v: VibeChanges; c: PathChange }[]>();
    for (const v of vibes) {
      for (const c of v.changes) {
        let list = byPath.get(c.path);
        if (!list) byPath.set(c.path, list = []);
        list.push({ v, c });
      }
    }
    const cells = new Map<string, ConflictCell>();
    for (const [path, list] of byPath) {
      if (list.length < 2) continue;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          let x = list[i]!;
          let y = list[j]!;
          if (y.v.id < x.v.id) [x, y] = [y, x];
          const key = `${x.v.id}\0${y.v.id}`;
          let cell = cells.get(key);
          if (!cell) {
            cell = { a: x.v.id, b: y.v.id, shared: 0, overlapping: 0, heat: "warm", paths: [] };
            cells.set(key, cell);
          }
          const overlap = await this.#overlaps(x, y, readBlob);
          const sp: SharedPath = { path, overlap };
          cell.paths.push(sp);
          cell.shared++;
          if (overlap) {
            cell.overlapping++;
            cell.heat = "hot";
          }
        }
      }
    }
    if (this.#cache.size > MAX_CACHE) this.#cache.clear();
    return [...cells.values()].sort((p, q) =>
      p.a < q.a ? -1 : p.a > q.a ? 1 : p.b < q.b ? -1 : p.b > q.b ? 1 : 0
    );
  }

  async #overlaps(
    x: { v: VibeChanges; c: PathChange },
    y: { v: VibeChanges; c: PathChange },
    readBlob: BlobSource,
  ): Promise<boolean> {
    const a = x.c;
    const b = y.c;
    if (a.status === "D" && b.status === "D") return false;
    if (a.status === "D" || b.status === "D") return a.oldOid === b.oldOid;
    if (a.oldOid !== b.oldOid) return false;
    if (a.newOid === b.newOid && a.newMode === b.newMode) return false;
    if (a.oldOid === null) return true;
    if (a.newOid === b.newOid) return false;
    const key = `${a.oldOid}:${
      a.newOid! < b.newOid! ? `${a.newOid}:${b.newOid}` : `${b.newOid}:${a.newOid}`
    }`;
    const known = this.#cache.get(key);
    if (known !== undefined) return known;
    const ours = x.v.contents.get(a.newOid!);
    const theirs = y.v.contents.get(b.newOid!);
    const base = await readBlob(a.oldOid);
    let hot = true;
    if (ours && theirs && base && !isBinary(base) && !isBinary(ours) && !isBinary(theirs)) {
      hot = !merge3(base, ours, theirs, MERGE_BUDGET).clean;
    }
    this.#cache.set(key, hot);
    return hot;
  }
}
