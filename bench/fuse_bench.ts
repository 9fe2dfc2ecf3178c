/**
 * FUSE-mounted vibes against native ext4, both measured in the same run
 * (issue 3, "Performance"). Drives the real CLI (`vibe init`, `vibe spawn
 * <id> --mount <path>`, `vibe mount`, `vibe daemon stop|status`), so the daemon runs
 * in its own process; this process only reads and writes through the mounts
 * and never serves one.
 *
 * 1. spawn until mounted and readable (CLI wall time + first stat and read
 *    of a file), median of 11, on a small and a large repo, beside
 *    `git worktree add` (median of 3)
 * 2. `dd bs=1M` of a clean 256 MiB pseudo-random blob: first read after
 *    drop_caches, warm re-read; the same file in a native checkout
 * 3. `find -type f -exec cat` of every file of a 20k-file tree, cold
 *    (drop_caches; the daemon restarted, so its caches are cold too)
 * 4. `find . -type f | wc -l` over 100k files, warm (once, then median of 3)
 * 5. a shell loop creating 10k small files, then `rm -rf` of them (the vibe's
 *    project, and so its delta files and metadata, on the same loop ext4 as
 *    the native directory)
 * 6. the daemon's RSS with 100 idle mounted vibes of the 10k repo
 *
 * Native baselines (git worktrees, the create/remove dir) live on a
 * loop-mounted ext4 image (`losetup --direct-io=on`, so the image's backing
 * file is not cached twice), detached at the end: the root ext4 here has no
 * journal, and creating many files within ~30 s of deleting many there is
 * 5–9x slower, so no phase runs right after a heavy delete on it. Repos are
 * generated once and cached under /tmp/vibe-bench-repos/fuse-*; their
 * `.vibe` is recreated each run. Needs root and /dev/fuse.
 *
 *   deno run -A bench/fuse_bench.ts [--files 100000] [--quick] [--json]
 */
import { generateRepo } from "./gen_repo.ts";
import { BENCH_ENV, MAIN, median } from "./common.ts";
import { type LoopMount, mountLoopFs } from "../tests/helpers/loop_fs.ts";
import { cleanupDaemon, fuseUnavailable, mountPoints } from "../tests/helpers/vibe_cli.ts";

const REPOS = "/tmp/vibe-bench-repos";
const ENV = { ...BENCH_ENV, LC_ALL: "C", NO_COLOR: "1" };
/** Creating many files sooner than this after deleting many is slow on the root ext4. */
const SETTLE_MS = 30_000;

export interface FuseBenchOptions {
  /** Files of the large repo (spawn, find); default 100k, 10k with `quick`. */
  files?: number;
  /** Smaller sizes (1k/10k repos, 5k tree, 64 MiB file, 20 vibes): under a minute. */
  quick?: boolean;
  /** Progress lines (to stderr); default none. */
  log?: (msg: string) => void;
}

export interface SpawnFigures {
  files: number;
  /** `vibe spawn --mount` process wall time, median of `runs`. */
  cliMedianMs: number;
  /** CLI wall time plus the first `stat` and read of a file in the mount, median. */
  readyMedianMs: number;
  worktreeAddMedianMs: number;
  runs: number;
}

export interface Check {
  name: string;
  target: string;
  measured: string;
  /** Ratio to the baseline the target is stated against (vibe / native), or null. */
  ratio: number | null;
  met: boolean;
}

/** Every figure of one run; milliseconds and MiB/s unless named otherwise. */
export interface FuseBenchFigures {
  date: string;
  quick: boolean;
  /** `echo 3 > /proc/sys/vm/drop_caches` before each cold measurement (needs root). */
  dropCaches: boolean;
  /** The first spawn of the run, which also starts the daemon. */
  firstSpawnMs: number;
  spawn: SpawnFigures[];
  seqRead: {
    mib: number;
    /** First read ever: the daemon inflates the blob into its cache (page cache dropped first). */
    vibeFirstMiBps: number;
    /** After drop_caches again, the inflated blob cached on disk. */
    vibeColdMiBps: number;
    vibeWarmMiBps: number;
    nativeColdMiBps: number;
    nativeWarmMiBps: number;
  };
  treeRead: { files: number; runs: number; vibeMs: number; nativeMs: number; ratio: number };
  find: {
    vibeCount: number;
    nativeCount: number;
    vibeMs: number;
    nativeMs: number;
    ratio: number;
  };
  createRemove: {
    files: number;
    vibe: { createMs: number; removeMs: number };
    native: { createMs: number; removeMs: number };
    ratio: number;
  };
  memory: {
    vibes: number;
    repoFiles: number;
    /** `rssBytes` from `vibe daemon status --json`, in MiB. */
    rssMiB: number;
    /** VmRSS and VmHWM of the daemon from /proc, in MiB. */
    vmRssMiB: number;
    vmHwmMiB: number;
    /** RSS growth per added idle vibe, KiB. */
    perVibeKiB: number;
  };
  /** FUSE requests by opcode seen by the mount during phases 3–5 (for diagnosis). */
  requests: {
    treeRead: Record<string, number>;
    find: Record<string, number>;
    createRemove: Record<string, number>;
  };
  checks: Check[];
}

// ---- processes -----------------------------------------------------------

interface Out {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(cmd: string, args: string[], cwd: string): Promise<Out> {
  const t0 = performance.now();
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    env: ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  const d = new TextDecoder();
  return { ms, code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

async function ok(cmd: string, args: string[], cwd = "/"): Promise<Out> {
  const o = await exec(cmd, args, cwd);
  if (o.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) exited ${o.code}: ${o.stderr}${o.stdout}`,
    );
  }
  return o;
}

const vibe = (repo: string, ...args: string[]) =>
  ok(Deno.execPath(), ["run", "-A", MAIN, ...args], repo);
const git = (repo: string, ...args: string[]) => ok("git", args, repo);
const shell = (cwd: string, script: string) => ok("sh", ["-c", script], cwd);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dropCaches(): Promise<void> {
  await ok("sync", []);
  await Deno.writeTextFile("/proc/sys/vm/drop_caches", "3\n");
}

/** MiB/s of `dd if=<file> of=/dev/null bs=1M`, from dd's own timing. */
async function ddMiBps(file: string): Promise<number> {
  const o = await ok("dd", [`if=${file}`, "of=/dev/null", "bs=1M"]);
  const m = /^(\d+) bytes .* copied, ([\d.e+-]+) s/m.exec(o.stderr);
  if (!m) throw new Error(`Cannot parse dd's output: ${o.stderr}`);
  return Number(m[1]) / 1048576 / Number(m[2]);
}

// ---- repositories --------------------------------------------------------

/** A cached generated repo (no work tree), with a fresh `.vibe` and no worktrees or vibe refs. */
async function repoOf(files: number, fresh: () => void): Promise<string> {
  const dir = `${REPOS}/fuse-${files}`;
  try {
    await Deno.stat(`${dir}/.git/HEAD`);
  } catch {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    await generateRepo(dir, { files, dirs: Math.max(10, Math.round(files / 20)), checkout: false });
  }
  await resetRepo(dir, fresh);
  return dir;
}

/**
 * A repo whose HEAD has one `mib` MiB pseudo-random file, `big.bin` (packed,
 * as a clone would have it), and a README.
 */
async function bigRepoOf(mib: number, fresh: () => void): Promise<string> {
  const dir = `${REPOS}/fuse-big-${mib}`;
  try {
    await Deno.stat(`${dir}/.git/refs/heads/main`);
  } catch {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    await git(dir, "init", "-q", "-b", "main");
    const tmp = `${dir}/.git/big.tmp`;
    await Deno.writeFile(tmp, pseudoRandom(mib * 1048576, 7));
    const big = (await git(dir, "hash-object", "-w", tmp)).stdout.trim();
    await Deno.remove(tmp);
    const readmeFile = `${dir}/.git/readme.tmp`;
    await Deno.writeTextFile(readmeFile, `# ${mib} MiB of pseudo-random bytes\n`);
    const readme = (await git(dir, "hash-object", "-w", readmeFile)).stdout.trim();
    await Deno.remove(readmeFile);
    await git(dir, "update-index", "--add", "--cacheinfo", `100644,${big},big.bin`);
    await git(dir, "update-index", "--add", "--cacheinfo", `100644,${readme},README.md`);
    await git(dir, "commit", "-q", "-m", `One ${mib} MiB file`);
    await git(dir, "repack", "-adq");
    // The index was only a staging area: the repo has no work tree files.
    await Deno.remove(`${dir}/.git/index`);
  }
  await resetRepo(dir, fresh);
  return dir;
}

/** xorshift32 bytes: incompressible, deterministic, fast. */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  const v = new Uint32Array(b.buffer, 0, n >> 2);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    v[i] = s >>> 0;
  }
  return b;
}

async function resetRepo(dir: string, fresh: () => void): Promise<void> {
  try {
    await Deno.stat(`${dir}/.vibe`);
    await cleanupDaemon(dir, "/nonexistent/");
    await Deno.remove(`${dir}/.vibe`, { recursive: true });
    fresh();
  } catch { /* no .vibe */ }
  await git(dir, "worktree", "prune");
  const refs = (await git(dir, "for-each-ref", "--format=%(refname)", "refs/vibes")).stdout;
  for (const ref of refs.split("\n")) if (ref) await git(dir, "update-ref", "-d", ref);
}

/** Path of the first regular file in HEAD (to probe readiness). */
async function firstFile(repo: string): Promise<string> {
  const out = (await git(repo, "ls-tree", "-r", "HEAD")).stdout;
  const m = /^100644 blob [0-9a-f]+\t(.+)$/m.exec(out);
  if (!m) throw new Error(`No regular file in HEAD of ${repo}`);
  return m[1]!;
}

// ---- daemon helpers --------------------------------------------------------

interface DaemonStatus {
  running: boolean;
  pid: number;
  rssBytes: number;
  mounts: {
    id: string;
    path: string;
    stats: { requests: number; byOpcode: Record<string, number> };
  }[];
}

async function daemonStatus(repo: string): Promise<DaemonStatus> {
  return JSON.parse((await vibe(repo, "daemon", "status", "--json")).stdout) as DaemonStatus;
}

async function opcodes(repo: string, id: string): Promise<Record<string, number>> {
  const m = (await daemonStatus(repo)).mounts.find((x) => x.id === id);
  return { ...(m?.stats.byOpcode ?? {}) };
}

function diffCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

function procStatusKiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return m ? Number(m[1]) : NaN;
}

// ---- the benchmark ----------------------------------------------------------

/** Why this benchmark cannot run here, or null when it can. */
export function fuseBenchUnavailable(): string | null {
  return fuseUnavailable();
}

/**
 * Runs every phase once and returns the figures. Every daemon it started is
 * stopped, every mount it made detached and the loop image removed before
 * it returns or throws.
 */
export async function runFuseBench(opts: FuseBenchOptions = {}): Promise<FuseBenchFigures> {
  const why = fuseBenchUnavailable();
  if (why) throw new Error(`Cannot run the FUSE benchmark: ${why}`);
  const quick = opts.quick ?? false;
  const log = opts.log ?? (() => {});
  const size = quick
    ? { small: 1000, large: opts.files ?? 10_000, tree: 5000, mib: 64, vibes: 20, create: 10_000 }
    : {
      small: 10_000,
      large: opts.files ?? 100_000,
      tree: 20_000,
      mib: 256,
      vibes: 100,
      create: 10_000,
    };
  const coldRuns = quick ? 1 : 3;
  const spawnRuns = 11;
  const worktreeRuns = 3;

  let lastRootDelete = 0;
  const deleted = () => (lastRootDelete = Date.now());
  /** Waits until no heavy delete on the root ext4 happened in the last SETTLE_MS. */
  const settle = async () => {
    const wait = lastRootDelete + SETTLE_MS - Date.now();
    if (wait > 0) {
      log(`waiting ${(wait / 1000).toFixed(0)} s after deletes on the root filesystem`);
      await sleep(wait);
    }
  };

  const mntRoot = await Deno.makeTempDir({ prefix: "vibe-bench-mnt-" });
  /** The native side's filesystem (a journaled loop ext4), once made. */
  let loop: LoopMount | null = null;
  /** Each repo with its own mount root below mntRoot: cleaning one up leaves the others. */
  const repos: [string, string][] = [];
  /** The create/remove project, on the loop filesystem (its daemon must stop before that goes). */
  let crRepo: string | null = null;
  let succeeded = false;
  try {
    log("preparing repositories");
    const small = await repoOf(size.small, deleted);
    const large = await repoOf(size.large, deleted);
    const tree = await repoOf(size.tree, deleted);
    const big = await bigRepoOf(size.mib, deleted);
    repos.push([small, "s"], [large, "l"], [tree, "t"], [big, "b"]);
    const memRepo = quick ? large : small;
    for (const [r] of repos) await vibe(r, "init");

    const inodes = Math.round(
      ((size.small + size.large) * worktreeRuns + size.tree + size.create) * 1.15 + 10_000,
    );
    const blobMiB = Math.ceil(
      ((size.small + size.large) * worktreeRuns + size.tree + size.create) * 6 / 1024,
    );
    loop = await mountLoopFs("ext4", {
      sizeMiB: Math.max(1024, blobMiB + size.mib + 512),
      inodes,
      directIo: true,
    });
    const native = loop.mnt;

    // 1. spawn until mounted and readable, beside git worktree add
    const spawn: SpawnFigures[] = [];
    let firstSpawnMs = 0;
    for (
      const [tag, repo, files] of [["s", small, size.small], ["l", large, size.large]] as const
    ) {
      log(`spawn: ${files} files`);
      const probe = await firstFile(repo);
      const first = await vibe(repo, "spawn", "w0", "--mount", `${mntRoot}/${tag}/w0`);
      if (tag === "s") firstSpawnMs = first.ms;
      const cli: number[] = [];
      const ready: number[] = [];
      for (let i = 0; i < spawnRuns; i++) {
        const path = `${mntRoot}/${tag}/s${i}`;
        const r = await vibe(repo, "spawn", `s${i}`, "--mount", path);
        const t1 = performance.now();
        await Deno.stat(`${path}/${probe}`);
        await Deno.readFile(`${path}/${probe}`);
        cli.push(r.ms);
        ready.push(r.ms + performance.now() - t1);
      }
      const wt: number[] = [];
      for (let i = 0; i < worktreeRuns; i++) {
        wt.push(
          (await git(repo, "worktree", "add", "-q", "--detach", `${native}/${tag}-wt${i}`)).ms,
        );
      }
      spawn.push({
        files,
        cliMedianMs: median(cli),
        readyMedianMs: median(ready),
        worktreeAddMedianMs: median(wt),
        runs: spawnRuns,
      });
    }

    // 2. sequential read of a clean big file
    log(`sequential read: ${size.mib} MiB`);
    await git(big, "worktree", "add", "-q", "--detach", `${native}/big`);
    await vibe(big, "spawn", "b0", "--mount", `${mntRoot}/b/b0`);
    const vibeBig = `${mntRoot}/b/b0/big.bin`;
    const nativeBig = `${native}/big/big.bin`;
    await dropCaches();
    const vibeFirst = await ddMiBps(vibeBig);
    await dropCaches();
    const vibeCold = await ddMiBps(vibeBig);
    const vibeWarm: number[] = [];
    for (let i = 0; i < 3; i++) vibeWarm.push(await ddMiBps(vibeBig));
    await dropCaches();
    const nativeCold = await ddMiBps(nativeBig);
    const nativeWarm: number[] = [];
    for (let i = 0; i < 3; i++) nativeWarm.push(await ddMiBps(nativeBig));
    await cleanupDaemon(big, `${mntRoot}/b/`);

    // 3. reading every file of a tree, cold
    log(`cold read of every file: ${size.tree} files`);
    const readAll = "find . -type f -exec cat {} + > /dev/null";
    await git(tree, "worktree", "add", "-q", "--detach", `${native}/tree`);
    const treeMnt = `${mntRoot}/t/t0`;
    await vibe(tree, "spawn", "t0", "--mount", treeMnt);
    const vibeTree: number[] = [];
    const nativeTree: number[] = [];
    let treeOps: Record<string, number> = {};
    for (let i = 0; i < coldRuns; i++) {
      // A restarted daemon: its object and tree caches are as cold as the page cache.
      await vibe(tree, "daemon", "stop");
      await vibe(tree, "mount", "t0", "--mount", treeMnt);
      await dropCaches();
      const before = await opcodes(tree, "t0");
      vibeTree.push((await shell(treeMnt, readAll)).ms);
      treeOps = diffCounts(before, await opcodes(tree, "t0"));
      await dropCaches();
      nativeTree.push((await shell(`${native}/tree`, readAll)).ms);
    }
    await cleanupDaemon(tree, `${mntRoot}/t/`);

    // 4. find over the large repo, warm
    log(`find: ${size.large} files`);
    const count = "find . -type f | wc -l";
    const largeMnt = `${mntRoot}/l/s0`;
    const nativeLarge = `${native}/l-wt0`;
    const vibeCount = Number((await shell(largeMnt, count)).stdout.trim());
    const findBefore = await opcodes(large, "s0");
    const vibeFind: number[] = [];
    for (let i = 0; i < 3; i++) vibeFind.push((await shell(largeMnt, count)).ms);
    const findOps = diffCounts(findBefore, await opcodes(large, "s0"));
    const nativeCount = Number((await shell(nativeLarge, count)).stdout.trim());
    // The native checkout has one more file: the worktree's `.git`.
    if (vibeCount !== nativeCount - 1) {
      throw new Error(`find saw ${vibeCount} files in the vibe, ${nativeCount - 1} natively`);
    }
    const nativeFind: number[] = [];
    for (let i = 0; i < 3; i++) nativeFind.push((await shell(nativeLarge, count)).ms);
    if (memRepo !== large) await cleanupDaemon(large, `${mntRoot}/l/`);

    // 6. daemon memory with many idle mounted vibes
    log(`memory: ${size.vibes} mounted vibes`);
    const tagOf = memRepo === small ? "s" : "l";
    await sleep(1000);
    const st0 = await daemonStatus(memRepo);
    const n0 = st0.mounts.length;
    for (let i = n0; i < size.vibes; i++) {
      await vibe(memRepo, "spawn", `m${i}`, "--mount", `${mntRoot}/${tagOf}/m${i}`);
    }
    await sleep(3000);
    const st1 = await daemonStatus(memRepo);
    if (st1.mounts.length !== size.vibes) {
      throw new Error(
        `Expected ${size.vibes} mounted vibes, the daemon reports ${st1.mounts.length}`,
      );
    }
    const memory = {
      vibes: st1.mounts.length,
      repoFiles: memRepo === small ? size.small : size.large,
      rssMiB: st1.rssBytes / 1048576,
      vmRssMiB: procStatusKiB(st1.pid, "VmRSS") / 1024,
      vmHwmMiB: procStatusKiB(st1.pid, "VmHWM") / 1024,
      perVibeKiB: (st1.rssBytes - st0.rssBytes) / 1024 / Math.max(1, st1.mounts.length - n0),
    };

    // 5. create then remove many small files. Both sides on the loop ext4: the
    // vibe's project (a one-file repo made there) keeps its delta files and
    // metadata on the same filesystem as the native directory.
    log(`create and remove: ${size.create} files`);
    const create = `mkdir w && cd w && i=0; while [ $i -lt ${size.create} ]; do ` +
      `echo "small file $i" > f$i; i=$((i + 1)); done`;
    await Deno.mkdir(`${native}/cr`);
    const nativeCreate = (await shell(`${native}/cr`, create)).ms;
    const nativeRemove = (await shell(`${native}/cr`, "rm -rf w")).ms;
    crRepo = `${native}/cr-repo`;
    await Deno.mkdir(crRepo);
    await git(crRepo, "init", "-q");
    await Deno.writeTextFile(`${crRepo}/README`, "create and remove\n");
    await git(crRepo, "add", "README");
    await git(crRepo, "commit", "-q", "-m", "one file");
    await vibe(crRepo, "init");
    const crMnt = `${mntRoot}/c/cr`;
    await vibe(crRepo, "spawn", "cr", "--mount", crMnt);
    await settle();
    const crBefore = await opcodes(crRepo, "cr");
    const vibeCreate = (await shell(crMnt, create)).ms;
    const vibeRemove = (await shell(crMnt, "rm -rf w")).ms;
    const crOps = diffCounts(crBefore, await opcodes(crRepo, "cr"));

    const f: FuseBenchFigures = {
      date: new Date().toISOString(),
      quick,
      dropCaches: true,
      firstSpawnMs,
      spawn,
      seqRead: {
        mib: size.mib,
        vibeFirstMiBps: vibeFirst,
        vibeColdMiBps: vibeCold,
        vibeWarmMiBps: median(vibeWarm),
        nativeColdMiBps: nativeCold,
        nativeWarmMiBps: median(nativeWarm),
      },
      treeRead: {
        files: size.tree,
        runs: coldRuns,
        vibeMs: median(vibeTree),
        nativeMs: median(nativeTree),
        ratio: median(vibeTree) / median(nativeTree),
      },
      find: {
        vibeCount,
        nativeCount,
        vibeMs: median(vibeFind),
        nativeMs: median(nativeFind),
        ratio: median(vibeFind) / median(nativeFind),
      },
      createRemove: {
        files: size.create,
        vibe: { createMs: vibeCreate, removeMs: vibeRemove },
        native: { createMs: nativeCreate, removeMs: nativeRemove },
        ratio: (vibeCreate + vibeRemove) / (nativeCreate + nativeRemove),
      },
      memory,
      requests: { treeRead: treeOps, find: findOps, createRemove: crOps },
      checks: [],
    };
    f.checks = checksOf(f);
    succeeded = true;
    return f;
  } finally {
    for (const [r, tag] of repos) await cleanupDaemon(r, `${mntRoot}/${tag}/`);
    if (crRepo) await cleanupDaemon(crRepo, `${mntRoot}/c/`);
    // Anything still mounted below mntRoot (a daemon that died half-way).
    for (const m of mountPoints()) {
      if (m.startsWith(`${mntRoot}/`)) await exec("umount", ["-l", m], "/");
    }
    await loop?.remove();
    for (const [r] of repos) {
      await exec("git", ["worktree", "prune"], r);
      // The vibes record mount paths below mntRoot: a later daemon must not remount them.
      // After a failure, .vibe (and its logs/) is kept for a look; the next run resets it.
      if (succeeded) await Deno.remove(`${r}/.vibe`, { recursive: true }).catch(() => {});
    }
    if (!succeeded) log(`daemon logs kept in ${repos.map(([r]) => `${r}/.vibe/logs`).join(", ")}`);
    await Deno.remove(mntRoot, { recursive: true }).catch(() => {});
  }
}

function checksOf(f: FuseBenchFigures): Check[] {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const rate = (x: number) => `${x.toFixed(0)} MiB/s`;
  const checks: Check[] = [];
  for (const s of f.spawn) {
    checks.push({
      name: `spawn until readable, ${s.files} files`,
      target: "<= 150 ms",
      measured: ms(s.readyMedianMs),
      ratio: s.readyMedianMs / s.worktreeAddMedianMs,
      met: s.readyMedianMs <= 150,
    });
  }
  const r = f.seqRead;
  checks.push({
    name: `seq read ${r.mib} MiB, first (cold)`,
    target: ">= 300 MiB/s",
    measured: rate(r.vibeFirstMiBps),
    ratio: r.vibeFirstMiBps / r.nativeColdMiBps,
    met: r.vibeFirstMiBps >= 300,
  });
  checks.push({
    name: `seq read ${r.mib} MiB, warm re-read`,
    target: ">= 0.8x native",
    measured: rate(r.vibeWarmMiBps),
    ratio: r.vibeWarmMiBps / r.nativeWarmMiBps,
    met: r.vibeWarmMiBps >= 0.8 * r.nativeWarmMiBps,
  });
  checks.push({
    name: `read all ${f.treeRead.files} files, cold`,
    target: "<= 3x native",
    measured: ms(f.treeRead.vibeMs),
    ratio: f.treeRead.ratio,
    met: f.treeRead.ratio <= 3,
  });
  checks.push({
    name: `find | wc -l, ${f.find.vibeCount} files, warm`,
    target: "<= 3x native",
    measured: ms(f.find.vibeMs),
    ratio: f.find.ratio,
    met: f.find.ratio <= 3,
  });
  const c = f.createRemove;
  checks.push({
    name: `create + rm -rf ${c.files} files`,
    target: "<= 3x native",
    measured: ms(c.vibe.createMs + c.vibe.removeMs),
    ratio: c.ratio,
    met: c.ratio <= 3,
  });
  checks.push({
    name: `daemon RSS, ${f.memory.vibes} idle vibes`,
    target: "<= 300 MiB",
    measured: `${f.memory.rssMiB.toFixed(0)} MiB`,
    ratio: null,
    met: f.memory.rssMiB <= 300,
  });
  return checks;
}

function topOps(ops: Record<string, number>, n = 6): string {
  return Object.entries(ops).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) =>
    `${k.replace(/^FUSE_/, "")} ${v}`
  ).join(", ");
}

/** The figures as a table (target, measured, ratio to the native baseline, met) plus details. */
export function formatFuseBench(f: FuseBenchFigures): string {
  const pad = (s: string, n: number) => s.padEnd(n);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const rate = (x: number) => `${x.toFixed(0)} MiB/s`;
  const lines = [
    `FUSE mounts vs native ext4${f.quick ? " (--quick sizes)" : ""}; page cache dropped ` +
    `(echo 3 > /proc/sys/vm/drop_caches) before every cold read`,
    `  ${pad("measure", 40)}${pad("target", 15)}${pad("measured", 12)}${pad("ratio", 9)}met`,
  ];
  for (const c of f.checks) {
    lines.push(
      `  ${pad(c.name, 40)}${pad(c.target, 15)}${pad(c.measured, 12)}${
        pad(c.ratio === null ? "-" : `${c.ratio.toFixed(2)}x`, 9)
      }${c.met ? "yes" : "NO"}`,
    );
  }
  lines.push("  details (vibe | native):");
  lines.push(`    first spawn (starts the daemon) ${ms(f.firstSpawnMs)}`);
  for (const s of f.spawn) {
    lines.push(
      `    spawn ${s.files} files: CLI ${ms(s.cliMedianMs)}, until readable ${
        ms(s.readyMedianMs)
      } (median of ${s.runs}) | git worktree add ${ms(s.worktreeAddMedianMs)} (median of 3)`,
    );
  }
  const r = f.seqRead;
  lines.push(
    `    dd ${r.mib} MiB: first ${rate(r.vibeFirstMiBps)} (inflates the blob), cold again ${
      rate(r.vibeColdMiBps)
    }, warm ${rate(r.vibeWarmMiBps)} | cold ${rate(r.nativeColdMiBps)}, warm ${
      rate(r.nativeWarmMiBps)
    }`,
  );
  lines.push(
    `    cat every file of ${f.treeRead.files}, cold: ${ms(f.treeRead.vibeMs)} | ${
      ms(f.treeRead.nativeMs)
    } (median of ${f.treeRead.runs}; daemon restarted before each)`,
  );
  lines.push(
    `    find | wc -l, warm: ${ms(f.find.vibeMs)} (${f.find.vibeCount} files) | ${
      ms(f.find.nativeMs)
    } (${f.find.nativeCount}, incl. the worktree's .git file) (median of 3)`,
  );
  const c = f.createRemove;
  lines.push(
    `    create ${c.files}: ${ms(c.vibe.createMs)}, rm -rf ${ms(c.vibe.removeMs)} | create ${
      ms(c.native.createMs)
    }, rm -rf ${ms(c.native.removeMs)}`,
  );
  const m = f.memory;
  lines.push(
    `    daemon with ${m.vibes} idle vibes of a ${m.repoFiles}-file repo: RSS ${
      m.rssMiB.toFixed(0)
    } MiB (VmRSS ${m.vmRssMiB.toFixed(0)}, peak ${m.vmHwmMiB.toFixed(0)} MiB), ~${
      m.perVibeKiB.toFixed(0)
    } KiB per added vibe`,
  );
  lines.push(`    requests, cold read: ${topOps(f.requests.treeRead)}`);
  lines.push(`    requests, 3 warm finds: ${topOps(f.requests.find)}`);
  lines.push(`    requests, create + rm: ${topOps(f.requests.createRemove)}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--files");
  const files = i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  const why = fuseBenchUnavailable();
  if (why) {
    console.log(`fuse bench skipped: ${why}`);
  } else {
    const figures = await runFuseBench({
      ...(files !== undefined ? { files } : {}),
      quick: Deno.args.includes("--quick"),
      log: (msg) => console.error(`[fuse bench] ${msg}`),
    });
    console.log(formatFuseBench(figures));
    if (Deno.args.includes("--json")) console.log(JSON.stringify(figures));
  }
}
