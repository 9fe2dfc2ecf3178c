/**
 * Crash safety: a child process is killed with SIGKILL at random points during
 * copy-up and promote; after reopening, every file is either old or new, the
 * metadata is consistent and git is clean. The seed is printed for replay.
 */
import assert from "node:assert/strict";
import { git, gitTry, makeRepo, useTestIdentity } from "./helpers/repo.ts";
import { crashFileName, newContent, oldContent } from "./fixtures/crash_data.ts";
import { initProject } from "../src/project/init.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";
import { promoteVibe } from "../src/project/promote.ts";
import { readText, writeFile } from "../src/vfs/path_ops.ts";

useTestIdentity();
const CHILD = new URL("./fixtures/crash_child.ts", import.meta.url).pathname;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function runAndKill(dir: string, mode: string, delayMs: number): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dir, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value ?? new Uint8Array()), /ready/);
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill("SIGKILL");
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  await child.stderr.cancel();
  assert.equal(status.signal, "SIGKILL", "child was still running when killed");
}

async function checkConsistent(dir: string): Promise<Project> {
  const project = await Project.open(dir);
  assert.equal(project.meta.integrityCheck(), "ok");
  for (const ino of project.meta.materializedInos("crash")) {
    const st = await Deno.stat(`${project.sessionDir("crash")}/delta/${ino}`);
    assert.ok(st.isFile, `materialized inode ${ino} has its bytes`);
  }
  const ws = project.workspace("crash");
  for (let i = 0; i < 200; i++) {
    const text = await readText(ws, crashFileName(i));
    assert.ok(text === oldContent(i) || text === newContent(i), `file ${i} is old or new: ${text}`);
  }
  return project;
}

async function setup(): Promise<string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[crashFileName(i)] = oldContent(i);
  const dir = await makeRepo(files);
  await initProject(dir);
  const p = await Project.open(dir);
  await spawnVibe(p, "crash");
  p.close();
  return dir;
}

Deno.test("crash safety: SIGKILL during copy-up leaves old-or-new state", async () => {
  const seed = Number(Deno.env.get("VIBE_TEST_SEED") ?? Date.now() % 100000);
  const rand = rng(seed);
  const dir = await setup();
  try {
    for (let round = 0; round < 5; round++) {
      const delay = 30 + Math.floor(rand() * 400);
      try {
        await runAndKill(dir, "copyup", delay);
        const p = await checkConsistent(dir);
        p.close();
      } catch (e) {
        throw new Error(`seed ${seed}, round ${round}, delay ${delay} ms: ${(e as Error).message}`);
      }
    }
    // The vibe still works and promotes after the crashes.
    const p = await checkConsistent(dir);
    try {
      await writeFile(p.workspace("crash"), "after.txt", "after\n", { uid: 0, gid: 0 });
      await promoteVibe(p, "crash");
      await git(dir, "fsck", "--strict", "--no-progress");
    } finally {
      p.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("crash safety: SIGKILL during promote leaves git and the ref valid", async () => {
  const seed = Number(Deno.env.get("VIBE_TEST_SEED") ?? Date.now() % 100000);
  const rand = rng(seed + 1);
  const dir = await setup();
  try {
    for (let round = 0; round < 5; round++) {
      const delay = 50 + Math.floor(rand() * 500);
      try {
        await runAndKill(dir, "promote", delay);
        const ref = await gitTry(dir, "rev-parse", "--verify", "-q", "refs/vibes/crash");
        if (ref.code === 0) {
          await git(dir, "cat-file", "-e", `${ref.stdout.trim()}^{commit}`);
        }
        // A ref lock left by the killed process blocks later updates, as in git;
        // the LOCKED error tells a user to remove it, which is what we do here.
        await Deno.remove(`${dir}/.git/refs/vibes/crash.lock`).catch(() => {});
        const p = await checkConsistent(dir);
        p.close();
        const fsck = await gitTry(dir, "fsck", "--no-progress", "--no-dangling");
        assert.equal(fsck.code, 0, fsck.stderr + fsck.stdout);
      } catch (e) {
        throw new Error(`seed ${seed}, round ${round}, delay ${delay} ms: ${(e as Error).message}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
