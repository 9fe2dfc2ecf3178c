/**
 * Object read benchmark: vibe's NativeObjectReader against `git` itself and
 * isomorphic-git, on one generated repository, in one run.
 *
 *   deno run -A bench/object_read_bench.ts [--files N] [--dirs N] [--blobs N]
 *     [--repeats N] [--iso-tree-max N] [--iso-cap-ms N] [--json]
 *
 * The repository is generated with bench/gen_repo.ts under
 * /tmp/vibe-bench-repos/<files> and reused by later runs with the same options.
 *
 * (a) Full recursive tree walk of HEAD: `git ls-tree -r HEAD` (whole process)
 *     vs a fresh NativeObjectReader (open + walk, building every path) vs
 *     isomorphic-git `readTree` with a shared cache (only up to
 *     --iso-tree-max files, else time-capped and extrapolated).
 * (b) Random blobs of HEAD: a pipelined `git cat-file --batch` (all requests
 *     written at once to an already started process) vs our sequential
 *     `await readBlob` vs isomorphic-git `readBlob` on a sample; plus our
 *     `blobSize`. Figures are medians over --repeats runs.
 *
 * git's output is timed two ways: into a pipe that this process drains (the
 * literal "first write to last byte") and into /dev/null (until exit). Deno
 * draining 8 MB of pipe costs git tens of µs per blob, so ratios are taken
 * against the /dev/null figures: git's best case, the conservative baseline.
 */
import fs from "node:fs";
import git from "isomorphic-git";
import { NativeObjectReader } from "../src/git/native_reader.ts";
import { GIT_MODE } from "../src/types.ts";
import { generateRepo } from "./gen_repo.ts";

export interface ObjectReadBenchOptions {
  files: number;
  /** Directories in the generated repo; default files / 20. */
  dirs?: number;
  /** Random blobs to read; default 2000. */
  blobs?: number;
  /** Median over this many runs; default 3. */
  repeats?: number;
  /** Run isomorphic-git's full tree walk only up to this many files; default 10,000. */
  isoTreeMaxFiles?: number;
  /** Above that, stop isomorphic-git's walk after this long and extrapolate; default 15,000 ms. */
  isoTreeCapMs?: number;
  /** isomorphic-git readBlob sample size; default 200. */
  isoBlobSample?: number;
  /** Where the repos live; default /tmp/vibe-bench-repos. */
  reposRoot?: string;
  /** Print progress to stderr. */
  verbose?: boolean;
}

export interface ObjectReadBenchResult {
  files: number;
  dirs: number;
  trees: number;
  repoDir: string;
  /** Wall time to generate the repo, or null when reused. */
  generateMs: number | null;
  tree: {
    /** `git ls-tree -r HEAD > /dev/null`, whole process: the baseline. */
    gitLsTreeMs: number;
    /** The same with stdout drained through a pipe by this process. */
    gitLsTreePipeMs: number;
    /** Fresh reader: open + full walk. */
    nativeWalkMs: number;
    /** Same reader again (parsed-tree cache warm). */
    nativeWarmWalkMs: number;
    /** Measured, or extrapolated from a capped run (see isoWalkNote). */
    isoWalkMs: number | null;
    isoWalkNote: string;
  };
  blob: {
    count: number;
    /** Output to /dev/null, first write until exit: the baseline. */
    catFileUsPerBlob: number;
    /** Output drained through a pipe, first write to last byte. */
    catFilePipeUsPerBlob: number;
    nativeUsPerBlob: number;
    nativeBlobSizeUsPerBlob: number;
    isoUsPerBlob: number | null;
    isoSample: number;
  };
  ratios: {
    walkNativeVsLsTree: number;
    walkIsoVsLsTree: number | null;
    blobNativeVsCatFile: number;
    blobIsoVsCatFile: number | null;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function log(verbose: boolean, msg: string): void {
  if (verbose) console.error(msg);
}

/** Deterministic shuffle (mulberry32) so runs pick the same blobs. */
function sample<T>(xs: T[], n: number, seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

async function ensureRepo(
  root: string,
  files: number,
  dirs: number,
  verbose: boolean,
): Promise<{ dir: string; generateMs: number | null }> {
  const dir = `${root}/${files}`;
  const marker = `${dir}/.git/vibe-bench-repo.json`;
  const want = JSON.stringify({ files, dirs, seed: 1, version: 1 });
  try {
    if (Deno.readTextFileSync(marker) === want) return { dir, generateMs: null };
  } catch {
    // Not generated (completely) yet.
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  log(verbose, `Generating ${files} files in ${dirs} dirs at ${dir} …`);
  const t0 = performance.now();
  await generateRepo(dir, { files, dirs, seed: 1 });
  const generateMs = performance.now() - t0;
  Deno.writeTextFileSync(marker, want);
  return { dir, generateMs };
}

interface WalkResult {
  files: number;
  trees: number;
  blobs: string[];
}

/** Full recursive walk building every path, like `git ls-tree -r` does. */
async function nativeWalk(r: NativeObjectReader, root: string): Promise<WalkResult> {
  const out: WalkResult = { files: 0, trees: 0, blobs: [] };
  const walk = async (tree: string, prefix: string): Promise<void> => {
    out.trees++;
    for (const e of await r.readTree(tree)) {
      const path = prefix + e.name;
      if (e.mode === GIT_MODE.TREE) await walk(e.oid, path + "/");
      else {
        out.files++;
        if (e.mode !== GIT_MODE.GITLINK) out.blobs.push(e.oid);
      }
    }
  };
  await walk(root, "");
  return out;
}

async function gitLsTree(dir: string, toPipe: boolean): Promise<{ ms: number; lines: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command("git", {
    args: ["-C", dir, "ls-tree", "-r", "HEAD"],
    stdout: toPipe ? "piped" : "null",
    stderr: "null",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) throw new Error("git ls-tree failed");
  let lines = 0;
  if (toPipe) { for (const b of out.stdout) if (b === 10) lines++; }
  return { ms, lines };
}

/**
 * Pipelined `git cat-file --batch` in µs per blob: all requests in one write
 * to a process started beforehand; until the last byte arrives through the
 * pipe (`toPipe`), or until exit with stdout on /dev/null.
 */
async function catFileBatch(
  dir: string,
  oids: string[],
  expectBytes: number,
  toPipe: boolean,
): Promise<number> {
  const child = new Deno.Command("git", {
    args: ["-C", dir, "cat-file", "--batch"],
    stdin: "piped",
    stdout: toPipe ? "piped" : "null",
    stderr: "null",
  }).spawn();
  await new Promise((resolve) => setTimeout(resolve, 50)); // let it start: a long-lived process
  const req = new TextEncoder().encode(oids.join("\n") + "\n");
  const writer = child.stdin.getWriter();
  const t0 = performance.now();
  const writing = writer.write(req).then(() => writer.close());
  let total = 0;
  let ms: number;
  if (toPipe) {
    const reader = child.stdout.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
    }
    ms = performance.now() - t0;
    await writing;
    await child.status;
    if (total < expectBytes) throw new Error(`cat-file returned ${total} bytes < ${expectBytes}`);
  } else {
    await writing;
    const st = await child.status;
    ms = performance.now() - t0;
    if (!st.success) throw new Error("git cat-file failed");
  }
  return (ms * 1000) / oids.length;
}

async function isoWalk(
  dir: string,
  root: string,
  capMs: number,
): Promise<{ ms: number; trees: number; complete: boolean }> {
  const cache = {};
  const t0 = performance.now();
  let trees = 0;
  let stopped = false;
  const walk = async (oid: string, prefix: string): Promise<void> => {
    if (stopped) return;
    if (performance.now() - t0 > capMs) {
      stopped = true;
      return;
    }
    trees++;
    const { tree } = await git.readTree({ fs, dir, oid, cache });
    for (const e of tree) {
      const path = prefix + e.path;
      if (e.type === "tree") await walk(e.oid, path + "/");
    }
  };
  await walk(root, "");
  return { ms: performance.now() - t0, trees, complete: !stopped };
}

/** Runs the whole benchmark and returns the figures (also used by bench runners). */
export async function runObjectReadBench(
  opts: ObjectReadBenchOptions,
): Promise<ObjectReadBenchResult> {
  const files = opts.files;
  const dirs = opts.dirs ?? Math.max(1, Math.round(files / 20));
  const blobCount = opts.blobs ?? 2000;
  const repeats = Math.max(1, opts.repeats ?? 3);
  const isoMax = opts.isoTreeMaxFiles ?? 10_000;
  const isoCap = opts.isoTreeCapMs ?? 15_000;
  const isoSample = opts.isoBlobSample ?? 200;
  const verbose = opts.verbose ?? false;
  const { dir, generateMs } = await ensureRepo(
    opts.reposRoot ?? "/tmp/vibe-bench-repos",
    files,
    dirs,
    verbose,
  );

  // Warm the page cache and the JIT once (both sides get a warm page cache).
  const probe = await NativeObjectReader.open(dir);
  const headOid = await probe.revParse("HEAD");
  const rootTree = (await probe.readCommit(headOid)).tree;
  const walked = await nativeWalk(probe, rootTree);
  for (const o of sample(walked.blobs, 300, 7)) await probe.readBlob(o);
  probe.close();
  const check = await gitLsTree(dir, true);
  if (check.lines !== walked.files) {
    throw new Error(`ls-tree listed ${check.lines} entries, our walk ${walked.files}`);
  }

  // (a) tree walk
  log(verbose, "Tree walk …");
  const lsMs: number[] = [];
  const lsPipeMs: number[] = [];
  const walkMs: number[] = [];
  const warmMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    lsMs.push((await gitLsTree(dir, false)).ms);
    lsPipeMs.push((await gitLsTree(dir, true)).ms);
    const t0 = performance.now();
    const r = await NativeObjectReader.open(dir);
    const w = await nativeWalk(r, rootTree);
    walkMs.push(performance.now() - t0);
    if (w.files !== walked.files) throw new Error("walks disagree");
    const t1 = performance.now();
    await nativeWalk(r, rootTree);
    warmMs.push(performance.now() - t1);
    r.close();
  }
  let isoWalkMs: number | null = null;
  let isoWalkNote: string;
  {
    log(verbose, "isomorphic-git tree walk …");
    const capped = files > isoMax;
    const iso = await isoWalk(dir, rootTree, capped ? isoCap : Infinity);
    if (iso.complete) {
      isoWalkMs = iso.ms;
      isoWalkNote = "measured";
    } else {
      isoWalkMs = (iso.ms * walked.trees) / Math.max(1, iso.trees);
      isoWalkNote = `extrapolated: ${iso.trees} of ${walked.trees} trees in ${
        Math.round(iso.ms)
      } ms (cap)`;
    }
  }

  // (b) blobs
  log(verbose, "Blob reads …");
  const blobs = sample(walked.blobs, blobCount, 42);
  const sizeCheck = await NativeObjectReader.open(dir);
  let expectBytes = 0;
  for (const o of blobs) expectBytes += await sizeCheck.blobSize(o);
  sizeCheck.close();
  const catUs: number[] = [];
  const catPipeUs: number[] = [];
  const nativeUs: number[] = [];
  const sizeUs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    catUs.push(await catFileBatch(dir, blobs, expectBytes, false));
    catPipeUs.push(await catFileBatch(dir, blobs, expectBytes, true));
    const r = await NativeObjectReader.open(dir);
    await r.readBlob(blobs[0]!);
    let bytes = 0;
    const t0 = performance.now();
    for (const o of blobs) bytes += (await r.readBlob(o)).length;
    nativeUs.push(((performance.now() - t0) * 1000) / blobs.length);
    if (bytes !== expectBytes) throw new Error("blob bytes disagree with blobSize");
    r.close();
    const r2 = await NativeObjectReader.open(dir);
    await r2.blobSize(blobs[0]!);
    const t1 = performance.now();
    for (const o of blobs) await r2.blobSize(o);
    sizeUs.push(((performance.now() - t1) * 1000) / blobs.length);
    r2.close();
  }
  log(verbose, "isomorphic-git blob reads …");
  const isoBlobs = blobs.slice(0, isoSample);
  const isoCache = {};
  await git.readBlob({ fs, dir, oid: isoBlobs[0]!, cache: isoCache });
  const ti = performance.now();
  for (const oid of isoBlobs) await git.readBlob({ fs, dir, oid, cache: isoCache });
  const isoUsPerBlob = isoBlobs.length > 0
    ? ((performance.now() - ti) * 1000) / isoBlobs.length
    : null;

  const tree = {
    gitLsTreeMs: median(lsMs),
    gitLsTreePipeMs: median(lsPipeMs),
    nativeWalkMs: median(walkMs),
    nativeWarmWalkMs: median(warmMs),
    isoWalkMs,
    isoWalkNote,
  };
  const blob = {
    count: blobs.length,
    catFileUsPerBlob: median(catUs),
    catFilePipeUsPerBlob: median(catPipeUs),
    nativeUsPerBlob: median(nativeUs),
    nativeBlobSizeUsPerBlob: median(sizeUs),
    isoUsPerBlob,
    isoSample: isoBlobs.length,
  };
  return {
    files,
    dirs,
    trees: walked.trees,
    repoDir: dir,
    generateMs,
    tree,
    blob,
    ratios: {
      walkNativeVsLsTree: tree.nativeWalkMs / tree.gitLsTreeMs,
      walkIsoVsLsTree: isoWalkMs === null ? null : isoWalkMs / tree.gitLsTreeMs,
      blobNativeVsCatFile: blob.nativeUsPerBlob / blob.catFileUsPerBlob,
      blobIsoVsCatFile: isoUsPerBlob === null ? null : isoUsPerBlob / blob.catFileUsPerBlob,
    },
  };
}

/** The human-readable table. */
export function formatObjectReadBench(r: ObjectReadBenchResult): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const us = (x: number) => `${x.toFixed(1)} µs/blob`;
  const ratio = (x: number | null) => (x === null ? "" : `${x.toFixed(2)}x`);
  const row = (label: string, value: string, rel: string) =>
    `  ${label.padEnd(34)}${value.padStart(16)}${rel.padStart(10)}`;
  const gen = r.generateMs === null
    ? "reused"
    : `generated in ${(r.generateMs / 1000).toFixed(1)} s`;
  return [
    `Object read bench: ${r.files} files, ${r.dirs} dirs, ${r.trees} trees (${r.repoDir}, ${gen})`,
    `Tree walk, full recursive (median of runs)          time   vs git`,
    row("git ls-tree -r HEAD > /dev/null", ms(r.tree.gitLsTreeMs), "1.00x"),
    row(
      "git ls-tree -r HEAD | (pipe)",
      ms(r.tree.gitLsTreePipeMs),
      ratio(r.tree.gitLsTreePipeMs / r.tree.gitLsTreeMs),
    ),
    row("native: open + walk", ms(r.tree.nativeWalkMs), ratio(r.ratios.walkNativeVsLsTree)),
    row("native: walk again (tree cache)", ms(r.tree.nativeWarmWalkMs), ""),
    row(
      "isomorphic-git readTree",
      r.tree.isoWalkMs === null ? "n/a" : ms(r.tree.isoWalkMs),
      ratio(r.ratios.walkIsoVsLsTree),
    ),
    `    (isomorphic-git: ${r.tree.isoWalkNote})`,
    `Blob reads, ${r.blob.count} random blobs`,
    row("git cat-file --batch > /dev/null", us(r.blob.catFileUsPerBlob), "1.00x"),
    row(
      "git cat-file --batch | (pipe)",
      us(r.blob.catFilePipeUsPerBlob),
      ratio(r.blob.catFilePipeUsPerBlob / r.blob.catFileUsPerBlob),
    ),
    row(
      "native readBlob (sequential)",
      us(r.blob.nativeUsPerBlob),
      ratio(r.ratios.blobNativeVsCatFile),
    ),
    row("native blobSize", us(r.blob.nativeBlobSizeUsPerBlob), ""),
    row(
      `isomorphic-git readBlob (${r.blob.isoSample})`,
      r.blob.isoUsPerBlob === null ? "n/a" : us(r.blob.isoUsPerBlob),
      ratio(r.ratios.blobIsoVsCatFile),
    ),
  ].join("\n");
}

function parseArgs(args: string[]): { opts: ObjectReadBenchOptions; json: boolean } {
  const opts: ObjectReadBenchOptions = { files: 10_000, verbose: true };
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const num = () => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`Invalid value for ${a}`);
      return v;
    };
    if (a === "--files") opts.files = num();
    else if (a === "--dirs") opts.dirs = num();
    else if (a === "--blobs") opts.blobs = num();
    else if (a === "--repeats") opts.repeats = num();
    else if (a === "--iso-tree-max") opts.isoTreeMaxFiles = num();
    else if (a === "--iso-cap-ms") opts.isoTreeCapMs = num();
    else if (a === "--json") json = true;
    else throw new Error(`Unknown argument "${a}"`);
  }
  return { opts, json };
}

if (import.meta.main) {
  const { opts, json } = parseArgs(Deno.args);
  const result = await runObjectReadBench(opts);
  console.log(formatObjectReadBench(result));
  if (json) console.log(JSON.stringify(result));
}
