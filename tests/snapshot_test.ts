/**
 * Snapshots, restore and fork on real filesystems: btrfs and xfs (reflink=1)
 * in loop-mounted images, and the ext4 of /tmp (the copy fallback). Each
 * puts a real git repository (so `.vibe/`) on the filesystem and drives a
 * vibe through the in-process API.
 */
import assert from "node:assert/strict";
import { expectCode } from "./helpers/project.ts";
import { createHash } from "node:crypto";
import { git, SAMPLE_FILES, useTestIdentity, writeFiles } from "./helpers/repo.ts";
import { type LoopFsKind, loopFsUnavailable, sh, withLoopFs } from "./helpers/loop_fs.ts";
import { initProject } from "../src/project/init.ts";
import { Project } from "../src/project/project.ts";
import { destroyVibe, spawnVibe } from "../src/project/lifecycle.ts";
import { promoteVibe } from "../src/project/promote.ts";
import { buildTree, hashingSink } from "../src/project/tree_build.ts";
import {
  forkVibe,
  listSnapshots,
  prepareSnapshot,
  removeSnapshot,
  restoreVibe,
  snapshotDir,
  snapshotVibe,
} from "../src/project/snapshot.ts";
import { canReflink, cloneFile, sameBlocks } from "../src/snapshot/clone.ts";
import {
  runFork,
  runRestore,
  runSnapshot,
  runSnapshotRm,
  runSnapshots,
} from "../src/cli/snapshot_cmd.ts";
import {
  listTree,
  mkdirp,
  readFile,
  readText,
  removePath,
  renamePath,
  resolvePath,
  writeFile,
} from "../src/vfs/path_ops.ts";
import type { WorkspaceVfs } from "../src/vfs/workspace_vfs.ts";
import { ROOT_INO } from "../src/vfs/vfs.ts";
import { VibeError } from "../src/errors.ts";
import type { Ino } from "../src/types.ts";

useTestIdentity();
const me = { uid: 0, gid: 0 };
const CHANGED = 1000;
const GEN = CHANGED + 100;
const enc = new TextEncoder();

const genPath = (i: number) =>
  `gen/d${String(i % 20).padStart(2, "0")}/f${String(i).padStart(4, "0")}.txt`;

/** Deterministic, incompressible 4–16 KiB of content for file `i` in write round `round`. */
function bytesFor(i: number, round: number): Uint8Array {
  const size = 4096 + ((i * 7919 + round * 104729) % 12289);
  const out = new Uint8Array(size);
  let x = (i * 2654435761 + round * 40503 + 1) >>> 0;
  for (let k = 0; k < size; k++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[k] = x & 0xff;
  }
  return out;
}

const sha1 = (b: Uint8Array) => createHash("sha1").update(b).digest("hex");

async function makeRepoIn(root: string, withGen: boolean): Promise<string> {
  const dir = `${root}/repo`;
  await Deno.mkdir(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  // Identity in the repo too (see tests/helpers/repo.ts: env is shared under --parallel).
  await git(dir, "config", "user.name", "Test Author");
  await git(dir, "config", "user.email", "author@test.invalid");
  const files: Record<string, string | { content: string; mode?: number; symlink?: boolean }> = {
    ...SAMPLE_FILES,
  };
  if (withGen) { for (let i = 0; i < GEN; i++) files[genPath(i)] = `base ${i}\n`; }
  await writeFiles(dir, files);
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "initial");
  return dir;
}

async function openProject(dir: string): Promise<Project> {
  await initProject(dir);
  return await Project.open(dir);
}

/** Every entry below the root: kind, mode, nlink, size, mtime, content hash, target, xattrs, links. */
async function dump(ws: WorkspaceVfs): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const firstPathOf = new Map<Ino, string>();
  const walk = async (ino: Ino, prefix: string) => {
    const entries = [];
    for (let after = 0;;) {
      const page = await ws.readdir(ino, after, 1000);
      entries.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.cookie;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      const a = await ws.getattr(e.ino);
      let content = "";
      if (a.kind === "file") {
        const data = new Uint8Array(a.size);
        for (let off = 0; off < a.size;) {
          const chunk = await ws.read(e.ino, off, a.size - off);
          if (chunk.length === 0) break;
          data.set(chunk, off);
          off += chunk.length;
        }
        content = sha1(data);
      } else if (a.kind === "symlink") {
        content = await ws.readlink(e.ino);
      }
      const xattrs = [];
      for (const name of await ws.listxattr(e.ino)) {
        xattrs.push(`${name}=${sha1(await ws.getxattr(e.ino, name))}`);
      }
      const sameAs = firstPathOf.get(e.ino);
      if (sameAs === undefined) firstPathOf.set(e.ino, path);
      out[path] = JSON.stringify({
        kind: a.kind,
        mode: a.mode.toString(8),
        nlink: a.nlink,
        size: a.kind === "dir" ? 0 : a.size,
        mtime: `${a.mtime.sec}.${a.mtime.nsec}`,
        content,
        xattrs,
        linkOf: a.kind !== "dir" && sameAs !== undefined ? sameAs : null,
      });
      if (a.kind === "dir") await walk(e.ino, path);
    }
  };
  await walk(ROOT_INO, "");
  return out;
}

async function treeOid(project: Project, ws: WorkspaceVfs): Promise<string> {
  return (await buildTree(ws, hashingSink, project.trees)).tree;
}

/** The state the snapshot must capture: 1,000 rewritten files plus every kind of change. */
async function firstChanges(ws: WorkspaceVfs): Promise<void> {
  for (let i = 0; i < CHANGED; i++) await writeFile(ws, genPath(i), bytesFor(i, 1), me);
  await ws.setattr(await resolvePath(ws, "src/main.ts"), { mode: 0o755 });
  await ws.setattr(await resolvePath(ws, "README.md"), { mode: 0o600 });
  await removePath(ws, "docs/guide.md");
  await renamePath(ws, "src/lib/util.ts", "src/lib/utils.ts");
  await ws.symlink(ROOT_INO, "link-to-main", "src/main.ts", me);
  await ws.setxattr(await resolvePath(ws, "README.md"), "user.note", enc.encode("kept"));
  await mkdirp(ws, "new/deeper", me);
  const added = await writeFile(ws, "new/deeper/added.txt", "added\n", me);
  await ws.link(added, await resolvePath(ws, "new"), "hard.txt");
  // A hard link to a clean file in a clean directory (its directory stays clean).
  await ws.link(await resolvePath(ws, "src/lib/deep/a.txt"), ROOT_INO, "linked-a.txt");
  for (let i = CHANGED; i < CHANGED + 10; i++) await removePath(ws, genPath(i));
}

/** Changes after the snapshot, which a restore must undo. */
async function laterChanges(ws: WorkspaceVfs): Promise<void> {
  // In place: the snapshot's clones must not see these bytes.
  for (let i = 0; i < 100; i++) {
    const ino = await resolvePath(ws, genPath(i));
    await ws.write(ino, 0, bytesFor(i, 2).subarray(0, 4096));
  }
  for (let i = 100; i < 150; i++) await removePath(ws, genPath(i));
  await renamePath(ws, "gen/d05", "gen/d05-moved");
  await ws.setattr(await resolvePath(ws, "src/main.ts"), { mode: 0o644 });
  await ws.setattr(await resolvePath(ws, "README.md"), { mode: 0o640 });
  await ws.removexattr(await resolvePath(ws, "README.md"), "user.note");
  await ws.setxattr(await resolvePath(ws, "empty.txt"), "user.other", enc.encode("x"));
  await removePath(ws, "link-to-main");
  await ws.symlink(ROOT_INO, "link-to-main", "README.md", me);
  await removePath(ws, "new/hard.txt");
  await writeFile(ws, "new/deeper/added.txt", "rewritten\n", me);
  await writeFile(ws, "bin/run.sh", "#!/bin/sh\necho changed\n", me);
  await mkdirp(ws, "later", me);
  await writeFile(ws, "later/x.txt", bytesFor(7, 9), me);
  await ws.write(await resolvePath(ws, "linked-a.txt"), 0, enc.encode("Z"));
}

async function syncFs(): Promise<void> {
  await sh("sync");
}

/** Data bytes in use on a btrfs filesystem (`btrfs filesystem df`). */
async function btrfsDataUsed(mnt: string): Promise<number> {
  const out = await sh("btrfs", "filesystem", "df", "-b", mnt);
  const m = out.match(/^Data[^\n]*used=(\d+)/m);
  assert.ok(m, `cannot parse btrfs filesystem df: ${out}`);
  return Number(m[1]);
}

/** Bytes in use per `df` (any filesystem). */
async function dfUsed(path: string): Promise<number> {
  const out = (await sh("df", "-B1", "--output=used", path)).trim().split("\n");
  return Number(out[out.length - 1]!.trim());
}

/** Physical extents of a file per `filefrag -v`: "logical:physical:length:flags" lines. */
async function extents(path: string): Promise<{ phys: string[]; shared: boolean }> {
  const out = await sh("filefrag", "-v", path);
  const phys: string[] = [];
  let shared = true;
  for (const line of out.split("\n")) {
    const m = line.match(/^\s*\d+:\s+(\d+)\.\.\s*\d+:\s+(\d+)\.\.\s*\d+:\s+(\d+):.*?([a-z_,]*)$/);
    if (!m) continue;
    phys.push(`${m[1]}:${m[2]}:${m[3]}`);
    if (!line.includes("shared")) shared = false;
  }
  return { phys, shared: shared && phys.length > 0 };
}

type FsKind = LoopFsKind | "ext4";

/**
 * Checks that the snapshot's files allocated no data blocks of their own:
 * on a reflink filesystem each is a hard link of the delta file (the delta
 * store unshares a file, by reflink, before its first in-place write), and
 * the filesystem's used data did not grow by the snapshot's bytes.
 */
async function checkNoNewData(
  kind: FsKind,
  mnt: string,
  project: Project,
  snapDirPath: string,
  usedBefore: number,
  bytes: number,
): Promise<void> {
  await syncFs();
  if (kind === "ext4") return;
  let checked = 0;
  for (const e of Deno.readDirSync(snapDirPath)) {
    const snap = Deno.statSync(`${snapDirPath}/${e.name}`);
    const live = Deno.statSync(`${project.sessionDir("v1")}/delta/${e.name}`);
    assert.equal(snap.ino, live.ino, `snapshot file ${e.name} is the delta's own file`);
    assert.ok(snap.nlink! >= 2);
    checked++;
  }
  assert.ok(checked > 1000, `checked ${checked} files`);
  const grown = kind === "btrfs"
    ? (await btrfsDataUsed(mnt)) - usedBefore
    : (await dfUsed(mnt)) - usedBefore;
  // Only the metadata.db WAL (and, on xfs, inode chunks) take space; the links none.
  assert.ok(grown < bytes / 4, `used space grew by ${grown} bytes for ${bytes} snapshot bytes`);
}

/** After in-place writes, the delta keeps the snapshot's blocks where it can (reflink). */
async function checkUnsharedByReflink(
  kind: FsKind,
  project: Project,
  snapDirPath: string,
  ino: string,
): Promise<void> {
  const snap = Deno.statSync(`${snapDirPath}/${ino}`);
  const live = Deno.statSync(`${project.sessionDir("v1")}/delta/${ino}`);
  assert.notEqual(snap.ino, live.ino, "a file written after the snapshot is no longer shared");
  if (kind === "ext4") return;
  await syncFs();
  const a = await extents(`${snapDirPath}/${ino}`);
  const b = await extents(`${project.sessionDir("v1")}/delta/${ino}`);
  // The first 4 KiB were rewritten; the rest still maps the snapshot's blocks.
  const shared = a.phys.filter((x) => b.phys.includes(x));
  assert.ok(
    shared.length > 0 || a.phys.length === 1,
    `unchanged blocks stay shared: ${a.phys} | ${b.phys}`,
  );
}

/** Snapshot, later changes, restore (twice), list and remove: the core suite. */
async function coreSuite(kind: FsKind, root: string): Promise<void> {
  const dir = await makeRepoIn(root, true);
  const project = await openProject(dir);
  try {
    await spawnVibe(project, "v1");
    const ws = project.workspace("v1");
    await firstChanges(ws);
    const expected = await dump(ws);
    const expectedTree = await treeOid(project, ws);
    await syncFs();
    const usedBefore = kind === "btrfs"
      ? await btrfsDataUsed(root)
      : kind === "xfs"
      ? await dfUsed(root)
      : 0;

    const snap = snapshotVibe(project, "v1", "s1");
    assert.equal(snap.name, "s1");
    assert.equal(snap.files, CHANGED + 1, "the 1,000 rewritten files and new/deeper/added.txt");
    assert.ok(snap.bytes >= CHANGED * 4096);
    assert.ok(snap.changedPaths >= CHANGED + 5, `changed paths: ${snap.changedPaths}`);
    if (kind === "ext4") {
      assert.equal(snap.method, "copy");
      assert.equal(snap.bytesCopied, snap.bytes);
    } else {
      assert.equal(snap.method, "reflink");
      assert.equal(snap.bytesCopied, 0);
    }
    const sdir = snapshotDir(project, "v1", "s1");
    await checkNoNewData(kind, root, project, sdir, usedBefore, snap.bytes);

    // The snapshot's bytes, before later writes.
    const sample = [...Deno.readDirSync(sdir)].slice(0, 200).map((e) => e.name);
    const sampleHashes = sample.map((n) => sha1(Deno.readFileSync(`${sdir}/${n}`)));

    await laterChanges(ws);
    assert.notDeepEqual(await dump(ws), expected);
    const rewritten = String(await resolvePath(ws, genPath(0)));
    await checkUnsharedByReflink(kind, project, sdir, rewritten);
    assert.deepEqual(
      sample.map((n) => sha1(Deno.readFileSync(`${sdir}/${n}`))),
      sampleHashes,
      "writing after the snapshot leaves its files untouched",
    );

    // A second snapshot of the later state, then back to s1.
    const later = await dump(ws);
    snapshotVibe(project, "v1", "s2");
    const r = restoreVibe(project, "v1", "s1");
    assert.equal(r.method, kind === "ext4" ? "copy" : "reflink");
    assert.ok(r.inos.length > 0 && r.entries.length > 0);
    if (kind === "ext4") {
      assert.equal(r.unchanged, 0, "copies never share blocks, so every file is cloned back");
    } else {
      // Files 150.. were not written after s1 (d05 only moved): their delta
      // files still map s1's blocks and stay; the 100 rewritten in place
      // (same size) and the rest are cloned back.
      assert.ok(r.unchanged >= CHANGED - 200, `unchanged: ${r.unchanged}`);
      assert.ok(r.files >= 100, `cloned: ${r.files}`);
    }
    assert.deepEqual(await dump(ws), expected, "restore brings back the exact state");
    assert.equal(await treeOid(project, ws), expectedTree);
    assert.equal(await readText(ws, "gen/d05/f0005.txt"), new TextDecoder().decode(bytesFor(5, 1)));
    assert.deepEqual(
      new Uint8Array(await ws.getxattr(await resolvePath(ws, "README.md"), "user.note")),
      enc.encode("kept"),
    );
    const hard = await ws.getattr(await resolvePath(ws, "new/hard.txt"));
    assert.equal(hard.ino, (await ws.getattr(await resolvePath(ws, "new/deeper/added.txt"))).ino);
    assert.equal(hard.nlink, 2);
    const linkedA = await ws.getattr(await resolvePath(ws, "linked-a.txt"));
    assert.equal(linkedA.ino, (await ws.getattr(await resolvePath(ws, "src/lib/deep/a.txt"))).ino);
    assert.equal(await readText(ws, "src/lib/deep/a.txt"), "a\n");

    // Forward again to s2, and once more to s1: numbers never go back.
    const nextBefore = project.meta.nextIno("v1");
    restoreVibe(project, "v1", "s2");
    assert.deepEqual(await dump(ws), later);
    restoreVibe(project, "v1", "s1");
    assert.deepEqual(await dump(ws), expected);
    assert.ok(project.meta.nextIno("v1") >= nextBefore);

    // The delta holds exactly the restored state's files.
    const deltaFiles = [...Deno.readDirSync(`${project.sessionDir("v1")}/delta`)].length;
    assert.equal(deltaFiles, project.meta.materializedInos("v1").length);

    // Writing after a restore leaves the snapshot intact (restore it again and compare).
    await writeFile(ws, genPath(1), "after restore\n", me);
    restoreVibe(project, "v1", "s1");
    assert.deepEqual(await dump(ws), expected);

    const list = listSnapshots(project, "v1");
    assert.deepEqual(list.map((s) => s.name), ["s1", "s2"]);
    assert.equal(list[0]!.files, CHANGED + 1);
    assert.equal(list[0]!.method, snap.method);
    removeSnapshot(project, "v1", "s2");
    assert.deepEqual(listSnapshots(project, "v1").map((s) => s.name), ["s1"]);
    assert.throws(() => Deno.statSync(snapshotDir(project, "v1", "s2")), Deno.errors.NotFound);
    await expectCode(() => removeSnapshot(project, "v1", "s2"), "ENOENT");
    await expectCode(() => restoreVibe(project, "v1", "s2"), "ENOENT");
    await expectCode(() => snapshotVibe(project, "v1", "s1"), "EEXIST");
    await expectCode(() => snapshotVibe(project, "v1", "bad/name"), "USAGE");
    const auto = snapshotVibe(project, "v1");
    assert.match(auto.name, /^snap-\d{8}T\d{6}\.\d{3}Z$/);

    // Cost follows the changes, not what the vibe loaded: a vibe that walked
    // the whole tree and changed one file stores a few rows and one file.
    await spawnVibe(project, "wide");
    const wide = project.workspace("wide");
    assert.ok((await listTree(wide)).length > GEN);
    await writeFile(wide, genPath(3), "one change\n", me);
    assert.ok(project.meta.stateRows("wide").inodes.length > GEN);
    const small = snapshotVibe(project, "wide", "one");
    assert.equal(small.files, 1);
    assert.equal(small.changedPaths, 1);
    assert.ok(small.inodes < 100, `stored ${small.inodes} inode rows`);
  } finally {
    project.close();
  }
}

/** Fork: source and fork diverge independently; promote of each gives the right commit. */
async function forkSuite(kind: FsKind, root: string): Promise<void> {
  const dir = await makeRepoIn(`${root}/fork`, false);
  const project = await openProject(dir);
  try {
    await spawnVibe(project, "src");
    const src = project.workspace("src");
    await writeFile(src, "shared.txt", bytesFor(1, 1), me);
    await chmodPath(src, "bin/run.sh", 0o644);
    const f = forkVibe(project, "src", "dst");
    assert.equal(f.method, kind === "ext4" ? "copy" : "reflink");
    assert.equal(f.files, 1);
    assert.equal(f.vibe.baseCommit, project.vibe("src").baseCommit);
    assert.equal(f.vibe.state, "active");
    const dst = project.workspace("dst");
    assert.deepEqual(await dump(dst), await dump(src));

    await writeFile(src, "README.md", "changed in src\n", me);
    await src.write(await resolvePath(src, "shared.txt"), 0, enc.encode("SRC"));
    await removePath(dst, "docs/guide.md");
    await writeFile(dst, "only-dst.txt", "dst\n", me);
    await dst.write(await resolvePath(dst, "shared.txt"), 0, enc.encode("DST"));
    assert.equal(
      new TextDecoder().decode((await readFile(src, "shared.txt")).subarray(0, 3)),
      "SRC",
    );
    assert.equal(
      new TextDecoder().decode((await readFile(dst, "shared.txt")).subarray(0, 3)),
      "DST",
    );
    await expectCode(() => forkVibe(project, "src", "dst"), "EEXIST");
    await expectCode(() => forkVibe(project, "nope", "x"), "ENOENT");

    const base = project.vibe("src").baseCommit;
    const ps = await promoteVibe(project, "src");
    const pd = await promoteVibe(project, "dst");
    const ns = (c: string) => git(dir, "diff", "--name-status", base, c).then((s) => s.trim());
    assert.deepEqual(
      (await ns(ps.commit)).split("\n").sort(),
      ["A\tshared.txt", "M\tREADME.md", "M\tbin/run.sh"],
    );
    assert.deepEqual(
      (await ns(pd.commit)).split("\n").sort(),
      ["A\tonly-dst.txt", "A\tshared.txt", "D\tdocs/guide.md", "M\tbin/run.sh"],
    );
    assert.equal(await git(dir, "show", `${ps.commit}:README.md`), "changed in src\n");
    const dstShared = await new Deno.Command("git", {
      args: ["show", `${pd.commit}:shared.txt`],
      cwd: dir,
      stdout: "piped",
    }).output();
    const expectedDst = bytesFor(1, 1);
    expectedDst.set(enc.encode("DST"), 0);
    assert.deepEqual(dstShared.stdout, expectedDst);
    await git(dir, "fsck", "--strict");
  } finally {
    project.close();
  }
}

async function chmodPath(ws: WorkspaceVfs, path: string, mode: number): Promise<void> {
  await ws.setattr(await resolvePath(ws, path), { mode });
}

/** A crash between cloning and the commit leaves no half snapshot; gc removes the files. */
async function crashSuite(root: string): Promise<void> {
  const dir = await makeRepoIn(`${root}/crash`, false);
  const project = await openProject(dir);
  try {
    await spawnVibe(project, "c1");
    const ws = project.workspace("c1");
    for (let i = 0; i < 5; i++) await writeFile(ws, `c${i}.txt`, bytesFor(i, 3), me);
    snapshotVibe(project, "c1", "whole");
    // The "crash": files cloned into the final directory, rows never committed.
    const half = prepareSnapshot(project, "c1", "half");
    assert.equal([...Deno.readDirSync(half.dir)].length, 5);
    assert.deepEqual(listSnapshots(project, "c1").map((s) => s.name), ["whole"]);
    await expectCode(() => restoreVibe(project, "c1", "half"), "ENOENT");
    // Snapshot creation removes such leftovers.
    snapshotVibe(project, "c1", "next");
    assert.throws(() => Deno.statSync(half.dir), Deno.errors.NotFound);
    // So does gc (with nobody holding the vibe).
    prepareSnapshot(project, "c1", "half2");
    project.closeWorkspace("c1");
    const { gc } = await import("../src/service/doctor.ts");
    const report = await gc(dir);
    assert.equal(report.snapshotDirsRemoved, 1);
    assert.throws(
      () => Deno.statSync(snapshotDir(project, "c1", "half2")),
      Deno.errors.NotFound,
    );
    assert.deepEqual(listSnapshots(project, "c1").map((s) => s.name), ["whole", "next"]);
    // A crashed fork leaves a session directory without a vibe: gc removes it too.
    Deno.mkdirSync(`${project.sessionDir("ghost")}/delta`, { recursive: true });
    const report2 = await gc(dir);
    assert.deepEqual(report2.orphanSessions, ["ghost"]);
    // The whole snapshot still restores.
    restoreVibe(project, "c1", "whole");
    const ws2 = project.workspace("c1");
    assert.deepEqual(await readFile(ws2, "c3.txt"), bytesFor(3, 3));
    // Destroying the vibe drops its snapshots, rows and files.
    await destroyVibe(project, "c1");
    assert.deepEqual(project.meta.listSnapshots("c1"), []);
    assert.equal(project.meta.snapshotRows("c1", "whole").inodes.length, 0);
    assert.throws(() => Deno.statSync(project.sessionDir("c1")), Deno.errors.NotFound);
  } finally {
    project.close();
  }
}

/** Captures what `fn` prints with console.log. */
async function captured(fn: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.log = orig;
  }
  return lines.join("\n");
}

/** The CLI actions, in-process (no daemon runs in these tests). */
async function cliSuite(kind: FsKind, root: string): Promise<void> {
  const dir = await makeRepoIn(`${root}/cli`, false);
  const project = await openProject(dir);
  await spawnVibe(project, "k1");
  const ws = project.workspace("k1");
  await writeFile(ws, "k.txt", bytesFor(4, 4), me);
  project.close();

  const snap = JSON.parse(await captured(() => runSnapshot(dir, "k1", "one", { json: true })));
  assert.equal(snap.name, "one");
  assert.equal(snap.method, kind === "ext4" ? "copy" : "reflink");
  assert.equal(snap.files, 1);
  assert.equal(snap.bytesCopied, kind === "ext4" ? bytesFor(4, 4).length : 0);
  assert.equal(typeof snap.ms, "number");
  assert.match(await captured(() => runSnapshot(dir, "k1", "two", {})), /Snapshot "two" of "k1"/);
  const list = JSON.parse(await captured(() => runSnapshots(dir, "k1", { json: true })));
  assert.deepEqual(list.map((s: { name: string }) => s.name), ["one", "two"]);
  assert.match(await captured(() => runSnapshots(dir, "k1", {})), /^NAME\s+AGE/);
  assert.match(await captured(() => runSnapshotRm(dir, "k1", "two", {})), /Removed snapshot/);

  const p2 = await Project.open(dir);
  try {
    await writeFile(p2.workspace("k1"), "k.txt", "overwritten\n", me);
  } finally {
    p2.close();
  }
  const restored = JSON.parse(await captured(() => runRestore(dir, "k1", "one", { json: true })));
  assert.equal(restored.name, "one");
  assert.ok(restored.changedInodes > 0);
  const forked = JSON.parse(await captured(() => runFork(dir, "k1", "k2", { json: true })));
  assert.equal(forked.id, "k2");
  assert.equal(forked.files, 1);

  const p3 = await Project.open(dir);
  try {
    assert.deepEqual(await readFile(p3.workspace("k1"), "k.txt"), bytesFor(4, 4));
    assert.deepEqual(await readFile(p3.workspace("k2"), "k.txt"), bytesFor(4, 4));
  } finally {
    p3.close();
  }
}

async function allSuites(kind: FsKind, root: string, t: Deno.TestContext): Promise<void> {
  await t.step("reflink probe and cloneFile", () => {
    assert.equal(canReflink(root), kind !== "ext4");
    const a = `${root}/probe-a`;
    Deno.writeFileSync(a, bytesFor(3, 3));
    assert.equal(cloneFile(a, `${root}/probe-b`), kind === "ext4" ? "copy" : "reflink");
    assert.deepEqual(Deno.readFileSync(`${root}/probe-b`), bytesFor(3, 3));
    assert.throws(() => cloneFile(`${root}/missing`, `${root}/probe-c`), VibeError);
    // sameBlocks: true only for a clone neither side has written since.
    const b = `${root}/probe-b`;
    assert.equal(sameBlocks(a, b), kind !== "ext4");
    const f = Deno.openSync(b, { write: true });
    f.writeSync(new Uint8Array([0x42])); // one byte, same size, not flushed
    f.close();
    assert.equal(sameBlocks(a, b), false, "an in-place write, even unflushed, breaks sharing");
    assert.equal(sameBlocks(a, a), true);
    assert.equal(sameBlocks(a, `${root}/missing`), false);
  });
  await t.step(
    "1,000 changed files: snapshot, later changes, restore",
    () => coreSuite(kind, root),
  );
  await t.step("fork diverges independently; promote of each", () => forkSuite(kind, root));
  await t.step("crash between clone and commit; gc", () => crashSuite(root));
  await t.step("CLI actions", () => cliSuite(kind, root));
}

for (const kind of ["btrfs", "xfs"] as const) {
  const why = loopFsUnavailable(kind);
  if (why) console.warn(`snapshot_test: skipping the ${kind} suite: ${why}`);
  Deno.test({
    name: `snapshot on ${kind} (loop-mounted image): reflinks`,
    ignore: why !== null,
    fn: (t) => withLoopFs(kind, (mnt) => allSuites(kind, mnt, t)),
  });
}

Deno.test("snapshot on ext4 (/tmp): the copy fallback", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "vibe-snap-ext4-" });
  try {
    const fsType = (await sh("stat", "-f", "-c", "%T", root)).trim();
    if (fsType !== "ext2/ext3") {
      console.warn(`snapshot_test: /tmp is ${fsType}, not ext4; the suite still runs there`);
    }
    await allSuites("ext4", root, t);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
