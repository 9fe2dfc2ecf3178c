/**
 * Finding a repository from a directory inside it, the way git does for the
 * common cases: walk up looking for `.git` (a directory, or a `gitdir: …`
 * file as linked worktrees and submodules use), then resolve `commondir`.
 *
 * Not supported (clear USAGE errors): bare repositories (vibe needs a work
 * tree), SHA-256 repositories and the reftable ref backend. GIT_DIR,
 * GIT_WORK_TREE and GIT_CEILING_DIRECTORIES are not consulted.
 */
import { VibeError } from "../errors.ts";
import type { RepoPaths } from "./object_store.ts";

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function parentOf(dir: string): string {
  if (dir === "/") return dir;
  const i = dir.lastIndexOf("/");
  return i <= 0 ? "/" : dir.slice(0, i);
}

/** Absolute, `.`/`..`-free form of `path` relative to `base`. */
function resolvePath(base: string, path: string): string {
  const parts = (path.startsWith("/") ? path : `${base}/${path}`).split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return "/" + out.join("/");
}

/** True when `dir` has the shape of a git directory (HEAD plus objects, directly or via commondir). */
function looksLikeGitDir(dir: string): boolean {
  return isFile(`${dir}/HEAD`) &&
    (isDir(`${dir}/objects`) || isFile(`${dir}/commondir`)) &&
    (isDir(`${dir}/refs`) || isFile(`${dir}/commondir`));
}

function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/**
 * Reads a `.git` file ("gitdir: <path>", path relative to the file's dir).
 * Throws CORRUPT when it is malformed or points nowhere.
 */
function readGitFile(file: string, dir: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    throw new VibeError("CORRUPT", `Cannot read "${file}": ${(e as Error).message}`);
  }
  const m = /^gitdir: *(.+?)\s*$/m.exec(text);
  if (m === null) {
    throw new VibeError(
      "CORRUPT",
      `Cannot use "${file}": it is not a "gitdir: <path>" file (repair or remove it)`,
    );
  }
  const gitDir = realPathOr(resolvePath(dir, m[1]!));
  if (!isDir(gitDir)) {
    throw new VibeError(
      "CORRUPT",
      `Cannot use "${file}": it points to "${gitDir}", which does not exist (run "git worktree prune")`,
    );
  }
  return gitDir;
}

/** The shared git dir of `gitDir`: its `commondir` target, or itself. */
export function commonDirOf(gitDir: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${gitDir}/commondir`);
  } catch {
    return gitDir;
  }
  const rel = text.trim();
  return rel === "" ? gitDir : realPathOr(resolvePath(gitDir, rel));
}

/**
 * A tiny git-config reader: value of `section.key` in a section without
 * subsection (last one wins; names case-insensitive; no includes).
 */
export function readConfigValue(configPath: string, section: string, key: string): string | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(configPath);
  } catch {
    return null;
  }
  let current = "";
  let value: string | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[\s*([^\]\s"]+)(\s+"[^"]*")?\s*\]$/.exec(line);
    if (sec !== null) {
      // Subsections ([remote "origin"]) never match: only plain sections are queried.
      current = sec[2] === undefined ? sec[1]!.toLowerCase() : "";
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (kv !== null && current === section && kv[1]!.toLowerCase() === key) {
      value = (kv[2] ?? "true").replace(/\s*[#;].*$/, "").replace(/^"(.*)"$/, "$1");
    }
  }
  return value;
}

/**
 * Throws USAGE when the repository uses a format this reader cannot handle:
 * SHA-256 object ids or the reftable ref backend.
 */
export function assertSupportedRepoFormat(commonDir: string): void {
  const config = `${commonDir}/config`;
  const format = readConfigValue(config, "extensions", "objectformat");
  if (format !== null && format.toLowerCase() !== "sha1") {
    throw new VibeError(
      "USAGE",
      `Cannot open repository "${commonDir}": it uses ${format.toUpperCase()} object ids and vibe supports only SHA-1 (use a SHA-1 repository)`,
    );
  }
  const refStorage = readConfigValue(config, "extensions", "refstorage");
  if (refStorage !== null && refStorage.toLowerCase() !== "files") {
    throw new VibeError(
      "USAGE",
      `Cannot open repository "${commonDir}": it stores refs as "${refStorage}" and vibe reads only loose and packed refs (run "git refs migrate --ref-format=files")`,
    );
  }
}

/**
 * Finds the repository containing `startDir` (walking up to the root).
 * Throws USAGE when there is none, or when it is bare / `startDir` is inside
 * a git directory (vibe needs a work tree), or its format is unsupported.
 */
export function findRepo(startDir: string): Promise<RepoPaths> {
  try {
    return Promise.resolve(findRepoSync(startDir));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Synchronous `findRepo`. */
export function findRepoSync(startDir: string): RepoPaths {
  const start = resolvePath(Deno.cwd(), startDir);
  let dir: string;
  try {
    dir = Deno.realPathSync(start);
  } catch {
    throw notARepo(start);
  }
  for (;;) {
    const dotGit = `${dir}/.git`;
    let gitDir: string | null = null;
    if (isDir(dotGit) && looksLikeGitDir(dotGit)) gitDir = dotGit;
    else if (isFile(dotGit)) gitDir = readGitFile(dotGit, dir);
    if (gitDir !== null) {
      const commonDir = commonDirOf(gitDir);
      if (readConfigValue(`${commonDir}/config`, "core", "bare") === "true" && gitDir === dotGit) {
        throw bare(dir);
      }
      assertSupportedRepoFormat(commonDir);
      return { workTree: dir, gitDir, commonDir };
    }
    if (looksLikeGitDir(dir)) throw bare(dir);
    const up = parentOf(dir);
    if (up === dir) throw notARepo(start);
    dir = up;
  }
}

function notARepo(dir: string): VibeError {
  return new VibeError(
    "USAGE",
    `Not a git repository: "${dir}" (run "git init" or cd into a repo)`,
  );
}

function bare(dir: string): VibeError {
  return new VibeError(
    "USAGE",
    `Cannot use "${dir}": it is a bare repository or a git directory, and vibe needs a work tree (run vibe inside a checkout)`,
  );
}
