/**
 * The dashboard's data collection on real repositories (no mount needed):
 * drift agrees with `vibe status`, the conflict matrix tells overlapping
 * lines from shared files, the queue predicts what `vibe commit` does, the
 * journal stream carries size deltas, file diffs, actions, `--once --json`,
 * and the CLI's static import graph never reaches React.
 */
import assert from "node:assert/strict";
import { withInitProject } from "./helpers/project.ts";
import { git, useTestIdentity } from "./helpers/repo.ts";
import { vibe as runVibe } from "./helpers/vibe_cli.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe, vibeStatus } from "../src/project/lifecycle.ts";
import { promoteVibe } from "../src/project/promote.ts";
import { commitVibe } from "../src/project/commit.ts";
import { mkdirp, removePath, renamePath, writeFile } from "../src/vfs/path_ops.ts";
import { collectOnce, DashCollector } from "../src/dash/collector.ts";
import { dropAction } from "../src/dash/actions.ts";
import type { DashSnapshot } from "../src/dash/types.ts";

useTestIdentity();
const me = { uid: 0, gid: 0 };
const README = "# Sample\n\nline 3\nline 4\nline 5\n";

const withProject = (fn: (dir: string, project: Project) => Promise<void>) => withInitProject(fn);

async function snap(dir: string): Promise<DashSnapshot> {
  return await collectOnce(dir);
}

Deno.test("dash collector: drift is what vibe status lists, read without the vibe's lock", async () => {
  await withProject(async (dir, project) => {
    await spawnVibe(project, "a1");
    const ws = project.workspace("a1");
    await writeFile(ws, "README.md", README.replace("line 4", "line 4 changed"), me);
    await mkdirp(ws, "src/new", me);
    await writeFile(ws, "src/new/added.ts", "export const a = 1;\n", me);
    await removePath(ws, "docs/guide.md");
    await renamePath(ws, "src/lib/util.ts", "src/lib/utils.ts");
    // A file rewritten with its original bytes is no change.
    await writeFile(ws, "empty.txt", "", me);
    const expected = (await vibeStatus(project, "a1")).changes.map((c) => `${c.status} ${c.path}`);
    // `project` still holds the vibe's lock: the collector must not need it.
    const s = await snap(dir);
    const row = s.vibes.find((v) => v.id === "a1")!;
    assert.equal(row.drift.paths, expected.length);
    assert.deepEqual(
      { a: row.drift.added, m: row.drift.modified, d: row.drift.deleted },
      { a: 2, m: 1, d: 2 },
    );
    assert.ok(row.drift.bytes > 0);
    assert.equal(row.state, "unmounted");
    assert.equal(row.mounted, false);
    assert.equal(row.unpromoted, true);
    assert.equal(s.daemon.running, false);
    assert.ok(row.lastWriteMs !== null && row.lastSeq > 0);
    assert.equal(row.activity.reduce((a, b) => a + b, 0) > 0, true);
    const ev = s.changes["a1"]!;
    const readme = ev.filter((e) => e.path === "README.md");
    assert.ok(readme.length > 0 && readme.every((e) => e.sizeDelta !== null));
    assert.equal(
      readme.reduce((a, e) => a + e.sizeDelta!, 0),
      " changed".length,
      "size deltas start from the base blob",
    );
    const rm = ev.find((e) => e.op === "unlink" && e.path === "docs/guide.md")!;
    assert.equal(rm.sizeDelta, -"guide\n".length);
    assert.ok(ev.some((e) => e.op === "rename" && e.path2 === "src/lib/utils.ts"));
  });
});

Deno.test("dash collector: hot cells for overlapping lines, warm for shared files", async () => {
  await withProject(async (dir, project) => {
    for (const id of ["a1", "a2", "a3", "a4"]) await spawnVibe(project, id);
    const edit = async (id: string, text: string) =>
      await writeFile(project.workspace(id), "README.md", text, me);
    await edit("a1", README.replace("line 3", "line 3 by a1"));
    await edit("a2", README.replace("line 3", "line 3 by a2"));
    await edit("a3", README.replace("line 5", "line 5 by a3"));
    // a4 made the same change as a1: shared, but merging them is clean.
    await edit("a4", README.replace("line 3", "line 3 by a1"));
    await writeFile(project.workspace("a4"), "bin/run.sh", "#!/bin/sh\necho other\n", me);
    const s = await snap(dir);
    const cell = (a: string, b: string) => s.conflicts.find((c) => c.a === a && c.b === b);
    assert.equal(cell("a1", "a2")?.heat, "hot");
    assert.deepEqual(cell("a1", "a2")?.paths, [{ path: "README.md", overlap: true }]);
    assert.equal(cell("a1", "a3")?.heat, "warm", "different lines of one file");
    assert.equal(cell("a1", "a4")?.heat, "warm", "identical changes do not conflict");
    assert.equal(cell("a2", "a3")?.shared, 1);
    assert.equal(s.conflicts.length, 6, "every pair shares README.md");
    const state = (id: string) => s.vibes.find((v) => v.id === id)!;
    assert.equal(state("a1").state, "conflict");
    assert.match(state("a1").conflictReason!, /same lines as a2 in README\.md/);
    assert.equal(state("a3").state, "unmounted", "warm cells are no conflict");
  });
});

Deno.test("dash collector: the queue predicts fast-forward, merge and conflict; drop removes the ref", async () => {
  await withProject(async (dir, project) => {
    for (const id of ["ff", "clean", "clash", "lander"]) await spawnVibe(project, id);
    await writeFile(project.workspace("ff"), "docs/guide.md", "guide v2\n", me);
    await writeFile(project.workspace("clean"), "README.md", README.replace("line 5", "five"), me);
    await writeFile(project.workspace("clash"), "README.md", README.replace("line 3", "three"), me);
    await writeFile(project.workspace("lander"), "README.md", README.replace("line 3", "3"), me);
    for (const id of ["ff", "clean", "clash", "lander"]) {
      await promoteVibe(project, id, { message: `work of ${id}\n\nbody line\n` });
    }
    let s = await snap(dir);
    assert.deepEqual(s.queue.map((q) => [q.id, q.outcome]), [
      ["clash", "fast-forward"],
      ["clean", "fast-forward"],
      ["ff", "fast-forward"],
      ["lander", "fast-forward"],
    ]);
    const ff = s.queue.find((q) => q.id === "ff")!;
    assert.equal(ff.subject, "work of ff");
    assert.deepEqual(ff.files, [{ path: "docs/guide.md", status: "M", added: 1, removed: 1 }]);
    assert.equal(s.vibes.find((v) => v.id === "ff")!.state, "promoted");

    await commitVibe(project, "lander", { keep: true });
    s = await snap(dir);
    const out = Object.fromEntries(s.queue.map((q) => [q.id, q.outcome]));
    assert.deepEqual(out, {
      clash: "conflict",
      clean: "merge",
      ff: "merge",
      lander: "already-applied",
    });
    assert.deepEqual(s.queue.find((q) => q.id === "clash")!.conflicts, ["README.md"]);
    const clash = s.vibes.find((v) => v.id === "clash")!;
    assert.equal(clash.state, "conflict");
    assert.match(clash.conflictReason!, /conflicts with main: README\.md/);
    // The dry runs wrote nothing: the real commit still works and lands what it said.
    const before = (await git(dir, "rev-parse", "main")).trim();
    await commitVibe(project, "clean", { keep: true });
    assert.notEqual((await git(dir, "rev-parse", "main")).trim(), before);

    const c = await DashCollector.open(dir);
    try {
      const msg = await dropAction(dir, "ff", ff.commit);
      assert.match(msg, /Dropped refs\/vibes\/ff/);
      await c.refresh(true);
      assert.ok(!c.snapshot().queue.some((q) => q.id === "ff"));
      assert.equal(c.project.meta.getVibe("ff")!.promotedCommit, null);
      await assert.rejects(
        dropAction(dir, "clash", ff.commit),
        /Cannot drop "refs\/vibes\/clash": it is [0-9a-f]{12}, not [0-9a-f]{12}/,
      );
    } finally {
      await c.close();
    }
    assert.equal((await git(dir, "for-each-ref", "refs/vibes/ff")).trim(), "");
  });
});

Deno.test("dash collector: live refreshes follow writes; file diffs are against the base", async () => {
  await withProject(async (dir, project) => {
    await spawnVibe(project, "w1");
    const c = await DashCollector.open(dir, { settleMs: 0 });
    try {
      await c.refresh();
      assert.equal(c.snapshot().vibes[0]!.drift.paths, 0);
      assert.deepEqual(c.snapshot().changes["w1"], []);
      await writeFile(project.workspace("w1"), "README.md", "# New title\n", me);
      assert.equal(await c.refresh(), true);
      const row = c.snapshot().vibes[0]!;
      assert.equal(row.drift.paths, 1);
      const lines = await c.fileDiff("w1", "README.md");
      assert.deepEqual(lines.map((l) => l.text), [
        "--- a/README.md",
        "+++ b/README.md",
        "@@ -1,5 +1 @@",
        "-# Sample",
        "-",
        "-line 3",
        "-line 4",
        "-line 5",
        "+# New title",
      ]);
      const clean = await c.fileDiff("w1", "src/lib/deep/a.txt");
      assert.equal(clean.at(-1)!.text, "No changes against the base");
      // Nothing moved: a refresh does no work and reports no change within the second.
      assert.equal(await c.refresh(), false);
      await c.refresh();
      await removePath(project.workspace("w1"), "README.md");
      await c.refresh();
      assert.deepEqual(c.snapshot().changes["w1"]!.map((e) => e.op), [
        "truncate",
        "write",
        "unlink",
      ]);
      const gone = await c.fileDiff("w1", "README.md");
      assert.equal(gone[1]!.text, "+++ /dev/null");
    } finally {
      await c.close();
    }
  });
});

Deno.test("dash CLI: --once --json prints the snapshot; --json on no vibes; no terminal refuses", async () => {
  await withProject(async (dir, project) => {
    let r = await runVibe(dir, "dash", "--once", "--json");
    assert.equal(r.code, 0, r.stderr);
    let s = JSON.parse(r.stdout) as DashSnapshot;
    assert.deepEqual(s.vibes, []);
    assert.deepEqual(s.queue, []);
    assert.equal(s.version, 1);
    await spawnVibe(project, "j1");
    await writeFile(project.workspace("j1"), "new.txt", "hi\n", me);
    project.closeWorkspace("j1");
    r = await runVibe(dir, "dash", "--once", "--json");
    s = JSON.parse(r.stdout) as DashSnapshot;
    assert.equal(s.vibes[0]!.id, "j1");
    assert.equal(s.vibes[0]!.drift.paths, 1);
    assert.equal(s.changes["j1"]!.at(-1)!.path, "new.txt");
    r = await runVibe(dir, "dash", "--once");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /j1\s+unmounted/);
    r = await runVibe(dir, "dash");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs a terminal/);
  });
});

Deno.test("dash: the CLI's static import graph never loads React or Ink", async () => {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", main],
    stdout: "piped",
    stderr: "null",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(o.stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const byUrl = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  // Every command's module (what src/cli/main.ts imports lazily), except the dashboard's.
  const cli = graph.modules.find((m) => m.specifier.endsWith("/src/cli/main.ts"))!;
  const lazy = (cli.dependencies ?? []).filter((d) => d.isDynamic).map((d) => d.code!.specifier);
  assert.ok(lazy.some((u) => u.endsWith("/src/tui/main.ts")), "dash is imported lazily");
  const todo = [cli.specifier, ...lazy.filter((u) => !u.endsWith("/src/tui/main.ts"))];
  while (todo.length > 0) {
    const url = todo.pop()!;
    if (seen.has(url)) continue;
    seen.add(url);
    for (const d of byUrl.get(url)?.dependencies ?? []) {
      if (d.isDynamic) continue;
      const target = d.code?.specifier;
      if (target) todo.push(target);
    }
  }
  assert.ok(seen.size > 3, "walked the graph");
  const react = [...seen].filter((u) => /^npm:(ink|react)@|\/src\/tui\//.test(u));
  assert.deepEqual(react, [], "statically reachable from a command other than dash");
  // And the dashboard's own entry reaches React only through its lazy import.
  const entry = graph.modules.find((m) => m.specifier.endsWith("/src/tui/main.ts"))!;
  assert.ok(
    (entry.dependencies ?? []).every((d) =>
      d.isDynamic || !/^npm:(ink|react)@|\.tsx$/.test(d.code?.specifier ?? "")
    ),
  );
});
