/**
 * The exec change report: operations on a real workspace (real repo, real
 * SQLite), then the journal since a mark folded into per-path changes. No
 * tree is scanned; every case is checked against what was done.
 */
import assert from "node:assert/strict";
import { withInitProject } from "./helpers/project.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";
import { foldJournal } from "../src/exec/changes.ts";
import { mkdirp, removePath, renamePath, resolvePath, writeFile } from "../src/vfs/path_ops.ts";
import type { WorkspaceVfs } from "../src/vfs/workspace_vfs.ts";
import { ROOT_INO } from "../src/vfs/vfs.ts";

const me = { uid: 0, gid: 0 };

function withWorkspace(fn: (ws: WorkspaceVfs, project: Project) => Promise<void>) {
  return withInitProject(async (_dir, project) => {
    await spawnVibe(project, "c1");
    await fn(project.workspace("c1"), project);
  });
}

function report(project: Project, seq: number) {
  const entries = project.meta.readJournal("c1", seq, 1_000_000);
  return foldJournal(entries, (ino) => project.meta.getInode("c1", ino));
}

const brief = (cs: { path: string; kind: string; from?: string }[]) =>
  cs.map((c) => `${c.kind} ${c.path}${c.from ? ` <- ${c.from}` : ""}`);

Deno.test("change report: add, edit, rename, delete, chmod, symlink, net-zero temp files", async () => {
  await withWorkspace(async (ws, project) => {
    // Changes before the mark are not the run's.
    await writeFile(ws, "docs/guide.md", "before the run\n", me);
    const seq = ws.markJournal();
    await writeFile(ws, "new.txt", "0123456789", me);
    await writeFile(ws, "README.md", "# edited\n", me);
    await writeFile(ws, "docs/guide.md", "written again in the run\n", me); // rate limit reset by the mark
    await renamePath(ws, "src/main.ts", "src/app.ts");
    await removePath(ws, "empty.txt");
    await ws.setattr(await resolvePath(ws, "src/lib/util.ts"), { mode: 0o755 });
    await ws.symlink(ROOT_INO, "link-new", "README.md", me);
    await writeFile(ws, "tmp.txt", "scratch", me);
    await removePath(ws, "tmp.txt");
    await mkdirp(ws, "out/deep", me);
    const r = report(project, seq);
    assert.equal(r.exact, true);
    assert.deepEqual(brief(r.changes), [
      "modified README.md",
      "modified docs/guide.md",
      "deleted empty.txt",
      "added link-new",
      "added new.txt",
      "added out",
      "added out/deep",
      "renamed src/app.ts <- src/main.ts",
      "modified src/lib/util.ts",
    ]);
    const by = new Map(r.changes.map((c) => [c.path, c]));
    assert.equal(by.get("new.txt")!.bytes, 10);
    assert.equal(by.get("new.txt")!.type, "file");
    assert.equal(by.get("link-new")!.type, "symlink");
    assert.equal(by.get("link-new")!.bytes, "README.md".length);
    assert.equal(by.get("src/lib/util.ts")!.execChanged, true);
    assert.equal(by.get("src/lib/util.ts")!.content, false);
    assert.equal(by.get("src/lib/util.ts")!.mode, "0755");
    assert.equal(by.get("src/app.ts")!.content, false);
    assert.equal(by.get("empty.txt")!.type, "file");
    assert.equal(by.get("out")!.type, "dir");
  });
});

Deno.test("change report: directory renames, replace by rename, rename back, symlink retarget", async () => {
  await withWorkspace(async (ws, project) => {
    const seq = ws.markJournal();
    await writeFile(ws, "src/lib/deep/a.txt", "changed\n", me);
    await renamePath(ws, "src/lib", "src/library");
    // A file renamed away and back is not a change.
    await renamePath(ws, "docs/guide.md", "docs/g2.md");
    await renamePath(ws, "docs/g2.md", "docs/guide.md");
    // Rename over an existing file replaces it.
    await writeFile(ws, "incoming.txt", "replacement\n", me);
    await renamePath(ws, "incoming.txt", "README.md");
    // A symlink retargeted: removed and made again.
    await removePath(ws, "link-to-readme");
    await ws.symlink(ROOT_INO, "link-to-readme", "src/main.ts", me);
    const r = report(project, seq);
    assert.deepEqual(brief(r.changes), [
      "modified README.md",
      "modified link-to-readme",
      "renamed src/library <- src/lib",
      "modified src/library/deep/a.txt",
    ]);
    const by = new Map(r.changes.map((c) => [c.path, c]));
    assert.equal(by.get("README.md")!.replaced, true);
    assert.equal(by.get("README.md")!.bytes, "replacement\n".length);
    assert.equal(by.get("link-to-readme")!.replaced, true);
    assert.equal(by.get("link-to-readme")!.type, "symlink");
    assert.equal(by.get("src/library/deep/a.txt")!.content, true);
  });
});

Deno.test("change report: a file deleted after a rename is a deletion of its old path", async () => {
  await withWorkspace(async (ws, project) => {
    const seq = ws.markJournal();
    await renamePath(ws, "docs/guide.md", "guide.md");
    await removePath(ws, "guide.md");
    await writeFile(ws, "bin/run.sh", "#!/bin/sh\necho changed\n", me);
    await ws.setattr(await resolvePath(ws, "bin/run.sh"), { mode: 0o644 });
    const r = report(project, seq);
    assert.deepEqual(brief(r.changes), ["modified bin/run.sh", "deleted docs/guide.md"]);
    assert.equal(r.changes[0]!.execChanged, true);
    assert.equal(r.changes[0]!.content, true);
  });
});
