/**
 * Lifecycle on real repositories, checked with the real git CLI: init, spawn,
 * changes through the Vfs, status, diff, promote, commit, destroy.
 */
import assert from "node:assert/strict";
import { expectCode, withInitProject } from "./helpers/project.ts";
import { commitAll, git, gitTry, makeRepo, SAMPLE_FILES, useTestIdentity } from "./helpers/repo.ts";
import { initProject } from "../src/project/init.ts";
import { Project } from "../src/project/project.ts";
import { destroyVibe, spawnVibe, vibeStatus } from "../src/project/lifecycle.ts";
import { promoteVibe } from "../src/project/promote.ts";
import { commitVibe } from "../src/project/commit.ts";
import { diffVibe } from "../src/project/diff.ts";
import {
  mkdirp,
  readText,
  removePath,
  renamePath,
  resolvePath,
  writeFile,
} from "../src/vfs/path_ops.ts";
import { ROOT_INO } from "../src/vfs/vfs.ts";

useTestIdentity();
const me = { uid: 0, gid: 0 };

const withRepo = (fn: (dir: string, project: Project) => Promise<void>, files = SAMPLE_FILES) =>
  withInitProject(fn, { files });

/** Applies the canonical change set: edit, add, delete, rename, chmod, symlink, dirs. */
async function applyChanges(vfs: import("../src/vfs/vfs.ts").Vfs): Promise<void> {
  await writeFile(vfs, "README.md", "# Sample\n\nline 3 changed\nline 4\nline 5\n", me);
  await mkdirp(vfs, "src/new/deeper", me);
  await writeFile(vfs, "src/new/deeper/added.ts", "export const added = true;\n", me);
  await removePath(vfs, "docs/guide.md");
  await renamePath(vfs, "src/lib/util.ts", "src/lib/utils.ts");
  const main = await resolvePath(vfs, "src/main.ts");
  await vfs.setattr(main, { mode: 0o755 });
  await vfs.symlink(ROOT_INO, "link-to-main", "src/main.ts", me);
  await mkdirp(vfs, "empty-dir/inner", me);
}

const EXPECTED_NAME_STATUS = [
  "M\tREADME.md",
  "D\tdocs/guide.md",
  "A\tlink-to-main",
  "M\tsrc/main.ts",
  "D\tsrc/lib/util.ts",
  "A\tsrc/lib/utils.ts",
  "A\tsrc/new/deeper/added.ts",
].sort();

Deno.test("init: creates .vibe, excludes it from git, is idempotent", async () => {
  await withRepo(async (dir) => {
    const exclude = await Deno.readTextFile(`${dir}/.git/info/exclude`);
    assert.match(exclude, /^\/\.vibe\/$/m);
    assert.equal((await git(dir, "status", "--porcelain")).trim(), "");
    const again = await initProject(dir);
    assert.equal(again.index?.newTrees, 0, "re-init decodes no tree");
    assert.equal(again.index?.files, 8);
    const exclude2 = await Deno.readTextFile(`${dir}/.git/info/exclude`);
    assert.equal(exclude2.match(/\.vibe/g)?.length, 1, "exclude line added once");
  });
});

Deno.test("spawn: reads come from git lazily; fresh vibe uses almost no disk", async () => {
  await withRepo(async (dir, project) => {
    const v = await spawnVibe(project, "a1");
    assert.equal(v.baseCommit, (await git(dir, "rev-parse", "HEAD")).trim());
    assert.equal(v.baseRef, "refs/heads/main");
    const ws = project.workspace("a1");
    assert.equal(await readText(ws, "src/lib/deep/a.txt"), "a\n");
    assert.equal(await ws.readlink(await resolvePath(ws, "link-to-readme")), "README.md");
    const run = await ws.getattr(await resolvePath(ws, "bin/run.sh"));
    assert.equal(run.mode, 0o755);
    assert.equal(run.size, "#!/bin/sh\necho run\n".length);
    const du = await new Deno.Command("du", {
      args: ["-sk", project.sessionDir("a1")],
      stdout: "piped",
    })
      .output();
    assert.ok(Number(new TextDecoder().decode(du.stdout).split("\t")[0]) <= 64);
    await expectCode(spawnVibe(project, "a1"), "EEXIST", /vibe destroy a1/);
  });
});

Deno.test("spawn: invalid ids and revisions give clear errors", async () => {
  await withRepo(async (_dir, project) => {
    for (const id of ["", "-x", "a/b", "a..b", "x.lock", "a b", "é", "a".repeat(65), ".hidden"]) {
      await expectCode(spawnVibe(project, id), "USAGE", /Invalid vibe id/);
    }
    await expectCode(
      spawnVibe(project, "ok", { from: "no-such-branch" }),
      "USAGE",
      /no-such-branch/,
    );
    assert.equal(project.meta.listVibes().length, 0);
  });
});

Deno.test("promote: git sees exactly the intended change; fsck is clean", async () => {
  await withRepo(async (dir, project) => {
    const v = await spawnVibe(project, "p1");
    await applyChanges(project.workspace("p1"));
    const r = await promoteVibe(project, "p1", { message: "change things" });
    assert.equal((await git(dir, "rev-parse", "refs/vibes/p1")).trim(), r.commit);
    assert.equal((await git(dir, "rev-parse", "refs/vibes/p1^")).trim(), v.baseCommit);
    const ns =
      (await git(dir, "diff", "--no-renames", "--name-status", v.baseCommit, "refs/vibes/p1"))
        .trim().split("\n").sort();
    assert.deepEqual(ns, EXPECTED_NAME_STATUS);
    assert.equal(
      await git(dir, "show", "refs/vibes/p1:src/new/deeper/added.ts"),
      "export const added = true;\n",
    );
    assert.match(await git(dir, "ls-tree", "refs/vibes/p1", "src/main.ts"), /^100755 /);
    assert.match(await git(dir, "ls-tree", "refs/vibes/p1", "link-to-main"), /^120000 /);
    assert.equal(await git(dir, "cat-file", "-p", "refs/vibes/p1:link-to-main"), "src/main.ts");
    assert.equal(
      (await git(dir, "ls-tree", "refs/vibes/p1", "empty-dir")).trim(),
      "",
      "no empty dirs",
    );
    assert.equal(
      (await git(dir, "log", "-1", "--format=%s", "refs/vibes/p1")).trim(),
      "change things",
    );
    await git(dir, "fsck", "--strict", "--no-progress");
    // Status agrees and promote again replaces the ref.
    const s = await vibeStatus(project, "p1");
    assert.deepEqual(
      s.changes.map((c) => `${c.status}\t${c.path}`).sort(),
      EXPECTED_NAME_STATUS,
    );
    await writeFile(project.workspace("p1"), "README.md", "replaced\n", me);
    const r2 = await promoteVibe(project, "p1");
    assert.equal(r2.replaced, r.commit);
    assert.equal(await git(dir, "show", "refs/vibes/p1:README.md"), "replaced\n");
  });
});

Deno.test("promote: nothing to promote is a clear error", async () => {
  await withRepo(async (_dir, project) => {
    await spawnVibe(project, "n1");
    await readText(project.workspace("n1"), "README.md");
    await expectCode(promoteVibe(project, "n1"), "USAGE", /Nothing to promote/);
  });
});

Deno.test("diff: byte-identical to git diff of base and promoted commit", async () => {
  await withRepo(async (dir, project) => {
    const v = await spawnVibe(project, "d1");
    await applyChanges(project.workspace("d1"));
    const patch = await diffVibe(project, "d1");
    const stat = await diffVibe(project, "d1", { format: "stat" });
    const ns = await diffVibe(project, "d1", { format: "name-status" });
    // The scratch objects do not land in .git.
    assert.equal((await gitTry(dir, "cat-file", "-e", patch.tree)).code !== 0, true);
    await promoteVibe(project, "d1");
    assert.equal(patch.output, await git(dir, "diff", v.baseCommit, "refs/vibes/d1"));
    assert.equal(stat.output, await git(dir, "diff", "--stat", v.baseCommit, "refs/vibes/d1"));
    assert.equal(ns.output, await git(dir, "diff", "--name-status", v.baseCommit, "refs/vibes/d1"));
    assert.ok(patch.output.includes("+line 3 changed"));
  });
});

Deno.test("commit: fast-forward, then a clean merge when the branch moved, then a conflict", async () => {
  await withRepo(async (dir, project) => {
    const base = (await git(dir, "rev-parse", "HEAD")).trim();
    await spawnVibe(project, "ff");
    await spawnVibe(project, "mg");
    await spawnVibe(project, "cf");
    await writeFile(
      project.workspace("ff"),
      "README.md",
      "# Sample\n\nline 3 by ff\nline 4\nline 5\n",
      me,
    );
    await writeFile(project.workspace("mg"), "src/main.ts", 'console.log("merged");\n', me);
    await writeFile(
      project.workspace("cf"),
      "README.md",
      "# Sample\n\nline 3 by cf\nline 4\nline 5\n",
      me,
    );
    for (const id of ["ff", "mg", "cf"]) {
      await promoteVibe(project, id, { message: `work of ${id}` });
    }

    const r1 = await commitVibe(project, "ff");
    assert.equal(r1.kind, "fast-forward");
    assert.equal(r1.oldTip, base);
    assert.equal((await git(dir, "rev-parse", "main")).trim(), r1.newTip);
    assert.equal(project.meta.getVibe("ff"), null, "torn down");
    assert.ok((await git(dir, "rev-parse", "refs/vibes/ff")).trim(), "ref stays");

    const r2 = await commitVibe(project, "mg", { keep: true });
    assert.equal(r2.kind, "merged");
    assert.equal((await git(dir, "rev-parse", "main^")).trim(), r1.newTip, "on top of the branch");
    assert.equal(await git(dir, "show", "main:src/main.ts"), 'console.log("merged");\n');
    assert.equal(
      await git(dir, "show", "main:README.md"),
      "# Sample\n\nline 3 by ff\nline 4\nline 5\n",
    );
    assert.ok(project.meta.getVibe("mg"), "kept with --keep");

    const before = (await git(dir, "rev-parse", "main")).trim();
    const e = await expectCode(commitVibe(project, "cf"), "CONFLICT", /README\.md/);
    assert.deepEqual((e.details?.["conflicts"] as { path: string }[]).map((c) => c.path), [
      "README.md",
    ]);
    assert.equal((await git(dir, "rev-parse", "main")).trim(), before, "nothing changed");
    assert.equal(
      await readText(project.workspace("cf"), "README.md"),
      "# Sample\n\nline 3 by cf\nline 4\nline 5\n",
      "the vibe keeps its work",
    );
    const log = (await git(dir, "log", "--format=%s", "main")).trim().split("\n");
    assert.deepEqual(log, ["work of mg", "work of ff", "initial"]);
    await git(dir, "fsck", "--strict", "--no-progress");
  });
});

Deno.test("commit: --sync updates the root worktree but never overwrites local changes", async () => {
  await withRepo(async (dir, project) => {
    await spawnVibe(project, "s1");
    const ws = project.workspace("s1");
    await writeFile(ws, "src/main.ts", "new main\n", me);
    await writeFile(ws, "docs/guide.md", "new guide\n", me);
    await removePath(ws, "empty.txt");
    await promoteVibe(project, "s1");
    await Deno.writeTextFile(`${dir}/docs/guide.md`, "my local edit\n");
    const r = await commitVibe(project, "s1", { sync: true });
    assert.deepEqual(r.sync?.skipped, ["docs/guide.md"]);
    assert.deepEqual(r.sync?.updated.sort(), ["empty.txt", "src/main.ts"]);
    assert.equal(await Deno.readTextFile(`${dir}/src/main.ts`), "new main\n");
    assert.equal(await Deno.readTextFile(`${dir}/docs/guide.md`), "my local edit\n");
    await assert.rejects(Deno.stat(`${dir}/empty.txt`));
    const st = (await git(dir, "status", "--porcelain")).trim();
    // The skipped path keeps its old index entry (staged: the incoming change
    // reversed) and the local edit on top; every other path matches the new HEAD.
    assert.equal(st, "MM docs/guide.md");
  });
});

Deno.test("commit: unpromoted work blocks the teardown; unpromoted vibe is refused", async () => {
  await withRepo(async (_dir, project) => {
    await spawnVibe(project, "u1");
    await expectCode(commitVibe(project, "u1"), "USAGE", /vibe promote u1/);
    await writeFile(project.workspace("u1"), "README.md", "one\n", me);
    await promoteVibe(project, "u1");
    await writeFile(project.workspace("u1"), "README.md", "two\n", me);
    await expectCode(commitVibe(project, "u1"), "USAGE", /changed after its last promote/);
    assert.ok(project.meta.getVibe("u1"));
  });
});

Deno.test("destroy: removes metadata and delta; --purge deletes the ref", async () => {
  await withRepo(async (dir, project) => {
    await spawnVibe(project, "x1");
    await writeFile(project.workspace("x1"), "README.md", "x\n", me);
    await promoteVibe(project, "x1");
    await destroyVibe(project, "x1");
    assert.equal(project.meta.getVibe("x1"), null);
    await assert.rejects(Deno.stat(project.sessionDir("x1")));
    assert.ok((await git(dir, "rev-parse", "refs/vibes/x1")).trim());
    await spawnVibe(project, "x1");
    await destroyVibe(project, "x1", { purge: true });
    assert.notEqual((await gitTry(dir, "rev-parse", "--verify", "-q", "refs/vibes/x1")).code, 0);
    await expectCode(destroyVibe(project, "x1"), "ENOENT", /vibe ls/);
  });
});

Deno.test("inode numbers and changes survive reopening the project", async () => {
  await withRepo(async (dir, project) => {
    await spawnVibe(project, "r1");
    let ws = project.workspace("r1");
    const ino = await resolvePath(ws, "src/lib/deep/a.txt");
    await writeFile(ws, "src/lib/deep/a.txt", "changed\n", me);
    await renamePath(ws, "src/lib/deep/a.txt", "moved.txt");
    project.closeWorkspace("r1");
    const p2 = await Project.open(dir);
    try {
      ws = p2.workspace("r1");
      assert.equal(await resolvePath(ws, "moved.txt"), ino);
      assert.equal(await readText(ws, "moved.txt"), "changed\n");
    } finally {
      p2.close();
    }
  });
});

Deno.test("a repo whose HEAD moved since init: spawn indexes the new commit", async () => {
  await withRepo(async (dir, project) => {
    await Deno.writeTextFile(`${dir}/later.txt`, "later\n");
    const head = await commitAll(dir, "later");
    const v = await spawnVibe(project, "h1");
    assert.equal(v.baseCommit, head);
    assert.equal(await readText(project.workspace("h1"), "later.txt"), "later\n");
    const old = await spawnVibe(project, "h0", { from: "HEAD~1" });
    assert.equal(old.baseRef, null);
    await expectCode(resolvePath(project.workspace("h0"), "later.txt"), "ENOENT");
  });
});

Deno.test("large clean blobs stream into the blob cache and read back exactly", async () => {
  const big = Array.from(
    { length: 6 * 1024 * 1024 / 64 },
    (_, i) => `line ${String(i).padStart(10, "0")} of a large file, padded to 64 bytes....\n`,
  ).join("");
  await withRepo(async (_dir, project) => {
    await spawnVibe(project, "big");
    const ws = project.workspace("big");
    const ino = await resolvePath(ws, "big.txt");
    assert.equal((await ws.getattr(ino)).size, big.length);
    const mid = await ws.read(ino, 3_000_000, 64);
    assert.equal(new TextDecoder().decode(mid), big.slice(3_000_000, 3_000_064));
    assert.equal(await readText(ws, "big.txt"), big);
    // Copy-up of a spilled blob, then a write in the middle.
    await ws.write(ino, 64, new TextEncoder().encode("X"));
    assert.equal(await readText(ws, "big.txt"), big.slice(0, 64) + "X" + big.slice(65));
  }, { ...SAMPLE_FILES, "big.txt": big });
});

Deno.test("reads of a big blob while it streams into the cache all return the right bytes", async () => {
  const size = 12 * 1024 * 1024;
  const bytes = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  const dir = await makeRepo(SAMPLE_FILES);
  try {
    await Deno.writeFile(`${dir}/big.bin`, bytes);
    await commitAll(dir, "big");
    await initProject(dir);
    const project = await Project.open(dir);
    try {
      await spawnVibe(project, "s1");
      const ws = project.workspace("s1");
      const ino = await resolvePath(ws, "big.bin");
      const offsets = Array.from({ length: 60 }, (_, i) => (i * 7_919_993) % (size - 100_000));
      offsets.push(size - 10, 0);
      const reads = await Promise.all(offsets.map((o) => ws.read(ino, o, 100_000)));
      reads.forEach((r, i) => {
        const o = offsets[i]!;
        const want = bytes.subarray(o, Math.min(size, o + 100_000));
        assert.equal(r.length, want.length, `length at ${o}`);
        assert.ok(r.every((b, j) => b === want[j]), `bytes at ${o}`);
      });
    } finally {
      project.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
