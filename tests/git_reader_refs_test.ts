/**
 * NativeObjectReader refs and revisions against real repositories: loose and
 * packed refs, detached and unborn HEAD, linked worktrees, symref chains and
 * revParse's syntax compared with `git rev-parse`.
 */
import assert from "node:assert/strict";
import { isCode } from "../src/errors.ts";
import { NativeObjectReader } from "../src/git/native_reader.ts";
import { findRepo } from "../src/git/repo_paths.ts";
import { commitAll, git, initRepo, withTempDir, writeFiles } from "./git_reader_helpers.ts";

/** main: c0..c3 with a merge of branch "side" as c3; tags v0 (annotated) and light (lightweight). */
async function makeHistory(dir: string): Promise<void> {
  await initRepo(dir);
  await writeFiles(dir, { "f.txt": "0\n" });
  await commitAll(dir, "c0");
  await git(dir, "tag", "-a", "v0", "-m", "annotated v0");
  await writeFiles(dir, { "f.txt": "1\n" });
  await commitAll(dir, "c1");
  await git(dir, "branch", "side");
  await writeFiles(dir, { "f.txt": "2\n" });
  await commitAll(dir, "c2");
  await git(dir, "checkout", "-q", "side");
  await writeFiles(dir, { "g.txt": "side\n" });
  await commitAll(dir, "side1");
  await git(dir, "checkout", "-q", "main");
  await git(dir, "merge", "-q", "--no-ff", "-m", "c3 merge", "side");
  await git(dir, "tag", "light", "HEAD~1");
  await git(dir, "tag", "-a", "nested", "-m", "tag of a tag", "v0");
  await git(dir, "update-ref", "refs/remotes/origin/main", "HEAD~2");
  await git(dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main");
}

const REVS = [
  "HEAD",
  "@",
  "main",
  "refs/heads/main",
  "heads/main",
  "side",
  "HEAD~2",
  "HEAD~",
  "main^",
  "main^2",
  "HEAD^^",
  "HEAD^0",
  "HEAD~1^1",
  "v0",
  "v0^{commit}",
  "v0^{}",
  "nested",
  "tags/v0",
  "light",
  "light~1",
  "origin",
  "origin/main",
  "remotes/origin/main",
  "HEAD^{commit}~1",
];

async function assertRevsMatchGit(reader: NativeObjectReader, dir: string): Promise<void> {
  for (const rev of REVS) {
    const want = await git(dir, "rev-parse", "--verify", "-q", `${rev}^{commit}`);
    assert.equal(await reader.revParse(rev), want, rev);
  }
}

Deno.test("revParse agrees with git rev-parse; unknown revisions are USAGE errors", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await makeHistory(dir);
    const reader = await NativeObjectReader.open(dir);
    try {
      await assertRevsMatchGit(reader, dir);
      const head = await git(dir, "rev-parse", "HEAD");
      assert.equal(await reader.revParse(head), head);
      assert.equal(await reader.revParse(head.slice(0, 10)), head);
      for (const bad of ["nope", "HEAD~9", "main^3", "HEAD^{tree}", "main@{1}", "", "../config"]) {
        await assert.rejects(reader.revParse(bad), (e) => {
          assert.ok(isCode(e, "USAGE"), `${bad}: ${e}`);
          assert.equal(
            (e as Error).message,
            `Unknown revision "${bad}": not a branch, tag or commit in this repository`,
          );
          return true;
        }, bad);
      }
      // A tag resolves as a ref value, and revParse peels it.
      const v0 = await reader.resolveRef("refs/tags/v0");
      assert.equal(v0, await git(dir, "rev-parse", "refs/tags/v0"));
      assert.notEqual(v0, await reader.revParse("v0"));
      assert.equal((await reader.readTag(v0!)).tag, "v0");
    } finally {
      reader.close();
    }
  });
});

Deno.test("packed-refs (with peeled lines) and loose refs overriding them", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await makeHistory(dir);
    await git(dir, "pack-refs", "--all");
    const packed = Deno.readTextFileSync(`${dir}/.git/packed-refs`);
    assert.match(packed, /^\^[0-9a-f]{40}$/m, "peeled line present");
    const reader = await NativeObjectReader.open(dir);
    try {
      await assertRevsMatchGit(reader, dir);
      assert.equal(await reader.resolveRef("refs/heads/side"), await git(dir, "rev-parse", "side"));
      assert.equal(await reader.resolveRef("refs/heads/none"), null);
      // A loose ref written later wins over its packed line.
      await git(dir, "update-ref", "refs/heads/side", "HEAD~2");
      assert.equal(
        await reader.resolveRef("refs/heads/side"),
        await git(dir, "rev-parse", "HEAD~2"),
      );
      // packed-refs rewritten by another process is re-read.
      await git(dir, "pack-refs", "--all");
      await git(dir, "update-ref", "-d", "refs/tags/light");
      assert.equal(await reader.resolveRef("refs/tags/light"), null);
      await assert.rejects(reader.revParse("light"), (e) => isCode(e, "USAGE"));
    } finally {
      reader.close();
    }
  });
});

Deno.test("HEAD: symbolic, detached, unborn; symref chains", async () => {
  await withTempDir(async (root) => {
    const fresh = `${root}/fresh`;
    await initRepo(fresh);
    let reader = await NativeObjectReader.open(fresh);
    try {
      assert.deepEqual(await reader.readHead(), { branch: "refs/heads/main", oid: null });
      assert.equal(await reader.resolveRef("HEAD"), null);
      await assert.rejects(reader.revParse("HEAD"), (e) => isCode(e, "USAGE"));
    } finally {
      reader.close();
    }
    const dir = `${root}/repo`;
    await makeHistory(dir);
    reader = await NativeObjectReader.open(dir);
    try {
      const head = await git(dir, "rev-parse", "HEAD");
      assert.deepEqual(await reader.readHead(), { branch: "refs/heads/main", oid: head });
      await git(dir, "checkout", "-q", "--detach", "HEAD~1");
      const detached = await git(dir, "rev-parse", "HEAD");
      assert.deepEqual(await reader.readHead(), { branch: null, oid: detached });
      assert.equal(await reader.revParse("HEAD"), detached);
      // Chains of symrefs are followed; loops are CORRUPT, not hangs.
      await git(dir, "symbolic-ref", "refs/heads/alias", "refs/remotes/origin/HEAD");
      assert.equal(
        await reader.resolveRef("refs/heads/alias"),
        await git(dir, "rev-parse", "origin/main"),
      );
      Deno.writeTextFileSync(`${dir}/.git/refs/heads/loop1`, "ref: refs/heads/loop2\n");
      Deno.writeTextFileSync(`${dir}/.git/refs/heads/loop2`, "ref: refs/heads/loop1\n");
      await assert.rejects(reader.resolveRef("refs/heads/loop1"), (e) => isCode(e, "CORRUPT"));
    } finally {
      reader.close();
    }
  });
});

Deno.test("linked worktree: own HEAD in its git dir, shared refs and objects", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await makeHistory(dir);
    const wt = `${root}/wt`;
    await git(dir, "worktree", "add", "-q", "-b", "feature", wt, "HEAD~1");
    await Deno.mkdir(`${wt}/sub/dir`, { recursive: true });
    const paths = await findRepo(`${wt}/sub/dir`);
    assert.deepEqual(paths, {
      workTree: wt,
      gitDir: `${dir}/.git/worktrees/wt`,
      commonDir: `${dir}/.git`,
    });
    assert.deepEqual(await findRepo(dir), {
      workTree: dir,
      gitDir: `${dir}/.git`,
      commonDir: `${dir}/.git`,
    });
    const inWt = await NativeObjectReader.open(`${wt}/sub`);
    const inMain = await NativeObjectReader.open(dir);
    try {
      assert.deepEqual(await inWt.readHead(), {
        branch: "refs/heads/feature",
        oid: await git(dir, "rev-parse", "HEAD~1"),
      });
      assert.equal((await inMain.readHead()).branch, "refs/heads/main");
      await writeFiles(wt, { "wt.txt": "from the worktree\n" });
      const c = await commitAll(wt, "in worktree");
      assert.equal(await inMain.resolveRef("refs/heads/feature"), c);
      assert.equal(await inMain.revParse("feature"), c);
      assert.equal(await inWt.revParse("HEAD"), c);
      assert.equal(await inWt.revParse("main"), await git(dir, "rev-parse", "main"));
      assert.equal((await inMain.readCommit(c)).message, "in worktree\n");
    } finally {
      inWt.close();
      inMain.close();
    }
  });
});
