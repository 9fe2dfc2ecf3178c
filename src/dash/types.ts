/**
 * The dashboard's data: one plain, JSON-able snapshot of a project that the
 * collector (`collector.ts`) produces and the Ink views (`src/tui/`) render.
 * `vibe dash --once --json` prints exactly this object.
 *
 * Times are epoch milliseconds; relative figures (uptime, "3 s ago") are
 * computed against `takenMs`, so one snapshot always renders the same way.
 */

/**
 * Dashboard state of a vibe, one word:
 * - `conflict`: its promoted commit cannot land on its branch (the dry-run
 *   merge conflicts, or refs/vibes/<id> no longer sits on its base), or it
 *   changed the same lines of a file as another vibe (a hot matrix cell);
 * - `promoted`: refs/vibes/<id> holds all its changes (none since promote);
 * - `mounted` / `unmounted`: otherwise, whether the daemon serves it now.
 */
export type DashState = "mounted" | "unmounted" | "promoted" | "conflict";

export interface DriftInfo {
  /** Changed paths against the base (what `vibe status` lists). */
  paths: number;
  added: number;
  modified: number;
  deleted: number;
  /** Bytes of the vibe's copy-on-write delta (as `vibe ls` reports). */
  bytes: number;
}

export interface VibeRow {
  id: string;
  state: DashState;
  /** Why the state is `conflict` (null otherwise). */
  conflictReason: string | null;
  /** The metadata's lifecycle word: active, promoted or committed. */
  lifecycle: string;
  mounted: boolean;
  transport: string | null;
  mountPath: string | null;
  baseCommit: string;
  baseRef: string | null;
  createdMs: number;
  /** When the daemon mounted it (null when not mounted). */
  mountedMs: number | null;
  drift: DriftInfo;
  /** Time of its last journal entry (null when it never changed). */
  lastWriteMs: number | null;
  /** Its last journal sequence number (0 when none). */
  lastSeq: number;
  /** Journal entries per bucket of `DashSnapshot.activityBucketMs`, oldest first. */
  activity: number[];
  promotedCommit: string | null;
  /** It changed after its last promote. */
  unpromoted: boolean;
}

/** One change as it was written (a journal entry). */
export interface ChangeEvent {
  vibe: string;
  seq: number;
  timeMs: number;
  /** Journal op: create, write, truncate, mkdir, unlink, rename, … */
  op: string;
  path: string;
  /** Second path (rename target, link source), else null. */
  path2: string | null;
  /** File size after the change, when known. */
  size: number | null;
  /** Size after minus size before, when both are known. */
  sizeDelta: number | null;
}

/** A path two vibes both changed. */
export interface SharedPath {
  path: string;
  /** Both changed the same lines (a merge of the two would conflict). */
  overlap: boolean;
}

/** Matrix cell for a pair of vibes (a < b by id); pairs with nothing shared are absent. */
export interface ConflictCell {
  a: string;
  b: string;
  /** Paths both changed. */
  shared: number;
  /** How many of them overlap line-wise. */
  overlapping: number;
  heat: "hot" | "warm";
  paths: SharedPath[];
}

export type QueueOutcome =
  /** The branch still points at the vibe's base. */
  | "fast-forward"
  /** The branch moved; a 3-way merge is clean. */
  | "merge"
  /** The branch already contains these changes. */
  | "already-applied"
  | "conflict"
  /** refs/vibes/<id> does not sit on the vibe's base (promote again). */
  | "stale"
  /** No branch to land on (vibe gone or detached, HEAD detached). */
  | "no-branch";

export interface QueueFile {
  path: string;
  status: "A" | "M" | "D" | "T";
  /** Lines added / removed (null for binary or too large files). */
  added: number | null;
  removed: number | null;
}

export interface QueueItem {
  id: string;
  ref: string;
  commit: string;
  parent: string | null;
  subject: string;
  message: string;
  author: string;
  files: QueueFile[];
  added: number;
  removed: number;
  /** Target branch ("refs/heads/main"), null when there is none. */
  branch: string | null;
  branchTip: string | null;
  outcome: QueueOutcome;
  /** Conflicting paths when `outcome` is "conflict". */
  conflicts: string[];
  /** The vibe still exists (commit needs it; a dangling ref can only be dropped). */
  vibeExists: boolean;
  /** The vibe changed after this promote. */
  unpromoted: boolean;
}

export interface DashSnapshot {
  version: 1;
  takenMs: number;
  project: { workTree: string; headBranch: string | null; headCommit: string | null };
  daemon: { running: boolean; pid: number | null; startedMs: number | null };
  activityBucketMs: number;
  vibes: VibeRow[];
  /** Recent changes of each vibe, oldest first (bounded per vibe). */
  changes: Record<string, ChangeEvent[]>;
  conflicts: ConflictCell[];
  queue: QueueItem[];
  /** Problems met while collecting (shown in the footer; the rest still renders). */
  warnings: string[];
}
