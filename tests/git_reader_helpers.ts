/**
 * Helpers for the NativeObjectReader tests: real repositories built with the
 * real `git` CLI in temp dirs, isolated from the user's git config.
 */
import assert from "node:assert/strict";
import type { ObjectReader, ObjectType } from "../src/git/object_store.ts";

/** Environment for deterministic, config-free git runs. */
export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Ada Lovelace",
  GIT_AUTHOR_EMAIL: "ada@example.com",
  GIT_COMMITTER_NAME: "Charles Babbage",
  GIT_COMMITTER_EMAIL: "cb@example.com",
  GIT_AUTHOR_DATE: "1700000000 +0130",
  GIT_COMMITTER_DATE: "1700000100 -0800",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_TERMINAL_PROMPT: "0",
};

/** Runs git in `cwd`; returns stdout bytes; throws with stderr on failure. */
export async function gitBytes(
  cwd: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<Uint8Array> {
  const child = new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** Runs git in `cwd`; returns trimmed stdout text. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  return new TextDecoder().decode(await gitBytes(cwd, args)).trim();
}

/** Creates a temp dir, runs `fn`, always removes the dir. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "vibe-git-reader-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `git init -b main` in `dir` (created if needed). */
export async function initRepo(dir: string, ...extra: string[]): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main", ...extra);
}

/** Writes files (text or bytes) under `dir`, creating parent dirs. */
export async function writeFiles(
  dir: string,
  files: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
}

/** `git add -A && git commit`; returns the new commit oid. */
export async function commitAll(dir: string, message: string): Promise<string> {
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return await git(dir, "rev-parse", "HEAD");
}

export interface GitObject {
  oid: string;
  type: ObjectType;
  data: Uint8Array;
}

/** Every object of the repository (and its alternates), as `git cat-file` prints it. */
export async function allObjects(dir: string): Promise<GitObject[]> {
  const out = await gitBytes(dir, ["cat-file", "--batch-all-objects", "--batch"]);
  const objects: GitObject[] = [];
  let p = 0;
  const dec = new TextDecoder();
  while (p < out.length) {
    const nl = out.indexOf(10, p);
    const [oid, type, size] = dec.decode(out.subarray(p, nl)).split(" ");
    const n = Number(size);
    objects.push({ oid: oid!, type: type as ObjectType, data: out.slice(nl + 1, nl + 1 + n) });
    p = nl + 1 + n + 1;
  }
  return objects;
}

/** Tree entries as `git ls-tree -z` prints them. */
export async function lsTree(
  dir: string,
  oid: string,
): Promise<{ mode: number; oid: string; name: string }[]> {
  const out = new TextDecoder().decode(await gitBytes(dir, ["ls-tree", "-z", oid]));
  return out.split("\0").filter((l) => l !== "").map((l) => {
    const tab = l.indexOf("\t");
    const [mode, , o] = l.slice(0, tab).split(" ");
    return { mode: parseInt(mode!, 8), oid: o!, name: l.slice(tab + 1) };
  });
}

/**
 * Asserts the reader returns every object byte-identically with the right
 * type, blob sizes equal to git's, and trees equal to `git ls-tree`.
 */
export async function assertReadsAll(
  reader: ObjectReader,
  dir: string,
  objects: GitObject[],
): Promise<void> {
  assert.ok(objects.length > 0);
  for (const o of objects) {
    const got = await reader.readObject(o.oid);
    assert.equal(got.type, o.type, `type of ${o.oid}`);
    assert.deepEqual(got.data, o.data, `bytes of ${o.type} ${o.oid}`);
    if (o.type === "blob") assert.equal(await reader.blobSize(o.oid), o.data.length);
    if (o.type === "tree") {
      const entries = await reader.readTree(o.oid);
      assert.deepEqual(
        entries.map((e) => ({ mode: e.mode, oid: e.oid, name: e.name })),
        await lsTree(dir, o.oid),
        `tree ${o.oid}`,
      );
    }
  }
}

/**
 * Asserts `blobSize` agrees with git for every blob. Use a reader that has
 * not read the blobs yet, so sizes come from object headers, not the cache.
 */
export async function assertBlobSizes(reader: ObjectReader, objects: GitObject[]): Promise<void> {
  for (const o of objects) {
    if (o.type === "blob") assert.equal(await reader.blobSize(o.oid), o.data.length, o.oid);
  }
}

/** Deterministic pseudo-random text (for files that delta well across versions). */
export function textLines(seed: number, lines: number): string {
  let a = seed >>> 0;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    out.push(`line ${i} value ${a.toString(36)} ${"x".repeat(a % 40)}`);
  }
  return out.join("\n") + "\n";
}
