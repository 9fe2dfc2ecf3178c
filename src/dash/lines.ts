/**
 * Line-level helpers for the dashboard: +/− counts and unified diffs, on the
 * Myers diff of `src/git/diff3.ts` (so counts agree with what merges see).
 * Pure functions; the callers bound the input sizes.
 */
import { diffIds, type Hunk, isBinary } from "../git/diff3.ts";

/** Files larger than this are not diffed line by line (shown as "binary or large"). */
export const MAX_DIFF_BYTES = 1 << 20;
/** Myers steps per diff before giving up (keeps one refresh cheap). */
const DIFF_BUDGET = 2_000_000;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** Lines with their terminators, as byte-exact strings (latin1: one char per byte). */
function splitLines(data: Uint8Array): string[] {
  const text = latin1.decode(data);
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    const end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(pos, end));
    pos = end;
  }
  return out;
}

function hunksOf(a: string[], b: string[]): Hunk[] | null {
  const intern = new Map<string, number>();
  const id = (s: string) => {
    let v = intern.get(s);
    if (v === undefined) intern.set(s, v = intern.size);
    return v;
  };
  try {
    return diffIds(Int32Array.from(a, id), Int32Array.from(b, id), DIFF_BUDGET);
  } catch {
    return null;
  }
}

/** True when the pair cannot be diffed line by line (binary or too large). */
export function notText(a: Uint8Array, b: Uint8Array): boolean {
  return a.length > MAX_DIFF_BYTES || b.length > MAX_DIFF_BYTES || isBinary(a) || isBinary(b);
}

/** Lines added and removed from `a` to `b`; null when binary, too large or too costly. */
export function lineCounts(
  a: Uint8Array,
  b: Uint8Array,
): { added: number; removed: number } | null {
  if (notText(a, b)) return null;
  const hunks = hunksOf(splitLines(a), splitLines(b));
  if (!hunks) return null;
  let added = 0;
  let removed = 0;
  for (const h of hunks) {
    added += h.b1 - h.b0;
    removed += h.a1 - h.a0;
  }
  return { added, removed };
}

/** One rendered line of a unified diff. */
export interface DiffLine {
  kind: "header" | "hunk" | "add" | "del" | "context" | "note";
  text: string;
}

const show = (line: string) => utf8.decode(Uint8Array.from(line, (c) => c.charCodeAt(0)));

/**
 * A unified diff of `a` → `b` (git's format, 3 lines of context) for the
 * file `path`; `a`/`b` null mean absent (added / deleted file).
 */
export function unifiedDiff(
  path: string,
  a: Uint8Array | null,
  b: Uint8Array | null,
  context = 3,
): DiffLine[] {
  const out: DiffLine[] = [
    { kind: "header", text: `--- ${a ? `a/${path}` : "/dev/null"}` },
    { kind: "header", text: `+++ ${b ? `b/${path}` : "/dev/null"}` },
  ];
  const A = a ?? new Uint8Array(0);
  const B = b ?? new Uint8Array(0);
  if (notText(A, B)) {
    out.push({ kind: "note", text: `Binary or large file (${A.length} -> ${B.length} bytes)` });
    return out;
  }
  const la = splitLines(A);
  const lb = splitLines(B);
  const hunks = hunksOf(la, lb);
  if (!hunks) {
    out.push({ kind: "note", text: "Too many changes to diff here (use vibe diff)" });
    return out;
  }
  if (hunks.length === 0) {
    out.push({ kind: "note", text: "No changes against the base" });
    return out;
  }
  // Group hunks whose context windows touch, as git does.
  let i = 0;
  while (i < hunks.length) {
    let j = i;
    while (j + 1 < hunks.length && hunks[j + 1]!.a0 - hunks[j]!.a1 <= 2 * context) j++;
    const first = hunks[i]!;
    const last = hunks[j]!;
    const a0 = Math.max(0, first.a0 - context);
    const a1 = Math.min(la.length, last.a1 + context);
    const b0 = first.b0 - (first.a0 - a0);
    const b1 = last.b1 + (a1 - last.a1);
    const range = (start: number, n: number) =>
      n === 1 ? `${start + 1}` : `${n === 0 ? start : start + 1},${n}`;
    out.push({ kind: "hunk", text: `@@ -${range(a0, a1 - a0)} +${range(b0, b1 - b0)} @@` });
    let pa = a0;
    for (let k = i; k <= j; k++) {
      const h = hunks[k]!;
      for (; pa < h.a0; pa++) out.push({ kind: "context", text: ` ${show(trimNl(la[pa]!))}` });
      for (let x = h.a0; x < h.a1; x++) out.push({ kind: "del", text: `-${show(trimNl(la[x]!))}` });
      for (let y = h.b0; y < h.b1; y++) out.push({ kind: "add", text: `+${show(trimNl(lb[y]!))}` });
      pa = h.a1;
    }
    for (; pa < a1; pa++) out.push({ kind: "context", text: ` ${show(trimNl(la[pa]!))}` });
    i = j + 1;
  }
  return out;
}

function trimNl(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}
