/**
 * Mounted vibes end to end through the real CLI: the daemon starts on the
 * first spawn, spawn returns once the FUSE mount answers, data survives
 * unmount/mount, daemon restarts and a SIGKILL; 20 vibes at once; doctor and
 * gc clean up stale mounts. Every test stops its daemon and detaches its
 * mounts in `finally`.
 */
import assert from "node:assert/strict";
import { git, SAMPLE_FILES } from "./helpers/repo.ts";
import { fuseUnavailable, mountPoints, vibe, vibeOk, withCliProject } from "./helpers/vibe_cli.ts";

const skip = fuseUnavailable();
const ignore = skip !== null;
if (skip) console.warn(`daemon_test: skipped: ${skip}`);

const withProject = (fn: (repo: string, mnt: string) => Promise<void>) =>
  withCliProject("vibe-mnt-", fn);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "daemon: spawn mounts and returns when ready; writes land in the vibe; promote sees them",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      const out = JSON.parse(await vibeOk(repo, "spawn", "a1", "--mount", `${mnt}/a1`, "--json"));
      assert.equal(out.mountPath, `${mnt}/a1`);
      assert.ok(mountPoints().includes(`${mnt}/a1`));
      // Readable at once: readiness is explicit.
      assert.equal(await Deno.readTextFile(`${mnt}/a1/src/lib/deep/a.txt`), "a\n");
      assert.equal(await Deno.readLink(`${mnt}/a1/link-to-readme`), "README.md");
      assert.equal((await Deno.stat(`${mnt}/a1/bin/run.sh`)).mode! & 0o777, 0o755);
      await Deno.writeTextFile(`${mnt}/a1/README.md`, "# Changed through the mount\n");
      await Deno.mkdir(`${mnt}/a1/new/dir`, { recursive: true });
      await Deno.writeTextFile(`${mnt}/a1/new/dir/file.txt`, "new\n");
      await Deno.remove(`${mnt}/a1/docs/guide.md`);
      const st = JSON.parse(await vibeOk(repo, "status", "a1", "--json"));
      assert.deepEqual(
        st.changes.map((c: { status: string; path: string }) => `${c.status} ${c.path}`),
        ["M README.md", "D docs/guide.md", "A new/dir/file.txt"],
      );
      // The root worktree is untouched.
      assert.equal(await Deno.readTextFile(`${repo}/README.md`), SAMPLE_FILES["README.md"]);
      await vibeOk(repo, "promote", "a1", "-m", "through the mount");
      assert.equal(await git(repo, "show", "refs/vibes/a1:new/dir/file.txt"), "new\n");
      const ls = JSON.parse(await vibeOk(repo, "ls", "--json"));
      assert.equal(ls[0].mountPath, `${mnt}/a1`);
    });
  },
});

Deno.test({
  name: "daemon: unmount and mount keep the data; stop and start remount recorded vibes",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "b1", "--mount", `${mnt}/b1`);
      await Deno.writeTextFile(`${mnt}/b1/kept.txt`, "kept\n");
      await vibeOk(repo, "unmount", "b1");
      assert.ok(!mountPoints().includes(`${mnt}/b1`));
      await vibeOk(repo, "mount", "b1", "--mount", `${mnt}/b1`);
      assert.equal(await Deno.readTextFile(`${mnt}/b1/kept.txt`), "kept\n");

      await vibeOk(repo, "daemon", "stop");
      assert.ok(!mountPoints().includes(`${mnt}/b1`), "stop unmounts");
      const status = await vibeOk(repo, "daemon", "status");
      assert.match(status, /not running/);
      await vibeOk(repo, "daemon", "start");
      assert.ok(mountPoints().includes(`${mnt}/b1`), "start remounts the recorded vibe");
      assert.equal(await Deno.readTextFile(`${mnt}/b1/kept.txt`), "kept\n");
    });
  },
});

Deno.test({
  name: "daemon: SIGKILL gives errors not hangs; doctor reports, gc cleans; data survives",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "k1", "--mount", `${mnt}/k1`);
      const data = "x".repeat(100_000);
      await Deno.writeTextFile(`${mnt}/k1/before-kill.txt`, data);
      const pid = JSON.parse(await Deno.readTextFile(`${repo}/.vibe/daemon.json`)).pid as number;
      Deno.kill(pid, "SIGKILL");
      await sleep(200);
      // The mount answers with an error at once (ENOTCONN), it does not hang.
      const t0 = Date.now();
      const probe = await new Deno.Command("stat", { args: [`${mnt}/k1`], stderr: "piped" })
        .output();
      assert.ok(!probe.success);
      assert.match(new TextDecoder().decode(probe.stderr), /not connected/i);
      assert.ok(Date.now() - t0 < 5000);

      // (Machine-wide: stale vibe mounts of other projects are reported and detached too.)
      const doc = JSON.parse(await vibeOk(repo, "doctor", "--json"));
      assert.ok(doc.staleMounts.includes(`${mnt}/k1`), JSON.stringify(doc.staleMounts));
      const gcOut = JSON.parse(await vibeOk(repo, "gc", "--json"));
      assert.ok(gcOut.staleMountsCleared.includes(`${mnt}/k1`));
      assert.ok(!mountPoints().includes(`${mnt}/k1`));

      await vibeOk(repo, "mount", "k1", "--mount", `${mnt}/k1`);
      assert.equal(await Deno.readTextFile(`${mnt}/k1/before-kill.txt`), data);
    });
  },
});

Deno.test({
  name: "daemon: 20 vibes mounted at once, parallel writes, no cross-talk, clean unmount",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
      for (const id of ids) await vibeOk(repo, "spawn", id, "--mount", `${mnt}/${id}`);
      await Promise.all(ids.map(async (id) => {
        for (let k = 0; k < 5; k++) {
          await Deno.writeTextFile(`${mnt}/${id}/own-${k}.txt`, `${id} ${k}\n`.repeat(1000));
        }
        await Deno.writeTextFile(`${mnt}/${id}/README.md`, `README of ${id}\n`);
      }));
      for (const id of ids) {
        const names = [...Deno.readDirSync(`${mnt}/${id}`)].map((e) => e.name).filter((n) =>
          n.startsWith("own-")
        );
        assert.equal(names.length, 5, `${id} sees only its own files`);
        assert.equal(await Deno.readTextFile(`${mnt}/${id}/README.md`), `README of ${id}\n`);
        assert.equal(await Deno.readTextFile(`${mnt}/${id}/own-3.txt`), `${id} 3\n`.repeat(1000));
      }
      const info = JSON.parse(await vibeOk(repo, "daemon", "status", "--json"));
      assert.equal(info.mounts.length, 20);
      await vibeOk(repo, "daemon", "stop");
      assert.deepEqual(mountPoints().filter((m) => m.startsWith(mnt)), []);
    });
  },
});

Deno.test({
  name: "daemon: destroy and commit unmount first",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "c1", "--mount", `${mnt}/c1`);
      await vibeOk(repo, "spawn", "d1", "--mount", `${mnt}/d1`);
      await Deno.writeTextFile(`${mnt}/c1/c.txt`, "c\n");
      await vibeOk(repo, "promote", "c1");
      const r = JSON.parse(await vibeOk(repo, "commit", "c1", "--json"));
      assert.equal(r.kind, "fast-forward");
      assert.ok(!mountPoints().includes(`${mnt}/c1`));
      await vibeOk(repo, "destroy", "d1");
      assert.ok(!mountPoints().includes(`${mnt}/d1`));
      assert.equal(await git(repo, "show", "main:c.txt"), "c\n");
    });
  },
});

Deno.test({
  name: "daemon: spawn of an unknown base fails cleanly and leaves no vibe",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      const r = await vibe(repo, "spawn", "e1", "--mount", `${mnt}/e1`, "--from", "nope");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Unknown revision "nope"/);
      assert.deepEqual(JSON.parse(await vibeOk(repo, "ls", "--json")), []);
    });
  },
});

Deno.test({
  name: "daemon: restore while mounted: readers see the restored bytes at once; fork mounts",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "r1", "--mount", `${mnt}/r1`);
      const f = `${mnt}/r1/README.md`;
      await Deno.writeTextFile(f, "version one\n");
      await Deno.writeTextFile(`${mnt}/r1/kept.txt`, "kept\n");
      await vibeOk(repo, "snapshot", "r1", "one");
      await Deno.writeTextFile(f, "version two, longer than one\n");
      await Deno.remove(`${mnt}/r1/kept.txt`);
      await Deno.writeTextFile(`${mnt}/r1/later.txt`, "later\n");
      // Warm the kernel's caches with the new state before restoring.
      assert.equal(await Deno.readTextFile(f), "version two, longer than one\n");
      assert.ok((await Deno.stat(`${mnt}/r1/later.txt`)).isFile);
      const r = JSON.parse(await vibeOk(repo, "restore", "r1", "one", "--json"));
      assert.ok(r.changedInodes > 0);
      // No waiting for attribute timeouts: the daemon invalidated the kernel's caches.
      assert.equal(await Deno.readTextFile(f), "version one\n");
      assert.equal(await Deno.readTextFile(`${mnt}/r1/kept.txt`), "kept\n");
      await assert.rejects(Deno.stat(`${mnt}/r1/later.txt`), Deno.errors.NotFound);
      // A fork starts from the current state and mounts on its own.
      await vibeOk(repo, "fork", "r1", "r2");
      await vibeOk(repo, "mount", "r2", "--mount", `${mnt}/r2`);
      assert.equal(await Deno.readTextFile(`${mnt}/r2/README.md`), "version one\n");
      await Deno.writeTextFile(`${mnt}/r2/README.md`, "fork only\n");
      assert.equal(await Deno.readTextFile(f), "version one\n");
    });
  },
});
