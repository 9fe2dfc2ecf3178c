/**
 * Differential tester: one seeded random sequence of file operations applied
 * step by step to two directories (e.g. a mount under test and a native
 * control) that must behave identically.
 *
 * Invariants:
 * - The sequence depends only on the seed and on what `a` holds: a model of
 *   `a`'s paths steers the choice of paths (mostly existing ones, some missing
 *   or under files, to hit errors). The model is only a guide — it is rebuilt
 *   from `a` every `RESYNC_EVERY` steps — and correctness is judged solely by
 *   comparing `a` with `b`.
 * - Each step's outcome is "ok" (with the observed result for reads) or the
 *   errno name; the first step whose outcomes differ fails at once with the
 *   seed, the step number, the op and both outcomes.
 * - At the end both trees must be identical: paths, kinds, modes, file sizes
 *   and sha256, nlink and hard-link groups, symlink targets, sorted listings.
 * - Symlink targets are relative and never contain "..", so following any
 *   symlink stays inside the root wherever the symlink is moved.
 */
import { createHash } from "node:crypto";
import { errCode, Posix } from "./helpers/posix.ts";

/** Options of `differential`. */
export interface DifferentialOptions {
  /** Root of side A (also the source of the path model). Should start empty. */
  a: string;
  /** Root of side B. Should start with the same contents as `a`. */
  b: string;
  seed: number;
  /** Number of operations to apply. */
  ops: number;
  /** Shown in failure messages. */
  label?: string;
}

type Kind = "file" | "dir" | "symlink";

/** One operation; plain data so a failure message can print it. */
type Op =
  | { op: "create" | "createExcl" | "append"; path: string; len: number; data: number }
  | { op: "write"; path: string; offset: number; len: number; data: number }
  | { op: "truncate"; path: string; len: number }
  | { op: "mkdir" | "rmdir" | "unlink" | "read" | "readdir" | "lstat" | "readlink"; path: string }
  | { op: "rename" | "link"; path: string; to: string }
  | { op: "symlink"; path: string; target: string }
  | { op: "chmod"; path: string; mode: number }
  | {
    op: "utimens";
    path: string;
    atime: [number, number];
    mtime: [number, number];
    nofollow: boolean;
  };

const NAMES = ["a", "b", "c", "d", "e", "f"];
const MAX_DEPTH = 3;
const RESYNC_EVERY = 40;
const FILE_MODES = [0o644, 0o600, 0o755, 0o640, 0o700, 0o444, 0o664];
const DIR_MODES = [0o755, 0o700, 0o750, 0o775, 0o711];

/** mulberry32: a small, fast, seedable PRNG. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(len: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sha(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function depth(path: string): number {
  return path === "" ? 0 : path.split("/").length;
}

function join(parent: string, name: string): string {
  return parent === "" ? name : `${parent}/${name}`;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Paths of `root` (relative, "" excluded) with their kinds, never following symlinks. */
async function scan(root: string): Promise<Map<string, Kind>> {
  const out = new Map<string, Kind>();
  const walk = async (rel: string): Promise<void> => {
    for await (const e of Deno.readDir(rel === "" ? root : `${root}/${rel}`)) {
      const p = join(rel, e.name);
      const kind: Kind = e.isSymlink ? "symlink" : e.isDirectory ? "dir" : "file";
      out.set(p, kind);
      if (kind === "dir") await walk(p);
    }
  };
  await walk("");
  return out;
}

/** Chooses ops from the model; every random draw goes through `r`. */
class Generator {
  model = new Map<string, Kind>();
  constructor(private r: () => number) {}

  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  paths(kind?: Kind): string[] {
    const out: string[] = [];
    for (const [p, k] of this.model) if (kind === undefined || k === kind) out.push(p);
    return out;
  }

  existing(kind?: Kind): string | null {
    const ps = this.paths(kind);
    return ps.length === 0 ? null : this.pick(ps);
  }

  /** A path that may or may not exist: a name under a dir, rarely under a file, symlink or nothing. */
  fresh(): string {
    const roll = this.r();
    let parent: string;
    if (roll < 0.04) parent = this.existing("file") ?? "";
    else if (roll < 0.08) parent = this.existing("symlink") ?? "";
    else if (roll < 0.1) parent = join(this.pick(["", ...this.paths("dir")]), "nodir");
    else {
      const dirs = ["", ...this.paths("dir").filter((d) => depth(d) < MAX_DEPTH)];
      parent = this.pick(dirs);
    }
    return join(parent, this.pick(NAMES));
  }

  /** Mostly an existing path (of `kind` when given), else a fresh one. */
  any(kind?: Kind, pExisting = 0.8): string {
    if (this.chance(pExisting)) {
      const p = this.existing(kind) ?? this.existing();
      if (p !== null) return p;
    }
    return this.fresh();
  }

  /** A target for a symlink at `path`: relative, descending, no "..". */
  symlinkTarget(path: string): string {
    const parent = parentOf(path);
    const below = [...this.model.keys()].filter((p) =>
      parent === "" ? true : p.startsWith(parent + "/")
    );
    const roll = this.r();
    if (roll < 0.6 && below.length > 0) {
      const p = this.pick(below);
      return parent === "" ? p : p.slice(parent.length + 1);
    }
    if (roll < 0.8) return this.pick(NAMES);
    return `${this.pick(NAMES)}/${this.pick(NAMES)}`;
  }

  next(): Op {
    const w = this.int(100);
    const len =
      () => (this.chance(0.1) ? 0 : this.chance(0.2) ? 10_000 + this.int(60_000) : this.int(3000));
    const data = () => this.int(1 << 30);
    if (w < 9) return { op: "create", path: this.any("file", 0.5), len: len(), data: data() };
    if (w < 12) {
      return { op: "createExcl", path: this.any(undefined, 0.3), len: len(), data: data() };
    }
    if (w < 24) {
      const offset = this.chance(0.2) ? 50_000 + this.int(100_000) : this.int(20_000);
      return { op: "write", path: this.any("file"), offset, len: 1 + this.int(4000), data: data() };
    }
    if (w < 30) {
      const n = this.chance(0.2) ? 0 : this.chance(0.5) ? this.int(5000) : this.int(80_000);
      return { op: "truncate", path: this.any("file"), len: n };
    }
    if (w < 36) {
      return { op: "append", path: this.any("file"), len: 1 + this.int(2000), data: data() };
    }
    if (w < 42) return { op: "read", path: this.any("file") };
    if (w < 50) return { op: "mkdir", path: this.any("dir", 0.15) };
    if (w < 54) return { op: "rmdir", path: this.any("dir", 0.85) };
    if (w < 60) return { op: "unlink", path: this.any("file", 0.85) };
    if (w < 72) return this.rename();
    if (w < 77) return { op: "link", path: this.any("file", 0.9), to: this.any(undefined, 0.2) };
    if (w < 82) {
      const path = this.any(undefined, 0.15);
      return { op: "symlink", path, target: this.symlinkTarget(path) };
    }
    if (w < 87) {
      const path = this.any();
      // Modes that keep u=rwx unless the path is known to be a file, so a
      // stale model never locks a non-root caller out of a directory.
      const modes = this.model.get(path) === "file" ? FILE_MODES : DIR_MODES;
      return { op: "chmod", path, mode: this.pick(modes) };
    }
    if (w < 91) {
      const t = (): [number, number] => [1_000_000_000 + this.int(700_000_000), this.int(1e9)];
      return {
        op: "utimens",
        path: this.any(),
        atime: t(),
        mtime: t(),
        nofollow: this.chance(0.3),
      };
    }
    if (w < 96) return { op: "readdir", path: this.chance(0.2) ? "" : this.any("dir") };
    if (w < 99) return { op: "lstat", path: this.any() };
    return { op: "readlink", path: this.any("symlink") };
  }

  rename(): Op {
    const path = this.any(this.chance(0.5) ? "dir" : undefined, 0.9);
    const roll = this.r();
    let to: string;
    if (roll < 0.35) to = this.any(undefined, 1); // over an existing path
    else if (roll < 0.45 && this.model.get(path) === "dir") {
      // into its own subtree (EINVAL)
      const inside = this.paths("dir").filter((p) => p.startsWith(path + "/"));
      to = join(inside.length > 0 && this.chance(0.5) ? this.pick(inside) : path, this.pick(NAMES));
    } else if (roll < 0.5) to = path;
    else to = this.fresh();
    return { op: "rename", path, to };
  }

  /** Updates the model after `op` succeeded on side A (a best guess; see the module doc). */
  applied(op: Op): void {
    const m = this.model;
    switch (op.op) {
      case "create":
      case "createExcl":
      case "append":
        if (!m.has(op.path)) m.set(op.path, "file");
        break;
      case "mkdir":
        m.set(op.path, "dir");
        break;
      case "symlink":
        m.set(op.path, "symlink");
        break;
      case "link":
        m.set(op.to, "file");
        break;
      case "rmdir":
      case "unlink":
        m.delete(op.path);
        break;
      case "rename": {
        if (op.path === op.to) break;
        const moved: [string, Kind][] = [];
        for (const p of [...m.keys()]) {
          if (p === op.to || p.startsWith(op.to + "/")) m.delete(p);
        }
        for (const [p, k] of m) {
          if (p === op.path || p.startsWith(op.path + "/")) {
            moved.push([op.to + p.slice(op.path.length), k]);
            m.delete(p);
          }
        }
        for (const [p, k] of moved) m.set(p, k);
        break;
      }
      default:
        break;
    }
  }
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await f.write(data.subarray(off));
}

function kindOf(info: { isFile: boolean; isDirectory: boolean; isSymlink: boolean }): string {
  return info.isSymlink ? "symlink" : info.isDirectory ? "dir" : info.isFile ? "file" : "other";
}

/** Applies `op` under `root`; returns "ok[:result]" or the errno name. */
async function apply(root: string, op: Op, px: Posix): Promise<string> {
  const p = op.path === "" ? root : `${root}/${op.path}`;
  try {
    switch (op.op) {
      case "create":
        await Deno.writeFile(p, bytes(op.len, op.data));
        return "ok";
      case "createExcl": {
        const f = await Deno.open(p, { write: true, createNew: true });
        try {
          await writeAll(f, bytes(op.len, op.data));
        } finally {
          f.close();
        }
        return "ok";
      }
      case "append":
        await Deno.writeFile(p, bytes(op.len, op.data), { append: true });
        return "ok";
      case "write": {
        const f = await Deno.open(p, { write: true });
        try {
          await f.seek(op.offset, Deno.SeekMode.Start);
          await writeAll(f, bytes(op.len, op.data));
        } finally {
          f.close();
        }
        return "ok";
      }
      case "truncate":
        await Deno.truncate(p, op.len);
        return "ok";
      case "read": {
        const data = await Deno.readFile(p);
        return `ok:${data.length}:${sha(data).slice(0, 16)}`;
      }
      case "mkdir":
        await Deno.mkdir(p);
        return "ok";
      case "rmdir":
        await px.rmdir(p);
        return "ok";
      case "unlink":
        await px.unlink(p);
        return "ok";
      case "rename":
        await Deno.rename(p, `${root}/${op.to}`);
        return "ok";
      case "link":
        await Deno.link(p, `${root}/${op.to}`);
        return "ok";
      case "symlink":
        await Deno.symlink(op.target, p);
        return "ok";
      case "chmod":
        await Deno.chmod(p, op.mode);
        return "ok";
      case "utimens": {
        const [as, an] = op.atime;
        const [ms, mn] = op.mtime;
        await px.utimens(p, { sec: as, nsec: an }, { sec: ms, nsec: mn }, op.nofollow);
        const st = await px.statx(p, op.nofollow);
        return `ok:${st.atime.sec}.${st.atime.nsec}:${st.mtime.sec}.${st.mtime.nsec}`;
      }
      case "readdir": {
        const names: string[] = [];
        for await (const e of Deno.readDir(p)) names.push(`${e.name}:${kindOf(e)}`);
        return `ok:${names.sort().join(",")}`;
      }
      case "lstat": {
        const st = await Deno.lstat(p);
        const kind = kindOf(st);
        const size = kind === "dir" ? "" : String(st.size);
        const nlink = kind === "file" ? String(st.nlink) : "";
        const mode = kind === "symlink" ? "" : (st.mode! & 0o7777).toString(8);
        return `ok:${kind}:${size}:${mode}:${nlink}`;
      }
      case "readlink":
        return `ok:${await Deno.readLink(p)}`;
    }
  } catch (e) {
    return errCode(e);
  }
}

/** What the final comparison records per path. */
interface TreeEntry {
  path: string;
  kind: string;
  mode?: string;
  size?: number;
  sha256?: string;
  nlink?: number;
  /** First path (in walk order) of this file's inode: equal groups mean equal hard links. */
  linkGroup?: string;
  target?: string;
  listing?: string;
}

async function snapshot(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const groups = new Map<number, string>();
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === "" ? root : `${root}/${rel}`;
    const names: string[] = [];
    for await (const e of Deno.readDir(abs)) names.push(e.name);
    names.sort();
    const st = await Deno.lstat(abs);
    out.push({
      path: rel,
      kind: "dir",
      mode: (st.mode! & 0o7777).toString(8),
      listing: names.join("/"),
    });
    for (const name of names) {
      const path = join(rel, name);
      const full = `${root}/${path}`;
      const s = await Deno.lstat(full);
      if (s.isDirectory) {
        await walk(path);
      } else if (s.isSymlink) {
        out.push({ path, kind: "symlink", target: await Deno.readLink(full) });
      } else {
        const data = s.isFile ? await Deno.readFile(full) : new Uint8Array();
        const ino = s.ino ?? -1;
        if (!groups.has(ino)) groups.set(ino, path);
        out.push({
          path,
          kind: kindOf(s),
          mode: (s.mode! & 0o7777).toString(8),
          size: s.size,
          sha256: sha(data),
          nlink: s.nlink ?? -1,
          linkGroup: groups.get(ino)!,
        });
      }
    }
  };
  await walk("");
  return out;
}

/**
 * Runs `opts.ops` seeded random operations on `opts.a` and `opts.b` in
 * lockstep and compares every outcome and, at the end, both whole trees.
 * Rejects with a message holding the seed on the first difference.
 */
export async function differential(opts: DifferentialOptions): Promise<void> {
  const { a, b, seed } = opts;
  const label = opts.label === undefined ? "" : ` ${opts.label}`;
  const where = `differential${label}, seed ${seed} (rerun with VIBE_TEST_SEED=${seed})`;
  const gen = new Generator(prng(seed));
  const recent: string[] = [];
  const px = Posix.open();
  try {
    gen.model = await scan(a);
    for (let step = 0; step < opts.ops; step++) {
      if (step > 0 && step % RESYNC_EVERY === 0) gen.model = await scan(a);
      const op = gen.next();
      const [oa, ob] = await Promise.all([apply(a, op, px), apply(b, op, px)]);
      recent.push(`${step}: ${JSON.stringify(op)} -> ${oa}`);
      if (recent.length > 8) recent.shift();
      if (oa !== ob) {
        throw new Error(
          `${where}: step ${step} ${JSON.stringify(op)} gave a: ${oa}, b: ${ob}\n` +
            `recent steps (side a):\n  ${recent.join("\n  ")}`,
        );
      }
      if (oa.startsWith("ok")) gen.applied(op);
    }
    const [ta, tb] = await Promise.all([snapshot(a), snapshot(b)]);
    const n = Math.max(ta.length, tb.length);
    for (let i = 0; i < n; i++) {
      const ea = JSON.stringify(ta[i] ?? null);
      const eb = JSON.stringify(tb[i] ?? null);
      if (ea !== eb) {
        throw new Error(
          `${where}: trees differ after ${opts.ops} ops at entry ${i}:\n  a: ${ea}\n  b: ${eb}`,
        );
      }
    }
  } catch (e) {
    console.error(`${where} failed`);
    throw e;
  } finally {
    px.close();
  }
}
