/**
 * Line-level three-way merge with git's clean/conflict rules.
 *
 * Lines keep their terminator ("a" at EOF without "\n" differs from "a\n"),
 * compared byte for byte. Each side is diffed against the base with Myers'
 * O(ND) algorithm (linear-space middle-snake recursion), giving hunks "base
 * [a0,a1) becomes side [b0,b1)". Then, as git's xdl_merge does at its default
 * level: hunks from the two sides that overlap *or touch* (an insertion at a
 * hunk's edge, or two insertions at one point) form one region; a region
 * changed by one side takes that side; a region changed by both is clean only
 * when both sides produce the same text there (identical changes), else it
 * is a conflict.
 *
 * Where a hunk sits is not unique when lines repeat: deleting one of "x x"
 * may be either line, and git's diff (histogram for `git merge`, Myers for
 * `git merge-file`, both followed by compaction that slides hunks) may place
 * it elsewhere than ours. To never be cleaner than git:
 * - each hunk counts as occupying every position it, or a prefix or suffix
 *   of it, could slide to (while the lines passed are equal), so a matched
 *   line trading places with an equal changed line is covered;
 * - the merge runs with two alignments (diff ties broken towards the start,
 *   and towards the end) and is clean only if both are clean and agree.
 * The price is an occasional conflict next to repeated lines that git
 * resolves (measured on random edits: 2% of git-clean merges when 40% of
 * the lines are braces or blank, 4% at 70%).
 * Alignments that differ by a different choice of common subsequence (e.g. a
 * block of blank lines and braces moved past another such block) can still
 * make git conflict where this merges: seen once in ~1700 merges of text
 * made 90% of seven repeated lines, never in less repetitive text.
 */

/** base lines [a0, a1) are replaced by side lines [b0, b1). */
export interface Hunk {
  a0: number;
  a1: number;
  b0: number;
  b1: number;
}

export type Merge3Result =
  | { clean: true; data: Uint8Array }
  | { clean: false; conflicts: number; reason: "conflict" | "too-costly" };

/** Budget of Myers inner-loop steps per diff before giving up (reported as a conflict). */
export const DEFAULT_DIFF_BUDGET = 20_000_000;

/** git's buffer_is_binary: a NUL byte within the first 8000 bytes. */
export function isBinary(data: Uint8Array): boolean {
  const n = Math.min(data.length, 8000);
  for (let i = 0; i < n; i++) if (data[i] === 0) return true;
  return false;
}

interface Lines {
  data: Uint8Array;
  /** Byte offset of each line, plus data.length at the end. */
  starts: number[];
  ids: Int32Array;
}

/**
 * WHATWG "latin1" is windows-1252: one code unit per byte and injective over
 * all 256 byte values, so equal strings mean equal bytes.
 */
const byteString = new TextDecoder("latin1");

/** Splits into lines (terminator included) and interns each line's bytes as an id. */
function splitLines(data: Uint8Array, intern: Map<string, number>): Lines {
  const text = byteString.decode(data);
  const starts: number[] = [];
  const idList: number[] = [];
  let pos = 0;
  while (pos < text.length) {
    starts.push(pos);
    const nl = text.indexOf("\n", pos);
    const end = nl < 0 ? text.length : nl + 1;
    const key = text.slice(pos, end);
    let id = intern.get(key);
    if (id === undefined) {
      id = intern.size;
      intern.set(key, id);
    }
    idList.push(id);
    pos = end;
  }
  starts.push(data.length);
  return { data, starts, ids: Int32Array.from(idList) };
}

class DiffTooCostly extends Error {}

/**
 * A minimal line diff of `a` → `b` (sequences of line ids) as hunks in order.
 * Throws DiffTooCostly past `budget` inner steps.
 */
export function diffIds(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  budget = DEFAULT_DIFF_BUDGET,
): Hunk[] {
  const n = a.length;
  const m = b.length;
  const del = new Uint8Array(n);
  const ins = new Uint8Array(m);
  const size = 2 * (n + m) + 3;
  const vf = new Int32Array(size);
  const vb = new Int32Array(size);
  const off = n + m + 1;
  let steps = 0;

  /** Returns the middle snake [xs, ys, xe, ye] (relative to aLo/bLo) of an optimal path. */
  const middleSnake = (
    aLo: number,
    aHi: number,
    bLo: number,
    bHi: number,
  ): [number, number, number, number] => {
    const N = aHi - aLo;
    const M = bHi - bLo;
    const delta = N - M;
    const odd = (delta & 1) !== 0;
    const maxD = Math.ceil((N + M) / 2);
    vf[off + 1] = 0;
    vb[off + delta - 1] = N;
    for (let d = 0; d <= maxD; d++) {
      for (let k = -d; k <= d; k += 2) {
        let x = k === -d || (k !== d && vf[off + k - 1]! < vf[off + k + 1]!)
          ? vf[off + k + 1]!
          : vf[off + k - 1]! + 1;
        let y = x - k;
        const xs = x;
        const ys = y;
        while (x < N && y < M && a[aLo + x] === b[bLo + y]) {
          x++;
          y++;
        }
        vf[off + k] = x;
        if (odd && k >= delta - (d - 1) && k <= delta + (d - 1) && x >= vb[off + k]!) {
          return [xs, ys, x, y];
        }
      }
      for (let k = -d; k <= d; k += 2) {
        const kk = k + delta;
        let x = k === d || (k !== -d && vb[off + kk - 1]! < vb[off + kk + 1]!)
          ? vb[off + kk - 1]!
          : vb[off + kk + 1]! - 1;
        let y = x - kk;
        const xe = x;
        const ye = y;
        while (x > 0 && y > 0 && a[aLo + x - 1] === b[bLo + y - 1]) {
          x--;
          y--;
        }
        vb[off + kk] = x;
        if (!odd && kk >= -d && kk <= d && x <= vf[off + kk]!) {
          return [x, y, xe, ye];
        }
      }
      steps += 2 * (d + 1);
      if (steps > budget) throw new DiffTooCostly();
    }
    throw new Error("diff: no middle snake (unreachable)");
  };

  const compare = (aLo: number, aHi: number, bLo: number, bHi: number): void => {
    while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) {
      aLo++;
      bLo++;
    }
    while (aLo < aHi && bLo < bHi && a[aHi - 1] === b[bHi - 1]) {
      aHi--;
      bHi--;
    }
    if (aLo === aHi) {
      ins.fill(1, bLo, bHi);
      return;
    }
    if (bLo === bHi) {
      del.fill(1, aLo, aHi);
      return;
    }
    const [xs, ys, xe, ye] = middleSnake(aLo, aHi, bLo, bHi);
    compare(aLo, aLo + xs, bLo, bLo + ys);
    compare(aLo + xe, aHi, bLo + ye, bHi);
  };

  compare(0, n, 0, m);

  const hunks: Hunk[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && !del[i] && !ins[j]) {
      i++;
      j++;
      continue;
    }
    const a0 = i;
    const b0 = j;
    while (i < n && del[i]) i++;
    while (j < m && ins[j]) j++;
    hunks.push({ a0, a1: i, b0, b1: j });
  }
  return hunks;
}

/** A hunk with the closed base interval [lo, hi] it could slide over. */
interface Placed extends Hunk {
  side: 1 | 2;
  lo: number;
  hi: number;
}

/** Work cap for slide probing; past it a hunk is assumed to reach its neighbours. */
const SLIDE_WORK_LIMIT = 1 << 20;

/**
 * How far (at most `limit` lines) some prefix (dir -1, moving up) or suffix
 * (dir 1, moving down) of the changed lines ids[from, to) could move while
 * staying a valid diff: the lines it passes must equal the lines it vacates.
 * Whole-group slides are the longest prefix/suffix; partial ones cover a
 * matched line trading places with an equal changed line.
 */
function slideCount(
  ids: Int32Array,
  from: number,
  to: number,
  limit: number,
  dir: -1 | 1,
): number {
  if (from === to || limit === 0) return 0;
  let best = 0;
  let work = 0;
  for (let s = 1; s <= to - from && best < limit; s++) {
    let k = 0;
    if (dir > 0) {
      const start = to - s;
      while (k < limit && ids[start + k] === ids[to + k]) k++;
    } else {
      const end = from + s;
      while (k < limit && ids[end - 1 - k] === ids[from - 1 - k]) k++;
    }
    best = Math.max(best, k);
    work += k + 1;
    if (work > SLIDE_WORK_LIMIT) return limit;
  }
  return best;
}

function place(hunks: Hunk[], base: Int32Array, side: Int32Array, which: 1 | 2): Placed[] {
  return hunks.map((h, i) => {
    const prevEnd = i > 0 ? hunks[i - 1]!.a1 : 0;
    const nextStart = i + 1 < hunks.length ? hunks[i + 1]!.a0 : base.length;
    const gapAbove = h.a0 - prevEnd;
    const gapBelow = nextStart - h.a1;
    const up = Math.max(
      slideCount(base, h.a0, h.a1, gapAbove, -1),
      slideCount(side, h.b0, h.b1, gapAbove, -1),
    );
    const down = Math.max(
      slideCount(base, h.a0, h.a1, gapBelow, 1),
      slideCount(side, h.b0, h.b1, gapBelow, 1),
    );
    return { ...h, side: which, lo: h.a0 - up, hi: h.a1 + down };
  });
}

function sameIds(x: Int32Array, xFrom: number, y: Int32Array, yFrom: number, len: number) {
  for (let i = 0; i < len; i++) if (x[xFrom + i] !== y[yFrom + i]) return false;
  return true;
}

/** Diff of the reversed sequences, mapped back: the same edit cost, opposite tie-breaking. */
function diffReversed(a: Int32Array, b: Int32Array, budget: number): Hunk[] {
  const n = a.length;
  const m = b.length;
  return diffIds(a.slice().reverse(), b.slice().reverse(), budget)
    .map((h) => ({ a0: n - h.a1, a1: n - h.a0, b0: m - h.b1, b1: m - h.b0 }))
    .reverse();
}

/**
 * Three-way merge of `ours` and `theirs` against `base` (see the module
 * comment for the rules). Clean: the merged bytes. Otherwise the number of
 * conflicting regions, or reason "too-costly" when a diff exceeded `budget`.
 * Binary detection is the caller's business.
 *
 * The merge runs twice, with the diffs' ties broken towards the start and
 * towards the end of the file, and is clean only when both runs are clean
 * and agree: a cheap guard against alignments git's diff may choose
 * differently in repetitive text.
 */
export function merge3(
  base: Uint8Array,
  ours: Uint8Array,
  theirs: Uint8Array,
  budget = DEFAULT_DIFF_BUDGET,
): Merge3Result {
  const intern = new Map<string, number>();
  const B = splitLines(base, intern);
  const O = splitLines(ours, intern);
  const T = splitLines(theirs, intern);
  try {
    const first = combine(B, O, T, diffIds(B.ids, O.ids, budget), diffIds(B.ids, T.ids, budget));
    if (first.conflicts > 0) {
      return { clean: false, conflicts: first.conflicts, reason: "conflict" };
    }
    const second = combine(
      B,
      O,
      T,
      diffReversed(B.ids, O.ids, budget),
      diffReversed(B.ids, T.ids, budget),
    );
    if (second.conflicts > 0 || !sameBytes(first.data, second.data)) {
      return { clean: false, conflicts: Math.max(1, second.conflicts), reason: "conflict" };
    }
    return { clean: true, data: first.data };
  } catch (e) {
    if (e instanceof DiffTooCostly) return { clean: false, conflicts: 1, reason: "too-costly" };
    throw e;
  }
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Applies both sides' hunks to the base; conflicts counted, bytes valid only when 0. */
function combine(
  B: Lines,
  O: Lines,
  T: Lines,
  hunksO: Hunk[],
  hunksT: Hunk[],
): { conflicts: number; data: Uint8Array } {
  if (hunksO.length === 0) return { conflicts: 0, data: T.data };
  if (hunksT.length === 0) return { conflicts: 0, data: O.data };

  const placed = [...place(hunksO, B.ids, O.ids, 1), ...place(hunksT, B.ids, T.ids, 2)]
    .sort((x, y) => x.lo - y.lo || x.hi - y.hi);

  const out: Uint8Array[] = [];
  const emit = (lines: Lines, from: number, to: number) => {
    if (from < to) out.push(lines.data.subarray(lines.starts[from]!, lines.starts[to]!));
  };
  let conflicts = 0;
  let baseDone = 0; // base lines before this are emitted
  let shiftO = 0; // ours index minus base index, outside hunks seen so far
  let shiftT = 0;
  let i = 0;
  while (i < placed.length) {
    const first = placed[i]!;
    let lo = first.lo;
    let hi = first.hi;
    let growO = 0;
    let growT = 0;
    let sides = 0;
    let j = i;
    for (; j < placed.length && placed[j]!.lo <= hi; j++) {
      const h = placed[j]!;
      lo = Math.min(lo, h.lo);
      hi = Math.max(hi, h.hi);
      sides |= h.side;
      const grow = (h.b1 - h.b0) - (h.a1 - h.a0);
      if (h.side === 1) growO += grow;
      else growT += grow;
    }
    emit(B, baseDone, lo);
    const o0 = lo + shiftO;
    const o1 = hi + shiftO + growO;
    const t0 = lo + shiftT;
    const t1 = hi + shiftT + growT;
    if (sides === 1) emit(O, o0, o1);
    else if (sides === 2) emit(T, t0, t1);
    else if (o1 - o0 === t1 - t0 && sameIds(O.ids, o0, T.ids, t0, o1 - o0)) emit(O, o0, o1);
    else conflicts++;
    shiftO += growO;
    shiftT += growT;
    baseDone = hi;
    i = j;
  }
  if (conflicts > 0) return { conflicts, data: new Uint8Array(0) };
  emit(B, baseDone, B.ids.length);
  return { conflicts: 0, data: concat(out) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
