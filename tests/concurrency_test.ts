/**
 * Concurrency through the real CLI: 20 vibes committed by 20 parallel
 * processes all land; two vibes changing the same lines: exactly one lands.
 */
import assert from "node:assert/strict";
import { git, GIT_ENV, makeRepo, useTestIdentity } from "./helpers/repo.ts";
import { initProject } from "../src/project/init.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";
import { promoteVibe } from "../src/project/promote.ts";
import { readText, writeFile } from "../src/vfs/path_ops.ts";

useTestIdentity();
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const me = { uid: 0, gid: 0 };

async function vibeCli(dir: string, ...args: string[]) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "-C", dir, ...args],
    env: GIT_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

Deno.test("20 vibes committed in parallel processes: every change lands, nothing lost", async () => {
  const files: Record<string, string> = { "shared.txt": "shared\n" };
  for (let i = 0; i < 20; i++) files[`part${i}/file.txt`] = `original ${i}\n`;
  const dir = await makeRepo(files);
  try {
    await initProject(dir);
    const p = await Project.open(dir);
    for (let i = 0; i < 20; i++) {
      await spawnVibe(p, `v${i}`);
      await writeFile(p.workspace(`v${i}`), `part${i}/file.txt`, `changed by v${i}\n`, me);
      await promoteVibe(p, `v${i}`, { message: `change ${i}` });
    }
    p.close();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => vibeCli(dir, "commit", `v${i}`, "--json")),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `v${i}: ${r.stderr}${r.stdout}`);
    }
    const kinds = results.map((r) => JSON.parse(r.stdout).kind);
    assert.equal(kinds.filter((k) => k === "fast-forward").length, 1, "exactly one fast-forward");
    const log = (await git(dir, "log", "--format=%s", "main")).trim().split("\n");
    assert.equal(log.length, 21);
    assert.deepEqual(
      log.slice(0, 20).sort(),
      Array.from({ length: 20 }, (_, i) => `change ${i}`).sort(),
    );
    for (let i = 0; i < 20; i++) {
      assert.equal(await git(dir, "show", `main:part${i}/file.txt`), `changed by v${i}\n`);
    }
    await git(dir, "fsck", "--strict", "--no-progress");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two vibes changing the same lines: exactly one lands, the other keeps its work", async () => {
  const dir = await makeRepo({ "README.md": "title\nline 2\nline 3\n" });
  try {
    await initProject(dir);
    const p = await Project.open(dir);
    for (const id of ["left", "right"]) {
      await spawnVibe(p, id);
      await writeFile(p.workspace(id), "README.md", `title\nline 2 by ${id}\nline 3\n`, me);
      await promoteVibe(p, id);
    }
    p.close();
    const [a, b] = await Promise.all([
      vibeCli(dir, "commit", "left"),
      vibeCli(dir, "commit", "right"),
    ]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 4], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 4 ? a : b;
    const loserId = a.code === 4 ? "left" : "right";
    assert.match(loser.stderr, /conflict/i);
    assert.match(loser.stderr, /README\.md/);
    const p2 = await Project.open(dir);
    try {
      assert.equal(
        await readText(p2.workspace(loserId), "README.md"),
        `title\nline 2 by ${loserId}\nline 3\n`,
      );
    } finally {
      p2.close();
    }
    await git(dir, "fsck", "--strict", "--no-progress");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
