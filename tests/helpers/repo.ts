/** Real git repositories in temp dirs for tests, driven by the real `git` CLI. */

export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@test.invalid",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@test.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Sets the test identity in this process's env (vibe reads it for commits). */
export function useTestIdentity(): void {
  for (const [k, v] of Object.entries(GIT_ENV)) Deno.env.set(k, v);
}

/** Runs git; throws with stderr on failure; returns stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const o = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!o.success) {
    throw new Error(
      `git ${args.join(" ")} failed (${o.code}): ${new TextDecoder().decode(o.stderr)}`,
    );
  }
  return new TextDecoder().decode(o.stdout);
}

/** Runs git and returns its exit code and output without throwing. */
export async function gitTry(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

export type FileSpec = string | { content: string; mode?: number; symlink?: boolean };

/** Writes files (paths with "/"), creating parent dirs. */
export async function writeFiles(root: string, files: Record<string, FileSpec>): Promise<void> {
  for (const [path, spec] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof spec === "string") {
      await Deno.writeTextFile(full, spec);
    } else if (spec.symlink) {
      await Deno.symlink(spec.content, full);
    } else {
      await Deno.writeTextFile(full, spec.content);
      if (spec.mode !== undefined) await Deno.chmod(full, spec.mode);
    }
  }
}

/** A new repo on branch main with one commit of `files`. Returns its path. */
export async function makeRepo(files: Record<string, FileSpec>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vibe-test-" });
  await git(dir, "init", "-q", "-b", "main");
  // The identity lives in the repo too: test files run in one process under
  // --parallel, and a test that unsets GIT_AUTHOR_* for a moment must not
  // leave another file's promote without a name.
  await git(dir, "config", "user.name", "Test Author");
  await git(dir, "config", "user.email", "author@test.invalid");
  await writeFiles(dir, files);
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "initial");
  return dir;
}

/** Commits everything in the work tree; returns the new HEAD oid. */
export async function commitAll(dir: string, message: string): Promise<string> {
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return (await git(dir, "rev-parse", "HEAD")).trim();
}

export const SAMPLE_FILES: Record<string, FileSpec> = {
  "README.md": "# Sample\n\nline 3\nline 4\nline 5\n",
  "src/main.ts": 'console.log("hello");\n',
  "src/lib/util.ts": "export const x = 1;\n",
  "src/lib/deep/a.txt": "a\n",
  "bin/run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o755 },
  "link-to-readme": { content: "README.md", symlink: true },
  "docs/guide.md": "guide\n",
  "empty.txt": "",
};
