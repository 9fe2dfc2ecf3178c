/**
 * `vibe promote`: the vibe's state becomes a git commit whose parent is the
 * base commit, at `refs/vibes/<id>`. Writes blobs and trees only along
 * changed paths (unchanged subtrees keep their oids), so the cost follows the
 * changes, not the repository.
 */
import { VibeError } from "../errors.ts";
import { envIdentity, readIdentityConfig, resolveSignature } from "../git/signature.ts";
import type { Oid } from "../types.ts";
import type { Project } from "./project.ts";
import { buildTree, type PathChange } from "./tree_build.ts";

export interface PromoteOptions {
  message?: string;
}

export interface PromoteResult {
  id: string;
  commit: Oid;
  tree: Oid;
  ref: string;
  baseCommit: Oid;
  changes: PathChange[];
  skipped: string[];
  replaced: Oid | null;
}

export function vibeRef(id: string): string {
  return `refs/vibes/${id}`;
}

function defaultMessage(id: string, changes: PathChange[]): string {
  const n = changes.length;
  const head = `vibe ${id}: ${n} file${n === 1 ? "" : "s"} changed`;
  const list = changes.slice(0, 20).map((c) => `${c.status}\t${c.path}`).join("\n");
  const more = n > 20 ? `\n… and ${n - 20} more` : "";
  return `${head}\n\n${list}${more}\n`;
}

export async function promoteVibe(
  project: Project,
  id: string,
  opts: PromoteOptions = {},
): Promise<PromoteResult> {
  const vibe = project.vibe(id);
  const ws = project.workspace(id);
  const seq = project.meta.lastJournalSeq(id);
  const writer = await project.writer();
  const built = await buildTree(ws, writer, project.trees);
  if (built.changes.length === 0) {
    throw new VibeError(
      "USAGE",
      `Nothing to promote in "${id}": it has no changes against its base ${
        vibe.baseCommit.slice(0, 12)
      }`,
    );
  }
  // One read of git's config for both roles (none when the environment names them).
  const fromEnv = (["author", "committer"] as const).every((r) => {
    const e = envIdentity(r);
    return e.name !== undefined && e.email !== undefined;
  });
  const identity = fromEnv ? {} : await readIdentityConfig(project.repo);
  const author = await resolveSignature(project.repo, "author", identity);
  const committer = await resolveSignature(project.repo, "committer", identity);
  let message = opts.message ?? defaultMessage(id, built.changes);
  if (!message.endsWith("\n")) message += "\n";
  const commit = await writer.writeCommit({
    tree: built.tree,
    parents: [vibe.baseCommit],
    author,
    committer,
    message,
  });
  const ref = vibeRef(id);
  const old = await project.reader.resolveRef(ref);
  await writer.updateRef(ref, commit, old, `vibe promote ${id}`);
  project.meta.updateVibe(id, {
    state: "promoted",
    promotedCommit: commit,
    promotedMs: Date.now(),
    promotedSeq: seq,
  });
  return {
    id,
    commit,
    tree: built.tree,
    ref,
    baseCommit: vibe.baseCommit,
    changes: built.changes,
    skipped: built.skipped,
    replaced: old,
  };
}

/**
 * Deletes refs/vibes/<id> if it still holds `expected` (git's ref-lock
 * protocol, compare-and-swap: a ref that moved meanwhile is a CONFLICT),
 * and marks the vibe unpromoted when its record named that commit. The
 * ref may outlive its vibe (after a commit): it can still be dropped.
 */
export async function dropPromotion(
  project: Project,
  id: string,
  expected: Oid,
): Promise<{ ref: string; dropped: Oid }> {
  const ref = vibeRef(id);
  project.reader.refresh();
  const cur = await project.reader.resolveRef(ref);
  if (cur !== expected) {
    throw new VibeError(
      "CONFLICT",
      `Cannot drop "${ref}": it is ${cur ? cur.slice(0, 12) : "gone"}, not ${
        expected.slice(0, 12)
      } (look again)`,
    );
  }
  await (await project.writer()).deleteRef(ref, expected);
  const v = project.meta.getVibe(id);
  if (v && v.promotedCommit === expected) {
    project.meta.updateVibe(id, {
      state: "active",
      promotedCommit: null,
      promotedMs: null,
      promotedSeq: null,
    });
  }
  return { ref, dropped: expected };
}
