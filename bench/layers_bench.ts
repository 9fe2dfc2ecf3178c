/**
 * Untracked layers: spawning vibe #N of a project whose root holds a large
 * `node_modules` (50k files, 500 MB; --quick: 5k files, 50 MB) configured
 * as a copy-on-write layer, beside the two ways agents get such a
 * workspace today, all measured in the same run:
 * - vibe: `vibe spawn <id> --mount <dir>` (whole process, FUSE mount
 *   included; median of 5 spawns after `--warm` earlier vibes), then the
 *   first `require` of a package through the mount; new disk = growth of
 *   `.vibe/` (du: metadata, WAL, session directories) across the 5 spawns.
 * - `git worktree add` + `cp -a node_modules` on the same filesystem (new
 *   disk: du of the worktree).
 * - `git worktree add` + `cp -a --reflink=always node_modules` on btrfs
 *   (a loop-mounted image; the project is copied there once per run; new
 *   disk: growth of the filesystem's used blocks, since du counts shared
 *   extents in full).
 *
 * The synthetic node_modules is cached in /tmp/vibe-bench-layers/ between
 * runs (like bench/gen_repo.ts caches repos).
 *
 *   deno run -A bench/layers_bench.ts [--quick] [--json]
 */
import { fsSpace } from "../ffi/statfs.ts";
import { MAIN, median, run } from "./common.ts";
import { loopFsUnavailable, withLoopFs } from "../tests/helpers/loop_fs.ts";

async function timedMs(cwd: string, cmd: string, ...args: string[]): Promise<number> {
  const t0 = performance.now();
  await run(cwd, cmd, ...args);
  return performance.now() - t0;
}

const vibeArgs = (...args: string[]) => ["run", "-A", MAIN, ...args];

/** Used bytes of the filesystem holding `path`, after flushing. */
async function usedBytes(path: string): Promise<number> {
  await run("/", "sync", "-f", path);
  const s = fsSpace(path);
  if (!s) return 0;
  return (s.totalBlocks - s.freeBlocks) * s.blockSize;
}

/** Allocated bytes below `path` (du), after flushing. */
async function duBytes(path: string): Promise<number> {
  await run("/", "sync", "-f", path);
  return Number((await run("/", "du", "-s", "-B1", path)).split("\t")[0]);
}

/** Deterministic file sizes that sum to about `bytes` over `files` files. */
function sizesFor(files: number, bytes: number): number[] {
  let a = 12345;
  const rnd = () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
  const raw = Array.from({ length: files }, () => Math.pow(rnd(), 3) + 0.02);
  const sum = raw.reduce((s, x) => s + x, 0);
  return raw.map((x) => Math.max(16, Math.round((x / sum) * bytes)));
}

/** A node_modules-shaped tree: packages of ~25 files in lib/, dist/, package.json. */
async function generateNodeModules(dir: string, files: number, bytes: number): Promise<void> {
  const sizes = sizesFor(files, bytes);
  const noise = new Uint8Array(1 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = 32 + ((i * 2654435761) >>> 24) % 90;
  const perPkg = 25;
  let f = 0;
  for (let p = 0; f < files; p++) {
    const pkg = `${dir}/pkg-${p}`;
    await Deno.mkdir(`${pkg}/lib`, { recursive: true });
    await Deno.mkdir(`${pkg}/dist`, { recursive: true });
    await Deno.writeTextFile(
      `${pkg}/package.json`,
      JSON.stringify({ name: `pkg-${p}`, version: "1.0.0", main: "lib/index.js" }),
    );
    await Deno.writeTextFile(`${pkg}/lib/index.js`, `module.exports = ${p};\n`);
    f += 2;
    for (let k = 2; k < perPkg && f < files; k++, f++) {
      const size = sizes[f]!;
      const out = new Uint8Array(size);
      for (let off = 0; off < size; off += noise.length) {
        out.set(noise.subarray(0, Math.min(noise.length, size - off)), off);
      }
      out[0] = p & 0xff; // distinct heads, so no two files are identical
      out[1] = k;
      await Deno.writeFile(`${pkg}/${k % 2 ? "lib" : "dist"}/f${k}.js`, out);
    }
  }
}

/** The cached project: a small git repo with a gitignored node_modules in its root. */
async function projectOf(files: number, bytes: number): Promise<string> {
  const base = `/tmp/vibe-bench-layers/${files}`;
  const dir = `${base}/project`;
  try {
    await Deno.stat(`${base}/ready`);
  } catch {
    await Deno.remove(base, { recursive: true }).catch(() => {});
    await Deno.mkdir(`${dir}/src`, { recursive: true });
    await run(dir, "git", "init", "-q", "-b", "main");
    for (let i = 0; i < 50; i++) await Deno.writeTextFile(`${dir}/src/m${i}.js`, `// ${i}\n`);
    await Deno.writeTextFile(`${dir}/.gitignore`, "node_modules/\n");
    await Deno.writeTextFile(`${dir}/package.json`, '{"name":"bench","version":"1.0.0"}\n');
    await run(dir, "git", "add", "-A");
    await run(dir, "git", "commit", "-q", "-m", "bench project");
    await generateNodeModules(`${dir}/node_modules`, files, bytes);
    await Deno.writeTextFile(`${base}/ready`, new Date().toISOString());
  }
  return dir;
}

async function resetProject(dir: string): Promise<void> {
  await new Deno.Command(Deno.execPath(), { args: vibeArgs("daemon", "stop"), cwd: dir })
    .output().catch(() => {});
  await Deno.remove(`${dir}/.vibe`, { recursive: true }).catch(() => {});
  await run(dir, "git", "worktree", "prune");
}

export interface LayersFigures {
  files: number;
  bytes: number;
  warmVibes: number;
  vibe: {
    spawnMedianMs: number;
    spawnMs: number[];
    newDiskBytesPerVibe: number;
    firstRequireMs: number;
  };
  worktreeCopy: { ms: number; newDiskBytes: number };
  btrfsReflink: { ms: number; newDiskBytes: number } | { skipped: string };
}

export async function runLayersBench(
  opts: { files: number; bytes: number; warm?: number },
): Promise<LayersFigures> {
  const dir = await projectOf(opts.files, opts.bytes);
  const mnt = await Deno.makeTempDir({ prefix: "vibe-bench-layers-mnt-" });
  await resetProject(dir);
  const warm = opts.warm ?? 4;
  const spawnMs: number[] = [];
  let perVibe = 0;
  let firstRequireMs = 0;
  try {
    await run(dir, Deno.execPath(), ...vibeArgs("init"));
    await Deno.writeTextFile(
      `${dir}/.vibe/config.json`,
      JSON.stringify({ layers: [{ path: "node_modules", mode: "copy-on-write" }] }),
    );
    for (let i = 0; i < warm; i++) {
      await run(dir, Deno.execPath(), ...vibeArgs("spawn", `w${i}`, "--mount", `${mnt}/w${i}`));
    }
    const before = await duBytes(`${dir}/.vibe`);
    for (let i = 0; i < 5; i++) {
      spawnMs.push(
        await timedMs(
          dir,
          Deno.execPath(),
          ...vibeArgs("spawn", `n${i}`, "--mount", `${mnt}/n${i}`),
        ),
      );
    }
    perVibe = Math.max(0, (await duBytes(`${dir}/.vibe`)) - before) / 5;
    firstRequireMs = await timedMs(
      `${mnt}/n0`,
      "node",
      "-e",
      `require("pkg-${Math.floor(opts.files / 50)}"); require("pkg-1")`,
    );
  } finally {
    await resetProject(dir);
    await Deno.remove(mnt, { recursive: true }).catch(() => {});
  }

  // Baseline 1: a worktree plus a real copy of node_modules, same filesystem.
  const wt = `/tmp/vibe-bench-layers/${opts.files}/wt`;
  await Deno.remove(wt, { recursive: true }).catch(() => {});
  const wtMs = await timedMs(dir, "git", "worktree", "add", "-q", "--detach", wt) +
    await timedMs(dir, "cp", "-a", `${dir}/node_modules`, `${wt}/node_modules`);
  const wtDisk = await duBytes(wt);
  await run(dir, "git", "worktree", "remove", "--force", wt);
  await run(dir, "git", "worktree", "prune");

  // Baseline 2: the same on btrfs with reflinks.
  let btrfs: LayersFigures["btrfsReflink"];
  const skip = loopFsUnavailable("btrfs");
  if (skip) {
    btrfs = { skipped: skip };
  } else {
    const sizeMiB = Math.max(512, Math.ceil((opts.bytes * 2.5) / (1 << 20)) + 256);
    btrfs = await withLoopFs("btrfs", async (m) => {
      const p = `${m}/project`;
      await run("/", "cp", "-a", dir, p);
      const before = await usedBytes(m);
      const ms = await timedMs(p, "git", "worktree", "add", "-q", "--detach", `${m}/wt`) +
        await timedMs(
          p,
          "cp",
          "-a",
          "--reflink=always",
          `${p}/node_modules`,
          `${m}/wt/node_modules`,
        );
      await run("/", "btrfs", "filesystem", "sync", m);
      return { ms, newDiskBytes: Math.max(0, (await usedBytes(m)) - before) };
    }, sizeMiB);
  }
  return {
    files: opts.files,
    bytes: opts.bytes,
    warmVibes: warm,
    vibe: { spawnMedianMs: median(spawnMs), spawnMs, newDiskBytesPerVibe: perVibe, firstRequireMs },
    worktreeCopy: { ms: wtMs, newDiskBytes: wtDisk },
    btrfsReflink: btrfs,
  };
}

const mib = (b: number) => `${(b / (1 << 20)).toFixed(b < 1 << 20 ? 3 : 1)} MiB`;

export function formatLayersBench(f: LayersFigures): string {
  const rows = [
    `Untracked layers: spawn vibe #${f.warmVibes + 1}+ with a ${f.files}-file, ${
      mib(f.bytes)
    } node_modules (copy-on-write layer)`,
    "",
    "| what | time | new disk | vs vibe |",
    "| --- | --- | --- | --- |",
    `| vibe spawn --mount (median of 5) | ${f.vibe.spawnMedianMs.toFixed(0)} ms | ${
      mib(f.vibe.newDiskBytesPerVibe)
    } | 1× |`,
    `| git worktree add + cp -a node_modules | ${f.worktreeCopy.ms.toFixed(0)} ms | ${
      mib(f.worktreeCopy.newDiskBytes)
    } | ${(f.worktreeCopy.ms / f.vibe.spawnMedianMs).toFixed(0)}× slower |`,
  ];
  if ("skipped" in f.btrfsReflink) {
    rows.push(
      `| git worktree add + cp --reflink (btrfs) | skipped: ${f.btrfsReflink.skipped} | | |`,
    );
  } else {
    rows.push(
      `| git worktree add + cp --reflink (btrfs) | ${f.btrfsReflink.ms.toFixed(0)} ms | ${
        mib(f.btrfsReflink.newDiskBytes)
      } | ${(f.btrfsReflink.ms / f.vibe.spawnMedianMs).toFixed(0)}× slower |`,
    );
  }
  rows.push(
    "",
    `first require() of two packages through the new mount: ${
      f.vibe.firstRequireMs.toFixed(0)
    } ms ` +
      `(node start included); targets: spawn ≤ 150 ms, ≤ 1 MiB new disk`,
  );
  return rows.join("\n");
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const f = await runLayersBench(
    quick ? { files: 5_000, bytes: 50 << 20 } : { files: 50_000, bytes: 500 << 20 },
  );
  if (Deno.args.includes("--json")) console.log(JSON.stringify(f, null, 2));
  else console.log(formatLayersBench(f));
}
