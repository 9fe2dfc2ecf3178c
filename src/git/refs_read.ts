/**
 * Reading refs in git's "files" backend: loose ref files and `packed-refs`.
 *
 * Where a ref lives: HEAD and other top-level pseudo refs, `refs/bisect/`,
 * `refs/worktree/` and `refs/rewritten/` are per worktree (in `gitDir`);
 * everything else is shared (in `commonDir`). A loose ref wins over its
 * packed-refs line. Symbolic refs are followed at most `MAX_SYMREF_DEPTH`
 * levels (as git). Loose refs are read fresh on every call (others update
 * them); `packed-refs` is re-parsed when its inode, size or mtime changes.
 */
import { VibeError } from "../errors.ts";
import type { Oid } from "../types.ts";
import type { HeadState, RepoPaths } from "./object_store.ts";

/** git's SYMREF_MAXDEPTH. */
export const MAX_SYMREF_DEPTH = 5;

/** A ref's own value: an oid, or the name of the ref it points to. */
export type RawRef = { oid: Oid; symref?: undefined } | { symref: string; oid?: undefined };

/** One line of packed-refs, with its peeled value when the file records one. */
export interface PackedRef {
  oid: Oid;
  peeled: Oid | null;
}

const OID_RE = /^[0-9a-f]{40}/;

/**
 * True for names git would store as refs: `refs/…` names following
 * check-ref-format, or all-caps top-level pseudo refs (HEAD, FETCH_HEAD, …).
 * Guards file access: no `..`, no absolute paths, no `.lock`.
 */
export function isValidRefName(name: string): boolean {
  if (name === "" || name.length > 1024) return false;
  if (!name.includes("/")) return /^[A-Z][A-Z0-9_]*$/.test(name);
  if (!name.startsWith("refs/")) return false;
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/$|\.$|\.lock$|\.lock\//.test(name)) return false;
  for (const part of name.split("/")) {
    if (part === "" || part.startsWith(".")) return false;
  }
  return true;
}

function isPerWorktree(name: string): boolean {
  return !name.startsWith("refs/") || name.startsWith("refs/bisect/") ||
    name.startsWith("refs/worktree/") || name.startsWith("refs/rewritten/");
}

/** Reads refs of one worktree of a repository. Synchronous; safe to share. */
export class RefReader {
  private packed: Map<string, PackedRef> | null = null;
  private packedStamp = "";

  constructor(readonly paths: RepoPaths) {}

  /** Path of the loose file for `name`. */
  private loosePath(name: string): string {
    return `${isPerWorktree(name) ? this.paths.gitDir : this.paths.commonDir}/${name}`;
  }

  /** The `packed-refs` table, re-read when the file changed. */
  packedRefs(): Map<string, PackedRef> {
    const path = `${this.paths.commonDir}/packed-refs`;
    let stamp: string;
    try {
      const st = Deno.statSync(path);
      stamp = `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
    } catch {
      this.packed = new Map();
      this.packedStamp = "";
      return this.packed;
    }
    if (this.packed !== null && stamp === this.packedStamp) return this.packed;
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      text = "";
    }
    const map = new Map<string, PackedRef>();
    let last: PackedRef | null = null;
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      if (line.startsWith("^")) {
        if (last !== null && OID_RE.test(line.slice(1))) last.peeled = line.slice(1, 41);
        continue;
      }
      if (!OID_RE.test(line) || line[40] !== " ") {
        last = null;
        continue;
      }
      last = { oid: line.slice(0, 40), peeled: null };
      map.set(line.slice(41), last);
    }
    this.packed = map;
    this.packedStamp = stamp;
    return map;
  }

  /** The ref's own value (symrefs not followed); null when it does not exist. */
  readRaw(name: string): RawRef | null {
    if (!isValidRefName(name)) return null;
    const path = this.loosePath(name);
    let text: string | null = null;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (
        !(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory ||
          e instanceof Deno.errors.IsADirectory)
      ) throw e;
    }
    if (text !== null) {
      if (text.startsWith("ref:")) {
        const target = text.slice(4).trim();
        if (!isValidRefName(target)) throw badRef(name, path);
        return { symref: target };
      }
      // FETCH_HEAD and friends hold more after the oid; a ref file holds only the oid.
      if (OID_RE.test(text)) return { oid: text.slice(0, 40) };
      throw badRef(name, path);
    }
    if (isPerWorktree(name)) return null;
    const p = this.packedRefs().get(name);
    return p === undefined ? null : { oid: p.oid };
  }

  /** Follows symrefs to an oid; null when the ref (or its target) does not exist. */
  resolve(name: string): Oid | null {
    let current = name;
    for (let depth = 0; depth <= MAX_SYMREF_DEPTH; depth++) {
      const raw = this.readRaw(current);
      if (raw === null) return null;
      if (raw.oid !== undefined) return raw.oid;
      current = raw.symref;
    }
    throw new VibeError(
      "CORRUPT",
      `Cannot resolve ref "${name}": symbolic refs nest deeper than ${MAX_SYMREF_DEPTH} levels or loop (fix them with "git symbolic-ref")`,
    );
  }

  /** The peeled value packed-refs records for `name`, if any (a shortcut for tags). */
  packedPeeled(name: string): Oid | null {
    return this.packedRefs().get(name)?.peeled ?? null;
  }

  /** HEAD of this worktree: its branch (possibly unborn) or a detached commit. */
  readHead(): HeadState {
    const raw = this.readRaw("HEAD");
    if (raw === null) {
      throw new VibeError(
        "CORRUPT",
        `Cannot read HEAD of "${this.paths.gitDir}": the file is missing (run "git fsck")`,
      );
    }
    if (raw.oid !== undefined) return { branch: null, oid: raw.oid };
    return { branch: raw.symref, oid: this.resolve(raw.symref) };
  }

  /** Forces `packed-refs` to be re-read. */
  refresh(): void {
    this.packed = null;
    this.packedStamp = "";
  }
}

function badRef(name: string, path: string): VibeError {
  return new VibeError(
    "CORRUPT",
    `Cannot read ref "${name}": "${path}" holds neither an object id nor "ref: <name>" (repair or delete it)`,
  );
}
