/**
 * Synthetic git repository generator for benchmarks and large-repo tests.
 *
 * Objects are streamed through ONE `git fast-import` process (nothing is
 * written to a work tree and nothing is `git add`ed), so 100k files take
 * seconds. Content is a deterministic function of `seed`: the same options
 * always produce the same oids.
 *
 * CLI: `deno run -A bench/gen_repo.ts <dir> --files 100000 --dirs 5000 [--seed 1]
 *       [--no-pack] [--checkout]`
 */

export interface GenerateRepoOptions {
  /** Number of files (blobs, executables and symlinks) in the first commit. */
  files: number;
  /** Number of directories, nested about 3–5 deep. */
  dirs: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /** Run `git repack -adf` after importing (default true); otherwise keep fast-import's pack. */
  packed?: boolean;
  /** Check out the work tree (`git reset --hard`); default false. */
  checkout?: boolean;
}

export interface GeneratedRepo {
  dir: string;
  files: number;
  dirs: number;
  /** Total blob bytes written in the first commit. */
  blobBytes: number;
  /** Wall time in milliseconds, by phase. */
  timingsMs: { import: number; repack: number; checkout: number; total: number };
}

/** Deterministic 32-bit PRNG (mulberry32). */
function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ne",
  "ru",
  "sa",
  "ti",
  "vo",
  "pex",
  "dor",
  "fin",
  "gal",
  "hub",
  "jin",
  "qua",
  "wes",
  "zed",
  "bar",
  "con",
  "del",
  "map",
  "net",
  "ost",
  "pri",
];
const EXTENSIONS = [".ts", ".ts", ".ts", ".js", ".md", ".json", ".py", ".c", ".h", ".css", ".txt"];

const enc = new TextEncoder();

class WordMaker {
  constructor(private readonly rng: () => number) {}
  word(): string {
    const n = 1 + Math.floor(this.rng() * 3);
    let w = "";
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(this.rng() * SYLLABLES.length)]!;
    return w;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)]!;
  }
}

/** A pool of code-like lines; files are random sequences of them (compresses like source). */
function makeLinePool(w: WordMaker, rng: () => number, count: number): Uint8Array[] {
  const pool: Uint8Array[] = [];
  const kw = ["const", "let", "return", "if", "for", "export function", "import", "await", "type"];
  for (let i = 0; i < count; i++) {
    const indent = "  ".repeat(Math.floor(rng() * 4));
    const shape = Math.floor(rng() * 5);
    let line: string;
    if (shape === 0) line = `${indent}${w.pick(kw)} ${w.word()} = ${w.word()}(${w.word()}, ${i});`;
    else if (shape === 1) line = `${indent}// ${w.word()} ${w.word()} ${w.word()} ${w.word()}`;
    else if (shape === 2) line = `${indent}${w.word()}.${w.word()}(${Math.floor(rng() * 1e6)});`;
    else if (shape === 3) line = `${indent}}`;
    else line = `${indent}if (${w.word()} > ${w.word()}) { ${w.word()}(); }`;
    pool.push(enc.encode(line + "\n"));
  }
  return pool;
}

interface Layout {
  dirPaths: string[];
  files: { path: string; mode: string; size: number; link?: string }[];
}

function makeLayout(w: WordMaker, rng: () => number, files: number, dirs: number): Layout {
  const dirPaths: string[] = [];
  const depth: number[] = [];
  const childNames: Set<string>[] = [];
  const rootNames = new Set<string>();
  const unique = (set: Set<string>, base: string): string => {
    let name = base;
    for (let k = 2; set.has(name); k++) name = `${base}${k}`;
    set.add(name);
    return name;
  };
  const top = Math.max(1, Math.round(Math.sqrt(Math.sqrt(dirs)) * 2));
  for (let i = 0; i < dirs; i++) {
    let parent = -1;
    if (i >= top) {
      // Parents are drawn among existing dirs less than 5 deep: later dirs land 3–5 deep.
      for (let tries = 0; tries < 20; tries++) {
        const p = Math.floor(rng() * i);
        if (depth[p]! < 5) {
          parent = p;
          if (depth[p]! >= 2 || tries > 3) break;
        }
      }
    }
    const set = parent < 0 ? rootNames : childNames[parent]!;
    const name = unique(set, w.word());
    dirPaths.push(parent < 0 ? name : `${dirPaths[parent]}/${name}`);
    depth.push(parent < 0 ? 1 : depth[parent]! + 1);
    childNames.push(new Set());
  }
  const out: Layout["files"] = [];
  for (let i = 0; i < files; i++) {
    const d = dirs === 0 || rng() < 0.002 ? -1 : Math.floor(rng() * dirs);
    const set = d < 0 ? rootNames : childNames[d]!;
    const prefix = d < 0 ? "" : `${dirPaths[d]}/`;
    const r = rng();
    if (r < 0.01 && i > 0) {
      const target = out[Math.floor(rng() * out.length)]!.path;
      const name = unique(set, `${w.word()}-link`);
      out.push({ path: prefix + name, mode: "120000", size: 0, link: target });
      continue;
    }
    const exec = r < 0.03;
    const name = unique(set, w.word() + (exec ? ".sh" : w.pick(EXTENSIONS)));
    // Mostly 0.5–8 KiB (log-uniform), about 2% between 8 and 200 KiB.
    const big = rng() < 0.02;
    const lo = big ? 8192 : 512;
    const hi = big ? 200 * 1024 : 8192;
    const size = Math.round(lo * Math.pow(hi / lo, rng()));
    out.push({ path: prefix + name, mode: exec ? "100755" : "100644", size });
  }
  return { dirPaths, files: out };
}

/** Buffers the fast-import stream in large chunks. */
class StreamBuffer {
  private buf = new Uint8Array(4 << 20);
  private len = 0;
  constructor(private readonly writer: WritableStreamDefaultWriter<Uint8Array>) {}
  async bytes(b: Uint8Array): Promise<void> {
    if (this.len + b.length > this.buf.length) await this.flush();
    if (b.length > this.buf.length) {
      await this.writer.write(b.slice());
      return;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  text(s: string): Promise<void> {
    return this.bytes(enc.encode(s));
  }
  async flush(): Promise<void> {
    if (this.len === 0) return;
    await this.writer.write(this.buf.slice(0, this.len));
    this.len = 0;
  }
}

function fileContent(
  path: string,
  size: number,
  pool: Uint8Array[],
  rng: () => number,
  scratch: Uint8Array,
): Uint8Array {
  const head = enc.encode(`// ${path}\n`);
  scratch.set(head, 0);
  let n = head.length;
  while (n < size) {
    const line = pool[Math.floor(rng() * pool.length)]!;
    const take = Math.min(line.length, size - n);
    scratch.set(take === line.length ? line : line.subarray(0, take), n);
    n += take;
  }
  return scratch.subarray(0, n);
}

async function git(dir: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-C", dir, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Creates a git repository in `dir` (created if missing; must not already be
 * a repository) with one big commit of `opts.files` files in `opts.dirs`
 * directories on branch `main`, plus a second commit modifying a few files.
 * HEAD is `refs/heads/main`. Deterministic for a given seed.
 */
export async function generateRepo(
  dir: string,
  opts: GenerateRepoOptions,
): Promise<GeneratedRepo> {
  const t0 = performance.now();
  const seed = opts.seed ?? 1;
  const rng = makeRng(seed);
  const w = new WordMaker(rng);
  await Deno.mkdir(dir, { recursive: true });
  await git(dir, ["init", "-q", "-b", "main"]);
  await git(dir, ["symbolic-ref", "HEAD", "refs/heads/main"]);

  const pool = makeLinePool(w, rng, 4096);
  const layout = makeLayout(w, rng, opts.files, opts.dirs);
  const child = new Deno.Command("git", {
    args: ["-C", dir, "fast-import", "--quiet", "--done"],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const out = new StreamBuffer(writer);
  const scratch = new Uint8Array(256 * 1024);
  let blobBytes = 0;
  let writeError: unknown = null;
  try {
    for (let i = 0; i < layout.files.length; i++) {
      const f = layout.files[i]!;
      const data = f.link !== undefined
        ? enc.encode(relativeLink(f.path, f.link))
        : fileContent(f.path, f.size, pool, rng, scratch);
      blobBytes += data.length;
      await out.text(`blob\nmark :${i + 1}\ndata ${data.length}\n`);
      await out.bytes(data);
      await out.text("\n");
    }
    const author = "Vibe Bench <bench@vibe.invalid>";
    const msg1 = enc.encode(`Initial import of ${opts.files} files\n`);
    await out.text(
      `commit refs/heads/main\nmark :${layout.files.length + 1}\n` +
        `author ${author} 1700000000 +0000\ncommitter ${author} 1700000000 +0000\n` +
        `data ${msg1.length}\n`,
    );
    await out.bytes(msg1);
    for (let i = 0; i < layout.files.length; i++) {
      const f = layout.files[i]!;
      await out.text(`M ${f.mode} :${i + 1} ${f.path}\n`);
    }
    await out.text("\n");
    // Second commit: a few modified files, so history exists.
    const msg2 = enc.encode("Touch a few files\n");
    await out.text(
      `commit refs/heads/main\nmark :${layout.files.length + 2}\n` +
        `author ${author} 1700000600 +0100\ncommitter ${author} 1700000600 +0100\n` +
        `data ${msg2.length}\n`,
    );
    await out.bytes(msg2);
    await out.text(`from :${layout.files.length + 1}\n`);
    let touched = 0;
    for (let i = 0; i < layout.files.length && touched < 5; i += 97) {
      const f = layout.files[i]!;
      if (f.link !== undefined) continue;
      const data = fileContent(f.path, f.size + 100, pool, rng, scratch);
      await out.text(`M ${f.mode} inline ${f.path}\ndata ${data.length}\n`);
      await out.bytes(data);
      await out.text("\n");
      touched++;
    }
    await out.text("\ndone\n");
    await out.flush();
  } catch (e) {
    writeError = e;
  } finally {
    await writer.close().catch(() => {});
  }
  const status = await child.output();
  if (!status.success || writeError !== null) {
    throw new Error(
      `git fast-import failed: ${new TextDecoder().decode(status.stderr)} ${writeError ?? ""}`,
    );
  }
  const t1 = performance.now();
  if (opts.packed ?? true) await git(dir, ["repack", "-adfq"]);
  const t2 = performance.now();
  if (opts.checkout ?? false) await git(dir, ["reset", "--hard", "-q"]);
  const t3 = performance.now();
  return {
    dir,
    files: opts.files,
    dirs: opts.dirs,
    blobBytes,
    timingsMs: { import: t1 - t0, repack: t2 - t1, checkout: t3 - t2, total: t3 - t0 },
  };
}

/** Symlink target of `from` pointing at `to`, relative like real repos keep them. */
function relativeLink(from: string, to: string): string {
  const a = from.split("/").slice(0, -1);
  const b = to.split("/");
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  return [...Array(a.length - i).fill(".."), ...b.slice(i)].join("/");
}

function parseArgs(args: string[]): { dir: string; opts: GenerateRepoOptions } {
  let dir: string | null = null;
  const opts: GenerateRepoOptions = { files: 10000, dirs: 500 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const num = () => {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`Invalid value for ${a}`);
      return v;
    };
    if (a === "--files") opts.files = num();
    else if (a === "--dirs") opts.dirs = num();
    else if (a === "--seed") opts.seed = num();
    else if (a === "--no-pack") opts.packed = false;
    else if (a === "--checkout") opts.checkout = true;
    else if (!a.startsWith("--") && dir === null) dir = a;
    else throw new Error(`Unknown argument "${a}"`);
  }
  if (dir === null) {
    throw new Error(
      "Usage: gen_repo.ts <dir> [--files N] [--dirs N] [--seed N] [--no-pack] [--checkout]",
    );
  }
  return { dir, opts };
}

if (import.meta.main) {
  const { dir, opts } = parseArgs(Deno.args);
  const r = await generateRepo(dir, opts);
  const t = r.timingsMs;
  console.log(
    `Generated ${r.files} files in ${r.dirs} dirs (${(r.blobBytes / 1048576).toFixed(1)} MiB) ` +
      `at ${r.dir}: import ${(t.import / 1000).toFixed(1)} s, repack ${
        (t.repack / 1000).toFixed(1)
      } s, checkout ${(t.checkout / 1000).toFixed(1)} s, total ${(t.total / 1000).toFixed(1)} s`,
  );
}
