/**
 * Untracked layers on real repositories (real git, real SQLite, the real
 * workspace Vfs): injection at spawn, copy-on-write, shared-readonly and
 * private modes, volatility in status, diff, promote and the journal,
 * snapshots, forks, the cache store and every configuration error.
 * Mounted end-to-end behaviour (npm packages, node, five vibes) is in
 * layers_fuse_test.ts.
 */
import assert from "node:assert/strict";
import { expectCode, withInitProject } from "./helpers/project.ts";
import { git, SAMPLE_FILES, useTestIdentity, writeFiles } from "./helpers/repo.ts";
import { Project } from "../src/project/project.ts";
import { destroyVibe, spawnVibe, vibeStatus } from "../src/project/lifecycle.ts";
import { promoteVibe } from "../src/project/promote.ts";
import { diffVibe } from "../src/project/diff.ts";
import { forkVibe, restoreVibe, snapshotVibe } from "../src/project/snapshot.ts";
import { foldJournal } from "../src/exec/changes.ts";
import { loadConfig } from "../src/project/config.ts";
import { addToCache, listCacheEntries, removeCacheEntry } from "../src/layers/cache_store.ts";
import {
  listTree,
  mkdirp,
  readText,
  removePath,
  renamePath,
  resolvePath,
  writeFile,
} from "../src/vfs/path_ops.ts";
import { VibeError } from "../src/errors.ts";
import { ROOT_INO } from "../src/vfs/vfs.ts";
import type { WorkspaceVfs } from "../src/vfs/workspace_vfs.ts";

useTestIdentity();
const me = { uid: 0, gid: 0 };

/** The repo's tracked files plus a .gitignore for what layers inject. */
const TRACKED = {
  ...SAMPLE_FILES,
  ".gitignore": "node_modules/\n.env\ndist/\n*.log\nbuild/\n",
  "web/index.ts": "export {};\n",
};

/** Untracked, gitignored files in the project root (what an install would leave). */
const UNTRACKED = {
  "node_modules/pkg/package.json": '{"name":"pkg","main":"index.js"}\n',
  "node_modules/pkg/index.js": "module.exports = 42;\n",
  "node_modules/pkg/lib/deep.js": "module.exports = 'deep';\n",
  "node_modules/.bin/pkg": { content: "../pkg/index.js", symlink: true },
  ".env": "SECRET=root\n",
  "debug.log": "not configured: invisible\n",
  "web/node_modules/w/index.js": "module.exports = 'w';\n",
};

type Layers = Record<string, unknown>[];

function withLayers(
  layers: Layers,
  fn: (project: Project, dir: string) => Promise<void>,
): Promise<void> {
  return withInitProject((dir, project) => fn(project, dir), {
    files: TRACKED,
    setup: async (dir) => {
      await writeFiles(dir, UNTRACKED);
      await Deno.writeTextFile(`${dir}/.vibe/config.json`, JSON.stringify({ layers }, null, 2));
    },
  });
}

function journalPaths(project: Project, id: string): string[] {
  const entries = project.meta.readJournal(id, 0, 1_000_000);
  return foldJournal(entries, (ino) => project.meta.getInode(id, ino)).changes.map((c) =>
    `${c.kind} ${c.path}`
  );
}

const changeList = (cs: { status: string; path: string }[]) =>
  cs.map((c) => `${c.status} ${c.path}`);

function inodeRows(project: Project, id: string): number {
  return project.meta.stateRows(id).inodes.length;
}

Deno.test("layers: five vibes see node_modules and .env at once; writes stay in their vibe", async () => {
  await withLayers([{ path: "node_modules" }, { path: ".env" }], async (project, dir) => {
    const ids = ["v1", "v2", "v3", "v4", "v5"];
    for (const id of ids) {
      await spawnVibe(project, id);
      // Spawn is metadata: the root row only (layers enter when their directory loads).
      assert.equal(inodeRows(project, id), 1);
      assert.equal(project.meta.vibeLayers(id).length, 2);
    }
    for (const id of ids) {
      const ws = project.workspace(id);
      assert.equal(await readText(ws, ".env"), "SECRET=root\n");
      assert.equal(await readText(ws, "node_modules/pkg/index.js"), "module.exports = 42;\n");
      assert.equal(
        await readText(ws, "node_modules/pkg/lib/deep.js"),
        "module.exports = 'deep';\n",
      );
      assert.equal(
        await ws.readlink(await resolvePath(ws, "node_modules/.bin/pkg")),
        "../pkg/index.js",
      );
      // Gitignored files that are not configured stay invisible, as in a fresh clone.
      await expectCode(resolvePath(ws, "debug.log"), "ENOENT");
      const top = await listTree(ws, "");
      assert.ok(top.includes(".env") && top.includes("node_modules/pkg/index.js"), top.join(","));
    }
    const v1 = project.workspace("v1");
    await writeFile(v1, ".env", "SECRET=v1\n", me);
    await writeFile(v1, "node_modules/pkg/index.js", "module.exports = 1;\n", me);
    assert.equal(await readText(v1, ".env"), "SECRET=v1\n");
    assert.equal(await Deno.readTextFile(`${dir}/.env`), "SECRET=root\n");
    assert.equal(
      await Deno.readTextFile(`${dir}/node_modules/pkg/index.js`),
      "module.exports = 42;\n",
    );
    assert.equal(await readText(project.workspace("v2"), ".env"), "SECRET=root\n");
    // rm -rf node_modules in one vibe leaves the root and the others intact.
    const v3 = project.workspace("v3");
    await rmrf(v3, "node_modules");
    await expectCode(resolvePath(v3, "node_modules"), "ENOENT");
    await Deno.stat(`${dir}/node_modules/pkg/index.js`);
    assert.equal(
      await readText(project.workspace("v4"), "node_modules/pkg/index.js"),
      "module.exports = 42;\n",
    );
    // None of it is a change: status, diff, promote and the journal never show layers.
    for (const id of ["v1", "v3"]) {
      const st = await vibeStatus(project, id);
      assert.deepEqual(st.changes, []);
      assert.deepEqual(journalPaths(project, id), []);
    }
    const st1 = await vibeStatus(project, "v1");
    assert.deepEqual(st1.layers.map((l) => `${l.path} ${l.mode} ${l.source} ${l.state}`), [
      ".env copy-on-write root changed",
      "node_modules copy-on-write root changed",
    ]);
    assert.deepEqual((await vibeStatus(project, "v3")).layers.map((l) => l.state), [
      "untouched",
      "removed",
    ]);
    assert.deepEqual((await vibeStatus(project, "v5")).layers.map((l) => l.state), [
      "untouched",
      "untouched",
    ]);
    await writeFile(v1, "README.md", "changed\n", me);
    assert.deepEqual(changeList((await vibeStatus(project, "v1")).changes), ["M README.md"]);
    assert.deepEqual(journalPaths(project, "v1"), ["modified README.md"]);
    const diff = await diffVibe(project, "v1", { format: "name-status" });
    assert.equal(diff.output.trim(), "M\tREADME.md");
    const p = await promoteVibe(project, "v1");
    assert.equal(
      (await git(dir, "show", "--name-only", "--format=", p.commit)).trim(),
      "README.md",
    );
    const tree = await git(dir, "ls-tree", "-r", "--name-only", p.commit);
    assert.ok(!tree.includes("node_modules") && !tree.includes(".env"), tree);
  });
});

async function rmrf(ws: WorkspaceVfs, path: string): Promise<void> {
  const ino = await resolvePath(ws, path);
  const a = await ws.getattr(ino);
  if (a.kind === "dir") {
    for (const e of await ws.readdir(ino, 0, 1_000_000)) await rmrf(ws, `${path}/${e.name}`);
  }
  await removePath(ws, path);
}

Deno.test("layers: copy-up clones the root's file into the delta and counts against the quota", async () => {
  await withLayers([{ path: "node_modules" }], async (project, dir) => {
    await spawnVibe(project, "q1");
    const ws = project.workspace("q1");
    const big = "x".repeat(100_000);
    await Deno.writeTextFile(`${dir}/node_modules/big.js`, big);
    // Appending one byte copies 100 kB up: a quota of 50 kB refuses it, before anything changed.
    ws.setQuota({ bytes: 50_000, files: null });
    const ino = await resolvePath(ws, "node_modules/big.js");
    await expectCode(ws.write(ino, big.length, new TextEncoder().encode("y")), "EDQUOT");
    assert.equal(ws.node(ino).materialized, false);
    ws.setQuota({ bytes: null, files: null });
    await ws.write(ino, big.length, new TextEncoder().encode("y"));
    const n = ws.node(ino);
    assert.equal(n.materialized, true);
    assert.equal(n.size, 100_001);
    assert.equal(n.volatile, true);
    assert.equal(Deno.statSync(ws.delta.pathOf(ino)).size, 100_001);
    assert.equal(Deno.readTextFileSync(`${dir}/node_modules/big.js`).length, 100_000);
    assert.equal(project.meta.quotaUsage("q1").bytes, 100_001);
    // chmod keeps the source bytes (no copy-up for metadata).
    const idx = await resolvePath(ws, "node_modules/pkg/index.js");
    await ws.setattr(idx, { mode: 0o600 });
    assert.equal(ws.node(idx).materialized, false);
    assert.equal(await readText(ws, "node_modules/pkg/index.js"), "module.exports = 42;\n");
  });
});

Deno.test("layers: shared-readonly answers EROFS to every mutation under it", async () => {
  await withLayers([{ path: "node_modules", mode: "shared-readonly" }], async (project, dir) => {
    await spawnVibe(project, "r1");
    const ws = project.workspace("r1");
    assert.equal(await readText(ws, "node_modules/pkg/index.js"), "module.exports = 42;\n");
    const file = await resolvePath(ws, "node_modules/pkg/index.js");
    const pkg = await resolvePath(ws, "node_modules/pkg");
    const nm = await resolvePath(ws, "node_modules");
    const enc = new TextEncoder();
    await expectCode(ws.write(file, 0, enc.encode("x")), "EROFS", /shared-readonly/);
    await expectCode(ws.setattr(file, { size: 0 }), "EROFS");
    await expectCode(ws.setattr(file, { mode: 0o755 }), "EROFS");
    await expectCode(ws.setattr(file, { mtime: "now" }), "EROFS");
    await expectCode(ws.unlink(pkg, "index.js"), "EROFS");
    await expectCode(ws.rename(pkg, "index.js", pkg, "moved.js"), "EROFS");
    await expectCode(ws.rename(pkg, "index.js", ROOT_INO, "stolen.js"), "EROFS");
    await expectCode(ws.rename(ROOT_INO, "README.md", pkg, "README.md"), "EROFS");
    await expectCode(ws.rename(ROOT_INO, "node_modules", ROOT_INO, "nm2"), "EROFS");
    await expectCode(ws.create(pkg, "new.js", 0o644, me, true), "EROFS");
    await expectCode(ws.mkdir(nm, "newdir", 0o755, me), "EROFS");
    await expectCode(ws.symlink(nm, "l", "pkg", me), "EROFS");
    await expectCode(ws.link(file, ROOT_INO, "hard"), "EROFS");
    await expectCode(ws.rmdir(nm, "pkg"), "EROFS");
    await expectCode(ws.setxattr(file, "user.x", enc.encode("1")), "EROFS");
    assert.equal(
      Deno.readTextFileSync(`${dir}/node_modules/pkg/index.js`),
      "module.exports = 42;\n",
    );
    assert.deepEqual((await vibeStatus(project, "r1")).layers.map((l) => l.state), ["untouched"]);
  });
});

Deno.test("layers: a private layer starts empty and is separate per vibe", async () => {
  await withLayers(
    [{ path: "dist", mode: "private" }, { path: "build/cache", mode: "private" }],
    async (project, dir) => {
      await spawnVibe(project, "p1");
      await spawnVibe(project, "p2");
      const a = project.workspace("p1");
      const b = project.workspace("p2");
      assert.deepEqual(await listTree(a, "dist"), []);
      await writeFile(a, "dist/out.js", "p1 build\n", me);
      await writeFile(b, "dist/out.js", "p2 build\n", me);
      await mkdirp(a, "build/cache/obj", me);
      await writeFile(a, "build/cache/obj/x.o", "obj\n", me);
      // Next to a nested layer, the scaffold directory is ordinary: its files are work.
      await writeFile(a, "build/notes.txt", "reported\n", me);
      assert.equal(await readText(a, "dist/out.js"), "p1 build\n");
      assert.equal(await readText(b, "dist/out.js"), "p2 build\n");
      assert.deepEqual(await listTree(b, "build/cache"), []);
      assert.throws(() => Deno.statSync(`${dir}/dist`));
      assert.deepEqual(changeList((await vibeStatus(project, "p1")).changes), [
        "A build/notes.txt",
      ]);
      assert.deepEqual(journalPaths(project, "p1"), ["added build/notes.txt"]);
      assert.deepEqual((await vibeStatus(project, "p1")).layers.map((l) => l.state), [
        "changed",
        "changed",
      ]);
    },
  );
});

Deno.test("layers: report: true whitelists what the vibe changes under a layer", async () => {
  await withLayers([{ path: "dist", mode: "private", report: true }, {
    path: ".env",
    report: true,
  }], async (project) => {
    await spawnVibe(project, "w1");
    const ws = project.workspace("w1");
    await writeFile(ws, "dist/bundle.js", "bundle\n", me);
    assert.deepEqual(changeList((await vibeStatus(project, "w1")).changes), ["A dist/bundle.js"]);
    await writeFile(ws, ".env", "SECRET=w1\n", me);
    assert.deepEqual(changeList((await vibeStatus(project, "w1")).changes), [
      "A .env",
      "A dist/bundle.js",
    ]);
    assert.deepEqual(journalPaths(project, "w1"), ["modified .env", "added dist/bundle.js"]);
  });
});

Deno.test("layers: files moved across a layer boundary take the volatility of where they land", async () => {
  await withLayers([{ path: "node_modules" }], async (project, dir) => {
    await spawnVibe(project, "m1");
    const ws = project.workspace("m1");
    await renamePath(ws, "node_modules/pkg/lib/deep.js", "src/deep.js");
    await renamePath(ws, "docs/guide.md", "node_modules/guide.md");
    assert.deepEqual(changeList((await vibeStatus(project, "m1")).changes), [
      "D docs/guide.md",
      "A src/deep.js",
    ]);
    assert.deepEqual(journalPaths(project, "m1"), ["deleted docs/guide.md", "added src/deep.js"]);
    const p = await promoteVibe(project, "m1");
    assert.equal(await git(dir, "show", `${p.commit}:src/deep.js`), "module.exports = 'deep';\n");
  });
});

Deno.test("layers: snapshots, restore and fork carry layer nodes", async () => {
  await withLayers(
    [{ path: "node_modules" }, { path: ".env" }, { path: "dist", mode: "private" }],
    async (project) => {
      await spawnVibe(project, "s1");
      const ws = project.workspace("s1");
      await writeFile(ws, ".env", "SECRET=one\n", me);
      await writeFile(ws, "dist/a.js", "a\n", me);
      await writeFile(ws, "node_modules/pkg/index.js", "module.exports = 'one';\n", me);
      snapshotVibe(project, "s1", "one");
      await writeFile(ws, ".env", "SECRET=two\n", me);
      await removePath(ws, "dist/a.js");
      await rmrf(ws, "node_modules");
      restoreVibe(project, "s1", "one");
      assert.equal(await readText(ws, ".env"), "SECRET=one\n");
      assert.equal(await readText(ws, "dist/a.js"), "a\n");
      assert.equal(await readText(ws, "node_modules/pkg/index.js"), "module.exports = 'one';\n");
      assert.equal(
        await readText(ws, "node_modules/pkg/lib/deep.js"),
        "module.exports = 'deep';\n",
      );
      assert.equal(ws.node(await resolvePath(ws, ".env")).volatile, true);
      forkVibe(project, "s1", "s2");
      const f = project.workspace("s2");
      assert.deepEqual(project.meta.vibeLayers("s2"), project.meta.vibeLayers("s1"));
      assert.equal(await readText(f, ".env"), "SECRET=one\n");
      assert.equal(await readText(f, "node_modules/pkg/lib/deep.js"), "module.exports = 'deep';\n");
      await writeFile(f, ".env", "SECRET=fork\n", me);
      assert.equal(await readText(ws, ".env"), "SECRET=one\n");
      assert.deepEqual((await vibeStatus(project, "s2")).changes, []);
      // An unchanged vibe restored to a fresh state gets its layers again from its rows.
      await spawnVibe(project, "s3");
      const s3 = project.workspace("s3");
      snapshotVibe(project, "s3", "empty");
      await writeFile(s3, ".env", "x\n", me);
      restoreVibe(project, "s3", "empty");
      assert.equal(await readText(s3, ".env"), "SECRET=root\n");
    },
  );
});

Deno.test("layers: nested layer paths inject below tracked directories", async () => {
  await withLayers([{ path: "web/node_modules", mode: "shared-readonly" }], async (project) => {
    await spawnVibe(project, "n1");
    const ws = project.workspace("n1");
    assert.equal(await readText(ws, "web/node_modules/w/index.js"), "module.exports = 'w';\n");
    assert.equal(await readText(ws, "web/index.ts"), "export {};\n");
    await expectCode(resolvePath(ws, "node_modules"), "ENOENT");
    assert.deepEqual((await vibeStatus(project, "n1")).changes, []);
  });
});

Deno.test("layers: cache entries are content-addressed and pinned per vibe at spawn", async () => {
  await withLayers(
    [{ path: "deps", source: "cache:deps", mode: "shared-readonly" }],
    async (project, dir) => {
      const prep = await Deno.makeTempDir({ prefix: "vibe-prep-" });
      try {
        await writeFiles(prep, {
          "a/index.js": "v1\n",
          "bin/tool": { content: "#!/bin/sh\n", mode: 0o755 },
          "link": { content: "a/index.js", symlink: true },
        });
        await expectCode(
          spawnVibe(project, "c0"),
          "USAGE",
          /cache has no entry "deps".*vibe cache add/,
        );
        const first = addToCache(project.meta, project.vibeDir, prep, "deps");
        assert.equal(first.files, 2);
        assert.equal(first.symlinks, 1);
        assert.equal(first.reused, false);
        const again = addToCache(project.meta, project.vibeDir, prep, "deps-copy");
        assert.equal(again.digest, first.digest);
        assert.equal(again.reused, true);
        await spawnVibe(project, "c1");
        const c1 = project.workspace("c1");
        assert.equal(await readText(c1, "deps/a/index.js"), "v1\n");
        assert.equal(await c1.readlink(await resolvePath(c1, "deps/link")), "a/index.js");
        assert.equal(
          (await c1.getattr(await resolvePath(c1, "deps/bin/tool"))).mode & 0o777,
          0o755,
        );
        // Re-adding the name: new vibes get the new content, c1 keeps what it spawned with.
        await Deno.writeTextFile(`${prep}/a/index.js`, "v2\n");
        const second = addToCache(project.meta, project.vibeDir, prep, "deps");
        assert.notEqual(second.digest, first.digest);
        assert.equal(second.replaced, first.digest);
        await spawnVibe(project, "c2");
        assert.equal(await readText(project.workspace("c2"), "deps/a/index.js"), "v2\n");
        project.closeWorkspace("c1");
        assert.equal(await readText(project.workspace("c1"), "deps/a/index.js"), "v1\n");
        // rm keeps content while a name or a vibe uses it.
        const rm1 = removeCacheEntry(project.meta, project.vibeDir, "deps-copy");
        assert.equal(rm1.removedData, false);
        assert.deepEqual(rm1.usedBy, ["c1"]);
        await destroyVibe(project, "c1");
        assert.deepEqual(listCacheEntries(project.meta).map((e) => e.name), ["deps"]);
        await expectCode(
          Promise.resolve().then(() => removeCacheEntry(project.meta, project.vibeDir, "nope")),
          "ENOENT",
          /No cache entry "nope"/,
        );
        const store = `${dir}/.vibe/cache/store`;
        assert.ok([...Deno.readDirSync(store)].some((e) => e.name === first.digest));
      } finally {
        await Deno.remove(prep, { recursive: true });
      }
    },
  );
});

Deno.test("layers: configuration errors name the file, the key and the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vibe-cfg-" });
  try {
    const check = (layers: unknown, re: RegExp) => {
      Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ layers }));
      assert.throws(() => loadConfig(dir), (e: unknown) => {
        assert.ok(e instanceof VibeError);
        assert.equal(e.code, "USAGE");
        assert.match(e.message, /config\.json/);
        assert.match(e.message, re);
        return true;
      });
    };
    check(
      [{ path: "node_modules", mode: "cow" }],
      /layers\[0\]\.mode is not a layer mode: "cow".*"copy-on-write", "shared-readonly", "private"/,
    );
    check([{ path: "../outside" }], /layers\[0\]\.path leaves the project through "\.\."/);
    check([{ path: "/etc" }], /layers\[0\]\.path is absolute/);
    check([{ path: ".git/hooks" }], /inside \.git\//);
    check([{ path: ".vibe/x" }], /inside \.vibe\//);
    check(
      [{ path: "a", colour: "red" }],
      /layers\[0\]\.colour is not a layer setting.*path, mode, source, report/,
    );
    check([{ path: "a" }, { path: "./a/" }], /layers\[1\]\.path repeats layers\[0\]/);
    check(
      [{ path: "a" }, { path: "a/b" }],
      /layers\[1\]\.path .* lies inside layers\[0\].*cannot nest/,
    );
    check(
      [{ path: "a", source: "/tmp/x" }],
      /layers\[0\]\.source is not a source.*"root".*"cache:<name>"/,
    );
    check([{ path: "a", mode: "private", source: "cache:x" }], /private layers start empty/);
    check([{ path: "a", report: "yes" }], /layers\[0\]\.report must be true or false/);
    check({ path: "a" }, /layers must be an array/);
    check([{ path: "" }], /layers\[0\]\.path must be a non-empty string/);
    Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ layers: [{ path: "./nm//" }] }));
    assert.deepEqual(loadConfig(dir).layers, [{
      path: "nm",
      mode: "copy-on-write",
      source: "root",
      report: false,
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("layers: spawn refuses tracked paths and missing sources, naming the fix", async () => {
  await withLayers([{ path: "src/lib" }], async (project) => {
    await expectCode(
      spawnVibe(project, "t1"),
      "USAGE",
      /layer "src\/lib" .*layers\[0\].* is tracked by git .*hide tracked content.*git rm -r --cached src\/lib/,
    );
    assert.equal(project.meta.getVibe("t1"), null);
  });
  await withLayers([{ path: "README.md/x" }], async (project) => {
    await expectCode(
      spawnVibe(project, "t2"),
      "USAGE",
      /below "README\.md", which git tracks as a file/,
    );
  });
  await withLayers([{ path: "vendor" }], async (project, dir) => {
    await expectCode(
      spawnVibe(project, "t3"),
      "USAGE",
      new RegExp(
        `has no source: "${dir}/vendor" does not exist.*npm install.*vibe cache add.*remove the layer`,
      ),
    );
  });
});

Deno.test("layers (CLI): cache add/ls/rm, spawn from a cache entry, errors with exit code 2", async () => {
  const { vibe, vibeOk } = await import("./helpers/vibe_cli.ts");
  await withLayers([{ path: "node_modules", mode: "turbo" }], async (project, dir) => {
    project.close();
    const bad = await vibe(dir, "spawn", "x1", "--no-mount");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /config\.json: layers\[0\]\.mode is not a layer mode: "turbo"/);
    await Deno.writeTextFile(
      `${dir}/.vibe/config.json`,
      JSON.stringify({ layers: [{ path: "deps", source: "cache:deps" }] }),
    );
    const missing = await vibe(dir, "spawn", "x2", "--no-mount");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /the cache has no entry "deps".*vibe cache add <dir> --name deps/);
    const added = JSON.parse(
      await vibeOk(dir, "cache", "add", "node_modules", "--name", "deps", "--json"),
    );
    assert.equal(added.name, "deps");
    assert.equal(added.files, 3);
    await vibeOk(dir, "spawn", "x3", "--no-mount");
    const ls = JSON.parse(await vibeOk(dir, "cache", "ls", "--json"));
    assert.deepEqual(ls.map((e: { name: string; usedBy: string[] }) => [e.name, e.usedBy]), [
      ["deps", ["x3"]],
    ]);
    const st = JSON.parse(await vibeOk(dir, "status", "x3", "--json"));
    assert.equal(st.layers[0].origin, `cache:${added.digest}`);
    assert.match(await vibeOk(dir, "cache", "rm", "deps"), /stays while vibes x3 use it/);
    assert.match(await vibeOk(dir, "cache", "ls"), /The cache is empty/);
    // Once no vibe uses it, gc removes the stored tree (after a grace period).
    const stored = `${dir}/.vibe/cache/store/${added.digest}`;
    await vibeOk(dir, "destroy", "x3");
    let gc = JSON.parse(await vibeOk(dir, "gc", "--json"));
    assert.deepEqual(gc.cacheEntriesRemoved, [], "too young: an add may still be naming it");
    const old = new Date(Date.now() - 2 * 3600_000);
    Deno.utimeSync(stored, old, old);
    gc = JSON.parse(await vibeOk(dir, "gc", "--json"));
    assert.deepEqual(gc.cacheEntriesRemoved, [added.digest]);
    await assert.rejects(Deno.stat(stored), Deno.errors.NotFound);
  });
});
