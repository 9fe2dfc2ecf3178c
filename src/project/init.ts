/**
 * `vibe init`: creates `.vibe/`, hides it from git, and indexes HEAD's trees
 * into the metadata's tree cache. Idempotent; re-running only decodes trees
 * that are not cached yet.
 */
import { GIT_MODE, type Oid } from "../types.ts";
import { Project, VIBE_DIR } from "./project.ts";

export interface IndexStats {
  commit: Oid;
  tree: Oid;
  /** Trees decoded from git this time (cached ones are skipped). */
  newTrees: number;
  trees: number;
  files: number;
}

export interface InitResult {
  workTree: string;
  vibeDir: string;
  branch: string | null;
  /** null on a repository without commits. */
  index: IndexStats | null;
  ms: number;
}

export type Progress = (trees: number, files: number) => void;

/** Indexes a commit's trees (O(trees not cached yet) git reads). */
export async function indexCommit(
  project: Project,
  commit: Oid,
  progress?: Progress,
): Promise<IndexStats> {
  const c = await project.reader.readCommit(commit);
  const stats: IndexStats = { commit, tree: c.tree, newTrees: 0, trees: 0, files: 0 };
  const meta = project.meta;
  // Cached trees are read from SQLite (cheap); only uncached ones are decoded
  // from git, so a new base commit costs O(changed trees) git reads.
  const pending: Oid[] = [c.tree];
  const BATCH = 2000;
  let batch: { oid: Oid; entries: Awaited<ReturnType<typeof project.reader.readTree>> }[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    meta.transaction(() => {
      for (const t of b) meta.putTree(t.oid, t.entries);
    });
  };
  const seen = new Set<Oid>();
  while (pending.length > 0) {
    const oid = pending.pop()!;
    let entries = meta.getTree(oid);
    if (!entries) {
      entries = await project.reader.readTree(oid);
      if (!seen.has(oid)) {
        batch.push({ oid, entries });
        stats.newTrees++;
      }
      if (batch.length >= BATCH) flush();
    }
    seen.add(oid);
    stats.trees++;
    for (const e of entries) {
      if (e.mode === GIT_MODE.TREE) pending.push(e.oid);
      else if (e.mode !== GIT_MODE.GITLINK) stats.files++;
    }
    if (progress && stats.trees % 500 === 0) progress(stats.trees, stats.files);
  }
  flush();
  meta.markCommitIndexed(commit, c.tree, stats.files);
  progress?.(stats.trees, stats.files);
  return stats;
}

/** Adds `/.vibe/` to `.git/info/exclude` unless a line already covers it. */
export function excludeVibeDir(commonDir: string): void {
  const path = `${commonDir}/info/exclude`;
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    Deno.mkdirSync(`${commonDir}/info`, { recursive: true });
  }
  const lines = text.split("\n").map((l) => l.trim());
  if (lines.some((l) => l === `/${VIBE_DIR}/` || l === `${VIBE_DIR}/` || l === `/${VIBE_DIR}`)) {
    return;
  }
  const sep = text.length > 0 && !text.endsWith("\n") ? "\n" : "";
  Deno.writeTextFileSync(path, `${text}${sep}/${VIBE_DIR}/\n`);
}

export async function initProject(cwd: string, progress?: Progress): Promise<InitResult> {
  const t0 = performance.now();
  const project = await Project.open(cwd, { create: true });
  try {
    excludeVibeDir(project.repo.commonDir);
    const head = await project.reader.readHead();
    let index: IndexStats | null = null;
    if (head.oid) {
      index = await indexCommit(project, head.oid, progress);
      project.meta.setSetting("init_head", head.oid);
    }
    return {
      workTree: project.repo.workTree,
      vibeDir: project.vibeDir,
      branch: head.branch,
      index,
      ms: performance.now() - t0,
    };
  } finally {
    project.close();
  }
}
