/**
 * IsoGitObjectWriter, ref_lock and signature against real repositories and
 * the real git CLI (fsck, cat-file, mktree, commit-tree, reflog, pack-refs).
 */
import assert from "node:assert/strict";
import { isCode, VibeError } from "../src/errors.ts";
import { IsoGitObjectWriter } from "../src/git/isogit_writer.ts";
import type { RepoPaths, Signature } from "../src/git/object_store.ts";
import {
  isValidRefComponent,
  readRef,
  refNameProblem,
  updateRef,
  validateRefName,
} from "../src/git/ref_lock.ts";
import {
  formatSignature,
  parseGitDate,
  readIdentityConfig,
  resolveSignature,
} from "../src/git/signature.ts";
import { GIT_MODE } from "../src/types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Deno's cache as seen before tests swap HOME, so child `deno run`s find npm packages. */
const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

/** Environment for git children: no user/system config, fixed identity. */
function gitEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Test Author",
    GIT_AUTHOR_EMAIL: "author@example.com",
    GIT_COMMITTER_NAME: "Test Committer",
    GIT_COMMITTER_EMAIL: "committer@example.com",
    GIT_AUTHOR_DATE: "1700000000 +0000",
    GIT_COMMITTER_DATE: "1700000000 +0000",
  };
}

interface TestRepo extends RepoPaths {
  dir: string;
  git(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  gitOk(...args: string[]): Promise<string>;
}

async function withRepo(fn: (repo: TestRepo) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vibe_writer_" });
  const env = gitEnv(dir);
  const git = async (...args: string[]) => {
    const o = await new Deno.Command("git", {
      args,
      cwd: `${dir}/wt`,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: o.code, out: dec.decode(o.stdout).trimEnd(), err: dec.decode(o.stderr) };
  };
  const gitOk = async (...args: string[]) => {
    const r = await git(...args);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.err}`);
    return r.out;
  };
  try {
    await Deno.mkdir(`${dir}/wt`);
    await gitOk("init", "-q", "-b", "main");
    const wt = `${dir}/wt`;
    await fn({ dir, workTree: wt, gitDir: `${wt}/.git`, commonDir: `${wt}/.git`, git, gitOk });
  } finally {
    await removeRepoDir(dir);
  }
}

/**
 * Removes a test repository. Once (1 in ~10 full runs) the removal met
 * "Directory not empty": an entry appeared while it ran, though every writer
 * of the test had been awaited; the cause is not found yet. Retried rather
 * than failing the test that already passed its assertions.
 */
async function removeRepoDir(dir: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await Deno.remove(dir, { recursive: true });
      return;
    } catch (e) {
      if (attempt >= 5 || !/not empty/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** Runs `fn` with process env vars set (undefined = unset), restoring them after. */
async function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    saved.set(k, Deno.env.get(k));
    if (v === undefined) Deno.env.delete(k);
    else Deno.env.set(k, v);
  }
  try {
    await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

/** Env for in-process code (writer reflogs, resolveSignature) isolated from the machine's config. */
function isolated(home: string, extra: Record<string, string | undefined> = {}) {
  return {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: undefined,
    GIT_AUTHOR_NAME: undefined,
    GIT_AUTHOR_EMAIL: undefined,
    GIT_AUTHOR_DATE: undefined,
    GIT_COMMITTER_NAME: "Vibe Tester",
    GIT_COMMITTER_EMAIL: "vibe@example.com",
    GIT_COMMITTER_DATE: undefined,
    EMAIL: undefined,
    ...extra,
  };
}

const SIG: Signature = {
  name: "Test Author",
  email: "author@example.com",
  timestamp: 1700000000,
  tzOffsetMinutes: 0,
};

async function commitOf(w: IsoGitObjectWriter, text: string, parents: string[] = []) {
  const blob = await w.writeBlob(enc.encode(text));
  const tree = await w.writeTree([{ name: "f", mode: GIT_MODE.FILE, oid: blob }]);
  return await w.writeCommit({ tree, parents, author: SIG, committer: SIG, message: text });
}

async function assertLocked(p: Promise<unknown>, lockPath: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isCode(e, "LOCKED"), String(e));
    assert.match((e as Error).message, /is locked by another process/);
    assert.ok((e as Error).message.includes(`"${lockPath}" exists`), (e as Error).message);
    return true;
  });
}

// ------------------------------------------------------------------ objects

Deno.test("writer: blobs, trees and commits are byte-identical to git's and pass fsck --strict", async () => {
  await withRepo(async (repo) => {
    const w = new IsoGitObjectWriter(repo);
    const blob = await w.writeBlob(enc.encode("hello\n"));
    assert.equal(blob, "ce013625030ba8dba906f756967f9e9ca394464a"); // git hash-object of "hello\n"
    assert.equal(await repo.gitOk("cat-file", "blob", blob), "hello");
    const empty = await w.writeBlob(new Uint8Array(0));
    assert.equal(empty, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");

    const sub = await w.writeTree([{ name: "x", mode: GIT_MODE.FILE, oid: blob }]);
    // Names that sort differently with and without git's "dir as name/" rule.
    const names: Array<[string, number, string]> = [
      ["a-b", GIT_MODE.FILE, blob],
      ["a.b", GIT_MODE.EXEC, blob],
      ["a", GIT_MODE.TREE, sub],
      ["a0", GIT_MODE.FILE, blob],
      ["a+b", GIT_MODE.SYMLINK, blob],
      ["Z", GIT_MODE.FILE, empty],
      ["é", GIT_MODE.FILE, blob],
      ["a b", GIT_MODE.FILE, blob],
    ];
    for (const order of [names, [...names].reverse()]) {
      const tree = await w.writeTree(order.map(([name, mode, oid]) => ({ name, mode, oid })));
      const mktreeInput = names
        .map(([name, mode, oid]) =>
          `${mode === GIT_MODE.TREE ? "040000" : mode.toString(8)} ${
            mode === GIT_MODE.TREE ? "tree" : "blob"
          } ${oid}\t${name}`
        )
        .join("\n") + "\n";
      const cmd = new Deno.Command("git", {
        args: ["mktree"],
        cwd: repo.workTree,
        env: gitEnv(repo.dir),
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      const writer = cmd.stdin.getWriter();
      await writer.write(enc.encode(mktreeInput));
      await writer.close();
      const out = await cmd.output();
      assert.equal(tree, dec.decode(out.stdout).trim(), "tree oid equals git mktree's");
    }
    // A tree with a file "a" next to "a.b" / "a-b" (the other side of the rule).
    const fileA = await w.writeTree([
      { name: "a.b", mode: GIT_MODE.FILE, oid: blob },
      { name: "a", mode: GIT_MODE.FILE, oid: blob },
      { name: "a-b", mode: GIT_MODE.FILE, oid: blob },
    ]);
    assert.deepEqual(
      (await repo.gitOk("ls-tree", "--name-only", fileA)).split("\n"),
      ["a", "a-b", "a.b"],
    );

    const root = await w.writeTree([
      { name: "a", mode: GIT_MODE.TREE, oid: sub },
      { name: "a.b", mode: GIT_MODE.FILE, oid: blob },
      { name: "a-b", mode: GIT_MODE.FILE, oid: blob },
    ]);
    assert.deepEqual(
      (await repo.gitOk("ls-tree", "--name-only", root)).split("\n"),
      ["a-b", "a.b", "a"],
    );
    const commit = await w.writeCommit({
      tree: root,
      parents: [],
      author: SIG,
      committer: { ...SIG, name: "Test Committer", email: "committer@example.com" },
      message: "first commit",
    });
    const viaGit = await repo.gitOk("commit-tree", root, "-m", "first commit");
    assert.equal(commit, viaGit, "commit oid equals git commit-tree's");

    const child = await w.writeCommit({
      tree: fileA,
      parents: [commit],
      author: { ...SIG, tzOffsetMinutes: -330 },
      committer: { ...SIG, timestamp: 1700000100, tzOffsetMinutes: 90 },
      message: "second\n\nbody line\n",
    });
    const raw = await repo.gitOk("cat-file", "commit", child);
    assert.match(raw, new RegExp(`^tree ${fileA}\nparent ${commit}\n`));
    assert.match(raw, /\nauthor Test Author <author@example.com> 1700000000 -0530\n/);
    assert.match(raw, /\ncommitter Test Author <author@example.com> 1700000100 \+0130\n/);
    assert.match(raw, /\n\nsecond\n\nbody line$/);

    await repo.gitOk("update-ref", "refs/heads/main", child);
    const fsck = await repo.git("fsck", "--strict", "--no-dangling");
    assert.equal(fsck.code, 0, fsck.err);
    assert.equal(fsck.err.includes("error"), false, fsck.err);
  });
});

Deno.test("writer: loose objects are read-only, placed atomically, and rewrites are no-ops", async () => {
  await withRepo(async (repo) => {
    const w = new IsoGitObjectWriter(repo);
    const data = enc.encode("same bytes\n");
    const oids = await Promise.all(Array.from({ length: 8 }, () => w.writeBlob(data)));
    assert.equal(new Set(oids).size, 1);
    const oid = oids[0]!;
    const dir = `${repo.commonDir}/objects/${oid.slice(0, 2)}`;
    const info = await Deno.stat(`${dir}/${oid.slice(2)}`);
    assert.equal(info.mode! & 0o777, 0o444);
    const leftovers = [];
    for await (const e of Deno.readDir(dir)) if (e.name.startsWith("tmp_obj_")) leftovers.push(e);
    assert.deepEqual(leftovers, []);
    await w.syncObjects();
    assert.equal(await repo.gitOk("cat-file", "-p", oid), "same bytes");
  });
});

Deno.test("writer: rejects tree entries git would refuse", async () => {
  await withRepo(async (repo) => {
    const w = new IsoGitObjectWriter(repo);
    const blob = await w.writeBlob(enc.encode("x"));
    const bad: Array<[string, number, string]> = [
      ["", GIT_MODE.FILE, blob],
      [".", GIT_MODE.FILE, blob],
      ["..", GIT_MODE.FILE, blob],
      [".git", GIT_MODE.TREE, blob],
      [".GIT", GIT_MODE.FILE, blob],
      ["a/b", GIT_MODE.FILE, blob],
      ["nul\0", GIT_MODE.FILE, blob],
      ["ok", 0o100664, blob],
      ["ok", GIT_MODE.FILE, "abc"],
    ];
    for (const [name, mode, oid] of bad) {
      await assert.rejects(w.writeTree([{ name, mode, oid }]), (e: unknown) => isCode(e, "EINVAL"));
    }
    await assert.rejects(
      w.writeTree([
        { name: "a", mode: GIT_MODE.FILE, oid: blob },
        { name: "a", mode: GIT_MODE.TREE, oid: blob },
      ]),
      /appears twice/,
    );
    await assert.rejects(
      w.writeCommit({
        tree: blob,
        parents: [],
        author: { ...SIG, email: "a>b" },
        committer: SIG,
        message: "m",
      }),
      (e: unknown) => isCode(e, "EINVAL"),
    );
  });
});

Deno.test("writer: promoting 50 files (50 blobs, 2 trees, 1 commit, ref update) — timing", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      await w.writeBlob(enc.encode("warm-up"));
      const t0 = performance.now();
      const blobs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => w.writeBlob(enc.encode(`file ${i}\n`.repeat(200)))),
      );
      const t1 = performance.now();
      const sub = await w.writeTree(
        blobs.map((oid, i) => ({ name: `f${i}.ts`, mode: GIT_MODE.FILE, oid })),
      );
      const root = await w.writeTree([{ name: "src", mode: GIT_MODE.TREE, oid: sub }]);
      const commit = await w.writeCommit({
        tree: root,
        parents: [],
        author: SIG,
        committer: SIG,
        message: "promote",
      });
      const t2 = performance.now();
      await w.updateRef("refs/heads/main", commit, null, "vibe: promote");
      const t3 = performance.now();
      console.log(
        `  50 blobs ${(t1 - t0).toFixed(1)} ms, trees+commit ${(t2 - t1).toFixed(1)} ms, ` +
          `fsync+ref ${(t3 - t2).toFixed(1)} ms`,
      );
      assert.equal(await repo.gitOk("rev-parse", "main"), commit);
      assert.equal((await repo.git("fsck", "--strict")).code, 0);
    });
  });
});

// ------------------------------------------------------------------ refs

Deno.test("refs: create, CAS update, reflogs of branch and HEAD, git agrees", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      const c1 = await commitOf(w, "one");
      const c2 = await commitOf(w, "two", [c1]);
      await w.updateRef("refs/heads/main", c1, null, "vibe: first\nline");
      await w.updateRef("refs/heads/main", c2, c1, "vibe: second");
      assert.equal(await repo.gitOk("rev-parse", "HEAD"), c2);
      const branchLog = await repo.gitOk("reflog", "show", "--format=%H %gs", "refs/heads/main");
      assert.deepEqual(branchLog.split("\n"), [`${c2} vibe: second`, `${c1} vibe: first line`]);
      const headLog = await repo.gitOk("reflog", "show", "--format=%H %gs", "HEAD");
      assert.deepEqual(headLog.split("\n"), [`${c2} vibe: second`, `${c1} vibe: first line`]);
      const rawLog = await Deno.readTextFile(`${repo.gitDir}/logs/refs/heads/main`);
      assert.match(
        rawLog,
        new RegExp(
          `^0{40} ${c1} Vibe Tester <vibe@example.com> \\d+ [+-]\\d{4}\tvibe: first line\n`,
        ),
      );
      // Refs outside heads/remotes/notes get no new reflog.
      await w.updateRef("refs/vibe/a1", c1, null, "vibe: snapshot");
      assert.equal(await readRef(repo, "refs/vibe/a1"), c1);
      await assert.rejects(Deno.stat(`${repo.gitDir}/logs/refs/vibe/a1`), Deno.errors.NotFound);
      assert.equal((await repo.git("fsck", "--strict")).code, 0);
    });
  });
});

Deno.test("refs: CAS conflict leaves the ref and no lock behind", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      const c1 = await commitOf(w, "one");
      const c2 = await commitOf(w, "two", [c1]);
      await w.updateRef("refs/heads/main", c1, null, "create");
      await assert.rejects(w.updateRef("refs/heads/main", c2, null, "again"), (e: unknown) => {
        assert.ok(isCode(e, "CONFLICT"));
        assert.match((e as Error).message, /expected to be absent but points to/);
        return true;
      });
      await assert.rejects(
        w.updateRef("refs/heads/main", c2, c2, "wrong old"),
        (e: unknown) => isCode(e, "CONFLICT") && (e as VibeError).details?.actual === c1,
      );
      await assert.rejects(
        w.deleteRef("refs/heads/main", c2),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      assert.equal(await repo.gitOk("rev-parse", "main"), c1);
      await assert.rejects(
        Deno.stat(`${repo.commonDir}/refs/heads/main.lock`),
        Deno.errors.NotFound,
      );
      await assert.rejects(Deno.stat(`${repo.commonDir}/HEAD.lock`), Deno.errors.NotFound);
    });
  });
});

Deno.test("refs: an existing .lock (git holding the ref) gives LOCKED and is left alone", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo, { lockTimeoutMs: 30 });
      const c1 = await commitOf(w, "one");
      const c2 = await commitOf(w, "two", [c1]);
      await w.updateRef("refs/heads/topic", c1, null, "create");
      const lockPath = `${repo.commonDir}/refs/heads/topic.lock`;
      await Deno.writeTextFile(lockPath, "");
      await assertLocked(w.updateRef("refs/heads/topic", c2, c1, "blocked"), lockPath);
      await assertLocked(w.deleteRef("refs/heads/topic", undefined), lockPath);
      assert.equal(await Deno.readTextFile(lockPath), "", "foreign lock untouched");
      // Real git honours the same lock file.
      const git = await repo.git("update-ref", "refs/heads/topic", c2);
      assert.notEqual(git.code, 0);
      await Deno.remove(lockPath);
      await w.updateRef("refs/heads/topic", c2, c1, "unblocked");
      assert.equal(await repo.gitOk("rev-parse", "topic"), c2);
      // HEAD.lock blocks updates of the branch HEAD points to (git locks HEAD too).
      await w.updateRef("refs/heads/main", c1, null, "create main");
      await Deno.writeTextFile(`${repo.gitDir}/HEAD.lock`, "");
      await assertLocked(w.updateRef("refs/heads/main", c2, c1, "x"), `${repo.gitDir}/HEAD.lock`);
      await Deno.remove(`${repo.gitDir}/HEAD.lock`);
    });
  });
});

Deno.test("refs: packed-only branches are updated and deleted; packed-refs rewritten", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      const c1 = await commitOf(w, "one");
      const c2 = await commitOf(w, "two", [c1]);
      for (const b of ["main", "packed-a", "packed-b", "packed-c"]) {
        await repo.gitOk("update-ref", `refs/heads/${b}`, c1);
      }
      await repo.gitOk("tag", "-a", "-m", "tag", "v1", c1);
      await repo.gitOk("pack-refs", "--all");
      await assert.rejects(
        Deno.stat(`${repo.commonDir}/refs/heads/packed-a`),
        Deno.errors.NotFound,
      );

      await w.updateRef("refs/heads/packed-a", c2, c1, "update packed");
      assert.equal(await repo.gitOk("rev-parse", "packed-a"), c2);

      await w.deleteRef("refs/heads/packed-b", c1);
      assert.notEqual((await repo.git("rev-parse", "--verify", "-q", "packed-b")).code, 0);
      const packed = await Deno.readTextFile(`${repo.commonDir}/packed-refs`);
      assert.equal(packed.includes("refs/heads/packed-b"), false);
      assert.ok(packed.includes("refs/heads/packed-c"));
      assert.ok(packed.includes("refs/tags/v1\n^"), "peeled line of the tag kept");
      assert.equal(await repo.gitOk("rev-parse", "v1^{commit}"), c1);

      // Loose + packed: both go.
      await w.deleteRef("refs/heads/packed-a", undefined);
      assert.notEqual((await repo.git("rev-parse", "--verify", "-q", "packed-a")).code, 0);
      await assert.rejects(
        Deno.stat(`${repo.commonDir}/logs/refs/heads/packed-a`),
        Deno.errors.NotFound,
      );
      // Deleting a missing ref without expectation is a no-op.
      await w.deleteRef("refs/heads/never", undefined);
      await assert.rejects(
        w.deleteRef("refs/heads/never", c1),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      assert.equal((await repo.git("fsck", "--strict")).code, 0);
    });
  });
});

Deno.test("refs: updating HEAD moves its branch; detached HEAD moves itself", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      const c1 = await commitOf(w, "one");
      const c2 = await commitOf(w, "two", [c1]);
      const c3 = await commitOf(w, "three", [c2]);
      await w.updateRef("HEAD", c1, null, "unborn main");
      assert.equal((await Deno.readTextFile(`${repo.gitDir}/HEAD`)).trim(), "ref: refs/heads/main");
      await w.updateRef("HEAD", c2, c1, "via HEAD");
      assert.equal(await repo.gitOk("rev-parse", "refs/heads/main"), c2);
      assert.equal(
        await repo.gitOk("reflog", "show", "-1", "--format=%H %gs", "refs/heads/main"),
        `${c2} via HEAD`,
      );
      assert.equal(
        await repo.gitOk("reflog", "show", "-1", "--format=%H %gs", "HEAD"),
        `${c2} via HEAD`,
      );
      await assert.rejects(
        w.updateRef("HEAD", c3, c1, "stale"),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      await repo.gitOk("checkout", "-q", "--detach", c1);
      await w.updateRef("HEAD", c3, c1, "detached move");
      assert.equal((await Deno.readTextFile(`${repo.gitDir}/HEAD`)).trim(), c3);
      assert.equal(await repo.gitOk("rev-parse", "main"), c2, "branch untouched when detached");
      await assert.rejects(w.deleteRef("HEAD", undefined), (e: unknown) => isCode(e, "USAGE"));
      assert.equal((await repo.git("fsck", "--strict")).code, 0);
    });
  });
});

Deno.test("refs: file/directory clashes between ref names are CONFLICT", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      const c1 = await commitOf(w, "one");
      await w.updateRef("refs/heads/a", c1, null, "a");
      await assert.rejects(
        w.updateRef("refs/heads/a/b", c1, null, "a/b"),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      await w.updateRef("refs/heads/x/y", c1, null, "x/y");
      await assert.rejects(
        w.updateRef("refs/heads/x", c1, null, "x"),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      await repo.gitOk("pack-refs", "--all");
      await assert.rejects(
        w.updateRef("refs/heads/a/c", c1, null, "a/c"),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      await assert.rejects(
        w.updateRef("refs/heads/x", c1, null, "x"),
        (e: unknown) => isCode(e, "CONFLICT"),
      );
      // After deleting x/y (and its now-empty directory), x can be created.
      await w.deleteRef("refs/heads/x/y", c1);
      await w.updateRef("refs/heads/x", c1, null, "x");
      assert.equal(await repo.gitOk("rev-parse", "refs/heads/x"), c1);
    });
  });
});

Deno.test("refs: names are validated like git check-ref-format", async () => {
  const names = [
    "refs/heads/main",
    "refs/heads/feature/x-1",
    "refs/vibe/a1",
    "refs/heads/a./b",
    "refs/heads/.hidden",
    "refs/heads/a..b",
    "refs/heads/a.lock",
    "refs/heads/a.lock/b",
    "refs/heads/a b",
    "refs/heads/a~1",
    "refs/heads/a^",
    "refs/heads/a:b",
    "refs/heads/a?",
    "refs/heads/a*",
    "refs/heads/a[b",
    "refs/heads/a\\b",
    "refs/heads/a@{1}",
    "refs/heads/a@b",
    "refs/heads/end.",
    "refs/heads//double",
    "refs/heads/trailing/",
    "refs/heads/tab\tx",
    "refs/heads/ünï",
  ];
  for (const name of names) {
    const git = await new Deno.Command("git", {
      args: ["check-ref-format", name],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(refNameProblem(name) === null, git.code === 0, `"${name}": git says ${git.code}`);
  }
  assert.throws(() => validateRefName("refs/heads/a..b"), (e: unknown) => {
    assert.ok(isCode(e, "USAGE"));
    assert.equal(
      (e as Error).message,
      'Cannot use ref name "refs/heads/a..b": it contains ".." (see "git check-ref-format --help")',
    );
    return true;
  });
  assert.throws(() => validateRefName("main"), /must be "HEAD" or start with "refs\/"/);
  validateRefName("HEAD");
  for (const ok of ["a1", "fix-login", "v1.2", "ünï"]) assert.ok(isValidRefComponent(ok), ok);
  for (const bad of ["", ".a", "a.", "a/b", "a.lock", "@", "a..b", "a b", "x@{y"]) {
    assert.equal(isValidRefComponent(bad), false, bad);
  }
  await assert.rejects(
    updateRef(
      { workTree: "/nonexistent", gitDir: "/nonexistent", commonDir: "/nonexistent" },
      "refs/heads/a",
      "abc",
      undefined,
      "m",
      SIG,
    ),
    (e: unknown) => isCode(e, "USAGE"),
  );
});

Deno.test("refs: concurrent updaters with CAS retry never lose an update", async () => {
  await withRepo(async (repo) => {
    await withEnv(isolated(repo.dir), async () => {
      const w = new IsoGitObjectWriter(repo);
      const root = await commitOf(w, "root");
      await w.updateRef("refs/heads/main", root, null, "root");
      const WORKERS = 10;
      const EACH = 5;
      const increment = async (writer: IsoGitObjectWriter, label: string) => {
        for (;;) {
          const cur = await readRef(repo, "refs/heads/main");
          const next = await commitOf(writer, label, cur ? [cur] : []);
          try {
            await writer.updateRef("refs/heads/main", next, cur, label);
            return;
          } catch (e) {
            if (!isCode(e, "CONFLICT") && !isCode(e, "LOCKED")) throw e;
          }
        }
      };
      // Subprocesses race too (separate processes, separate writers).
      const script = `${repo.dir}/racer.ts`;
      await Deno.writeTextFile(
        script,
        `import { IsoGitObjectWriter } from ${
          JSON.stringify(new URL("../src/git/isogit_writer.ts", import.meta.url).href)
        };
import { readRef } from ${JSON.stringify(new URL("../src/git/ref_lock.ts", import.meta.url).href)};
import { isCode } from ${JSON.stringify(new URL("../src/errors.ts", import.meta.url).href)};
const [wt, label, count] = Deno.args;
const repo = { workTree: wt, gitDir: wt + "/.git", commonDir: wt + "/.git" };
const w = new IsoGitObjectWriter(repo);
const sig = { name: "r", email: "r@e", timestamp: 1700000000, tzOffsetMinutes: 0 };
for (let i = 0; i < Number(count); i++) {
  for (;;) {
    const cur = await readRef(repo, "refs/heads/main");
    const blob = await w.writeBlob(new TextEncoder().encode(label + i));
    const tree = await w.writeTree([{ name: "f", mode: 0o100644, oid: blob }]);
    const next = await w.writeCommit({ tree, parents: [cur], author: sig, committer: sig, message: label + i });
    try { await w.updateRef("refs/heads/main", next, cur, label + i); break; }
    catch (e) { if (!isCode(e, "CONFLICT") && !isCode(e, "LOCKED")) throw e; }
  }
}
`,
      );
      const config = new URL("../deno.json", import.meta.url).pathname;
      const PROCS = 2;
      const PROC_EACH = 4;
      const procs = Array.from({ length: PROCS }, (_, p) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--cached-only",
            "--config",
            config,
            script,
            repo.workTree,
            `p${p}-`,
            String(PROC_EACH),
          ],
          env: { DENO_DIR },
          stdout: "null",
          stderr: "piped",
        }).output());
      await Promise.all(
        Array.from({ length: WORKERS }, async (_, k) => {
          const writer = new IsoGitObjectWriter(repo);
          for (let i = 0; i < EACH; i++) await increment(writer, `w${k}-${i}`);
        }),
      );
      for (const out of await Promise.all(procs)) {
        assert.equal(out.code, 0, dec.decode(out.stderr));
      }
      const total = 1 + WORKERS * EACH + PROCS * PROC_EACH;
      assert.equal(Number(await repo.gitOk("rev-list", "--count", "main")), total);
      const log = (await repo.gitOk("reflog", "show", "--format=%gs", "refs/heads/main")).split(
        "\n",
      );
      assert.equal(log.length, total);
      assert.equal((await repo.git("fsck", "--strict")).code, 0);
      for await (const e of Deno.readDir(`${repo.commonDir}/refs/heads`)) {
        assert.equal(e.name.endsWith(".lock"), false);
      }
    });
  });
});

// ------------------------------------------------------------------ signature

Deno.test("signature: env wins, then git config (local over global), else USAGE", async () => {
  await withRepo(async (repo) => {
    await withEnv(
      isolated(repo.dir, { GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined }),
      async () => {
        await assert.rejects(resolveSignature(repo, "author"), (e: unknown) => {
          assert.ok(isCode(e, "USAGE"));
          assert.match((e as Error).message, /git config --global user\.name/);
          assert.match((e as Error).message, /GIT_AUTHOR_NAME/);
          return true;
        });
        await Deno.writeTextFile(
          `${repo.dir}/.gitconfig`,
          "[user]\n\tname = Global Person\n\temail = global@example.com\n",
        );
        let sig = await resolveSignature(repo, "committer");
        assert.equal(sig.name, "Global Person");
        assert.equal(sig.email, "global@example.com");
        assert.equal(sig.tzOffsetMinutes, -new Date(sig.timestamp * 1000).getTimezoneOffset() || 0);
        assert.ok(Math.abs(sig.timestamp - Date.now() / 1000) < 60);
        await repo.gitOk("config", "user.name", 'Local "Quoted" Person');
        await repo.gitOk("config", "author.email", "author-only@example.com");
        sig = await resolveSignature(repo, "author");
        assert.equal(sig.name, 'Local "Quoted" Person');
        assert.equal(sig.email, "author-only@example.com");
        sig = await resolveSignature(repo, "committer");
        assert.equal(sig.email, "global@example.com");
        const cfg = await readIdentityConfig(repo);
        assert.equal(cfg.userName, 'Local "Quoted" Person');
        await withEnv({
          GIT_AUTHOR_NAME: "Env Name",
          GIT_AUTHOR_EMAIL: "env@example.com",
          GIT_AUTHOR_DATE: "@1234567890 +0200",
        }, async () => {
          const s = await resolveSignature(repo, "author");
          assert.deepEqual(s, {
            name: "Env Name",
            email: "env@example.com",
            timestamp: 1234567890,
            tzOffsetMinutes: 120,
          });
          assert.equal(formatSignature(s), "Env Name <env@example.com> 1234567890 +0200");
        });
        await withEnv({ GIT_AUTHOR_NAME: "Bad <Name>" }, async () => {
          await assert.rejects(
            resolveSignature(repo, "author"),
            (e: unknown) => isCode(e, "USAGE"),
          );
        });
      },
    );
  });
});

Deno.test("signature: git date formats", () => {
  const cases: Array<[string, number, number]> = [
    ["1700000000 +0000", 1700000000, 0],
    ["@1700000000 -0530", 1700000000, -330],
    ["@1700000000", 1700000000, 0],
    ["2005-04-07T22:13:13+02:00", 1112904793, 120],
    ["2005-04-07 22:13:13 +0200", 1112904793, 120],
    ["2005-04-07T20:13:13Z", 1112904793, 0],
    ["Thu, 07 Apr 2005 22:13:13 +0200", 1112904793, 120],
    ["7 Apr 2005 15:13:13 -0500", 1112904793, -300],
  ];
  for (const [text, ts, tz] of cases) {
    assert.deepEqual(
      parseGitDate(text, "GIT_AUTHOR_DATE"),
      { timestamp: ts, tzOffsetMinutes: tz },
      text,
    );
  }
  const local = parseGitDate("2005-04-07T22:13:13", "X");
  assert.equal(local.timestamp, Math.floor(new Date(2005, 3, 7, 22, 13, 13).getTime() / 1000));
  for (const bad of ["yesterday", "2005-13-01T00:00:00Z", "1700000000 +99"]) {
    assert.throws(() => parseGitDate(bad, "GIT_AUTHOR_DATE"), (e: unknown) => isCode(e, "USAGE"));
  }
});
