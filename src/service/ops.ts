/**
 * The operations vibe offers on a project, as one table: the CLI runs them
 * in-process when no daemon runs, and sends them to the daemon when one does
 * (the daemon owns the workspaces of mounted vibes). Parameters and results
 * are plain JSON values, so both paths return the same thing.
 */
import type { Project } from "../project/project.ts";

export type Params = Record<string, unknown>;

/** Hooks the daemon provides so operations can detach mounts before teardown. */
export interface OpHost {
  /** Unmounts a vibe if it is mounted (no-op otherwise). */
  unmount(id: string): Promise<void>;
  /**
   * After a restore replaced a vibe's state: drop what the kernel caches for
   * these inodes (attributes, data) and these directory entries (no-op when
   * the vibe is not mounted).
   */
  invalidate?(
    id: string,
    inos: number[],
    entries?: { parent: number; name: string }[],
  ): Promise<void>;
  /**
   * True while the kernel still references an inode of a mounted vibe (open
   * file, cached lookup): a restore then keeps it as an unlinked orphan, so
   * open files keep their bytes as POSIX has it for a replaced file.
   */
  referenced?(id: string, ino: number): boolean;
}

export type Op = (project: Project, params: Params, host: OpHost | null) => Promise<unknown>;

const str = (p: Params, k: string): string => {
  const v = p[k];
  if (typeof v !== "string") throw new TypeError(`parameter "${k}" must be a string`);
  return v;
};
const optStr = (p: Params, k: string): string | undefined =>
  typeof p[k] === "string" ? (p[k] as string) : undefined;
const flag = (p: Params, k: string): boolean => p[k] === true;

export const OPS: Record<string, Op> = {
  async spawn(project, p) {
    const { spawnVibe } = await import("../project/lifecycle.ts");
    const from = optStr(p, "from");
    return await spawnVibe(project, str(p, "id"), from !== undefined ? { from } : {});
  },

  async ls(project) {
    const { vibeStatus } = await import("../project/lifecycle.ts");
    const rows = [];
    for (const v of project.meta.listVibes()) {
      const s = await vibeStatus(project, v.id);
      rows.push({
        id: v.id,
        state: v.state,
        base: v.baseCommit,
        branch: v.baseRef,
        ageMs: s.ageMs,
        drift: s.changes.length,
        deltaBytes: s.deltaBytes,
        promoted: v.promotedCommit,
        mountPath: v.mountPath,
        transport: v.transport,
      });
    }
    return rows;
  },

  async status(project, p) {
    const { vibeStatus } = await import("../project/lifecycle.ts");
    const id = optStr(p, "id");
    const ids = id !== undefined
      ? [project.vibe(id).id]
      : project.meta.listVibes().map((v) => v.id);
    const out = [];
    for (const vid of ids) out.push(await vibeStatus(project, vid));
    return out;
  },

  async diff(project, p) {
    const { diffVibe } = await import("../project/diff.ts");
    const format = optStr(p, "format") as "patch" | "stat" | "name-status" | undefined;
    return await diffVibe(project, str(p, "id"), format ? { format } : {});
  },

  async promote(project, p) {
    const { promoteVibe } = await import("../project/promote.ts");
    const message = optStr(p, "message");
    return await promoteVibe(project, str(p, "id"), message !== undefined ? { message } : {});
  },

  async commit(project, p, host) {
    const { commitVibe } = await import("../project/commit.ts");
    const id = str(p, "id");
    const branch = optStr(p, "branch");
    const keep = flag(p, "keep");
    return await commitVibe(project, id, {
      ...(branch !== undefined ? { branch } : {}),
      sync: flag(p, "sync"),
      keep,
      ...(host && !keep ? { beforeTeardown: () => host.unmount(id) } : {}),
    });
  },

  async snapshot(project, p) {
    const { snapshotVibe } = await import("../project/snapshot.ts");
    return snapshotVibe(project, str(p, "id"), optStr(p, "name"));
  },

  async snapshots(project, p) {
    const { listSnapshots } = await import("../project/snapshot.ts");
    return listSnapshots(project, str(p, "id"));
  },

  async "snapshot-rm"(project, p) {
    const { removeSnapshot } = await import("../project/snapshot.ts");
    return removeSnapshot(project, str(p, "id"), str(p, "name"));
  },

  async restore(project, p, host) {
    const { restoreVibe } = await import("../project/snapshot.ts");
    const id = str(p, "id");
    const r = restoreVibe(
      project,
      id,
      str(p, "name"),
      host?.referenced ? { keep: (ino) => host.referenced!(id, ino) } : {},
    );
    await host?.invalidate?.(id, r.inos, r.entries);
    return r;
  },

  /**
   * Start of a `vibe exec` run: every inode's next write is journaled from
   * now on, and the vibe's quota is re-read from the configuration. Returns
   * the journal seq the run's change report starts after.
   */
  "exec-begin"(project, p) {
    const id = str(p, "id");
    project.vibe(id);
    const ws = project.openWorkspace(id);
    if (!ws) return Promise.resolve({ seq: project.meta.lastJournalSeq(id) });
    ws.setQuota(project.quotaOf(id));
    return Promise.resolve({ seq: ws.markJournal() });
  },

  /**
   * Shows and sets a vibe's own quota. `bytes`/`files`: a number, null
   * (unlimited) or "default" (the project's); absent: unchanged.
   */
  quota(project, p) {
    const id = str(p, "id");
    project.vibe(id);
    const key = `quota:${id}`;
    const own = JSON.parse(project.meta.getSetting(key) ?? "{}") as Record<string, unknown>;
    let changed = false;
    for (const k of ["bytes", "files"]) {
      const v = p[k];
      if (v === undefined) continue;
      if (v !== null && v !== "default" && (typeof v !== "number" || !(v >= 0))) {
        throw new TypeError(`parameter "${k}" must be a number, null or "default"`);
      }
      if (v === "default") delete own[k];
      else own[k] = v;
      changed = true;
    }
    if (changed) project.meta.setSetting(key, JSON.stringify(own));
    const quota = project.quotaOf(id);
    project.openWorkspace(id)?.setQuota(quota);
    return Promise.resolve({ id, quota, own, usage: project.meta.quotaUsage(id) });
  },

  async drop(project, p) {
    const { dropPromotion } = await import("../project/promote.ts");
    return await dropPromotion(project, str(p, "id"), str(p, "expected"));
  },

  async fork(project, p) {
    const { forkVibe } = await import("../project/snapshot.ts");
    return forkVibe(project, str(p, "src"), str(p, "dst"));
  },

  async destroy(project, p, host) {
    const { destroyVibe } = await import("../project/lifecycle.ts");
    const id = str(p, "id");
    project.vibe(id);
    await host?.unmount(id);
    return await destroyVibe(project, id, { purge: flag(p, "purge") });
  },
};
