/**
 * Collects the dashboard's data (all of its I/O lives here) and keeps a
 * `DashSnapshot` current.
 *
 * Polling, not pushing: every `pollMs` (250 ms) one refresh reads cheap
 * signals — the vibe rows, each vibe's last journal seq, refs/vibes/* and
 * the branch tips — and recomputes only what they say changed. Drift (a
 * read-only walk of changed rows, see drift.ts) runs for vibes whose journal
 * moved, again `settleMs` later (the daemon journals a burst of writes to
 * one file at most once a second), and within a CPU budget per refresh
 * (oldest change first); the conflict matrix follows the drifts; the queue
 * follows refs, tips and vibe rows. The daemon is asked for its mounts once
 * a second over its control socket ("info", a constant-time answer); nothing
 * else reaches the daemon, so watching never slows it.
 */
import { GIT_MODE, type Oid } from "../types.ts";
import { Project } from "../project/project.ts";
import { RefReader } from "../git/refs_read.ts";
import type { TreeEntry } from "../git/object_store.ts";
import type { VibeRecord } from "../meta/meta_store.ts";
import type { ControlClient } from "../service/control.ts";
import { connectDaemon } from "../service/client.ts";
import { computeDrift, type Drift, DriftMemo } from "./drift.ts";
import { ACTIVITY_BUCKET_MS, JournalTrack } from "./journal.ts";
import { OverlapIndex } from "./overlap.ts";
import { listVibeRefs, QueueBuilder } from "./queue.ts";
import { type DiffLine, MAX_DIFF_BYTES, unifiedDiff } from "./lines.ts";
import type { ConflictCell, DashSnapshot, DashState, QueueItem, VibeRow } from "./types.ts";

/** Vibes in natural id order (agent-2 before agent-10). */
const byId = new Intl.Collator("en", { numeric: true }).compare;

export interface CollectorOptions {
  pollMs?: number;
  daemonPollMs?: number;
  /** Drift recomputation time per refresh before the rest waits for the next one. */
  budgetMs?: number;
  /** A vibe is walked again this long after its journal last moved. */
  settleMs?: number;
  /** Full queue rebuild at least this often (catches ref changes in one mtime tick). */
  queueEveryMs?: number;
}

interface Track {
  record: VibeRecord;
  journal: JournalTrack;
  drift: Drift | null;
  memo: DriftMemo;
  /** Since when the drift is out of date (0 = current). */
  dirtySince: number;
  recheckAt: number;
  baseSizes: Map<string, number | null>;
}

interface MountInfo {
  path: string;
  transport: string;
  mountedMs: number;
}

const recordKey = (r: VibeRecord) =>
  `${r.state}|${r.mountPath}|${r.transport}|${r.promotedCommit}|${r.promotedSeq}|${r.baseCommit}`;

export class DashCollector {
  readonly project: Project;
  readonly cwd: string;
  #opts: Required<CollectorOptions>;
  #refs: RefReader;
  #queueBuilder: QueueBuilder;
  #overlap = new OverlapIndex();
  #tracks = new Map<string, Track>();
  #cells: ConflictCell[] = [];
  #queue: QueueItem[] = [];
  #queueKey = "";
  #queueMs = 0;
  #matrixDirty = true;
  #queueDirty = true;
  #daemon = {
    running: false,
    pid: null as number | null,
    startedMs: null as number | null,
    mounts: new Map<string, MountInfo>(),
  };
  #daemonKey = "";
  #daemonMs = 0;
  #client: ControlClient | null = null;
  #blobs = new Map<Oid, Uint8Array | null>();
  #head: { branch: string | null; oid: string | null } = { branch: null, oid: null };
  #warnings: string[] = [];
  #snapshot: DashSnapshot | null = null;
  #emittedMs = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #running: Promise<void> | null = null;

  private constructor(project: Project, cwd: string, opts: CollectorOptions) {
    this.project = project;
    this.cwd = cwd;
    this.#opts = {
      pollMs: opts.pollMs ?? 250,
      daemonPollMs: opts.daemonPollMs ?? 1000,
      budgetMs: opts.budgetMs ?? 20,
      settleMs: opts.settleMs ?? 1200,
      queueEveryMs: opts.queueEveryMs ?? 5000,
    };
    this.#refs = new RefReader(project.repo);
    this.#queueBuilder = new QueueBuilder(project.reader);
  }

  /** Opens the project containing `cwd` (read-only use: no vibe lock is taken). */
  static async open(cwd: string, opts: CollectorOptions = {}): Promise<DashCollector> {
    return new DashCollector(await Project.open(cwd), cwd, opts);
  }

  /**
   * One refresh. `full` recomputes every vibe's drift without a budget and
   * asks the daemon at once (for `--once`). Returns true when the data changed.
   */
  async refresh(full = false): Promise<boolean> {
    const now = Date.now();
    let changed = false;
    this.#warnings = [];
    const meta = this.project.meta;

    const records = meta.listVibes();
    const seen = new Set<string>();
    for (const r of records) {
      seen.add(r.id);
      const t = this.#tracks.get(r.id);
      if (!t || t.record.createdMs !== r.createdMs) {
        this.#tracks.set(r.id, {
          record: r,
          journal: new JournalTrack(r.id),
          drift: null,
          memo: new DriftMemo(),
          dirtySince: now,
          recheckAt: 0,
          baseSizes: new Map(),
        });
        changed = this.#queueDirty = this.#matrixDirty = true;
      } else if (recordKey(t.record) !== recordKey(r)) {
        t.record = r;
        changed = this.#queueDirty = true;
      }
    }
    for (const id of [...this.#tracks.keys()]) {
      if (!seen.has(id)) {
        this.#tracks.delete(id);
        changed = this.#queueDirty = this.#matrixDirty = true;
      }
    }

    const lastSeqs = meta.lastJournalSeqs();
    for (const t of this.#tracks.values()) {
      const seq = lastSeqs.get(t.record.id) ?? 0;
      if (seq > t.journal.lastSeq) {
        try {
          await t.journal.pull(meta, seq, (p) => this.#baseSize(t, p));
        } catch (e) {
          this.#warn(`journal of ${t.record.id}: ${(e as Error).message}`);
        }
        if (!t.dirtySince) t.dirtySince = now;
        t.recheckAt = now + this.#opts.settleMs;
        changed = true;
      } else if (t.recheckAt !== 0 && now >= t.recheckAt) {
        if (!t.dirtySince) t.dirtySince = now;
        t.recheckAt = 0;
      }
    }

    const dirty = [...this.#tracks.values()].filter((t) => t.dirtySince !== 0)
      .sort((a, b) => a.dirtySince - b.dirtySince);
    const t0 = performance.now();
    for (const t of dirty) {
      if (!full && performance.now() - t0 > this.#opts.budgetMs) break;
      if (await this.#walk(t)) changed = this.#matrixDirty = true;
    }

    if (this.#matrixDirty) {
      this.#matrixDirty = false;
      const vibes = [...this.#tracks.values()].filter((t) => t.drift !== null).map((t) => ({
        id: t.record.id,
        changes: t.drift!.changes,
        contents: t.drift!.contents,
      }));
      try {
        this.#cells = await this.#overlap.cells(vibes, (oid) => this.#blob(oid));
      } catch (e) {
        this.#warn(`conflict matrix: ${(e as Error).message}`);
      }
    }

    if (await this.#refreshQueue(now)) changed = true;

    if (full || now - this.#daemonMs >= this.#opts.daemonPollMs) {
      this.#daemonMs = now;
      if (await this.#pollDaemon()) changed = true;
    }

    if (changed || this.#snapshot === null || now - this.#emittedMs >= 1000) {
      this.#snapshot = this.#build(now);
      this.#emittedMs = now;
      return true;
    }
    return false;
  }

  /** Recomputes a vibe's drift; true when it differs from the last one. */
  async #walk(t: Track): Promise<boolean> {
    t.dirtySince = 0;
    const key = (d: Drift | null) =>
      d
        ? `${d.deltaBytes}|${d.changes.map((c) => `${c.status}${c.path}:${c.newOid}`).join("|")}`
        : "";
    const before = key(t.drift);
    try {
      const r = await computeDrift(
        t.record,
        this.project.meta,
        this.project.sessionDir(t.record.id),
        this.project.trees,
        t.memo,
      );
      t.drift = r.drift;
      t.memo = r.memo;
    } catch (e) {
      // A vibe destroyed mid-walk disappears on the next refresh.
      this.#warn(`drift of ${t.record.id}: ${(e as Error).message}`);
    }
    return key(t.drift) !== before;
  }

  async #refreshQueue(now: number): Promise<boolean> {
    const reader = this.project.reader;
    let head: { branch: string | null; oid: string | null };
    try {
      head = this.#refs.readHead();
    } catch (e) {
      this.#warn((e as Error).message);
      return false;
    }
    const names = listVibeRefs(this.project.repo.commonDir, this.#refs);
    const refs = names.map((n) => [n, this.#refs.resolve(n)] as const);
    const branches = new Set<string>();
    if (head.branch) branches.add(head.branch);
    for (const t of this.#tracks.values()) if (t.record.baseRef) branches.add(t.record.baseRef);
    const tips = new Map([...branches].map((b) => [b, this.#refs.resolve(b)]));
    const key = JSON.stringify([head, refs, [...tips]]);
    if (
      key === this.#queueKey && !this.#queueDirty && now - this.#queueMs < this.#opts.queueEveryMs
    ) return false;
    const moved = key !== this.#queueKey;
    if (moved) reader.refresh();
    this.#queueKey = key;
    this.#queueDirty = false;
    this.#queueMs = now;
    this.#head = head;
    const items: QueueItem[] = [];
    for (const [ref, oid] of refs) {
      if (!oid) continue;
      const id = ref.slice("refs/vibes/".length);
      const t = this.#tracks.get(id);
      const v = t?.record ?? null;
      const branch = v?.baseRef ?? head.branch;
      const tip = branch ? (tips.get(branch) ?? this.#refs.resolve(branch)) : null;
      try {
        items.push(
          await this.#queueBuilder.item(ref, oid, v, branch, tip, t ? this.#unpromoted(t) : false),
        );
      } catch (e) {
        this.#warn(`${ref}: ${(e as Error).message}`);
      }
    }
    const changed = JSON.stringify(items) !== JSON.stringify(this.#queue);
    this.#queue = items;
    return changed || moved;
  }

  async #pollDaemon(): Promise<boolean> {
    if (!this.#client) this.#client = await connectDaemon(this.project.vibeDir);
    const d = this.#daemon;
    d.mounts = new Map();
    d.running = false;
    d.pid = null;
    d.startedMs = null;
    if (this.#client) {
      try {
        const info = await this.#client.call("info") as {
          pid: number;
          startedMs: number;
          mounts: { id: string; path: string; transport: string; mountedMs: number }[];
        };
        d.running = true;
        d.pid = info.pid;
        d.startedMs = info.startedMs;
        for (const m of info.mounts) {
          d.mounts.set(m.id, { path: m.path, transport: m.transport, mountedMs: m.mountedMs });
        }
      } catch {
        await this.#client.close().catch(() => {});
        this.#client = null;
      }
    }
    const key = JSON.stringify([d.running, d.pid, [...d.mounts]]);
    const changed = key !== this.#daemonKey;
    this.#daemonKey = key;
    return changed;
  }

  #unpromoted(t: Track): boolean {
    const r = t.record;
    if (r.promotedSeq === null) return (t.drift?.changes.length ?? 0) > 0;
    return t.journal.lastSeq > r.promotedSeq;
  }

  #warn(msg: string): void {
    if (this.#warnings.length < 10) this.#warnings.push(msg);
  }

  /** Base blob bytes (small LRU; blobs never change). */
  async #blob(oid: Oid): Promise<Uint8Array | null> {
    if (this.#blobs.has(oid)) return this.#blobs.get(oid)!;
    let data: Uint8Array | null = null;
    try {
      if (await this.project.reader.blobSize(oid) <= MAX_DIFF_BYTES) {
        data = await this.project.reader.readBlob(oid);
      }
    } catch {
      data = null;
    }
    if (this.#blobs.size >= 256) this.#blobs.delete(this.#blobs.keys().next().value!);
    this.#blobs.set(oid, data);
    return data;
  }

  /** The base tree entry at `path` of a vibe (null when absent). */
  async #baseEntry(baseTree: Oid, path: string) {
    let tree: Oid | null = baseTree;
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) {
      if (!tree) return null;
      const e: TreeEntry | undefined = (await this.project.trees(tree)).find((x) =>
        x.name === parts[i]
      );
      if (!e) return null;
      if (i === parts.length - 1) return e;
      tree = e.mode === GIT_MODE.TREE ? e.oid : null;
    }
    return null;
  }

  async #baseSize(t: Track, path: string): Promise<number | null> {
    if (t.baseSizes.has(path)) return t.baseSizes.get(path)!;
    let size: number | null = null;
    try {
      const e = await this.#baseEntry(t.record.baseTree, path);
      if (e && e.mode !== GIT_MODE.TREE && e.mode !== GIT_MODE.GITLINK) {
        size = await this.project.reader.blobSize(e.oid);
      }
    } catch { /* unknown */ }
    if (t.baseSizes.size > 10_000) t.baseSizes.clear();
    t.baseSizes.set(path, size);
    return size;
  }

  #build(now: number): DashSnapshot {
    const conflictOf = new Map<string, string>();
    for (const q of this.#queue) {
      if (!q.vibeExists) continue;
      if (q.outcome === "conflict") {
        conflictOf.set(
          q.id,
          `promoted commit conflicts with ${q.branch?.replace("refs/heads/", "")}: ${
            q.conflicts.slice(0, 3).join(", ")
          }`,
        );
      } else if (q.outcome === "stale") {
        conflictOf.set(q.id, `${q.ref} does not sit on the vibe's base (promote again)`);
      }
    }
    for (const c of this.#cells) {
      if (c.heat !== "hot") continue;
      const p = c.paths.find((x) => x.overlap)?.path ?? "";
      if (!conflictOf.has(c.a)) conflictOf.set(c.a, `same lines as ${c.b} in ${p}`);
      if (!conflictOf.has(c.b)) conflictOf.set(c.b, `same lines as ${c.a} in ${p}`);
    }
    const refIds = new Set(this.#queue.map((q) => q.id));
    const vibes: VibeRow[] = [];
    const changes: Record<string, DashSnapshot["changes"][string]> = {};
    for (const t of [...this.#tracks.values()].sort((a, b) => byId(a.record.id, b.record.id))) {
      const r = t.record;
      const m = this.#daemon.mounts.get(r.id) ?? null;
      const unpromoted = this.#unpromoted(t);
      const reason = conflictOf.get(r.id) ?? null;
      const state: DashState = reason
        ? "conflict"
        : refIds.has(r.id) && !unpromoted
        ? "promoted"
        : m
        ? "mounted"
        : "unmounted";
      const ch = t.drift?.changes ?? [];
      vibes.push({
        id: r.id,
        state,
        conflictReason: reason,
        lifecycle: r.state,
        mounted: m !== null,
        transport: m?.transport ?? r.transport,
        mountPath: m?.path ?? r.mountPath,
        baseCommit: r.baseCommit,
        baseRef: r.baseRef,
        createdMs: r.createdMs,
        mountedMs: m?.mountedMs ?? null,
        drift: {
          paths: ch.length,
          added: ch.filter((c) => c.status === "A").length,
          modified: ch.filter((c) => c.status === "M" || c.status === "T").length,
          deleted: ch.filter((c) => c.status === "D").length,
          bytes: t.drift?.deltaBytes ?? 0,
        },
        lastWriteMs: t.journal.lastWriteMs,
        lastSeq: t.journal.lastSeq,
        activity: t.journal.activity(now),
        promotedCommit: r.promotedCommit,
        unpromoted,
      });
      changes[r.id] = t.journal.events.slice();
    }
    return {
      version: 1,
      takenMs: now,
      project: {
        workTree: this.project.repo.workTree,
        headBranch: this.#head.branch,
        headCommit: this.#head.oid,
      },
      daemon: {
        running: this.#daemon.running,
        pid: this.#daemon.pid,
        startedMs: this.#daemon.startedMs,
      },
      activityBucketMs: ACTIVITY_BUCKET_MS,
      vibes,
      changes,
      conflicts: this.#cells,
      queue: this.#queue,
      warnings: this.#warnings.slice(),
    };
  }

  /** The last snapshot (refresh at least once first). */
  snapshot(): DashSnapshot {
    if (!this.#snapshot) this.#snapshot = this.#build(Date.now());
    return this.#snapshot;
  }

  /** Polls every `pollMs` (never two refreshes at once) and calls `onChange` with new snapshots. */
  start(onChange: (s: DashSnapshot) => void, onError?: (e: unknown) => void): void {
    const loop = async () => {
      if (this.#stopped) return;
      this.#running = (async () => {
        try {
          if (await this.refresh()) onChange(this.snapshot());
        } catch (e) {
          onError?.(e);
        }
      })();
      await this.#running;
      this.#running = null;
      if (!this.#stopped) this.#timer = setTimeout(loop, this.#opts.pollMs);
    };
    loop();
  }

  /** Asks for a refresh soon (after an action). */
  poke(): void {
    this.#queueDirty = true;
    for (const t of this.#tracks.values()) t.recheckAt = Date.now();
  }

  /** The unified diff of `path` in vibe `id` against its base. */
  async fileDiff(id: string, path: string): Promise<DiffLine[]> {
    const v = this.project.vibe(id);
    const baseEntry = await this.#baseEntry(v.baseTree, path);
    const base = baseEntry && baseEntry.mode !== GIT_MODE.TREE &&
        baseEntry.mode !== GIT_MODE.GITLINK
      ? await this.project.reader.readBlob(baseEntry.oid)
      : null;
    const now = await this.#currentBytes(v, path);
    return unifiedDiff(path, base, now);
  }

  /** A vibe's current bytes at `path` (null when absent or not a file), read-only. */
  async #currentBytes(v: VibeRecord, path: string): Promise<Uint8Array | null> {
    const meta = this.project.meta;
    let ino: number | null = 1;
    let tree: Oid | null = null;
    const parts = path.split("/");
    let entry: { mode: number; oid: Oid } | null = null;
    for (const name of parts) {
      if (ino !== null) {
        const node = meta.getInode(v.id, ino);
        if (!node || node.kind !== "dir") return null;
        const d = meta.getDirent(v.id, ino, name);
        if (d) {
          ino = d.ino;
          continue;
        }
        if (node.loaded || !node.oid) return null;
        tree = node.oid;
        ino = null;
      }
      if (!tree) return null;
      const e: TreeEntry | undefined = (await this.project.trees(tree)).find((x) =>
        x.name === name
      );
      if (!e) return null;
      entry = e;
      tree = e.mode === GIT_MODE.TREE ? e.oid : null;
    }
    if (ino !== null) {
      const n = meta.getInode(v.id, ino);
      if (!n) return null;
      if (n.kind === "symlink") {
        if (n.target !== null) return new TextEncoder().encode(n.target);
        return n.oid ? await this.project.reader.readBlob(n.oid) : null;
      }
      if (n.kind !== "file") return null;
      if (n.materialized) {
        try {
          return Deno.readFileSync(`${this.project.sessionDir(v.id)}/delta/${ino}`);
        } catch {
          return null;
        }
      }
      return n.oid ? await this.project.reader.readBlob(n.oid) : new Uint8Array(0);
    }
    if (!entry || entry.mode === GIT_MODE.TREE || entry.mode === GIT_MODE.GITLINK) return null;
    return await this.project.reader.readBlob(entry.oid);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#running;
    await this.#client?.close().catch(() => {});
    this.#client = null;
    this.project.close();
  }
}

/** One full collection, for `vibe dash --once`. */
export async function collectOnce(cwd: string): Promise<DashSnapshot> {
  const c = await DashCollector.open(cwd);
  try {
    // One pass: drifts first, then the matrix and queue that read them.
    await c.refresh(true);
    return c.snapshot();
  } finally {
    await c.close();
  }
}
