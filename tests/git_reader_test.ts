/**
 * NativeObjectReader object access against real repositories built with the
 * git CLI: loose objects, packs with OFS_DELTA and REF_DELTA chains, several
 * packs, alternates, packs appearing after open, and damaged pack indexes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { isCode, VibeError } from "../src/errors.ts";
import { NativeObjectReader } from "../src/git/native_reader.ts";
import { parseCommit, parseTree } from "../src/git/parse.ts";
import { newPackEntry, OBJ_OFS_DELTA, OBJ_REF_DELTA, PackFile } from "../src/git/pack_reader.ts";
import { findRepo } from "../src/git/repo_paths.ts";
import {
  allObjects,
  assertBlobSizes,
  assertReadsAll,
  commitAll,
  git,
  gitBytes,
  initRepo,
  textLines,
  withTempDir,
  writeFiles,
} from "./git_reader_helpers.ts";

const enc = new TextEncoder();

/** Counts entry kinds in every pack of `dir`. */
function packKinds(dir: string): Map<number, number> {
  const kinds = new Map<number, number>();
  const packDir = `${dir}/.git/objects/pack`;
  for (const f of Deno.readDirSync(packDir)) {
    if (!f.name.endsWith(".idx")) continue;
    const pack = PackFile.open(`${packDir}/${f.name}`)!;
    const e = newPackEntry();
    for (let i = 0; i < pack.idx.count; i++) {
      pack.readEntry(pack.idx.offsetAt(i), e, 64);
      kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
    }
    pack.close();
  }
  return kinds;
}

/** A repository with varied content: text, binary, empty, exec, symlink, nested, unicode. */
async function makeVariedRepo(dir: string): Promise<void> {
  await initRepo(dir);
  const big = new Uint8Array(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  await writeFiles(dir, {
    "README.md": "# hello\n",
    "empty.txt": "",
    // "blob 56\0" + 56 bytes inflates to exactly 64 bytes: the header-buffer edge.
    "edge56.txt": "x".repeat(55) + "\n",
    "bin/tool.sh": "#!/bin/sh\necho hi\n",
    "src/a/b/c/deep.ts": "export const deep = 1;\n",
    "src/ünïcødé name.txt": "unicode\n",
    "data/big.bin": big,
    "data/medium.txt": textLines(1, 2000),
  });
  await Deno.chmod(`${dir}/bin/tool.sh`, 0o755);
  await Deno.symlink("../README.md", `${dir}/src/link`);
  await commitAll(dir, "first\n\nwith a body\n");
  await writeFiles(dir, { "README.md": "# hello again\n", "src/new.ts": "new\n" });
  await commitAll(dir, "second");
  await git(dir, "tag", "-a", "v1", "-m", "release v1");
}

Deno.test("loose objects read byte-identically to git cat-file", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await makeVariedRepo(dir);
    const objects = await allObjects(dir);
    assert.ok(objects.some((o) => o.type === "tag"));
    assert.equal(packKinds(dir).size, 0, "all loose");
    const sized = await NativeObjectReader.open(dir);
    const reader = await NativeObjectReader.open(`${dir}/src/a`);
    try {
      await assertBlobSizes(sized, objects);
      await assertReadsAll(reader, dir, objects);
      const head = await reader.readHead();
      assert.equal(head.branch, "refs/heads/main");
      const commit = await reader.readCommit(head.oid!);
      assert.equal(commit.message, "second\n");
      assert.equal(commit.parents.length, 1);
      assert.deepEqual(commit.author, {
        name: "Ada Lovelace",
        email: "ada@example.com",
        timestamp: 1700000000,
        tzOffsetMinutes: 90,
      });
      assert.deepEqual(commit.committer, {
        name: "Charles Babbage",
        email: "cb@example.com",
        timestamp: 1700000100,
        tzOffsetMinutes: -480,
      });
      const first = await reader.readCommit(commit.parents[0]!);
      assert.equal(first.message, "first\n\nwith a body\n");
      assert.deepEqual(first.parents, []);
      const modes = new Map((await reader.readTree(first.tree)).map((e) => [e.name, e.mode]));
      assert.equal(modes.get("bin"), 0o040000);
      const bin = (await reader.readTree(first.tree)).find((e) => e.name === "bin")!;
      assert.equal((await reader.readTree(bin.oid))[0]!.mode, 0o100755);
    } finally {
      sized.close();
      reader.close();
    }
  });
});

Deno.test("packed repo with OFS_DELTA chains reads byte-identically", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await initRepo(dir);
    // Many similar versions of a few files make long delta chains.
    let text = textLines(7, 400);
    for (let v = 0; v < 30; v++) {
      const lines = text.split("\n");
      lines[(v * 37) % 400] = `changed in version ${v}`;
      lines.splice((v * 11) % 400, 0, `inserted ${v}`);
      text = lines.join("\n");
      await writeFiles(dir, {
        "doc.txt": text,
        "other.txt": text.toUpperCase(),
        [`dir${v % 3}/f.txt`]: `v${v}\n` + text.slice(0, 2000),
      });
      await commitAll(dir, `version ${v}`);
    }
    await git(dir, "repack", "-adfq", "--depth=50", "--window=50");
    const kinds = packKinds(dir);
    assert.ok((kinds.get(OBJ_OFS_DELTA) ?? 0) > 20, `OFS deltas: ${[...kinds]}`);
    const chains = await git(dir, "verify-pack", "-v", ...(await packIdxPaths(dir)));
    assert.match(chains, /chain length = (\d{2,}|[3-9]):/, "chains deeper than 2");
    const objects = await allObjects(dir);
    const sized = await NativeObjectReader.open(dir);
    const reader = await NativeObjectReader.open(dir, { baseCacheBytes: 64 * 1024 });
    try {
      await assertBlobSizes(sized, objects);
      await assertReadsAll(reader, dir, objects);
      // Again, now with delta bases cached.
      for (const o of objects) {
        assert.deepEqual((await reader.readObject(o.oid)).data, o.data);
      }
    } finally {
      sized.close();
      reader.close();
    }
  });
});

async function packIdxPaths(dir: string): Promise<string[]> {
  const packDir = `${dir}/.git/objects/pack`;
  const out: string[] = [];
  for await (const f of Deno.readDir(packDir)) {
    if (f.name.endsWith(".idx")) out.push(`${packDir}/${f.name}`);
  }
  return out;
}

Deno.test("REF_DELTA packs from pack-objects --no-delta-base-offset read correctly", async () => {
  await withTempDir(async (root) => {
    const src = `${root}/src`;
    await initRepo(src);
    let text = textLines(3, 300);
    for (let v = 0; v < 12; v++) {
      text = text.replace(`line ${v * 5} `, `LINE ${v} `) + `appended ${v}\n`;
      await writeFiles(src, { "a.txt": text, "b.txt": text + "b\n" });
      await commitAll(src, `v${v}`);
    }
    const list = await gitBytes(src, ["rev-list", "--objects", "--all"]);
    const dst = `${root}/dst`;
    await initRepo(dst);
    await gitBytes(
      src,
      [
        "pack-objects",
        "-q",
        "--no-delta-base-offset",
        "--window=20",
        `${dst}/.git/objects/pack/pack`,
      ],
      list,
    );
    const kinds = packKinds(dst);
    assert.ok((kinds.get(OBJ_REF_DELTA) ?? 0) > 5, `REF deltas: ${[...kinds]}`);
    assert.equal(kinds.get(OBJ_OFS_DELTA) ?? 0, 0);
    const objects = await allObjects(src);
    const sized = await NativeObjectReader.open(dst);
    const reader = await NativeObjectReader.open(dst);
    try {
      await assertBlobSizes(sized, objects);
      await assertReadsAll(reader, src, objects);
    } finally {
      sized.close();
      reader.close();
    }
  });
});

Deno.test("objects spread over several packs and loose files, plus alternates", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await initRepo(dir);
    for (let i = 0; i < 3; i++) {
      await writeFiles(dir, { [`f${i}.txt`]: textLines(i, 50) });
      await commitAll(dir, `c${i}`);
      await git(dir, "repack", "-dq"); // one new pack per round
    }
    await writeFiles(dir, { "loose.txt": "loose\n" });
    await commitAll(dir, "loose");
    assert.equal((await packIdxPaths(dir)).length, 3);
    // A shared clone reads through objects/info/alternates, a clone of it through two levels.
    const clone = `${root}/clone`;
    await git(root, "clone", "-q", "--shared", dir, clone);
    const clone2 = `${root}/clone2`;
    await git(root, "clone", "-q", "--shared", clone, clone2);
    // Make the second level relative, as git allows.
    Deno.writeTextFileSync(
      `${clone2}/.git/objects/info/alternates`,
      "../../../clone/.git/objects\n",
    );
    await writeFiles(clone2, { "own.txt": "own\n" });
    await commitAll(clone2, "own");
    const objects = await allObjects(clone2);
    assert.ok(objects.length > 10);
    const reader = await NativeObjectReader.open(clone2);
    try {
      await assertReadsAll(reader, clone2, objects);
      assert.equal(await reader.revParse("HEAD~4"), await git(dir, "rev-parse", "HEAD~3"));
    } finally {
      reader.close();
    }
  });
});

Deno.test("missing objects are ENOENT, wrong types EINVAL, bad ids EINVAL", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await makeVariedRepo(dir);
    await git(dir, "gc", "-q");
    const reader = await NativeObjectReader.open(dir);
    try {
      const missing = "0123456789abcdef0123456789abcdef01234567";
      await assert.rejects(reader.readObject(missing), (e) => {
        assert.ok(isCode(e, "ENOENT"));
        assert.equal(
          (e as VibeError).message,
          `Cannot read object "${missing}": not found (run "git fsck")`,
        );
        return true;
      });
      await assert.rejects(reader.blobSize(missing), (e) => isCode(e, "ENOENT"));
      assert.equal(await reader.hasObject(missing), false);
      const head = await reader.revParse("HEAD");
      assert.equal(await reader.hasObject(head), true);
      const tree = (await reader.readCommit(head)).tree;
      await assert.rejects(reader.readBlob(tree), (e) => isCode(e, "EINVAL"));
      await assert.rejects(reader.blobSize(tree), (e) => isCode(e, "EINVAL"));
      await assert.rejects(reader.readTree(head), (e) => isCode(e, "EINVAL"));
      await assert.rejects(reader.readObject("HEAD"), (e) => isCode(e, "EINVAL"));
      reader.close();
      await assert.rejects(reader.readObject(head), (e) => isCode(e, "EBADF"));
    } finally {
      reader.close();
    }
  });
});

Deno.test("packs written after the reader opened are found (repack, gc)", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await initRepo(dir);
    await writeFiles(dir, { "a.txt": "a\n" });
    const c1 = await commitAll(dir, "one");
    await git(dir, "repack", "-adq");
    const reader = await NativeObjectReader.open(dir);
    try {
      assert.equal((await reader.readCommit(c1)).message, "one\n");
      // Another process writes objects and packs them (loose copies are pruned).
      await writeFiles(dir, { "b.txt": "b\n" });
      const c2 = await commitAll(dir, "two");
      const blob = await git(dir, "rev-parse", "HEAD:b.txt");
      await git(dir, "repack", "-dq");
      assert.equal(
        (await git(dir, "count-objects", "-v")).match(/^count: (\d+)/m)![1],
        "0",
        "no loose objects left",
      );
      assert.deepEqual(await reader.readBlob(blob), enc.encode("b\n"));
      assert.equal(await reader.blobSize(blob), 2);
      // Everything repacked into one new pack; the old packs are deleted.
      await git(dir, "repack", "-adfq");
      reader.refresh();
      assert.equal((await reader.readCommit(c2)).parents[0], c1);
      assert.equal(await reader.revParse("main~1"), c1);
      await writeFiles(dir, { "c.txt": "c\n" });
      const c3 = await commitAll(dir, "three");
      await git(dir, "gc", "-q", "--prune=now");
      assert.equal((await reader.readCommit(c3)).message, "three\n");
      assert.equal(await reader.hasObject(await git(dir, "rev-parse", "HEAD:c.txt")), true);
    } finally {
      reader.close();
    }
  });
});

Deno.test("damaged or version 1 pack indexes are CORRUPT errors naming the file", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await makeVariedRepo(dir);
    await git(dir, "repack", "-adq");
    const [idx] = await packIdxPaths(dir);
    const head = await git(dir, "rev-parse", "HEAD");
    // Flip a byte inside the oid table: only the checksum can notice.
    const bytes = Deno.readFileSync(idx!);
    const good = bytes.slice();
    bytes[8 + 1024 + 25] = bytes[8 + 1024 + 25]! ^ 0xff;
    Deno.writeFileSync(idx!, bytes);
    let reader = await NativeObjectReader.open(dir);
    try {
      await assert.rejects(reader.readObject(head), (e) => {
        assert.ok(isCode(e, "CORRUPT"), String(e));
        assert.ok((e as Error).message.includes(idx!), (e as Error).message);
        assert.match((e as Error).message, /checksum mismatch/);
        return true;
      });
    } finally {
      reader.close();
    }
    // A version 1 index written by git itself.
    Deno.writeFileSync(idx!, good);
    const pack = idx!.replace(/\.idx$/, ".pack");
    Deno.removeSync(idx!);
    await git(dir, "index-pack", "--index-version=1", "-o", idx!, pack);
    reader = await NativeObjectReader.open(dir);
    try {
      await assert.rejects(reader.readObject(head), (e) => {
        assert.ok(isCode(e, "CORRUPT"), String(e));
        assert.ok((e as Error).message.includes(idx!));
        assert.match((e as Error).message, /version 1/);
        return true;
      });
    } finally {
      reader.close();
    }
  });
});

Deno.test("commit parsing tolerates gpgsig and extra headers", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await initRepo(dir);
    const tree = await git(dir, "write-tree");
    const body = [
      `tree ${tree}`,
      "author A U Thor <a@example.com> 1600000000 +0545",
      "committer C O Mitter <c@example.com> 1600000001 -0030",
      "encoding UTF-8",
      "gpgsig -----BEGIN PGP SIGNATURE-----",
      " ",
      " iQEzBAABCAAdFiEE",
      " -----END PGP SIGNATURE-----",
      "x-custom value",
      "",
      "Subject line",
      "",
      "Body ünïcødé",
      "",
    ].join("\n");
    const oid = await new TextDecoder().decode(
      await gitBytes(dir, ["hash-object", "-t", "commit", "-w", "--stdin"], enc.encode(body)),
    ).trim();
    const reader = await NativeObjectReader.open(dir);
    try {
      const c = await reader.readCommit(oid);
      assert.equal(c.oid, oid);
      assert.equal(c.tree, tree);
      assert.deepEqual(c.parents, []);
      assert.equal(c.author.name, "A U Thor");
      assert.equal(c.author.tzOffsetMinutes, 345);
      assert.equal(c.committer.tzOffsetMinutes, -30);
      assert.equal(c.committer.timestamp, 1600000001);
      assert.equal(c.message, "Subject line\n\nBody ünïcødé\n");
      assert.deepEqual(parseCommit(enc.encode(body), oid), c);
    } finally {
      reader.close();
    }
    assert.throws(() => parseTree(new Uint8Array([0x31, 0x30, 0x30]), "t"), VibeError);
  });
});

Deno.test("findRepo errors: outside a repo, bare repos, sha256 repos", async () => {
  await withTempDir(async (root) => {
    const plain = `${root}/plain`;
    await Deno.mkdir(plain);
    // A temp dir can itself sit inside a repository; only assert when it does not.
    const outside = await git(root, "rev-parse", "--show-toplevel").then(() => false, () => true);
    if (outside) {
      await assert.rejects(findRepo(plain), (e) => {
        assert.ok(isCode(e, "USAGE"));
        assert.equal(
          (e as Error).message,
          `Not a git repository: "${plain}" (run "git init" or cd into a repo)`,
        );
        return true;
      });
    }
    const bare = `${root}/bare.git`;
    await git(root, "init", "-q", "--bare", bare);
    await assert.rejects(findRepo(bare), (e) => {
      assert.ok(isCode(e, "USAGE"));
      assert.match((e as Error).message, /bare repository.*needs a work tree/);
      return true;
    });
    const sha = `${root}/sha256`;
    await initRepo(sha, "--object-format=sha256");
    await assert.rejects(findRepo(sha), (e) => {
      assert.ok(isCode(e, "USAGE"));
      assert.match((e as Error).message, /SHA256 object ids/);
      return true;
    });
    await assert.rejects(
      NativeObjectReader.open(sha),
      (e) => isCode(e, "USAGE"),
    );
  });
});

Deno.test("abbreviated ids: unique, ambiguous (USAGE) and commit-ish disambiguation", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/repo`;
    await initRepo(dir);
    await writeFiles(dir, { "a.txt": "a\n" });
    const head = await commitAll(dir, "one");
    // Find two blob contents whose ids share 4 hex digits, then store both.
    const seen = new Map<string, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const content = `blob content ${i}\n`;
      const oid = createHash("sha1").update(`blob ${content.length}\0${content}`).digest("hex");
      const other = seen.get(oid.slice(0, 4));
      if (other !== undefined && !head.startsWith(oid.slice(0, 4))) pair = [other, content];
      else seen.set(oid.slice(0, 4), content);
    }
    const oids: string[] = [];
    for (const content of pair) {
      oids.push(
        new TextDecoder().decode(
          await gitBytes(dir, ["hash-object", "-w", "--stdin"], enc.encode(content)),
        ).trim(),
      );
    }
    const prefix = oids[0]!.slice(0, 4);
    assert.equal(oids[1]!.slice(0, 4), prefix);
    const reader = await NativeObjectReader.open(dir);
    try {
      await assert.rejects(reader.revParse(prefix), (e) => {
        assert.ok(isCode(e, "USAGE"));
        assert.match((e as Error).message, /is ambiguous/);
        return true;
      });
      assert.equal(await reader.revParse(head.slice(0, 7)), head);
      assert.equal(await reader.revParse(head.slice(0, 4).toUpperCase() + head.slice(4, 9)), head);
      await assert.rejects(reader.revParse(oids[0]!.slice(0, 8)), (e) => {
        assert.ok(isCode(e, "USAGE"));
        assert.match((e as Error).message, /names a blob, not a commit/);
        return true;
      });
    } finally {
      reader.close();
    }
  });
});
