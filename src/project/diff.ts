/**
 * `vibe diff`: what `git diff <base> <vibe-state>` prints, byte for byte.
 *
 * The vibe's changed trees and blobs are written into vibe's own scratch
 * object store (`.vibe/scratch`, never `.git`), and the real `git diff` reads
 * them through GIT_ALTERNATE_OBJECT_DIRECTORIES, so the output is git's own
 * (rename detection, hunk headers, colours and pager included).
 */
import { VibeError } from "../errors.ts";
import { IsoGitObjectWriter } from "../git/isogit_writer.ts";
import type { Project } from "./project.ts";
import { buildTree, type PathChange } from "./tree_build.ts";

export type DiffFormat = "patch" | "stat" | "name-status";

export interface DiffOptions {
  format?: DiffFormat;
  /** Pass git's stdout/stderr through (colours, pager) instead of capturing. */
  inherit?: boolean;
  extraArgs?: string[];
}

export interface DiffResult {
  base: string;
  tree: string;
  changes: PathChange[];
  /** Captured output (empty when inherited). */
  output: string;
  exitCode: number;
}

export function scratchDir(project: Project): string {
  return `${project.vibeDir}/scratch`;
}

export async function diffVibe(
  project: Project,
  id: string,
  opts: DiffOptions = {},
): Promise<DiffResult> {
  const vibe = project.vibe(id);
  const ws = project.workspace(id);
  const scratch = scratchDir(project);
  Deno.mkdirSync(`${scratch}/objects`, { recursive: true });
  const sink = new IsoGitObjectWriter({
    workTree: project.repo.workTree,
    gitDir: scratch,
    commonDir: scratch,
  });
  const built = await buildTree(ws, sink, project.trees);
  const args = ["diff"];
  if (opts.format === "stat") args.push("--stat");
  if (opts.format === "name-status") args.push("--name-status");
  args.push(...(opts.extraArgs ?? []), vibe.baseCommit, built.tree, "--");
  const alt = [`${scratch}/objects`, Deno.env.get("GIT_ALTERNATE_OBJECT_DIRECTORIES")]
    .filter(Boolean).join(":");
  const cmd = new Deno.Command("git", {
    args,
    cwd: project.repo.workTree,
    env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: alt },
    stdin: "null",
    stdout: opts.inherit ? "inherit" : "piped",
    stderr: opts.inherit ? "inherit" : "piped",
  });
  const out = await cmd.output();
  if (!out.success && out.code !== 1) {
    const err = opts.inherit ? "" : new TextDecoder().decode(out.stderr).trim();
    throw new VibeError(
      "EIO",
      `Cannot diff "${id}": git diff failed (${err || `exit ${out.code}`})`,
    );
  }
  return {
    base: vibe.baseCommit,
    tree: built.tree,
    changes: built.changes,
    output: opts.inherit ? "" : new TextDecoder().decode(out.stdout),
    exitCode: 0,
  };
}
