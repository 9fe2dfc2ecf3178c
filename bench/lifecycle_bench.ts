/**
 * Whole-process lifecycle benchmarks, each beside a baseline measured in the
 * same run (these machines are noisy; ratios are what we report):
 * - `vibe init` vs `git ls-tree -r HEAD` (wall time, peak RSS)
 * - `vibe spawn --no-mount` (median) on a small and a large repo, beside
 *   `git worktree add`
 * - `vibe promote` of 50 changed files in a large vs a small repo
 * - disk used by a fresh vibe
 *
 *   deno run -A bench/lifecycle_bench.ts [--files 100000] [--small 1000] [--json]
 */
import { generateRepo } from "./gen_repo.ts";
import { BENCH_ENV as ENV, MAIN, median, run } from "./common.ts";

interface Timed {
  ms: number;
  maxRssKiB: number;
  code: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time for wall time and peak RSS. */
async function timed(cmd: string, args: string[], cwd: string, stdin?: string): Promise<Timed> {
  const t0 = performance.now();
  const p = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", cmd, ...args],
    cwd,
    env: ENV,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await p.output();
  const ms = performance.now() - t0;
  const err = new TextDecoder().decode(o.stderr).trim().split("\n");
  return {
    ms,
    maxRssKiB: Number(err[err.length - 1]),
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
  };
}

const vibe = (cwd: string, ...args: string[]) =>
  timed(Deno.execPath(), ["run", "-A", MAIN, ...args], cwd);

async function repoOf(files: number): Promise<string> {
  const dir = `/tmp/vibe-bench-repos/lifecycle-${files}`;
  try {
    await Deno.stat(`${dir}/.git/HEAD`);
  } catch {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    await generateRepo(dir, { files, dirs: Math.max(10, Math.round(files / 20)), checkout: false });
  }
  // A fresh .vibe and no stale vibes or worktrees for each run.
  await Deno.remove(`${dir}/.vibe`, { recursive: true }).catch(() => {});
  await run(dir, "git", "worktree", "prune");
  for (
    const ref of (await run(dir, "git", "for-each-ref", "--format=%(refname)", "refs/vibes")).split(
      "\n",
    )
  ) {
    if (ref) await run(dir, "git", "update-ref", "-d", ref);
  }
  return dir;
}

export interface LifecycleFigures {
  files: { large: number; small: number };
  init: { vibeMs: number; lsTreeMs: number; ratio: number; vibeRssMiB: number };
  spawn: { largeMedianMs: number; smallMedianMs: number; worktreeAddMedianMs: number };
  promote50: { largeMs: number; smallMs: number; ratio: number };
  freshVibeDiskKiB: number;
}

async function changeFiles(dir: string, id: string, n: number, salt = 0): Promise<void> {
  // Changes go through the Vfs in-process (no mount needed).
  const { Project } = await import("../src/project/project.ts");
  const { listTree, writeFile } = await import("../src/vfs/path_ops.ts");
  const p = await Project.open(dir);
  try {
    const ws = p.workspace(id);
    const all = await listTree(ws, "");
    const step = Math.max(1, Math.floor(all.length / n));
    let done = 0;
    for (let i = 0; i < all.length && done < n; i += step) {
      try {
        await writeFile(ws, all[i]!, `changed ${i} in round ${salt}\n`, { uid: 0, gid: 0 });
        done++;
      } catch { /* a symlink: not writable as a file; skip */ }
    }
  } finally {
    p.close();
  }
}

export async function runLifecycleBench(
  opts: { large: number; small: number },
): Promise<LifecycleFigures> {
  const large = await repoOf(opts.large);
  const small = await repoOf(opts.small);

  // init vs ls-tree (warm: ls-tree once first so both read a warm page cache)
  await run(large, "git", "ls-tree", "-r", "HEAD");
  const ls = await timed("git", ["ls-tree", "-r", "HEAD"], large);
  const init = await vibe(large, "init");
  if (init.code !== 0) throw new Error(`vibe init failed: ${init.stdout}`);
  await vibe(small, "init");

  // spawn medians
  const spawnTimes = async (dir: string) => {
    const xs: number[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await vibe(dir, "spawn", `s${i}`, "--no-mount");
      if (r.code !== 0) throw new Error(`spawn failed in ${dir}`);
      xs.push(r.ms);
    }
    return median(xs);
  };
  const largeSpawn = await spawnTimes(large);
  const smallSpawn = await spawnTimes(small);
  const wt: number[] = [];
  for (let i = 0; i < 3; i++) {
    const path = `/tmp/vibe-bench-repos/wt-${opts.large}-${i}`;
    await Deno.remove(path, { recursive: true }).catch(() => {});
    wt.push((await timed("git", ["worktree", "add", "-q", "--detach", path], large)).ms);
    await run(large, "git", "worktree", "remove", "--force", path);
  }

  // disk of a fresh vibe: its session dir plus metadata growth
  const dbSize = async () => (await Deno.stat(`${large}/.vibe/metadata.db`)).size;
  const before = await dbSize();
  await vibe(large, "spawn", "fresh", "--no-mount");
  const du = Number(
    (await run(large, "du", "-sk", `${large}/.vibe/sessions/fresh`)).split("\t")[0],
  );
  const freshKiB = du + Math.max(0, (await dbSize()) - before) / 1024;

  // promote of 50 changed files: median over 3 vibes (each promote writes its own objects)
  const promote = async (dir: string) => {
    const xs: number[] = [];
    for (let i = 0; i < 3; i++) {
      await vibe(dir, "spawn", `p50-${i}`, "--no-mount");
      await changeFiles(dir, `p50-${i}`, 50, i);
      const r = await vibe(dir, "promote", `p50-${i}`);
      if (r.code !== 0) throw new Error(`promote failed: ${r.stdout}`);
      xs.push(r.ms);
    }
    return median(xs);
  };
  const pl = await promote(large);
  const ps = await promote(small);

  return {
    files: { large: opts.large, small: opts.small },
    init: {
      vibeMs: init.ms,
      lsTreeMs: ls.ms,
      ratio: init.ms / ls.ms,
      vibeRssMiB: init.maxRssKiB / 1024,
    },
    spawn: {
      largeMedianMs: largeSpawn,
      smallMedianMs: smallSpawn,
      worktreeAddMedianMs: median(wt),
    },
    promote50: { largeMs: pl, smallMs: ps, ratio: pl / ps },
    freshVibeDiskKiB: freshKiB,
  };
}

export function formatLifecycle(f: LifecycleFigures): string {
  const r = (x: number) => x.toFixed(1);
  return [
    `lifecycle (large = ${f.files.large} files, small = ${f.files.small} files)`,
    `  init (large)          ${r(f.init.vibeMs)} ms, peak ${
      r(f.init.vibeRssMiB)
    } MiB  | git ls-tree -r ${r(f.init.lsTreeMs)} ms  | ratio ${f.init.ratio.toFixed(2)}x`,
    `  spawn --no-mount      large ${r(f.spawn.largeMedianMs)} ms, small ${
      r(f.spawn.smallMedianMs)
    } ms (median of 11) | git worktree add ${r(f.spawn.worktreeAddMedianMs)} ms`,
    `  promote 50 files      large ${r(f.promote50.largeMs)} ms, small ${
      r(f.promote50.smallMs)
    } ms | ratio ${f.promote50.ratio.toFixed(2)}x`,
    `  fresh vibe disk       ${r(f.freshVibeDiskKiB)} KiB`,
  ].join("\n");
}

if (import.meta.main) {
  const arg = (name: string, dflt: number) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
  };
  const figures = await runLifecycleBench({
    large: arg("--files", 100_000),
    small: arg("--small", 1000),
  });
  console.log(formatLifecycle(figures));
  if (Deno.args.includes("--json")) console.log(JSON.stringify(figures));
}
