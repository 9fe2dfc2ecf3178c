/**
 * Big blobs reach the blob cache through `git cat-file` (streamed above
 * 1 MiB): a loose blob and a deltified packed one (which git cannot stream
 * and inflates whole) both read back byte for byte through the workspace
 * Vfs, whether read from the start or first in the middle.
 */
import assert from "node:assert/strict";
import { git } from "./helpers/repo.ts";
import { withInitProject } from "./helpers/project.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";

const MIB = 1024 * 1024;

function pattern(n: number, seed: number): string {
  let s = seed;
  let out = "";
  while (out.length < n) {
    s = (s * 1103515245 + 12345) >>> 0;
    out += `${s.toString(36)}\n`;
  }
  return out.slice(0, n);
}

async function gitBytes(dir: string, spec: string): Promise<Uint8Array> {
  const o = await new Deno.Command("git", { args: ["cat-file", "blob", spec], cwd: dir }).output();
  assert.equal(o.code, 0);
  return o.stdout;
}

Deno.test("blob cache: loose and deltified packed big blobs read back exactly", async () => {
  const bigger = pattern(5 * MIB + 300_000, 3);
  const head = bigger.slice(0, 5 * MIB + 7); // smaller: git packs it as a delta of `bigger`
  await withInitProject(async (dir, project) => {
    await spawnVibe(project, "v");
    const vfs = project.workspace("v");
    const root = 1;
    for (const name of ["loose.txt", "packed.txt"]) {
      const ino = (await vfs.lookup(root, name)).ino;
      const want = await gitBytes(dir, `HEAD:${name}`);
      // A read in the middle first (it waits for that part), then all of it in 1 MiB reads.
      const mid = await vfs.read(ino, 3 * MIB + 5, 4096);
      assert.deepEqual(mid, want.subarray(3 * MIB + 5, 3 * MIB + 5 + 4096), name);
      const got = new Uint8Array(want.length);
      for (let off = 0; off < want.length; off += MIB) {
        got.set(await vfs.read(ino, off, MIB), off);
      }
      assert.deepEqual(got, want, name);
    }
  }, {
    files: { "packed.txt": bigger, "README": "x\n" },
    setup: async (dir) => {
      // packed.txt becomes a delta inside a pack; loose.txt stays a loose object.
      await Deno.writeTextFile(`${dir}/packed.txt`, head);
      await git(dir, "add", "packed.txt");
      await git(dir, "commit", "-q", "-m", "smaller");
      await git(dir, "repack", "-adfq", "--window=10", "--depth=10");
      await Deno.writeTextFile(`${dir}/loose.txt`, pattern(6 * MIB + 1, 9));
      await git(dir, "add", "loose.txt");
      await git(dir, "commit", "-q", "-m", "loose");
      const check = await new Deno.Command("git", {
        args: ["cat-file", "--batch-check=%(objecttype) %(deltabase)"],
        cwd: dir,
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      const w = check.stdin.getWriter();
      await w.write(new TextEncoder().encode("HEAD:packed.txt\n"));
      await w.close();
      const line = new TextDecoder().decode((await check.output()).stdout).trim();
      assert.match(line, /^blob [0-9a-f]{40}$/);
      assert.notEqual(line, `blob ${"0".repeat(40)}`, "packed.txt must be a delta");
      // Re-index: the test reads the vibe at the new HEAD.
      const { initProject } = await import("../src/project/init.ts");
      await Deno.remove(`${dir}/.vibe`, { recursive: true });
      await initProject(dir);
    },
  });
});
