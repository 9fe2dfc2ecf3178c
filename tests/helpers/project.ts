/** In-process projects for tests: a real repo, `vibe init`, the opened stores. */
import assert from "node:assert/strict";
import { type FileSpec, makeRepo, SAMPLE_FILES } from "./repo.ts";
import { initProject } from "../../src/project/init.ts";
import { Project } from "../../src/project/project.ts";
import { VibeError } from "../../src/errors.ts";

/**
 * A repository of `files`, initialized, given what `setup` adds (untracked
 * files, a `.vibe/config.json`) and opened; closed and removed afterwards,
 * even when `fn` failed.
 */
export async function withInitProject(
  fn: (dir: string, project: Project) => Promise<void>,
  opts: { files?: Record<string, FileSpec>; setup?: (dir: string) => Promise<void> } = {},
): Promise<void> {
  const dir = await makeRepo(opts.files ?? SAMPLE_FILES);
  let project: Project | null = null;
  try {
    await initProject(dir);
    await opts.setup?.(dir);
    project = await Project.open(dir);
    await fn(dir, project);
  } finally {
    project?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Asserts that `p` (a promise, or a function run now) fails with a
 * VibeError of `code` (and a message matching `re`); returns the error.
 */
export async function expectCode(
  p: Promise<unknown> | (() => unknown),
  code: string,
  re?: RegExp,
): Promise<VibeError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    assert.ok(e instanceof VibeError, `expected VibeError ${code}, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected ${code}`);
}
