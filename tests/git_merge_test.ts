/**
 * diff3.ts and merge.ts against real git: `git merge-file -p` (Myers diff,
 * as git 2.39's merge-file uses) and `git merge-tree --write-tree` (merge-ort
 * with histogram diff, what `git merge` does) on seeded random edits and on
 * the structural cases. The contract: when git conflicts, we conflict; when
 * both are clean, the bytes are identical; we may be stricter than git only
 * in the documented places (counted and bounded here).
 */
import assert from "node:assert/strict";
import { diffIds, isBinary, merge3 } from "../src/git/diff3.ts";
import { IsoGitObjectWriter } from "../src/git/isogit_writer.ts";
import { type Conflict, mergeTrees } from "../src/git/merge.ts";
import type { NewCommit, ObjectWriter, RepoPaths, TreeEntry } from "../src/git/object_store.ts";
import { GIT_MODE, type Oid } from "../src/types.ts";
import { CliReader } from "./helpers/cli_reader.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SIG = { name: "T", email: "t@example.com", timestamp: 1700000000, tzOffsetMinutes: 0 };

// ------------------------------------------------------------------ fixtures

interface Repo extends RepoPaths {
  home: string;
  writer: IsoGitObjectWriter;
  git(...args: string[]): Promise<{ code: number; out: string; err: string }>;
}

async function withRepo(fn: (repo: Repo) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "vibe_merge_" });
  const wt = `${home}/wt`;
  const env = { HOME: home, XDG_CONFIG_HOME: `${home}/.config`, GIT_CONFIG_NOSYSTEM: "1" };
  const git = async (...args: string[]) => {
    const o = await new Deno.Command("git", {
      args: ["-c", "merge.conflictStyle=merge", ...args],
      cwd: wt,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
  };
  try {
    await Deno.mkdir(wt);
    await git("init", "-q");
    const paths = { workTree: wt, gitDir: `${wt}/.git`, commonDir: `${wt}/.git` };
    await fn({ ...paths, home, writer: new IsoGitObjectWriter(paths), git });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

type Spec = Record<string, string | Uint8Array | { mode: number; data: string | Uint8Array }>;

/** Writes the files of `spec` ("dir/file" → content) as nested trees. */
async function buildTree(w: ObjectWriter, spec: Spec): Promise<Oid> {
  interface Dir {
    files: TreeEntry[];
    dirs: Map<string, Dir>;
  }
  const root: Dir = { files: [], dirs: new Map() };
  for (const [path, value] of Object.entries(spec)) {
    const parts = path.split("/");
    let dir = root;
    for (const p of parts.slice(0, -1)) {
      let next = dir.dirs.get(p);
      if (!next) dir.dirs.set(p, next = { files: [], dirs: new Map() });
      dir = next;
    }
    const v = typeof value === "string" || value instanceof Uint8Array
      ? { mode: GIT_MODE.FILE, data: value }
      : value;
    const data = typeof v.data === "string" ? enc.encode(v.data) : v.data;
    dir.files.push({ name: parts[parts.length - 1]!, mode: v.mode, oid: await w.writeBlob(data) });
  }
  const write = async (d: Dir): Promise<Oid> => {
    const entries = [...d.files];
    for (const [name, sub] of d.dirs) {
      entries.push({ name, mode: GIT_MODE.TREE, oid: await write(sub) });
    }
    return await w.writeTree(entries);
  };
  return await write(root);
}

async function commit(w: ObjectWriter, tree: Oid, parents: Oid[]): Promise<Oid> {
  const c: NewCommit = { tree, parents, author: SIG, committer: SIG, message: "m" };
  return await w.writeCommit(c);
}

interface GitMerge {
  clean: boolean;
  tree: Oid;
  conflicted: Set<string>;
}

/** `git merge-tree --write-tree` of two trees over a base (commits made here). */
async function gitMergeTree(repo: Repo, base: Oid, ours: Oid, theirs: Oid): Promise<GitMerge> {
  const b = await commit(repo.writer, base, []);
  const o = await commit(repo.writer, ours, [b]);
  const t = await commit(repo.writer, theirs, [b]);
  const r = await repo.git("-c", "merge.renames=false", "merge-tree", "--write-tree", o, t);
  if (r.code !== 0 && r.code !== 1) throw new Error(`merge-tree failed: ${r.err}`);
  const lines = r.out.split("\n");
  const conflicted = new Set<string>();
  for (const line of lines.slice(1)) {
    if (line === "") break;
    const m = /^\d+ [0-9a-f]{40} \d\t(.*)$/.exec(line);
    if (m) conflicted.add(m[1]!);
  }
  return { clean: r.code === 0, tree: lines[0]!, conflicted };
}

/** Counts writes, to prove nothing is written on conflict. */
class CountingWriter implements ObjectWriter {
  writes = 0;
  constructor(readonly inner: ObjectWriter) {}
  writeBlob(d: Uint8Array) {
    this.writes++;
    return this.inner.writeBlob(d);
  }
  writeTree(e: TreeEntry[]) {
    this.writes++;
    return this.inner.writeTree(e);
  }
  writeCommit(c: NewCommit) {
    this.writes++;
    return this.inner.writeCommit(c);
  }
  updateRef(): Promise<void> {
    throw new Error("not used");
  }
  deleteRef(): Promise<void> {
    throw new Error("not used");
  }
}

// ------------------------------------------------------------------ generator

function rng(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const COMMON_LINES = ["", "}", "{", "  }", "return;", "x", "end"];

interface Scenario {
  base: string;
  ours: string;
  theirs: string;
}

/**
 * Random base plus two edited versions. `repeatRate` is the share of lines
 * drawn from a small pool (blank lines, braces) that makes alignments
 * ambiguous. Half the scenarios confine each side to its own window, so a
 * good share merges cleanly.
 */
function scenario(seed: number, repeatRate: number): Scenario {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  let uniq = 0;
  const line = () =>
    r() < repeatRate ? COMMON_LINES[int(COMMON_LINES.length)]! : `line ${seed}.${uniq++}`;
  const n = 3 + int(seed % 3 === 0 ? 150 : 40);
  const base = Array.from({ length: n }, line);
  const edit = (src: string[], lo: number, hi: number) => {
    const out = [...src];
    const ops = Array.from({ length: 1 + int(3) }, () => lo + int(Math.max(1, hi - lo)))
      .sort((a, b) => b - a);
    for (const p of ops) {
      const kind = int(4);
      if (kind === 0) out.splice(p, 1 + int(3));
      else if (kind === 1) out.splice(p, 0, ...Array.from({ length: 1 + int(3) }, line));
      else if (kind === 2) out.splice(p, 1, line());
      else out.splice(p, 1, line(), line());
    }
    return out;
  };
  const split = int(n + 1);
  const disjoint = r() < 0.5;
  const ours = edit(base, 0, disjoint ? split : n);
  let theirs: string[];
  const variant = r();
  if (variant < 0.05) theirs = [...ours];
  else if (variant < 0.15) theirs = edit(ours, 0, ours.length);
  else theirs = edit(base, disjoint ? split : 0, n);
  const text = (ls: string[]) => ls.join("\n") + (ls.length && r() < 0.92 ? "\n" : "");
  return { base: text(base), ours: text(ours), theirs: text(theirs) };
}

interface Tally {
  gitClean: number;
  gitConflict: number;
  /** git clean, we conflict: allowed (documented), bounded below. */
  stricter: number;
  /** git conflicts, we are clean: a contract violation unless documented. */
  lenient: string[];
  /** both clean, different bytes: always a violation. */
  differ: string[];
}

const newTally = (): Tally => ({
  gitClean: 0,
  gitConflict: 0,
  stricter: 0,
  lenient: [],
  differ: [],
});

function mergeBytes(s: Scenario) {
  return merge3(enc.encode(s.base), enc.encode(s.ours), enc.encode(s.theirs));
}

async function compareWithMergeFile(
  seeds: number[],
  repeatRate: number,
  dir: string,
): Promise<Tally> {
  const tally = newTally();
  const env = { HOME: dir, GIT_CONFIG_NOSYSTEM: "1" };
  for (const seed of seeds) {
    const s = scenario(seed, repeatRate);
    if (s.ours === s.theirs || s.base === s.ours || s.base === s.theirs) continue;
    await Deno.writeTextFile(`${dir}/base`, s.base);
    await Deno.writeTextFile(`${dir}/ours`, s.ours);
    await Deno.writeTextFile(`${dir}/theirs`, s.theirs);
    const git = await new Deno.Command("git", {
      args: ["merge-file", "-p", `${dir}/ours`, `${dir}/base`, `${dir}/theirs`],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(git.code >= 0, dec.decode(git.stderr));
    record(tally, `seed ${seed}`, git.code === 0, git.stdout, mergeBytes(s));
  }
  return tally;
}

function record(
  tally: Tally,
  label: string,
  gitClean: boolean,
  gitBytes: Uint8Array | null,
  ours: ReturnType<typeof merge3>,
): void {
  if (gitClean) {
    tally.gitClean++;
    if (!ours.clean) tally.stricter++;
    else if (gitBytes && dec.decode(ours.data) !== dec.decode(gitBytes)) tally.differ.push(label);
  } else {
    tally.gitConflict++;
    if (ours.clean) tally.lenient.push(label);
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

// ------------------------------------------------------------------ diff3 unit

Deno.test("diff3: Myers diff is a valid minimal edit script", () => {
  const r = rng(7);
  for (let t = 0; t < 1500; t++) {
    const alpha = 1 + Math.floor(r() * 5);
    const a = Array.from({ length: Math.floor(r() * 14) }, () => Math.floor(r() * alpha));
    const b = Array.from({ length: Math.floor(r() * 14) }, () => Math.floor(r() * alpha));
    const hunks = diffIds(a, b);
    const out: number[] = [];
    let pos = 0;
    let edits = 0;
    for (const h of hunks) {
      out.push(...a.slice(pos, h.a0), ...b.slice(h.b0, h.b1));
      edits += h.a1 - h.a0 + h.b1 - h.b0;
      pos = h.a1;
    }
    out.push(...a.slice(pos));
    assert.deepEqual(out, b);
    // LCS by dynamic programming.
    const dp = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        dp[i]![j] = a[i] === b[j]
          ? dp[i + 1]![j + 1]! + 1
          : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
      }
    }
    assert.equal(edits, a.length + b.length - 2 * dp[0]![0]!, `not minimal: ${a} → ${b}`);
  }
});

Deno.test("diff3: the basic rules", () => {
  const m = (b: string, o: string, t: string) => {
    const r = merge3(enc.encode(b), enc.encode(o), enc.encode(t));
    return r.clean ? dec.decode(r.data) : null;
  };
  const base = "a\nb\nc\nd\ne\n";
  assert.equal(m(base, "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n"), "A\nb\nc\nd\nE\n");
  assert.equal(m(base, "a\nB\nc\nd\ne\n", "a\nb\nC\nd\ne\n"), null, "adjacent changes conflict");
  assert.equal(m(base, "a\nX\nc\nd\ne\n", "a\nX\nc\nd\ne\n"), "a\nX\nc\nd\ne\n");
  assert.equal(
    m(base, "a\nX\nb\nc\nd\ne\n", "a\nY\nb\nc\nd\ne\n"),
    null,
    "insertions at one point",
  );
  assert.equal(m(base, "a\nX\nb\nc\nd\ne\n", "a\nb\nc\nd\ne\nZ\n"), "a\nX\nb\nc\nd\ne\nZ\n");
  assert.equal(m(base, "a\nb\nc\nd\ne", "A\nb\nc\nd\ne\n"), "A\nb\nc\nd\ne", "EOF newline kept");
  assert.equal(m(base, "a\nb\nc\nd\ne", "a\nb\nc\nd\ne"), "a\nb\nc\nd\ne");
  assert.equal(m("", "x\n", "y\n"), null, "add/add content");
  assert.equal(m("", "", "y\n"), "y\n");
  assert.equal(m("a\r\nb\r\n", "a\r\nB\r\n", "A\r\nb\r\n"), null);
  assert.equal(
    m("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", "a\r\nb\r\nc\r\nd\r\n"),
    "a\r\nB\r\nc\r\nd\r\n",
  );
  assert.ok(isBinary(new Uint8Array([1, 2, 0, 3])));
  assert.ok(!isBinary(enc.encode("text\n")));
  const far = new Uint8Array(9000).fill(65);
  far[8500] = 0;
  assert.ok(!isBinary(far), "NUL after 8000 bytes does not count");
});

Deno.test("diff3: agrees with git merge-file on random edits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vibe_mf_" });
  try {
    const t = await compareWithMergeFile(range(1, 250), 0.2, dir);
    assert.deepEqual(t.lenient, [], "git conflicted but we merged");
    assert.deepEqual(t.differ, [], "both clean but different bytes");
    assert.ok(t.gitClean > 60 && t.gitConflict > 30, JSON.stringify(t));
    assert.ok(t.stricter <= t.gitClean * 0.05, `too strict: ${JSON.stringify(t)}`);
    console.log(`  merge-file: ${JSON.stringify({ ...t, lenient: 0, differ: 0 })}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff3: repetitive text (braces, blank lines) vs git merge-file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vibe_mf_" });
  try {
    const t = await compareWithMergeFile(range(1001, 250), 0.7, dir);
    assert.deepEqual(t.lenient, [], "git conflicted but we merged");
    assert.deepEqual(t.differ, [], "both clean but different bytes");
    assert.ok(t.stricter <= t.gitClean * 0.1, `too strict: ${JSON.stringify(t)}`);
    console.log(`  repetitive: ${JSON.stringify({ ...t, lenient: 0, differ: 0 })}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff3: agrees with git merge-tree (histogram diff) on random edits", async () => {
  await withRepo(async (repo) => {
    const tally = newTally();
    const FILES = 12;
    let seed = 5001;
    for (let round = 0; round < 25; round++) {
      const base: Spec = {};
      const ours: Spec = {};
      const theirs: Spec = {};
      const scenarios = new Map<string, Scenario>();
      for (let f = 0; f < FILES; f++) {
        const s = scenario(seed++, f % 3 === 0 ? 0.6 : 0.2);
        const name = `f${f}.txt`;
        scenarios.set(name, s);
        base[name] = s.base;
        ours[name] = s.ours;
        theirs[name] = s.theirs;
      }
      const [b, o, t] = await Promise.all(
        [base, ours, theirs].map((x) => buildTree(repo.writer, x)),
      );
      const g = await gitMergeTree(repo, b!, o!, t!);
      const listing = (await repo.git("ls-tree", g.tree)).out;
      const gitBlobs = new Map(
        listing.trim().split("\n").map((l) => [l.split("\t")[1]!, l.split(" ")[2]!.slice(0, 40)]),
      );
      for (const [name, s] of scenarios) {
        if (s.ours === s.theirs || s.base === s.ours || s.base === s.theirs) continue;
        const mine = mergeBytes(s);
        const gitClean = !g.conflicted.has(name);
        if (gitClean) {
          tally.gitClean++;
          if (!mine.clean) tally.stricter++;
          else if (await repo.writer.writeBlob(mine.data) !== gitBlobs.get(name)) {
            tally.differ.push(`seed ${seed} ${name}`);
          }
        } else {
          tally.gitConflict++;
          if (mine.clean) tally.lenient.push(`round ${round} ${name}`);
        }
      }
    }
    assert.deepEqual(tally.lenient, []);
    assert.deepEqual(tally.differ, []);
    assert.ok(tally.gitClean > 50, JSON.stringify(tally));
    assert.ok(tally.stricter <= tally.gitClean * 0.1, JSON.stringify(tally));
    console.log(`  merge-tree: ${JSON.stringify({ ...tally, lenient: 0, differ: 0 })}`);
  });
});

// ------------------------------------------------------------------ tree merges

const text = (n: number, edits: Record<number, string> = {}) =>
  Array.from({ length: n }, (_, i) => edits[i] ?? `line ${i}`).join("\n") + "\n";
const exec = (data: string) => ({ mode: GIT_MODE.EXEC, data });
const link = (target: string) => ({ mode: GIT_MODE.SYMLINK, data: target });
const binary = (tag: number) => new Uint8Array([0, 1, 2, tag, 10]);

interface Case {
  name: string;
  base: Spec;
  ours: Spec;
  theirs: Spec;
  /** Our expected outcome: "clean" or the conflicts we report. */
  expect: "clean" | Conflict[];
}

const CASES: Case[] = [
  {
    name: "disjoint files",
    base: { "a.txt": text(3), "d/b.txt": text(3) },
    ours: { "a.txt": text(3, { 0: "A" }), "d/b.txt": text(3) },
    theirs: { "a.txt": text(3), "d/b.txt": text(3, { 2: "B" }) },
    expect: "clean",
  },
  {
    name: "same file, far-apart edits",
    base: { "f.txt": text(20) },
    ours: { "f.txt": text(20, { 1: "ours" }) },
    theirs: { "f.txt": text(20, { 17: "theirs" }) },
    expect: "clean",
  },
  {
    name: "same line edited differently",
    base: { "f.txt": text(5) },
    ours: { "f.txt": text(5, { 2: "ours" }) },
    theirs: { "f.txt": text(5, { 2: "theirs" }) },
    expect: [{ path: "f.txt", kind: "content" }],
  },
  {
    name: "modify/delete",
    base: { "f.txt": text(5), "g.txt": text(2) },
    ours: { "f.txt": text(5, { 1: "x" }), "g.txt": text(2) },
    theirs: { "g.txt": text(2) },
    expect: [{ path: "f.txt", kind: "modify/delete" }],
  },
  {
    name: "delete/modify",
    base: { "d/f.txt": text(5), "g.txt": text(2) },
    ours: { "g.txt": text(2) },
    theirs: { "d/f.txt": text(5, { 1: "x" }), "g.txt": text(2) },
    expect: [{ path: "d/f.txt", kind: "modify/delete" }],
  },
  {
    name: "both delete, and a directory emptied from both sides",
    base: { "f.txt": text(2), "d/a": "a\n", "d/b": "b\n", "keep": "k\n" },
    ours: { "d/b": "b\n", "keep": "k\n" },
    theirs: { "d/a": "a\n", "keep": "k\n" },
    expect: "clean",
  },
  {
    name: "add/add identical",
    base: { "keep": "k\n" },
    ours: { "keep": "k\n", "new.txt": "same\n" },
    theirs: { "keep": "k\n", "new.txt": "same\n", "other": "o\n" },
    expect: "clean",
  },
  {
    name: "add/add different",
    base: { "keep": "k\n" },
    ours: { "keep": "k\n", "new.txt": "ours\n" },
    theirs: { "keep": "k\n", "new.txt": "theirs\n" },
    expect: [{ path: "new.txt", kind: "add/add" }],
  },
  {
    name: "add/add same content, different mode",
    base: { "keep": "k\n" },
    ours: { "keep": "k\n", "new.sh": "same\n" },
    theirs: { "keep": "k\n", "new.sh": exec("same\n") },
    expect: [{ path: "new.sh", kind: "add/add" }],
  },
  {
    name: "exec bit on one side, content on the other",
    base: { "run.sh": text(6) },
    ours: { "run.sh": exec(text(6)) },
    theirs: { "run.sh": text(6, { 4: "edited" }) },
    expect: "clean",
  },
  {
    name: "exec bit plus edits on both sides",
    base: { "run.sh": text(12) },
    ours: { "run.sh": exec(text(12, { 0: "top" })) },
    theirs: { "run.sh": text(12, { 10: "bottom" }) },
    expect: "clean",
  },
  {
    name: "file on one side, directory on the other",
    base: { "keep": "k\n" },
    ours: { "keep": "k\n", "x": "file\n" },
    theirs: { "keep": "k\n", "x/y": "in dir\n" },
    expect: [{ path: "x", kind: "file/directory" }],
  },
  {
    name: "directory deleted, file added inside it on the other side",
    base: { "d/f": "f\n", "keep": "k\n" },
    ours: { "keep": "k\n" },
    theirs: { "d/f": "f\n", "d/new": "n\n", "keep": "k\n" },
    expect: "clean",
  },
  {
    name: "directory replaced by a file, content changed inside on the other side",
    base: { "d/f": text(3), "keep": "k\n" },
    ours: { "d": "now a file\n", "keep": "k\n" },
    theirs: { "d/f": text(3, { 0: "x" }), "keep": "k\n" },
    expect: [{ path: "d/f", kind: "modify/delete" }],
  },
  {
    name: "file replaced by a directory on both sides",
    base: { "p": "file\n", "keep": "k\n" },
    ours: { "p/a": "a\n", "keep": "k\n" },
    theirs: { "p/b": "b\n", "keep": "k\n" },
    expect: "clean",
  },
  {
    name: "symlink retargeted differently",
    base: { "l": link("a"), "keep": "k\n" },
    ours: { "l": link("b"), "keep": "k\n" },
    theirs: { "l": link("c"), "keep": "k\n" },
    expect: [{ path: "l", kind: "content" }],
  },
  {
    name: "symlink retargeted on one side",
    base: { "l": link("a"), "keep": "k\n" },
    ours: { "l": link("b"), "keep": "k\n" },
    theirs: { "l": link("a"), "keep": "kk\n" },
    expect: "clean",
  },
  {
    name: "file turned into a symlink, edited on the other side",
    base: { "f": text(3) },
    ours: { "f": link("target") },
    theirs: { "f": text(3, { 1: "edited" }) },
    expect: [{ path: "f", kind: "mode" }],
  },
  {
    name: "binary changed on both sides",
    base: { "b.bin": binary(1) },
    ours: { "b.bin": binary(2) },
    theirs: { "b.bin": binary(3) },
    expect: [{ path: "b.bin", kind: "content" }],
  },
  {
    name: "binary changed on one side",
    base: { "b.bin": binary(1), "t": "t\n" },
    ours: { "b.bin": binary(2), "t": "t\n" },
    theirs: { "b.bin": binary(1), "t": "T\n" },
    expect: "clean",
  },
  {
    name: "nested changes in sibling directories, several conflicts sorted",
    base: { "a/b/c.txt": text(4), "a/d.txt": text(4), "z/y.txt": text(4), "m.txt": text(4) },
    ours: {
      "a/b/c.txt": text(4, { 0: "o" }),
      "a/d.txt": text(4, { 1: "o" }),
      "z/y.txt": text(4),
      "m.txt": text(4, { 3: "o" }),
    },
    theirs: {
      "a/b/c.txt": text(4, { 0: "t" }),
      "a/d.txt": text(4),
      "z/y.txt": text(4, { 3: "t" }),
      "m.txt": text(4, { 3: "t" }),
    },
    expect: [{ path: "a/b/c.txt", kind: "content" }, { path: "m.txt", kind: "content" }],
  },
];

Deno.test("merge: structural cases agree with git merge-tree; nothing written on conflict", async () => {
  await withRepo(async (repo) => {
    const reader = new CliReader(repo.gitDir);
    try {
      for (const c of CASES) {
        const [b, o, t] = await Promise.all(
          [c.base, c.ours, c.theirs].map((s) => buildTree(repo.writer, s)),
        );
        const writer = new CountingWriter(repo.writer);
        const mine = await mergeTrees(reader, writer, b!, o!, t!);
        const git = await gitMergeTree(repo, b!, o!, t!);
        if (c.expect === "clean") {
          assert.deepEqual(mine.conflicts, [], c.name);
          assert.ok(git.clean, `${c.name}: git conflicts`);
          assert.equal(mine.tree, git.tree, `${c.name}: tree differs from git's`);
        } else {
          assert.equal(mine.tree, null, c.name);
          assert.deepEqual(mine.conflicts, c.expect, c.name);
          assert.ok(!git.clean, `${c.name}: git merged cleanly`);
          assert.equal(writer.writes, 0, `${c.name}: wrote objects despite conflicts`);
        }
      }
    } finally {
      await reader.dispose();
    }
  });
});

Deno.test("merge: trivial sides return an input tree without writing", async () => {
  await withRepo(async (repo) => {
    const reader = new CliReader(repo.gitDir);
    try {
      const b = await buildTree(repo.writer, { "a": "1\n" });
      const o = await buildTree(repo.writer, { "a": "2\n" });
      const w = new CountingWriter(repo.writer);
      assert.deepEqual(await mergeTrees(reader, w, b, o, b), { tree: o, conflicts: [] });
      assert.deepEqual(await mergeTrees(reader, w, b, b, o), { tree: o, conflicts: [] });
      assert.deepEqual(await mergeTrees(reader, w, b, o, o), { tree: o, conflicts: [] });
      assert.equal(w.writes, 0);
      assert.equal(reader.treeReads, 0);
      // Both sides deleting everything yields the empty tree.
      const empty = await repo.writer.writeTree([]);
      const both = await buildTree(repo.writer, { "a": "1\n", "b": "2\n" });
      const onlyB = await buildTree(repo.writer, { "b": "2\n" });
      const onlyA = await buildTree(repo.writer, { "a": "1\n" });
      assert.deepEqual(await mergeTrees(reader, w, both, onlyB, onlyA), {
        tree: empty,
        conflicts: [],
      });
    } finally {
      await reader.dispose();
    }
  });
});

Deno.test("merge: submodule (gitlink) entries merge only when one side moved them", async () => {
  await withRepo(async (repo) => {
    const reader = new CliReader(repo.gitDir);
    try {
      const gitlink = (n: number) => ({
        name: "sub",
        mode: GIT_MODE.GITLINK,
        oid: String(n).repeat(40),
      });
      const keep = {
        name: "k",
        mode: GIT_MODE.FILE,
        oid: await repo.writer.writeBlob(enc.encode("k")),
      };
      const tree = (n: number, k = keep) => repo.writer.writeTree([gitlink(n), k]);
      const other = { ...keep, oid: await repo.writer.writeBlob(enc.encode("other")) };
      const base = await tree(1);
      const moved = await mergeTrees(
        reader,
        repo.writer,
        base,
        await tree(2),
        await tree(1, other),
      );
      assert.equal(moved.tree, await tree(2, other));
      const both = await mergeTrees(reader, repo.writer, base, await tree(2), await tree(3));
      assert.deepEqual(both, { tree: null, conflicts: [{ path: "sub", kind: "content" }] });
    } finally {
      await reader.dispose();
    }
  });
});

Deno.test("merge: cost is O(changes) — untouched subtrees and blobs are never read", async () => {
  await withRepo(async (repo) => {
    const spec: Spec = {};
    for (let d = 0; d < 40; d++) {
      for (let f = 0; f < 4; f++) spec[`dir${d}/sub/f${f}.txt`] = text(8);
    }
    const base = await buildTree(repo.writer, spec);
    const change = (edits: Record<string, string>) => buildTree(repo.writer, { ...spec, ...edits });
    const reader = new CliReader(repo.gitDir);
    try {
      // Different directories: only the three roots are read.
      let r = await mergeTrees(
        reader,
        repo.writer,
        base,
        await change({ "dir3/sub/f0.txt": text(8, { 0: "o" }) }),
        await change({ "dir30/sub/f1.txt": text(8, { 0: "t" }) }),
      );
      assert.deepEqual(r.conflicts, []);
      assert.equal(reader.treeReads, 3);
      assert.equal(reader.blobReads, 0);
      // Same directory, different files: root, dir7, dir7/sub (×3 each).
      reader.treeReads = 0;
      r = await mergeTrees(
        reader,
        repo.writer,
        base,
        await change({ "dir7/sub/f0.txt": text(8, { 0: "o" }) }),
        await change({ "dir7/sub/f1.txt": text(8, { 0: "t" }) }),
      );
      assert.deepEqual(r.conflicts, []);
      assert.equal(reader.treeReads, 9);
      assert.equal(reader.blobReads, 0);
      // Same file: its three versions are read, once each.
      reader.treeReads = 0;
      const ours = await change({ "dir7/sub/f0.txt": text(8, { 0: "o" }) });
      const theirs = await change({ "dir7/sub/f0.txt": text(8, { 7: "t" }) });
      r = await mergeTrees(reader, repo.writer, base, ours, theirs);
      assert.equal(reader.treeReads, 9);
      assert.equal(reader.blobReads, 3);
      const git = await gitMergeTree(repo, base, ours, theirs);
      assert.equal(r.tree, git.tree);
    } finally {
      await reader.dispose();
    }
  });
});
