/**
 * `vibe commit`: lands a promoted vibe on a branch without losing anyone's
 * work.
 *
 * Lock protocol: a row lock `commit:<branch>` in the metadata serializes vibe
 * processes; git's own `<ref>.lock` plus compare-and-swap on the old tip
 * excludes a concurrent real `git`. Under the lock: when the branch still
 * equals the vibe's base, fast-forward to the promoted commit; when it moved,
 * 3-way merge the trees (base = the vibe's base) and put one new commit on
 * top of the branch (earlier commits are kept, history stays linear); on
 * conflicts change nothing, list the paths, keep the vibe.
 */
import { VibeError } from "../errors.ts";
import { mergeTrees } from "../git/merge.ts";
import { resolveSignature } from "../git/signature.ts";
import type { Oid } from "../types.ts";
import { destroyVibe } from "./lifecycle.ts";
import type { Project } from "./project.ts";
import { vibeRef } from "./promote.ts";

export interface CommitOptions {
  /** Branch name or full ref; default: the branch the vibe was spawned from, else HEAD's. */
  branch?: string;
  /** Update the root worktree where it has no uncommitted changes. */
  sync?: boolean;
  /** Keep the vibe afterwards. */
  keep?: boolean;
  /** How long to wait for another vibe's commit to the same branch. */
  lockTimeoutMs?: number;
  /** Called before the vibe is torn down (the daemon unmounts it here). */
  beforeTeardown?: () => Promise<void>;
}

export type CommitKind = "fast-forward" | "merged" | "already-applied";

export interface SyncReport {
  updated: string[];
  /** Paths left alone because the root worktree has uncommitted changes there. */
  skipped: string[];
}

export interface CommitResult {
  id: string;
  branch: string;
  kind: CommitKind;
  oldTip: Oid;
  newTip: Oid;
  torndown: boolean;
  sync: SyncReport | null;
  /** Set when the root worktree is on the branch and was not synced. */
  worktreeBehind: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function branchRefFor(project: Project, id: string, branch?: string): Promise<string> {
  if (branch) {
    const ref = branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
    if (!ref.startsWith("refs/heads/")) {
      throw new VibeError("USAGE", `Cannot commit "${id}" to "${branch}": not a branch`);
    }
    return ref;
  }
  const v = project.vibe(id);
  if (v.baseRef) return v.baseRef;
  const head = await project.reader.readHead();
  if (!head.branch) {
    throw new VibeError(
      "USAGE",
      `Cannot commit "${id}": it was spawned from a detached commit and HEAD is detached ` +
        `(pass --branch <name>)`,
    );
  }
  return head.branch;
}

async function git(
  cwd: string,
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const o = await new Deno.Command("git", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const d = new TextDecoder();
  return { ok: o.success, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

/**
 * Brings the root worktree from `oldTip` to `newTip` path by path, touching
 * only paths whose index and file both still match `oldTip`.
 */
async function syncWorktree(project: Project, oldTip: Oid, newTip: Oid): Promise<SyncReport> {
  const cwd = project.repo.workTree;
  const changed = await git(cwd, ["diff", "--name-status", "--no-renames", "-z", oldTip, newTip]);
  if (!changed.ok) throw new VibeError("EIO", `Cannot sync the worktree: ${changed.err.trim()}`);
  const parts = changed.out.split("\0").filter((s) => s.length > 0);
  const entries: { status: string; path: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    entries.push({ status: parts[i]!, path: parts[i + 1]! });
  }
  if (entries.length === 0) return { updated: [], skipped: [] };
  // Dirty = differs from oldTip in the index or in the work tree.
  const dirty = new Set<string>();
  for (
    const args of [["diff", "--name-only", "-z", "--cached", oldTip], ["diff", "--name-only", "-z"]]
  ) {
    const r = await git(cwd, args);
    for (const p of r.out.split("\0")) if (p) dirty.add(p);
  }
  const untracked = await git(cwd, ["ls-files", "-z", "--others", "--exclude-standard"]);
  for (const p of untracked.out.split("\0")) if (p) dirty.add(p);
  const updated: string[] = [];
  const skipped: string[] = [];
  const checkout: string[] = [];
  const remove: string[] = [];
  for (const e of entries) {
    if (dirty.has(e.path)) {
      skipped.push(e.path);
      continue;
    }
    (e.status === "D" ? remove : checkout).push(e.path);
    updated.push(e.path);
  }
  if (checkout.length > 0) {
    const r = await git(cwd, ["checkout", newTip, "--", ...checkout]);
    if (!r.ok) throw new VibeError("EIO", `Cannot sync the worktree: ${r.err.trim()}`);
  }
  // -f: these paths were checked clean against oldTip above; the index only
  // differs from the moved HEAD because the branch moved under it.
  if (remove.length > 0) {
    const r = await git(cwd, ["rm", "-q", "-f", "--ignore-unmatch", "--", ...remove]);
    if (!r.ok) throw new VibeError("EIO", `Cannot sync the worktree: ${r.err.trim()}`);
  }
  return { updated, skipped };
}

export async function commitVibe(
  project: Project,
  id: string,
  opts: CommitOptions = {},
): Promise<CommitResult> {
  const vibe = project.vibe(id);
  const ref = vibeRef(id);
  const promoted = await project.reader.resolveRef(ref);
  if (!promoted) {
    throw new VibeError(
      "USAGE",
      `Cannot commit "${id}": it has not been promoted (run "vibe promote ${id}" first)`,
    );
  }
  const pc = await project.reader.readCommit(promoted);
  if (pc.parents.length !== 1 || pc.parents[0] !== vibe.baseCommit) {
    throw new VibeError(
      "CONFLICT",
      `Cannot commit "${id}": ${ref} does not sit on the vibe's base ${
        vibe.baseCommit.slice(0, 12)
      } ` +
        `(it was changed outside vibe; run "vibe promote ${id}" again)`,
    );
  }
  if (
    !opts.keep && vibe.promotedSeq !== null &&
    project.meta.lastJournalSeq(id) > vibe.promotedSeq
  ) {
    throw new VibeError(
      "USAGE",
      `Cannot commit "${id}": it changed after its last promote and would be torn down ` +
        `(run "vibe promote ${id}" again, or pass --keep)`,
    );
  }
  const branch = await branchRefFor(project, id, opts.branch);
  const lockName = `commit:${branch}`;
  const owner = `pid:${Deno.pid}:${id}`;
  const deadline = Date.now() + (opts.lockTimeoutMs ?? 120_000);
  while (!project.meta.tryLock(lockName, owner)) {
    if (Date.now() > deadline) {
      throw new VibeError(
        "LOCKED",
        `Cannot commit "${id}": another commit to "${branch}" holds the lock (try again)`,
      );
    }
    await sleep(10 + Math.random() * 30);
  }
  const writer = await project.writer();
  let kind: CommitKind = "fast-forward";
  let oldTip = "";
  let newTip = "";
  try {
    for (let attempt = 0;; attempt++) {
      project.reader.refresh();
      const tip = await project.reader.resolveRef(branch);
      if (!tip) {
        throw new VibeError("USAGE", `Cannot commit "${id}": branch "${branch}" does not exist`);
      }
      oldTip = tip;
      if (tip === vibe.baseCommit) {
        kind = "fast-forward";
        newTip = promoted;
      } else {
        const tc = await project.reader.readCommit(tip);
        const r = await mergeTrees(project.reader, writer, vibe.baseTree, tc.tree, pc.tree);
        if (r.tree === null) {
          const paths = r.conflicts.map((c) => c.path);
          throw new VibeError(
            "CONFLICT",
            `Cannot commit "${id}": "${branch}" moved and ${paths.length} path(s) conflict: ` +
              `${paths.slice(0, 10).join(", ")}${paths.length > 10 ? ", …" : ""} ` +
              `(nothing was changed; the vibe is kept — resolve in the vibe and promote again)`,
            { conflicts: r.conflicts },
          );
        }
        if (r.tree === tc.tree) {
          kind = "already-applied";
          newTip = tip;
          break;
        }
        kind = "merged";
        newTip = await writer.writeCommit({
          tree: r.tree,
          parents: [tip],
          author: pc.author,
          committer: await resolveSignature(project.repo, "committer"),
          message: pc.message,
        });
      }
      try {
        await writer.updateRef(branch, newTip, tip, `vibe commit ${id} (${kind})`);
        break;
      } catch (e) {
        const code = (e as VibeError).code;
        if ((code !== "CONFLICT" && code !== "LOCKED") || attempt >= 50) throw e;
        await sleep(20 + Math.random() * 50);
      }
    }
  } finally {
    project.meta.unlock(lockName, owner);
  }

  let sync: SyncReport | null = null;
  let worktreeBehind = false;
  const head = await project.reader.readHead();
  if (head.branch === branch && oldTip !== newTip) {
    if (opts.sync) sync = await syncWorktree(project, oldTip, newTip);
    else worktreeBehind = true;
  }
  project.meta.updateVibe(id, { state: "committed" });
  let torndown = false;
  if (!opts.keep) {
    await opts.beforeTeardown?.();
    await destroyVibe(project, id);
    torndown = true;
  }
  return { id, branch, kind, oldTip, newTip, torndown, sync, worktreeBehind };
}
