/**
 * Per-vibe quotas in the workspace itself (real repo, real SQLite): bytes of
 * changed files and the number of changed files. A write that would cross a
 * limit fails with EDQUOT and changes nothing; frees are counted again
 * before anything is refused.
 */
import assert from "node:assert/strict";
import { expectCode, withInitProject } from "./helpers/project.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe, vibeStatus } from "../src/project/lifecycle.ts";
import { readText, removePath, resolvePath, writeFile } from "../src/vfs/path_ops.ts";
import { VibeError } from "../src/errors.ts";
import { loadConfig, parseSize } from "../src/project/config.ts";

const me = { uid: 0, gid: 0 };

const withProject = (fn: (project: Project, dir: string) => Promise<void>) =>
  withInitProject((dir, project) => fn(project, dir));

Deno.test("quota: bytes limit stops a runaway writer with EDQUOT, nothing else lost", async () => {
  await withProject(async (project) => {
    await spawnVibe(project, "q1");
    project.meta.setSetting("quota:q1", JSON.stringify({ bytes: 100_000 }));
    const ws = project.workspace("q1");
    assert.deepEqual(ws.quota, { bytes: 100_000, files: null });
    await writeFile(ws, "keep.txt", "precious\n", me);
    const big = await writeFile(ws, "big.bin", new Uint8Array(0), me);
    const chunk = new Uint8Array(8192).fill(7);
    let written = 0;
    const err = await expectCode(
      (async () => {
        for (let i = 0; i < 100; i++) written += await ws.write(big, written, chunk);
      })(),
      "EDQUOT",
    );
    assert.match(err.message, /over its quota/);
    assert.ok(written <= 100_000 && written > 80_000, `written ${written}`);
    assert.equal((await ws.getattr(big)).size, written, "the refused write changed nothing");
    assert.equal(await readText(ws, "keep.txt"), "precious\n");
    // Freeing space lets writes through again (usage is recounted before
    // refusing). An unlinked file that is still open keeps its bytes, as on
    // any filesystem: they are freed when the last reference goes.
    await removePath(ws, "big.bin");
    await expectCode(writeFile(ws, "after.bin", new Uint8Array(50_000), me), "EDQUOT");
    ws.forget(big, 1_000_000);
    await removePath(ws, "after.bin");
    await writeFile(ws, "after.bin", new Uint8Array(50_000), me);
    // Copy-up of a clean file counts its whole size.
    await ws.setattr(await resolvePath(ws, "README.md"), { size: 60_000 }).then(
      () => assert.fail("truncate up past the quota must fail"),
      (e) => assert.equal((e as VibeError).code, "EDQUOT"),
    );
    const st = await vibeStatus(project, "q1");
    assert.equal(st.quota.limit.bytes, 100_000);
    assert.equal(st.quota.usage.bytes, 50_000 + "precious\n".length);
  });
});

Deno.test("quota: files limit counts created and modified files; project default from config", async () => {
  await withProject(async (project) => {
    Deno.writeTextFileSync(
      `${project.vibeDir}/config.json`,
      JSON.stringify({ quota: { files: 3, bytes: "1MiB" } }),
    );
    await spawnVibe(project, "q2");
    const ws = project.workspace("q2");
    assert.deepEqual(ws.quota, { bytes: 1 << 20, files: 3 });
    await writeFile(ws, "a.txt", "a", me);
    await writeFile(ws, "README.md", "edited", me); // a clean file becomes changed
    await ws.setattr(await resolvePath(ws, "src/main.ts"), { mode: 0o700 });
    await expectCode(writeFile(ws, "d.txt", "d", me), "EDQUOT");
    await ws.mkdir(1, "dirs-are-free", 0o755, me); // directories do not count
    // Rewriting an already changed file is free.
    await writeFile(ws, "a.txt", "again", me);
    // Deleting a changed file frees its slot.
    await removePath(ws, "a.txt");
    await writeFile(ws, "d.txt", "d", me);
    // A vibe's own setting wins field by field.
    project.meta.setSetting("quota:q2", JSON.stringify({ files: null }));
    assert.deepEqual(project.quotaOf("q2"), { bytes: 1 << 20, files: null });
  });
});

Deno.test("config: sizes and clear errors", () => {
  assert.equal(parseSize("2G"), 2 * 1024 ** 3);
  assert.equal(parseSize("500MiB"), 500 * 1024 ** 2);
  assert.equal(parseSize("1.5KB"), 1500);
  assert.equal(parseSize(1234), 1234);
  assert.equal(parseSize("12 parsecs"), null);
  const dir = Deno.makeTempDirSync();
  try {
    assert.deepEqual(loadConfig(dir).quota, { bytes: null, files: null });
    const bad = (text: string, re: RegExp) => {
      Deno.writeTextFileSync(`${dir}/config.json`, text);
      assert.throws(() => loadConfig(dir), (e: unknown) => {
        assert.ok(e instanceof VibeError);
        assert.equal(e.code, "USAGE");
        assert.match(e.message, re);
        assert.ok(e.message.includes(`${dir}/config.json`), e.message);
        return true;
      });
    };
    bad("{", /not valid JSON/);
    bad('{"quotas": {}}', /"quotas" is not a configuration section \(known: policy, quota/);
    bad('{"quota": {"bytes": "lots"}}', /quota\.bytes is not a size: "lots"/);
    bad('{"quota": {"files": -1}}', /quota\.files is not a count/);
    bad('{"quota": {"inodes": 5}}', /quota\.inodes is not a quota setting/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
