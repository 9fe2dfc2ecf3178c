/** Spawn, destroy, list and status of vibes. */
import { VibeError } from "../errors.ts";
import type { VibeRecord } from "../meta/meta_store.ts";
import type { Oid, Quota, QuotaUsage } from "../types.ts";
import { rootInode } from "../vfs/workspace_vfs.ts";
import { validateVibeId } from "./ids.ts";
import { indexCommit } from "./init.ts";
import type { Project } from "./project.ts";
import type { PathChange } from "./tree_build.ts";
import { loadConfig } from "./config.ts";
import { resolveLayers } from "../layers/resolve.ts";
import type { LayerStatus } from "../layers/status.ts";

export interface SpawnOptions {
  /** Revision to start from (default HEAD). */
  from?: string;
  uid?: number;
  gid?: number;
}

/**
 * Registers a vibe on a base commit: one vibe row, one root inode row, one
 * row per configured untracked layer, an empty delta directory. O(1) in
 * repository size when the base commit's trees are indexed (a new base
 * indexes only the trees not cached yet), and in layer size: a layer's
 * entries appear when its directory is first loaded (src/layers/inject.ts).
 */
export async function spawnVibe(
  project: Project,
  id: string,
  opts: SpawnOptions = {},
): Promise<VibeRecord> {
  validateVibeId(id);
  if (project.meta.getVibe(id)) {
    throw new VibeError(
      "EEXIST",
      `Cannot spawn "${id}": a vibe with that id exists (use "vibe destroy ${id}" first)`,
    );
  }
  let baseRef: string | null = null;
  let commit: Oid;
  if (opts.from === undefined || opts.from === "HEAD") {
    const head = await project.reader.readHead();
    if (!head.oid) {
      throw new VibeError(
        "USAGE",
        `Cannot spawn "${id}": the repository has no commits yet (commit something first)`,
      );
    }
    commit = head.oid;
    baseRef = head.branch;
  } else {
    commit = await project.reader.revParse(opts.from);
    for (const candidate of [opts.from, `refs/heads/${opts.from}`]) {
      if (
        candidate.startsWith("refs/heads/") &&
        (await project.reader.resolveRef(candidate)) === commit
      ) {
        baseRef = candidate;
        break;
      }
    }
  }
  // An indexed commit's tree comes from the metadata: spawn reads no git object.
  const tree = project.meta.indexedCommitTree(commit) ?? (await indexCommit(project, commit)).tree;
  const config = loadConfig(project.vibeDir);
  const layers = config.layers.length === 0 ? [] : await resolveLayers({
    id,
    configPath: config.path,
    baseCommit: commit,
    baseTree: tree,
    trees: project.trees,
    meta: project.meta,
    workTree: project.repo.workTree,
    vibeDir: project.vibeDir,
  }, config.layers);
  const vibe: VibeRecord = {
    id,
    baseCommit: commit,
    baseTree: tree,
    baseRef,
    createdMs: Date.now(),
    state: "active",
    uid: opts.uid ?? (Deno.uid() ?? 0),
    gid: opts.gid ?? (Deno.gid() ?? 0),
    mountPath: null,
    transport: null,
    promotedCommit: null,
    promotedMs: null,
    promotedSeq: null,
  };
  Deno.mkdirSync(`${project.sessionDir(id)}/delta`, { recursive: true });
  project.meta.transaction(() => {
    project.meta.insertVibe(vibe, rootInode(vibe));
    if (layers.length > 0) project.meta.putVibeLayers(id, layers);
  });
  return vibe;
}

export interface DestroyOptions {
  /** Also delete refs/vibes/<id>. */
  purge?: boolean;
}

/** Removes a vibe: metadata first (atomic), then its delta bytes. */
export async function destroyVibe(project: Project, id: string, opts: DestroyOptions = {}) {
  project.vibe(id);
  project.closeWorkspace(id);
  if (!project.meta.tryLock(`vibe:${id}`, `pid:${Deno.pid}`)) {
    throw new VibeError(
      "LOCKED",
      `Cannot destroy "${id}": another process is using it (unmount it or stop that process first)`,
    );
  }
  project.meta.deleteVibe(id);
  project.meta.unlock(`vibe:${id}`, `pid:${Deno.pid}`);
  await Deno.remove(project.sessionDir(id), { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  let purged = false;
  if (opts.purge) {
    const ref = `refs/vibes/${id}`;
    const cur = await project.reader.resolveRef(ref);
    if (cur) {
      await (await project.writer()).deleteRef(ref, cur);
      purged = true;
    }
  }
  return { id, purged };
}

export interface VibeStatus {
  id: string;
  state: string;
  baseCommit: Oid;
  baseRef: string | null;
  createdMs: number;
  ageMs: number;
  changes: PathChange[];
  promotedCommit: Oid | null;
  /** The vibe changed after its last promote. */
  unpromoted: boolean;
  deltaBytes: number;
  /** Limits (null: unlimited) and use, as `vibe quota` counts them. */
  quota: { limit: Quota; usage: QuotaUsage };
  /** Untracked layers injected at spawn, and whether this vibe changed them. */
  layers: LayerStatus[];
}

/** Status of one vibe: what changed against its base (hashes only; writes nothing). */
export async function vibeStatus(project: Project, id: string): Promise<VibeStatus> {
  const v = project.vibe(id);
  const ws = project.workspace(id);
  const { buildTree, hashingSink } = await import("./tree_build.ts");
  const built = await buildTree(ws, hashingSink, project.trees);
  const { layerStatus } = await import("../layers/status.ts");
  const lastSeq = project.meta.lastJournalSeq(id);
  return {
    id,
    state: v.state,
    baseCommit: v.baseCommit,
    baseRef: v.baseRef,
    createdMs: v.createdMs,
    ageMs: Date.now() - v.createdMs,
    changes: built.changes,
    promotedCommit: v.promotedCommit,
    unpromoted: v.promotedSeq === null ? built.changes.length > 0 : lastSeq > v.promotedSeq,
    deltaBytes: ws.delta.usageBytes(),
    quota: { limit: ws.quota, usage: project.meta.quotaUsage(id) },
    layers: layerStatus(project.meta, id, ws.layers),
  };
}
