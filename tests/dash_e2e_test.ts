/**
 * `vibe dash` in a real terminal (tmux) against a real project with two
 * mounted vibes that a test writes into: the fleet shows their drift, the
 * conflict matrix their overlap, the queue a vibe promoted from the
 * dashboard, and committing from the queue moves the branch (git log).
 * The daemon, mounts and tmux server are cleaned up even on failure.
 */
import assert from "node:assert/strict";
import { git, makeRepo, SAMPLE_FILES } from "./helpers/repo.ts";
import { GIT_ENV } from "./helpers/repo.ts";
import { cleanupDaemon, fuseUnavailable, vibeOk } from "./helpers/vibe_cli.ts";
import { Tmux, tmuxUnavailable } from "./helpers/tmux.ts";

const skip = fuseUnavailable() ?? tmuxUnavailable();
if (skip) console.warn(`dash_e2e_test: skipped: ${skip}`);
const MAIN = new URL("../main.ts", import.meta.url).pathname;

Deno.test({
  name: "dash e2e: fleet drift, matrix overlap, queue promote and commit in a real terminal",
  ignore: skip !== null,
  async fn() {
    const repo = await makeRepo(SAMPLE_FILES);
    const mnt = await Deno.makeTempDir({ prefix: "vibe-dash-mnt-" });
    let term: Tmux | null = null;
    try {
      await vibeOk(repo, "init");
      await vibeOk(repo, "spawn", "e1", "--mount", `${mnt}/e1`);
      await vibeOk(repo, "spawn", "e2", "--mount", `${mnt}/e2`);
      term = await Tmux.start([Deno.execPath(), "run", "-A", MAIN, "dash"], {
        cwd: repo,
        columns: 100,
        rows: 30,
        env: GIT_ENV,
      });
      await term.waitFor(/e1\s+mounted.*\n.*e2\s+mounted/);

      // Both vibes change line 3 of README.md; e1 also adds a file.
      const readme = SAMPLE_FILES["README.md"] as string;
      await Deno.writeTextFile(`${mnt}/e1/README.md`, readme.replace("line 3", "line 3 (e1)"));
      await Deno.writeTextFile(`${mnt}/e1/notes.txt`, "from e1\n");
      await Deno.writeTextFile(`${mnt}/e2/README.md`, readme.replace("line 3", "line 3 (e2)"));

      let screen = await term.waitFor(/e1\s+conflict.*2p .*\n.*e2\s+conflict.*1p /);
      assert.match(screen, /2 vibes: 2 mounted, 0 promoted, 2 conflict/);

      await term.send("3");
      screen = await term.waitFor(/e1 × e2: 1 shared path, 1 overlapping \(hot\)/);
      assert.match(screen, / ! README\.md/);

      // Promote e1 from the fleet, with a confirmation.
      await term.send("1", "Home", "p");
      await term.waitFor(/Promote "e1" \(2 changed paths\) to refs\/vibes\/e1\? \[y\/n\]/);
      await term.send("y");
      await term.waitFor(/Promoted "e1" to refs\/vibes\/e1/);
      await term.send("4");
      screen = await term.waitFor(/> e1\s+fast-fwd\s+2\s+\+2 -1\s+vibe e1: 2 files changed/);
      assert.match(screen, /A \+1 -0\s+notes\.txt/);

      // Commit from the queue: the branch moves.
      const before = (await git(repo, "rev-parse", "main")).trim();
      await term.send("c");
      await term.waitFor(/Commit "e1" to main \(fast-forward\)\?/);
      await term.send("y");
      await term.waitFor(/Committed "e1" to main: .* \(fast-forward\)/);
      const log = (await git(repo, "log", "--format=%s", "-2", "main")).trim().split("\n");
      assert.deepEqual(log, ["vibe e1: 2 files changed", "initial"]);
      assert.notEqual((await git(repo, "rev-parse", "main")).trim(), before);
      assert.equal(await git(repo, "show", "main:notes.txt"), "from e1\n");

      // e1 was torn down (unmounted, removed): the fleet follows; q quits cleanly.
      await term.send("1");
      await term.waitFor(/1 vibes: 1 mounted/);
      await term.send("q");
      await term.waitExit();
    } finally {
      await term?.close();
      await cleanupDaemon(repo, mnt);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});
