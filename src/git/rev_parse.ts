/**
 * Revision syntax to a commit oid, following git's rules for the subset vibe
 * accepts: `<base>` then any of `~N`, `~`, `^N`, `^`, `^{commit}`, `^{}`.
 *
 * Base resolution order (git's): a full 40-digit hex id; then ref names in
 * DWIM order `<n>` (full names and all-caps pseudo refs such as HEAD),
 * `refs/<n>`, `refs/tags/<n>`, `refs/heads/<n>`, `refs/remotes/<n>`,
 * `refs/remotes/<n>/HEAD`; then an abbreviated hex id (≥ 4 digits). `@` is
 * HEAD. An abbreviation matching several objects resolves when exactly one
 * of them is a commit or tag (as `git log` disambiguates commit-ish ids),
 * otherwise it is a USAGE error listing the candidates. Tags peel to commits.
 */
import { VibeError } from "../errors.ts";
import type { Oid } from "../types.ts";
import type { Commit, ObjectType } from "./object_store.ts";
import type { Tag } from "./parse.ts";

/** What rev parsing needs from the repository (synchronous). */
export interface RevSource {
  resolveRef(name: string): Oid | null;
  hasObject(oid: Oid): boolean;
  objectType(oid: Oid): ObjectType;
  readCommit(oid: Oid): Commit;
  readTag(oid: Oid): Tag;
  /** Oids starting with a lowercase hex prefix, at most `limit`. */
  findPrefix(prefix: string, limit: number): Oid[];
}

/** Tag-to-tag nesting followed before giving up. */
const MAX_PEEL = 32;

function unknown(rev: string): VibeError {
  return new VibeError(
    "USAGE",
    `Unknown revision "${rev}": not a branch, tag or commit in this repository`,
  );
}

const DWIM_RULES = [
  (n: string) => n,
  (n: string) => `refs/${n}`,
  (n: string) => `refs/tags/${n}`,
  (n: string) => `refs/heads/${n}`,
  (n: string) => `refs/remotes/${n}`,
  (n: string) => `refs/remotes/${n}/HEAD`,
];

function resolveBase(src: RevSource, base: string, rev: string): Oid {
  if (base === "@") base = "HEAD";
  if (/^[0-9a-fA-F]{40}$/.test(base)) {
    const oid = base.toLowerCase();
    if (!src.hasObject(oid)) throw unknown(rev);
    return oid;
  }
  if (base === "") throw unknown(rev);
  for (const rule of DWIM_RULES) {
    const oid = src.resolveRef(rule(base));
    if (oid !== null) return oid;
  }
  if (/^[0-9a-fA-F]{4,39}$/.test(base)) {
    const prefix = base.toLowerCase();
    const found = src.findPrefix(prefix, 100);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      const typed = found.map((oid) => ({ oid, type: src.objectType(oid) }));
      const commitish = typed.filter((t) => t.type === "commit" || t.type === "tag");
      if (commitish.length === 1) return commitish[0]!.oid;
      const list = typed.slice(0, 10).map((t) => `${t.oid.slice(0, 12)} ${t.type}`).join(", ");
      throw new VibeError(
        "USAGE",
        `Ambiguous revision "${rev}": "${base}" is ambiguous, it matches ${
          found.length >= 100 ? "100 or more" : found.length
        } objects (${list}${found.length > 10 ? ", …" : ""}) (use more hex digits)`,
        { candidates: found },
      );
    }
  }
  throw unknown(rev);
}

/** Follows tags until a commit; USAGE error when the chain ends at something else. */
export function peelToCommit(src: RevSource, oid: Oid, rev: string): Oid {
  let cur = oid;
  for (let i = 0; i <= MAX_PEEL; i++) {
    const type = src.objectType(cur);
    if (type === "commit") return cur;
    if (type !== "tag") {
      throw new VibeError(
        "USAGE",
        `Cannot use revision "${rev}": it names a ${type}, not a commit (name a branch, tag or commit)`,
      );
    }
    cur = src.readTag(cur).object;
  }
  throw new VibeError("CORRUPT", `Cannot peel "${rev}": tags nest too deeply (run "git fsck")`);
}

/** Resolves `rev` to a commit oid. Throws USAGE when unknown, ambiguous or not a commit. */
export function revParse(src: RevSource, rev: string): Oid {
  const cut = rev.search(/[~^]/);
  const base = cut < 0 ? rev : rev.slice(0, cut);
  let suffix = cut < 0 ? "" : rev.slice(cut);
  let oid = resolveBase(src, base, rev);
  if (suffix === "") return peelToCommit(src, oid, rev);
  while (suffix !== "") {
    let m: RegExpExecArray | null;
    if ((m = /^\^\{(commit|)\}/.exec(suffix)) !== null) {
      oid = m[1] === "commit" ? peelToCommit(src, oid, rev) : peelTags(src, oid);
    } else if ((m = /^~(\d*)/.exec(suffix)) !== null) {
      const n = m[1] === "" ? 1 : Number(m[1]);
      oid = peelToCommit(src, oid, rev);
      for (let i = 0; i < n; i++) {
        const parent = src.readCommit(oid).parents[0];
        if (parent === undefined) throw unknown(rev);
        oid = parent;
      }
    } else if ((m = /^\^(\d*)/.exec(suffix)) !== null) {
      const n = m[1] === "" ? 1 : Number(m[1]);
      oid = peelToCommit(src, oid, rev);
      if (n > 0) {
        const parent = src.readCommit(oid).parents[n - 1];
        if (parent === undefined) throw unknown(rev);
        oid = parent;
      }
    } else {
      throw unknown(rev);
    }
    suffix = suffix.slice(m[0].length);
  }
  return peelToCommit(src, oid, rev);
}

function peelTags(src: RevSource, oid: Oid): Oid {
  let cur = oid;
  for (let i = 0; i <= MAX_PEEL && src.objectType(cur) === "tag"; i++) {
    cur = src.readTag(cur).object;
  }
  return cur;
}
