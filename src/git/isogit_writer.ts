/**
 * `ObjectWriter` backed by isomorphic-git (the only module that imports it).
 *
 * isomorphic-git writes commits (its object model: signatures, message
 * normalization). Blobs and trees, which promote writes by the hundred, are
 * encoded by vibe (`object_hash.ts`, git's tree order: a directory compares as
 * if its name ended in "/") and compressed with the runtime's zlib: measured
 * ~0.1 ms per small object against ~0.8–1.5 ms through isomorphic-git's
 * writeObject. Placement is ours for both paths (isomorphic-git gets an fs
 * whose `writeFile` does it), because isomorphic-git alone writes
 * `objects/xx/yyyy` in place, where a concurrent reader or a crash could see a
 * torn object that is never repaired. Each loose object is written to
 * `objects/xx/tmp_obj_*` (mode 0444), then hard-linked to its name (an
 * existing object wins) and the temporary unlinked.
 *
 * Durability: written objects are fsynced in one batch (files, then their
 * fan-out directories) right before this writer moves any ref, so a ref never
 * survives a crash that its objects did not. Objects that no ref points to
 * need no fsync.
 */
import git, { type PromiseFsClient } from "isomorphic-git";
import zlib from "node:zlib";
import { createHash } from "node:crypto";
import { encodeTree } from "./object_hash.ts";
import { VibeError } from "../errors.ts";
import { GIT_MODE, type Oid } from "../types.ts";
import type { NewCommit, ObjectWriter, RepoPaths, Signature, TreeEntry } from "./object_store.ts";
import { deleteRef, type RefLockOptions, updateRef } from "./ref_lock.ts";
import {
  buildSignature,
  envIdentity,
  type IdentityConfig,
  readIdentityConfig,
} from "./signature.ts";

const OID_RE = /^[0-9a-f]{40}$/;
const TREE_MODES = new Set<number>([
  GIT_MODE.FILE,
  GIT_MODE.EXEC,
  GIT_MODE.SYMLINK,
  GIT_MODE.TREE,
  GIT_MODE.GITLINK,
]);

/** Loose objects written since the last ref update, awaiting fsync. */
interface PendingSync {
  files: Set<string>;
  dirs: Set<string>;
}

export class IsoGitObjectWriter implements ObjectWriter {
  readonly #repo: RepoPaths;
  readonly #fs: PromiseFsClient;
  readonly #pending: PendingSync = { files: new Set(), dirs: new Set() };
  readonly #lockOptions: RefLockOptions;
  #identity: Promise<IdentityConfig> | null = null;

  constructor(repo: RepoPaths, lockOptions: RefLockOptions = {}) {
    this.#repo = repo;
    this.#fs = objectFs(this.#pending);
    this.#lockOptions = lockOptions;
  }

  writeBlob(data: Uint8Array): Promise<Oid> {
    return this.#run("blob", () => Promise.resolve(this.#writeLoose("blob", data)));
  }

  #writeLoose(type: "blob" | "tree", content: Uint8Array): Oid {
    const header = new TextEncoder().encode(`${type} ${content.length}\0`);
    const oid = createHash("sha1").update(header).update(content).digest("hex");
    const path = `${this.#repo.commonDir}/objects/${oid.slice(0, 2)}/${oid.slice(2)}`;
    try {
      Deno.statSync(path);
      return oid; // already there (objects are immutable)
    } catch { /* write it */ }
    const wrapped = new Uint8Array(header.length + content.length);
    wrapped.set(header, 0);
    wrapped.set(content, header.length);
    placeObject(path, zlib.deflateSync(wrapped), this.#pending);
    return oid;
  }

  /**
   * Entries may come in any order. Throws EINVAL for names git rejects in
   * trees ("", ".", "..", ".git" in any case, "/" or NUL inside), duplicate
   * names, unknown modes or malformed oids.
   */
  async writeTree(entries: TreeEntry[]): Promise<Oid> {
    const seen = new Set<string>();
    for (const e of entries) {
      const problem = entryNameProblem(e.name);
      if (problem) {
        throw new VibeError("EINVAL", `Cannot write tree entry "${e.name}": ${problem}`);
      }
      if (seen.has(e.name)) {
        throw new VibeError(
          "EINVAL",
          `Cannot write tree entry "${e.name}": the name appears twice`,
        );
      }
      seen.add(e.name);
      if (!TREE_MODES.has(e.mode)) {
        throw new VibeError(
          "EINVAL",
          `Cannot write tree entry "${e.name}": mode ${e.mode.toString(8)} is not a git mode`,
        );
      }
      checkOid(e.oid, `tree entry "${e.name}"`);
    }
    return await this.#run(
      "tree",
      () => Promise.resolve(this.#writeLoose("tree", encodeTree(entries))),
    );
  }

  /**
   * Writes a commit. The message is stored the way isomorphic-git normalizes
   * it: CRs removed, leading blank lines dropped, exactly one trailing "\n".
   */
  async writeCommit(commit: NewCommit): Promise<Oid> {
    checkOid(commit.tree, "the commit tree");
    for (const p of commit.parents) checkOid(p, "a commit parent");
    return await this.#run("commit", () =>
      git.writeCommit({
        fs: this.#fs,
        gitdir: this.#repo.commonDir,
        commit: {
          tree: commit.tree,
          parent: [...commit.parents],
          author: isoSignature(commit.author, "author"),
          committer: isoSignature(commit.committer, "committer"),
          message: commit.message,
        },
      }));
  }

  async updateRef(
    ref: string,
    newOid: Oid,
    expectedOld: Oid | null | undefined,
    reflogMessage: string,
  ): Promise<void> {
    await this.syncObjects();
    const committer = await this.#reflogIdentity();
    await updateRef(
      this.#repo,
      ref,
      newOid,
      expectedOld,
      reflogMessage,
      committer,
      this.#lockOptions,
    );
  }

  async deleteRef(ref: string, expectedOld: Oid | undefined): Promise<void> {
    await deleteRef(this.#repo, ref, expectedOld, this.#lockOptions);
  }

  /** Fsyncs every loose object written so far, then their directories. */
  async syncObjects(): Promise<void> {
    const files = [...this.#pending.files];
    const dirs = [...this.#pending.dirs];
    this.#pending.files.clear();
    this.#pending.dirs.clear();
    await Promise.all(files.map(fsyncPath));
    await Promise.all(dirs.map(fsyncPath));
  }

  /**
   * The committer for reflog lines: like git, it never fails for want of an
   * identity (falls back to `$USER <$USER@host>`). Config is read once per writer.
   */
  async #reflogIdentity(): Promise<Signature> {
    const env = envIdentity("committer");
    let cfg: IdentityConfig = {};
    if (env.name === undefined || env.email === undefined) {
      this.#identity ??= readIdentityConfig(this.#repo).catch(() => ({}));
      cfg = await this.#identity;
    }
    const user = Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? "vibe";
    const name = env.name ?? cfg.committerName ?? cfg.userName ?? user;
    const email = env.email ?? cfg.committerEmail ?? cfg.userEmail ?? Deno.env.get("EMAIL") ??
      `${user}@${safeHostname()}`;
    try {
      return buildSignature("committer", name, email, env.date);
    } catch {
      return buildSignature("committer", user, `${user}@${safeHostname()}`, undefined);
    }
  }

  async #run(kind: string, op: () => Promise<string>): Promise<Oid> {
    try {
      return await op();
    } catch (e) {
      if (e instanceof VibeError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new VibeError("EIO", `Cannot write ${kind} object: ${msg}`);
    }
  }
}

function checkOid(oid: string, what: string): void {
  if (!OID_RE.test(oid)) {
    throw new VibeError("EINVAL", `Cannot write ${what}: "${oid}" is not a full lowercase hex oid`);
  }
}

/** Why git (fsck, checkout) would refuse `name` as a tree entry, or null. */
export function entryNameProblem(name: string): string | null {
  if (name === "") return "the name is empty";
  if (name === "." || name === "..") return `"${name}" is not allowed`;
  if (name.includes("/")) return 'the name contains "/"';
  if (name.includes("\0")) return "the name contains NUL";
  if (name.toLowerCase() === ".git") return '".git" is reserved';
  return null;
}

function isoSignature(sig: Signature, role: string) {
  for (const [what, value] of [["name", sig.name], ["email", sig.email]] as const) {
    if (/[<>\n\0]/.test(value)) {
      throw new VibeError(
        "EINVAL",
        `Cannot write commit ${role}: the ${what} "${value}" contains "<", ">" or a line break`,
      );
    }
  }
  return {
    name: sig.name,
    email: sig.email,
    timestamp: sig.timestamp,
    // isomorphic-git counts minutes west of UTC (Date#getTimezoneOffset);
    // 0 must stay +0, since -0 prints as "-0000".
    timezoneOffset: sig.tzOffsetMinutes === 0 ? 0 : -sig.tzOffsetMinutes,
  };
}

function safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

async function fsyncPath(path: string): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return; // removed meanwhile (e.g. packed by gc): nothing left to make durable
  }
  try {
    await file.sync();
  } finally {
    file.close();
  }
}

/**
 * Places a compressed loose object the way git's finalize_object_file does:
 * write `objects/xx/tmp_obj_*` (mode 0444), hard-link it to its name (an
 * existing object wins), unlink the temporary. A reader or a crash never
 * sees a torn object.
 */
function placeObject(path: string, bytes: Uint8Array, pending: PendingSync): void {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const tmp = `${dir}/tmp_obj_${crypto.randomUUID().slice(0, 8)}`;
  try {
    Deno.writeFileSync(tmp, bytes, { createNew: true, mode: 0o444 });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    Deno.mkdirSync(dir, { recursive: true });
    pending.dirs.add(dir.slice(0, dir.lastIndexOf("/")));
    Deno.writeFileSync(tmp, bytes, { createNew: true, mode: 0o444 });
  }
  try {
    Deno.linkSync(tmp, path);
  } catch (e) {
    // EEXIST: someone wrote this object first; theirs stays (git's rule).
    if (!(e instanceof Deno.errors.AlreadyExists)) Deno.renameSync(tmp, path);
  } finally {
    try {
      Deno.removeSync(tmp);
    } catch { /* renamed over */ }
  }
  pending.files.add(path);
  pending.dirs.add(dir);
}

/** Runs a synchronous Deno call as a promise; errors carry node-style `code`s. */
function viaDeno<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => Promise<R> {
  return (...a: A) => {
    try {
      return Promise.resolve(fn(...a));
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

/**
 * The fs isomorphic-git gets: git-style atomic loose-object writes, and
 * Deno's synchronous file calls behind promises for everything else. (Going
 * through node:fs promises cost ~1.5 ms per object written, almost all of it
 * in fs round trips; this brings a small object to ~0.2 ms.)
 */
function objectFs(pending: PendingSync): PromiseFsClient {
  const writeFile = (path: string, data: Uint8Array | string): Promise<void> => {
    try {
      placeObject(path, typeof data === "string" ? new TextEncoder().encode(data) : data, pending);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const stat = (path: string) => {
    const i = Deno.statSync(path);
    return {
      ...i,
      isFile: () => i.isFile,
      isDirectory: () => i.isDirectory,
      isSymbolicLink: () => false,
    };
  };
  const lstat = (path: string) => {
    const i = Deno.lstatSync(path);
    return {
      ...i,
      isFile: () => i.isFile,
      isDirectory: () => i.isDirectory,
      isSymbolicLink: () => i.isSymlink,
    };
  };
  return {
    promises: {
      readFile: viaDeno((path: string, opts?: { encoding?: string } | string) => {
        const enc = typeof opts === "string" ? opts : opts?.encoding;
        return enc ? Deno.readTextFileSync(path) : Deno.readFileSync(path);
      }),
      writeFile,
      mkdir: viaDeno((path: string) => Deno.mkdirSync(path, { recursive: true })),
      rmdir: viaDeno((path: string) => Deno.removeSync(path)),
      unlink: viaDeno((path: string) => Deno.removeSync(path)),
      stat: viaDeno(stat),
      lstat: viaDeno(lstat),
      readdir: viaDeno((path: string) => [...Deno.readDirSync(path)].map((e) => e.name)),
      readlink: viaDeno((path: string) => Deno.readLinkSync(path)),
      symlink: viaDeno((target: string, path: string) => Deno.symlinkSync(target, path)),
      chmod: viaDeno((path: string, mode: number) => Deno.chmodSync(path, mode)),
    },
  };
}
