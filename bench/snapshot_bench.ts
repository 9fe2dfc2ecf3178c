/**
 * Snapshot and restore of a vibe with 1k and 10k changed files (4–16 KiB
 * each): time and extra disk, on btrfs and xfs (loop-mounted images,
 * reflinks) beside the ext4 of /tmp (the copy fallback). In-process API, no
 * mount. Needs root for the loop mounts (those rows are skipped otherwise).
 *
 *   deno run -A bench/snapshot_bench.ts [--files 1000,10000] [--json]
 *
 * Extra disk is the growth of used space after `sync`: btrfs's data
 * allocation (`btrfs filesystem df`), `df` elsewhere; it includes the
 * metadata.db WAL (and, on xfs, inode chunks) and btrfs frees extents of
 * earlier writes lazily, so it is noisy: ~0 means "well below the
 * snapshot's apparent bytes". "Own data" counts the snapshot's files that
 * are not hard links of the vibe's delta files (on reflink filesystems
 * they all are: the delta store unshares a file by reflink before writing).
 */
import { loopFsUnavailable, sh, withLoopFs } from "../tests/helpers/loop_fs.ts";
import { initProject } from "../src/project/init.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";
import { restoreVibe, snapshotDir, snapshotVibe } from "../src/project/snapshot.ts";
import { writeFile } from "../src/vfs/path_ops.ts";
import { BENCH_ENV as ENV } from "./common.ts";

const me = { uid: 0, gid: 0 };

export interface SnapshotFigures {
  fs: "btrfs" | "xfs" | "ext4";
  changedFiles: number;
  changedBytes: number;
  method: string;
  /** Median of 3 snapshots of the same state. */
  snapshotMs: number;
  snapshotExtraBytes: number;
  /** Bytes of the first snapshot's files that are not the vibe's own files (hard links). */
  snapshotOwnBytes: number | null;
  bytesCopied: number;
  /** Median of 3 restores, each after rewriting 10% of the files. */
  restoreMs: number;
  restoreExtraBytes: number;
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  const o = await new Deno.Command("git", { args, cwd, env: ENV, stdout: "null", stderr: "piped" })
    .output();
  if (!o.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
}

const pathOf = (i: number) =>
  `d${String(i % 50).padStart(2, "0")}/f${String(i).padStart(5, "0")}.txt`;

function bytesFor(i: number, round: number): Uint8Array {
  const size = 4096 + ((i * 7919 + round * 104729) % 12289);
  const out = new Uint8Array(size);
  crypto.getRandomValues(out.subarray(0, Math.min(size, 65536)));
  return out;
}

async function usedBytes(fs: string, dir: string): Promise<number> {
  await sh("sync");
  if (fs === "btrfs") {
    const m = (await sh("btrfs", "filesystem", "df", "-b", dir)).match(/^Data[^\n]*used=(\d+)/m);
    return Number(m?.[1] ?? 0);
  }
  const out = (await sh("df", "-B1", "--output=used", dir)).trim().split("\n");
  return Number(out[out.length - 1]!.trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(
  fs: SnapshotFigures["fs"],
  root: string,
  files: number,
): Promise<SnapshotFigures> {
  const dir = `${root}/repo-${files}`;
  await Deno.mkdir(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  for (let i = 0; i < files; i++) {
    const p = `${dir}/${pathOf(i)}`;
    await Deno.mkdir(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(p, `base ${i}\n`);
  }
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "base");
  await initProject(dir);
  const project = await Project.open(dir);
  try {
    await spawnVibe(project, "b");
    const ws = project.workspace("b");
    let changedBytes = 0;
    for (let i = 0; i < files; i++) {
      const data = bytesFor(i, 1);
      changedBytes += data.length;
      await writeFile(ws, pathOf(i), data, me);
    }
    const before = await usedBytes(fs, root);
    const snaps = [];
    for (let k = 0; k < 3; k++) snaps.push(snapshotVibe(project, "b", `s${k}`));
    const afterSnap = await usedBytes(fs, root);
    // Bytes of the first snapshot not shared with the vibe: a file that is a
    // hard link of its delta file (reflink filesystems) owns nothing.
    let own = 0;
    const sdir = snapshotDir(project, "b", "s0");
    for (const e of Deno.readDirSync(sdir)) {
      const a = Deno.statSync(`${sdir}/${e.name}`);
      const b = Deno.statSync(`${project.sessionDir("b")}/delta/${e.name}`);
      if (a.ino !== b.ino) own += a.size;
    }
    const restores: number[] = [];
    let restoreExtra = 0;
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < files / 10; i++) await writeFile(ws, pathOf(i), bytesFor(i, 2 + k), me);
      const pre = await usedBytes(fs, root);
      restores.push(restoreVibe(project, "b", "s0").ms);
      restoreExtra = Math.max(restoreExtra, (await usedBytes(fs, root)) - pre);
    }
    return {
      fs,
      changedFiles: files,
      changedBytes,
      method: snaps[0]!.method,
      snapshotMs: median(snaps.map((s) => s.ms)),
      snapshotExtraBytes: Math.round((afterSnap - before) / 3),
      snapshotOwnBytes: own,
      bytesCopied: snaps[0]!.bytesCopied,
      restoreMs: median(restores),
      restoreExtraBytes: restoreExtra,
    };
  } finally {
    project.close();
  }
}

/** Runs every configuration available here; loop filesystems need root. */
export async function runSnapshotBench(
  opts: { files?: number[]; log?: (msg: string) => void } = {},
): Promise<SnapshotFigures[]> {
  const sizes = opts.files ?? [1000, 10_000];
  const log = opts.log ?? (() => {});
  const out: SnapshotFigures[] = [];
  for (const fs of ["btrfs", "xfs"] as const) {
    const why = loopFsUnavailable(fs);
    if (why) {
      log(`skipping ${fs}: ${why}`);
      continue;
    }
    await withLoopFs(fs, async (mnt) => {
      for (const n of sizes) {
        log(`${fs}: ${n} changed files`);
        out.push(await measure(fs, mnt, n));
      }
    }, 1536);
  }
  const tmp = await Deno.makeTempDir({ prefix: "vibe-snapbench-" });
  try {
    for (const n of sizes) {
      log(`ext4 (/tmp): ${n} changed files`);
      out.push(await measure("ext4", tmp, n));
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return out;
}

const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

export function formatSnapshotBench(rows: SnapshotFigures[]): string {
  const head = [
    "fs",
    "changed files",
    "changed bytes",
    "method",
    "snapshot",
    "snapshot extra disk",
    "snapshot own data",
    "restore",
    "restore extra disk",
  ];
  const lines = rows.map((r) => [
    r.fs,
    String(r.changedFiles),
    mib(r.changedBytes),
    r.method,
    `${r.snapshotMs.toFixed(1)} ms`,
    mib(r.snapshotExtraBytes),
    r.snapshotOwnBytes === null ? "n/a" : mib(r.snapshotOwnBytes),
    `${r.restoreMs.toFixed(1)} ms`,
    mib(r.restoreExtraBytes),
  ]);
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...lines.map((l) => `| ${l.join(" | ")} |`),
  ].join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--files");
  const files = i >= 0 ? Deno.args[i + 1]!.split(",").map(Number) : undefined;
  const rows = await runSnapshotBench({
    ...(files ? { files } : {}),
    log: (m) => console.error(m),
  });
  if (Deno.args.includes("--json")) console.log(JSON.stringify(rows, null, 2));
  else console.log(formatSnapshotBench(rows));
}
