/**
 * `vibe init`: creates `.vibe/`, hides it from git, and indexes HEAD's trees
 * into the metadata's tree cache. Idempotent; re-running only decodes trees
 * that are not cached yet.
 */
import { GIT_MODE, type Oid } from "../types.ts";
import { parseTree } from "../git/parse.ts";
import { Project, VIBE_DIR } from "./project.ts";

export interface IndexStats {
  commit: Oid;
  tree: Oid;
  /** Trees decoded from git this time (cached subtrees are skipped whole). */
  newTrees: number;
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

/**
 * Indexes a commit's trees into the metadata's tree cache. Visits only trees
 * that are not cached yet: rows are inserted children first (post-order), so
 * a cached tree's whole subtree is cached and its file count is known.
 */
export async function indexCommit(
  project: Project,
  commit: Oid,
  progress?: Progress,
): Promise<IndexStats> {
  const c = await project.reader.readCommit(commit);
  const meta = project.meta;
  const stats: IndexStats = { commit, tree: c.tree, newTrees: 0, files: 0 };
  const known = meta.treeFiles(c.tree);
  if (known !== null) {
    stats.files = known;
    meta.markCommitIndexed(commit, c.tree, known);
    return stats;
  }
  interface Frame {
    oid: Oid;
    data: Uint8Array;
    subtrees: Oid[];
    next: number;
    files: number;
  }
  const BATCH = 2000;
  let batch: Frame[] = [];
  const flush = () => {
    const b = batch;
    batch = [];
    if (b.length > 0) {
      meta.transaction(() => b.forEach((f) => meta.putTree(f.oid, f.data, f.files)));
    }
  };
  // Trees decoded in this run, by oid (the same subtree may appear under several names).
  const done = new Map<Oid, number>();
  // The first index of a project finds nothing cached: skip the lookups.
  const cacheEmpty = meta.treeCount() === 0;
  const open = async (oid: Oid): Promise<Frame> => {
    const raw = await project.reader.readObject(oid);
    const entries = parseTree(raw.data, oid);
    const frame: Frame = { oid, data: raw.data, subtrees: [], next: 0, files: 0 };
    for (const e of entries) {
      if (e.mode === GIT_MODE.TREE) frame.subtrees.push(e.oid);
      else if (e.mode !== GIT_MODE.GITLINK) frame.files++;
    }
    stats.newTrees++;
    if (progress && stats.newTrees % 500 === 0) progress(stats.newTrees, stats.files + frame.files);
    return frame;
  };
  const stack: Frame[] = [await open(c.tree)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.subtrees.length) {
      const sub = top.subtrees[top.next++]!;
      const files = done.get(sub) ?? (cacheEmpty ? null : meta.treeFiles(sub));
      if (files !== null) top.files += files;
      else stack.push(await open(sub));
      continue;
    }
    stack.pop();
    done.set(top.oid, top.files);
    batch.push(top);
    if (batch.length >= BATCH) flush();
    const parent = stack[stack.length - 1];
    if (parent) parent.files += top.files;
    else stats.files = top.files;
  }
  flush();
  meta.markCommitIndexed(commit, c.tree, stats.files);
  progress?.(stats.newTrees, stats.files);
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
