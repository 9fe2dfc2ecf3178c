/**
 * A vibe project: a git work tree plus its `.vibe/` sidecar. Opens the stores
 * once and hands out per-vibe workspaces.
 *
 * Layout of `.vibe/` (everything vibe keeps lives here):
 *   metadata.db            SQLite metadata (WAL)
 *   sessions/<id>/delta/   materialized bytes of each vibe, by inode number
 *   cache/blobs/<oid>      large blobs inflated once, shared by every vibe
 *   cache/store/<digest>/  untracked-layer sources added by `vibe cache add` (src/layers/cache_store.ts)
 *   scratch/objects/       objects built for `vibe diff` (not in .git)
 *   logs/                  daemon logs
 */
import { VibeError } from "../errors.ts";
import type { ObjectReader, ObjectWriter, RepoPaths, TreeEntry } from "../git/object_store.ts";
import { findRepo } from "../git/repo_paths.ts";
import { LazyObjectReader } from "../git/lazy_reader.ts";
import { SqliteMetaStore } from "../meta/sqlite_meta_store.ts";
import type { VibeRecord } from "../meta/meta_store.ts";
import { DeltaStore } from "../delta/delta_store.ts";
import { BlobCache } from "../vfs/blob_cache.ts";
import { type TreeSource, WorkspaceVfs } from "../vfs/workspace_vfs.ts";
import type { Oid, Quota } from "../types.ts";
import { loadConfig } from "./config.ts";
import { LayerHost } from "../layers/host.ts";

export const VIBE_DIR = ".vibe";

/**
 * Streams a blob into `path` (created; must not exist) with `git cat-file`,
 * which writes the file itself: no byte passes through this process, so a
 * 256 MiB first read is bound by git's inflate, not by the event loop.
 * Readers learn how far the file has grown from `progress`, fed by polling
 * its size every few milliseconds while git runs. `core.bigFileThreshold=1m`
 * makes git stream a blob above 1 MiB (loose, or packed whole) instead of
 * inflating all of it in memory first: the first bytes reach the file at
 * once, and a 256 MiB blob takes ~0.25 s instead of ~0.45 s.
 */
async function catFileTo(
  gitDir: string,
  oid: Oid,
  path: string,
  progress: (bytes: number) => void,
): Promise<void> {
  const child = new Deno.Command("sh", {
    // noclobber: the cache file must be new (">" then fails if it exists).
    args: [
      "-c",
      'set -C; exec git --git-dir "$1" -c core.bigFileThreshold=1m cat-file blob "$2" > "$3"',
      "sh",
      gitDir,
      oid,
      path,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => (exited = true));
  const err = new Response(child.stderr).text();
  let seen = 0;
  const poll = () => {
    try {
      const n = Deno.statSync(path).size;
      if (n > seen) progress(seen = n);
    } catch { /* not created yet */ }
  };
  while (!exited) {
    await new Promise((r) => setTimeout(r, SPILL_POLL_MS));
    poll();
  }
  poll();
  const st = await status;
  if (!st.success) {
    throw new VibeError("EIO", `Cannot read blob ${oid} with git cat-file: ${(await err).trim()}`);
  }
}

/** How often a streaming blob's readers learn how far it has been written. */
const SPILL_POLL_MS = 2;

export interface OpenProjectOptions {
  /** Create `.vibe/metadata.db` when missing (only `vibe init` does). */
  create?: boolean;
}

export class Project {
  readonly repo: RepoPaths;
  readonly vibeDir: string;
  readonly meta: SqliteMetaStore;
  readonly reader: ObjectReader;
  readonly blobs: BlobCache;
  #writer: ObjectWriter | null = null;
  #workspaces = new Map<string, WorkspaceVfs>();

  private constructor(repo: RepoPaths, meta: SqliteMetaStore, reader: ObjectReader) {
    this.repo = repo;
    this.vibeDir = `${repo.workTree}/${VIBE_DIR}`;
    this.meta = meta;
    this.reader = reader;
    // Large blobs stream from `git cat-file` into the cache file, off the event
    // loop: inflating 256 MiB on the daemon's thread would stall every mount.
    this.blobs = new BlobCache(reader, `${this.vibeDir}/cache/blobs`, {
      spillTo: (oid, path, progress) => catFileTo(repo.gitDir, oid, path, progress),
    });
  }

  /** Finds the repository containing `cwd` and opens its `.vibe/` stores. */
  static async open(cwd: string, opts: OpenProjectOptions = {}): Promise<Project> {
    const repo = await findRepo(cwd);
    const vibeDir = `${repo.workTree}/${VIBE_DIR}`;
    if (opts.create) {
      Deno.mkdirSync(`${vibeDir}/sessions`, { recursive: true });
    } else {
      try {
        Deno.statSync(`${vibeDir}/metadata.db`);
      } catch {
        throw new VibeError(
          "NOT_INITIALIZED",
          `Cannot use vibe in "${repo.workTree}": it is not initialized (run "vibe init" there first)`,
        );
      }
    }
    const meta = new SqliteMetaStore(`${vibeDir}/metadata.db`, { create: opts.create ?? false });
    const reader = new LazyObjectReader(repo);
    return new Project(repo, meta, reader);
  }

  /** The object writer, loaded on first use (it pulls in isomorphic-git, ~30 ms). */
  async writer(): Promise<ObjectWriter> {
    if (!this.#writer) {
      const { IsoGitObjectWriter } = await import("../git/isogit_writer.ts");
      this.#writer = new IsoGitObjectWriter(this.repo);
    }
    return this.#writer;
  }

  /**
   * Decoded trees: the metadata's cache (every tree of an indexed commit is
   * there), else the object store (trees of merge results, unindexed commits).
   */
  readonly trees: TreeSource = async (oid: Oid): Promise<TreeEntry[]> => {
    return this.meta.getTree(oid) ?? await this.reader.readTree(oid);
  };

  sessionDir(id: string): string {
    return `${this.vibeDir}/sessions/${id}`;
  }

  /** The vibe's record, or a clear error naming the fix. */
  vibe(id: string): VibeRecord {
    const v = this.meta.getVibe(id);
    if (!v) {
      throw new VibeError(
        "ENOENT",
        `Vibe "${id}" does not exist (run "vibe ls" to see vibes, "vibe spawn ${id}" to make it)`,
      );
    }
    return v;
  }

  /**
   * The Vfs of a vibe. The process takes the vibe's owner lock, so two
   * processes never write one vibe's metadata through separate caches.
   */
  workspace(id: string): WorkspaceVfs {
    const open = this.#workspaces.get(id);
    if (open) return open;
    const vibe = this.vibe(id);
    if (!this.meta.tryLock(`vibe:${id}`, `pid:${Deno.pid}`)) {
      throw new VibeError(
        "LOCKED",
        `Cannot open vibe "${id}": another process is using it (it may be mounted by the vibe daemon)`,
      );
    }
    const ws = new WorkspaceVfs({
      vibe,
      meta: this.meta,
      delta: new DeltaStore(this.sessionDir(id)),
      blobs: this.blobs,
      trees: this.trees,
      spaceDir: this.vibeDir,
      layers: this.meta.vibeLayers(id),
      host: new LayerHost(this.repo.workTree, this.vibeDir),
    });
    ws.setQuota(this.quotaOf(id));
    this.#workspaces.set(id, ws);
    return ws;
  }

  /**
   * A vibe's quota: its own (`vibe quota <id>`, setting `quota:<id>`), field
   * by field over the project default in `.vibe/config.json`.
   */
  quotaOf(id: string): Quota {
    const base = loadConfig(this.vibeDir).quota;
    const own = this.meta.getSetting(`quota:${id}`);
    if (!own) return base;
    const o = JSON.parse(own) as Partial<Record<keyof Quota, number | null | "default">>;
    const pick = (k: keyof Quota) =>
      o[k] === undefined || o[k] === "default" ? base[k] : (o[k] as number | null);
    return { bytes: pick("bytes"), files: pick("files") };
  }

  /** The open workspace of a vibe in this process, without opening one. */
  openWorkspace(id: string): WorkspaceVfs | null {
    return this.#workspaces.get(id) ?? null;
  }

  /** Closes a vibe's workspace and releases its lock. */
  closeWorkspace(id: string): void {
    const ws = this.#workspaces.get(id);
    if (!ws) return;
    ws.close();
    this.#workspaces.delete(id);
    this.meta.unlock(`vibe:${id}`, `pid:${Deno.pid}`);
  }

  close(): void {
    for (const id of [...this.#workspaces.keys()]) this.closeWorkspace(id);
    this.blobs.close();
    this.reader.close();
    this.meta.close();
  }
}
