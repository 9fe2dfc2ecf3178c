/**
 * Ref updates with git's lock-file protocol, so vibe processes and a
 * concurrent real `git` exclude each other:
 *
 * 1. create `<ref>.lock` with O_CREAT|O_EXCL (parent directories first); if it
 *    exists, retry with backoff for `lockTimeoutMs` (git's
 *    core.filesRefLockTimeout, 100 ms), then fail with LOCKED;
 * 2. under the lock read the current value (loose file, else packed-refs) and
 *    compare it with the caller's expected value (CONFLICT when it moved);
 * 3. write `<oid>\n` to the lock, fsync, append the reflog lines, rename the
 *    lock over the ref. Every failure path removes the locks it created.
 *
 * Symbolic refs are followed (updating "HEAD" moves the branch it names) and
 * their locks are held, unwritten, for the duration. When the updated branch
 * is the one this worktree's HEAD names, HEAD is locked first and HEAD's
 * reflog gets the entry too, as git does. Lock order is always HEAD before
 * anything under refs/, so two updaters never wait on each other in reverse.
 *
 * Deletion locks the ref, rewrites packed-refs without it (under
 * `packed-refs.lock`, git's core.packedRefsTimeout of 1 s), then removes the
 * loose file and the reflog: readers never see a packed value resurface.
 *
 * Per-worktree refs (HEAD, refs/bisect/, refs/worktree/, refs/rewritten/)
 * live in `gitDir`; all others in `commonDir`.
 */
import { VibeError } from "../errors.ts";
import type { Oid } from "../types.ts";
import type { RepoPaths, Signature } from "./object_store.ts";
import { formatSignature } from "./signature.ts";

export const ZERO_OID: Oid = "0000000000000000000000000000000000000000";
const OID_RE = /^[0-9a-f]{40}$/;

/** git's core.filesRefLockTimeout default. */
export const REF_LOCK_TIMEOUT_MS = 100;
/** git's core.packedRefsTimeout default. */
export const PACKED_REFS_LOCK_TIMEOUT_MS = 1000;
const MAX_SYMREF_DEPTH = 5;

export interface RefLockOptions {
  /** How long to retry while a ref's `.lock` exists; 0 fails at once. */
  lockTimeoutMs?: number;
  /** Same for `packed-refs.lock`. */
  packedRefsTimeoutMs?: number;
}

// ---------------------------------------------------------------- names

/**
 * Why `component` is not a valid slash-separated ref component under git's
 * check-ref-format rules, or null when it is.
 */
export function refComponentProblem(component: string): string | null {
  if (component === "") return "it has an empty component";
  if (component.startsWith(".")) return 'a component starts with "."';
  if (component.endsWith(".lock")) return 'a component ends with ".lock"';
  if (component.includes("..")) return 'it contains ".."';
  if (component.includes("@{")) return 'it contains "@{"';
  for (const ch of component) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) return "it contains a control character";
    if (" ~^:?*[\\".includes(ch)) return `it contains "${ch}"`;
  }
  return null;
}

/**
 * True when `id` can be used as one ref component in any position, e.g. the
 * last part of `refs/vibe/<id>`: valid per check-ref-format, no "/", not "@",
 * and not ending in "." (git forbids that at the end of a ref name).
 */
export function isValidRefComponent(id: string): boolean {
  return !id.includes("/") && id !== "@" && !id.endsWith(".") &&
    refComponentProblem(id) === null;
}

/** Why `name` is not a ref vibe may update, or null. Accepts "HEAD" and `refs/…`. */
export function refNameProblem(name: string): string | null {
  if (name === "HEAD") return null;
  if (!name.startsWith("refs/")) return 'it must be "HEAD" or start with "refs/"';
  if (name.endsWith(".")) return 'it ends with "."';
  if (name === "@") return 'it is "@"';
  for (const component of name.split("/")) {
    const problem = refComponentProblem(component);
    if (problem) return problem;
  }
  return null;
}

/** Throws USAGE with git's reason when `name` is not a valid ref name. */
export function validateRefName(name: string): void {
  const problem = refNameProblem(name);
  if (problem) {
    throw new VibeError(
      "USAGE",
      `Cannot use ref name "${name}": ${problem} (see "git check-ref-format --help")`,
    );
  }
}

function validateOid(oid: string, what: string, ref: string): void {
  if (!OID_RE.test(oid)) {
    throw new VibeError(
      "USAGE",
      `Cannot update "${ref}": ${what} "${oid}" is not a full lowercase hex object id`,
    );
  }
}

// ---------------------------------------------------------------- paths

function isPerWorktree(name: string): boolean {
  return !name.startsWith("refs/") || name.startsWith("refs/bisect/") ||
    name.startsWith("refs/worktree/") || name.startsWith("refs/rewritten/");
}

/** Directory holding `name` (and its `logs/`): gitDir for per-worktree refs, else commonDir. */
export function refBaseDir(repo: RepoPaths, name: string): string {
  return isPerWorktree(name) ? repo.gitDir : repo.commonDir;
}

function refPath(repo: RepoPaths, name: string): string {
  return `${refBaseDir(repo, name)}/${name}`;
}

function logPath(repo: RepoPaths, name: string): string {
  return `${refBaseDir(repo, name)}/logs/${name}`;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

// ---------------------------------------------------------------- reading

/** A ref's own content: an object id or a symbolic pointer to another ref. */
export type RawRef = { kind: "oid"; oid: Oid } | { kind: "symbolic"; target: string };

/** Parses loose-ref file content; null when it is not a ref. */
export function parseRefContent(text: string): RawRef | null {
  if (text.startsWith("ref:")) {
    const target = text.slice(4).trim();
    return refNameProblem(target) === null ? { kind: "symbolic", target } : null;
  }
  const oid = text.slice(0, 40);
  const rest = text.slice(40);
  if (OID_RE.test(oid) && (rest === "" || /^\s/.test(rest))) return { kind: "oid", oid };
  return null;
}

/** The loose ref file at `path`; null when absent (or a directory). Throws CORRUPT on garbage. */
async function readLoose(path: string, name: string): Promise<RawRef | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw fsFailure(e, `Cannot read ref "${name}"`);
  }
  const raw = parseRefContent(text);
  if (!raw) {
    throw new VibeError(
      "CORRUPT",
      `Cannot read ref "${name}": "${path}" is not a valid ref file (run "git fsck")`,
    );
  }
  return raw;
}

interface PackedRefs {
  /** The file's lines, without their "\n"; null when there is no packed-refs file. */
  lines: string[] | null;
  refs: Map<string, { oid: Oid; line: number }>;
}

async function readPackedRefs(repo: RepoPaths): Promise<PackedRefs> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${repo.commonDir}/packed-refs`);
  } catch (e) {
    if (isMissing(e)) return { lines: null, refs: new Map() };
    throw fsFailure(e, "Cannot read packed-refs");
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const refs = new Map<string, { oid: Oid; line: number }>();
  lines.forEach((line, i) => {
    if (line.startsWith("#") || line.startsWith("^") || line === "") return;
    const oid = line.slice(0, 40);
    if (!OID_RE.test(oid) || line[40] !== " ") {
      throw new VibeError(
        "CORRUPT",
        `Cannot read packed-refs: line ${i + 1} is malformed (run "git fsck")`,
      );
    }
    refs.set(line.slice(41).trimEnd(), { oid, line: i });
  });
  return { lines, refs };
}

/** The ref's own value (loose, else packed), without following symrefs; null when absent. */
export async function readRawRef(repo: RepoPaths, name: string): Promise<RawRef | null> {
  const loose = await readLoose(refPath(repo, name), name);
  if (loose) return loose;
  if (isPerWorktree(name)) return null;
  const packed = (await readPackedRefs(repo)).refs.get(name);
  return packed ? { kind: "oid", oid: packed.oid } : null;
}

/** The oid `name` resolves to, following symrefs; null when absent or unborn. */
export async function readRef(repo: RepoPaths, name: string): Promise<Oid | null> {
  let current = name;
  for (let depth = 0; depth <= MAX_SYMREF_DEPTH; depth++) {
    const raw = await readRawRef(repo, current);
    if (!raw) return null;
    if (raw.kind === "oid") return raw.oid;
    current = raw.target;
  }
  throw new VibeError("CORRUPT", `Cannot read ref "${name}": symbolic refs nest too deep`);
}

// ---------------------------------------------------------------- locks

/** A held `<path>.lock`. `commit` renames it over `path`; `release` removes it. */
class LockFile {
  #file: Deno.FsFile | null;
  #done = false;

  constructor(readonly path: string, file: Deno.FsFile) {
    this.#file = file;
  }

  get lockPath(): string {
    return `${this.path}.lock`;
  }

  /** Writes `content`, fsyncs and closes; the lock stays held. */
  async write(content: string): Promise<void> {
    const file = this.#file!;
    const bytes = new TextEncoder().encode(content);
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.sync();
    file.close();
    this.#file = null;
  }

  /** Renames the written lock over the target: the atomic commit point. */
  async commit(): Promise<void> {
    await Deno.rename(this.lockPath, this.path);
    this.#done = true;
  }

  /** Drops the lock without touching the target; safe to call twice. */
  async release(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    this.#file = null;
    try {
      await Deno.remove(this.lockPath);
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates `<path>.lock` exclusively, creating parent directories. Retries with
 * randomized backoff while it exists, up to `timeoutMs`, then throws LOCKED
 * with `action` ("Cannot update \"refs/heads/main\"") as the message head.
 */
async function acquireLock(
  path: string,
  action: string,
  timeoutMs: number,
  what = "it",
): Promise<LockFile> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + timeoutMs;
  let attempt = 0;
  let missingDirRetries = 0;
  for (;;) {
    try {
      const file = await Deno.open(lockPath, { createNew: true, write: true });
      return new LockFile(path, file);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new VibeError(
            "LOCKED",
            `${action}: ${what} is locked by another process ("${lockPath}" exists; ` +
              `if no git or vibe process is running, remove it)`,
            { lockPath },
          );
        }
        attempt++;
        const backoff = Math.min(attempt * attempt, 25) * (0.75 + Math.random() / 2);
        await sleep(Math.max(1, Math.min(backoff, left)));
        continue;
      }
      if (e instanceof Deno.errors.NotFound && missingDirRetries++ < 5) {
        // Parent missing, or just removed by a concurrent delete pruning empty dirs.
        await mkdirs(dirname(path), action);
        continue;
      }
      throw fsFailure(e, action);
    }
  }
}

async function mkdirs(dir: string, action: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory) {
      throw new VibeError(
        "CONFLICT",
        `${action}: a ref named like one of its parent directories exists ("${dir}" cannot be created)`,
      );
    }
    throw fsFailure(e, action);
  }
}

// ---------------------------------------------------------------- reflog

/** git's copy_reflog_msg: whitespace runs become one space; ends trimmed. */
export function normalizeReflogMessage(message: string): string {
  return message.replace(/\s+/g, " ").trim();
}

/** True when git (core.logAllRefUpdates=true, the non-bare default) creates a reflog for `name`. */
function autoCreatesReflog(name: string): boolean {
  return name === "HEAD" || name.startsWith("refs/heads/") ||
    name.startsWith("refs/remotes/") || name.startsWith("refs/notes/");
}

async function appendReflog(
  repo: RepoPaths,
  name: string,
  line: string,
  action: string,
): Promise<void> {
  const path = logPath(repo, name);
  const create = autoCreatesReflog(name);
  if (create) await mkdirs(dirname(path), action);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { append: true, create });
  } catch (e) {
    if (!create && isMissing(e)) return; // no reflog and none to start
    throw fsFailure(e, `${action}: cannot write the reflog "${path}"`);
  }
  try {
    const bytes = new TextEncoder().encode(line);
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
  } finally {
    file.close();
  }
}

// ---------------------------------------------------------------- update

/**
 * Moves `ref` to `newOid` (see the module comment for the protocol).
 * `expectedOld`: the value the caller saw; null = must not exist; undefined =
 * no check. `committer` names the reflog entry. Throws USAGE for bad names or
 * oids, LOCKED, CONFLICT (moved, or a D/F clash such as creating
 * refs/heads/a/b while refs/heads/a exists), CORRUPT for unreadable refs.
 */
export async function updateRef(
  repo: RepoPaths,
  ref: string,
  newOid: Oid,
  expectedOld: Oid | null | undefined,
  reflogMessage: string,
  committer: Signature,
  options: RefLockOptions = {},
): Promise<void> {
  validateRefName(ref);
  validateOid(newOid, "the new value", ref);
  if (newOid === ZERO_OID) {
    throw new VibeError("USAGE", `Cannot update "${ref}": the new value is the null oid`);
  }
  if (expectedOld) validateOid(expectedOld, "the expected value", ref);
  const action = `Cannot update "${ref}"`;
  const timeout = options.lockTimeoutMs ?? REF_LOCK_TIMEOUT_MS;
  const held: LockFile[] = [];
  try {
    /** Refs whose reflogs get the entry besides the final target (symrefs passed, HEAD). */
    const logAlso: string[] = [];
    let name = ref;
    if (ref !== "HEAD") {
      // HEAD's log follows its branch; lock HEAD first to keep the lock order.
      const head = await readLoose(refPath(repo, "HEAD"), "HEAD");
      if (head?.kind === "symbolic" && head.target === ref) {
        held.push(await acquireLock(refPath(repo, "HEAD"), action, timeout, '"HEAD"'));
        const again = await readLoose(refPath(repo, "HEAD"), "HEAD");
        if (again?.kind === "symbolic" && again.target === ref) logAlso.push("HEAD");
      }
    }
    let current: Oid | null = null;
    for (let depth = 0;; depth++) {
      if (depth > MAX_SYMREF_DEPTH) {
        throw new VibeError("CORRUPT", `${action}: symbolic refs nest too deep`);
      }
      held.push(await acquireLock(refPath(repo, name), action, timeout, who(name, ref)));
      const raw = await readRawRef(repo, name);
      if (raw?.kind === "symbolic") {
        logAlso.push(name);
        name = raw.target;
        continue;
      }
      current = raw?.oid ?? null;
      break;
    }
    if (expectedOld !== undefined && expectedOld !== current) {
      throw new VibeError(
        "CONFLICT",
        casMessage(action, expectedOld, current),
        { ref: name, expected: expectedOld, actual: current },
      );
    }
    if (current === null) await ensureNameAvailable(repo, name, action);
    const target = held[held.length - 1]!;
    await target.write(`${newOid}\n`);
    const message = normalizeReflogMessage(reflogMessage);
    const line = `${current ?? ZERO_OID} ${newOid} ${formatSignature(committer)}` +
      `${message ? `\t${message}` : ""}\n`;
    await appendReflog(repo, name, line, action);
    for (const other of logAlso) await appendReflog(repo, other, line, action);
    await target.commit();
  } catch (e) {
    throw e instanceof VibeError ? e : fsFailure(e, action);
  } finally {
    for (const lock of held) await lock.release();
  }
}

function casMessage(action: string, expected: Oid | null, current: Oid | null): string {
  const want = expected ? `point to ${expected}` : "be absent";
  const found = current ? `points to ${current}` : "does not exist";
  return `${action}: it was expected to ${want} but ${found} (another update won; re-read and retry)`;
}

function who(name: string, requested: string): string {
  return name === requested ? "it" : `"${name}"`;
}

/**
 * A new ref must not clash with an existing one as file vs directory
 * (refs/heads/a vs refs/heads/a/b), loose or packed. An empty directory left
 * where the ref file goes is removed, as git does.
 */
async function ensureNameAvailable(repo: RepoPaths, name: string, action: string): Promise<void> {
  const clash = (other: string) =>
    new VibeError(
      "CONFLICT",
      `${action}: "${other}" exists, and a ref cannot also be a directory of refs (delete or rename one of them)`,
      { ref: name, existing: other },
    );
  if (!isPerWorktree(name)) {
    for (const other of (await readPackedRefs(repo)).refs.keys()) {
      if (other.startsWith(`${name}/`) || name.startsWith(`${other}/`)) throw clash(other);
    }
  }
  const path = refPath(repo, name);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  if (info.isDirectory) {
    try {
      await Deno.remove(path);
    } catch {
      throw clash(`${name}/…`);
    }
  }
}

// ---------------------------------------------------------------- delete

/**
 * Deletes `ref` (loose, packed and its reflog) under the lock protocol. A
 * missing ref is a no-op unless `expectedOld` is given (then CONFLICT).
 * Refuses HEAD and symbolic refs (USAGE).
 */
export async function deleteRef(
  repo: RepoPaths,
  ref: string,
  expectedOld: Oid | undefined,
  options: RefLockOptions = {},
): Promise<void> {
  validateRefName(ref);
  const action = `Cannot delete "${ref}"`;
  if (ref === "HEAD") throw new VibeError("USAGE", `${action}: HEAD cannot be deleted`);
  if (expectedOld !== undefined) validateOid(expectedOld, "the expected value", ref);
  const path = refPath(repo, ref);
  const lock = await acquireLock(path, action, options.lockTimeoutMs ?? REF_LOCK_TIMEOUT_MS);
  let packedLock: LockFile | null = null;
  try {
    const loose = await readLoose(path, ref);
    if (loose?.kind === "symbolic") {
      throw new VibeError("USAGE", `${action}: it is a symbolic ref (to "${loose.target}")`);
    }
    const packed = isPerWorktree(ref) ? null : await readPackedRefs(repo);
    const current = loose?.oid ?? packed?.refs.get(ref)?.oid ?? null;
    if (expectedOld !== undefined && expectedOld !== current) {
      throw new VibeError(
        "CONFLICT",
        casMessage(action, expectedOld, current),
        { ref, expected: expectedOld, actual: current },
      );
    }
    if (packed?.refs.has(ref)) {
      const packedPath = `${repo.commonDir}/packed-refs`;
      packedLock = await acquireLock(
        packedPath,
        action,
        options.packedRefsTimeoutMs ?? PACKED_REFS_LOCK_TIMEOUT_MS,
        "packed-refs",
      );
      // Re-read under the lock: another process may have rewritten it meanwhile.
      const fresh = await readPackedRefs(repo);
      const entry = fresh.refs.get(ref);
      if (entry && fresh.lines) {
        const lines = fresh.lines.filter((line, i) =>
          i !== entry.line && !(i === entry.line + 1 && line.startsWith("^"))
        );
        await packedLock.write(lines.map((l) => `${l}\n`).join(""));
        await packedLock.commit();
      }
      await packedLock.release();
    }
    await removeIfPresent(path);
    await removeIfPresent(logPath(repo, ref));
  } catch (e) {
    throw e instanceof VibeError ? e : fsFailure(e, action);
  } finally {
    await packedLock?.release();
    await lock.release();
  }
  // Best effort, like git: drop directories the deletion left empty.
  const base = refBaseDir(repo, ref);
  await pruneEmptyDirs(base, dirname(ref));
  await pruneEmptyDirs(`${base}/logs`, dirname(ref));
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

/** Removes `base/rel`, then its parents, while empty; stops above `refs/<kind>`. */
async function pruneEmptyDirs(base: string, rel: string): Promise<void> {
  let dir = rel;
  while (dir.split("/").length > 2) {
    try {
      await Deno.remove(`${base}/${dir}`);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}

// ---------------------------------------------------------------- errors

function isMissing(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory ||
    e instanceof Deno.errors.NotADirectory;
}

function fsFailure(e: unknown, action: string): VibeError {
  if (e instanceof VibeError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof Deno.errors.PermissionDenied) {
    return new VibeError("EACCES", `${action}: ${msg}`);
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return new VibeError(
      "CONFLICT",
      `${action}: a ref named like one of its parent directories exists (${msg})`,
    );
  }
  return new VibeError("EIO", `${action}: ${msg}`);
}
