/**
 * The promotion queue: every refs/vibes/<id> with its commit's message,
 * files and +/− lines, and what `vibe commit` would do with it now
 * (fast-forward, clean merge, conflict), found by a dry run that writes
 * nothing: the same `mergeTrees` as `vibe commit`, with a writer that only
 * hashes.
 *
 * Everything derived from oids is cached (commits and trees never change),
 * so a refresh costs a ref read per vibe plus the work for refs or branch
 * tips that moved.
 */
import { VibeError } from "../errors.ts";
import { GIT_MODE, type Oid } from "../types.ts";
import { encodeTree, hashObject } from "../git/object_hash.ts";
import { mergeTrees } from "../git/merge.ts";
import type { ObjectReader, ObjectWriter, TreeEntry } from "../git/object_store.ts";
import type { RefReader } from "../git/refs_read.ts";
import type { VibeRecord } from "../meta/meta_store.ts";
import { lineCounts, MAX_DIFF_BYTES } from "./lines.ts";
import type { QueueFile, QueueItem, QueueOutcome } from "./types.ts";

const PREFIX = "refs/vibes/";

/** A writer for dry runs: computes oids, stores nothing, refuses ref updates. */
const dryWriter: ObjectWriter = {
  writeBlob: (data) => Promise.resolve(hashObject("blob", data)),
  writeTree: (entries) => Promise.resolve(hashObject("tree", encodeTree(entries))),
  writeCommit: () => Promise.reject(new VibeError("EINVAL", "Dry run: no commit is written")),
  updateRef: () => Promise.reject(new VibeError("EINVAL", "Dry run: no ref is moved")),
  deleteRef: () => Promise.reject(new VibeError("EINVAL", "Dry run: no ref is deleted")),
};

/** Names of refs under refs/vibes/ (loose and packed), sorted. */
export function listVibeRefs(commonDir: string, refs: RefReader): string[] {
  const names = new Set<string>();
  try {
    for (const e of Deno.readDirSync(`${commonDir}/${PREFIX}`)) {
      if (e.isFile && !e.name.endsWith(".lock")) names.add(`${PREFIX}${e.name}`);
    }
  } catch { /* no loose vibe refs */ }
  for (const name of refs.packedRefs().keys()) if (name.startsWith(PREFIX)) names.add(name);
  return [...names].sort();
}

interface CommitFacts {
  parent: Oid | null;
  parentTree: Oid | null;
  tree: Oid;
  subject: string;
  message: string;
  author: string;
  files: QueueFile[];
  added: number;
  removed: number;
}

const isTree = (mode: number) => mode === GIT_MODE.TREE;

export class QueueBuilder {
  #reader: ObjectReader;
  #facts = new Map<Oid, CommitFacts>();
  #outcomes = new Map<string, { outcome: QueueOutcome; conflicts: string[] }>();

  constructor(reader: ObjectReader) {
    this.#reader = reader;
  }

  /**
   * One queue entry. `vibe` is its record (null when the vibe is gone),
   * `branch` the branch `vibe commit` would land on (HEAD's branch for a
   * ref whose vibe is gone; null when none).
   */
  async item(
    ref: string,
    commit: Oid,
    vibe: VibeRecord | null,
    branch: string | null,
    branchTip: Oid | null,
    unpromoted: boolean,
  ): Promise<QueueItem> {
    const f = await this.#commitFacts(commit);
    const { outcome, conflicts } = await this.#outcome(commit, f, vibe, branch, branchTip);
    return {
      id: ref.slice(PREFIX.length),
      ref,
      commit,
      parent: f.parent,
      subject: f.subject,
      message: f.message,
      author: f.author,
      files: f.files,
      added: f.added,
      removed: f.removed,
      branch,
      branchTip,
      outcome,
      conflicts,
      vibeExists: vibe !== null,
      unpromoted,
    };
  }

  async #outcome(
    commit: Oid,
    f: CommitFacts,
    vibe: VibeRecord | null,
    branch: string | null,
    tip: Oid | null,
  ): Promise<{ outcome: QueueOutcome; conflicts: string[] }> {
    if (!branch || !tip) return { outcome: "no-branch", conflicts: [] };
    if (vibe && f.parent !== vibe.baseCommit) return { outcome: "stale", conflicts: [] };
    if (tip === commit) return { outcome: "already-applied", conflicts: [] };
    if (tip === f.parent) return { outcome: "fast-forward", conflicts: [] };
    // A ref whose vibe is gone is judged against its parent (it cannot be committed).
    const baseTree = vibe ? vibe.baseTree : f.parentTree;
    if (!baseTree) return { outcome: "no-branch", conflicts: [] };
    const key = `${commit}:${tip}`;
    const known = this.#outcomes.get(key);
    if (known) return known;
    const tc = await this.#reader.readCommit(tip);
    const r = await mergeTrees(this.#reader, dryWriter, baseTree, tc.tree, f.tree);
    const res = r.tree === null
      ? { outcome: "conflict" as const, conflicts: r.conflicts.map((c) => c.path) }
      : {
        outcome: r.tree === tc.tree ? "already-applied" as const : "merge" as const,
        conflicts: [],
      };
    if (this.#outcomes.size > 5000) this.#outcomes.clear();
    this.#outcomes.set(key, res);
    return res;
  }

  async #commitFacts(oid: Oid): Promise<CommitFacts> {
    const known = this.#facts.get(oid);
    if (known) return known;
    const c = await this.#reader.readCommit(oid);
    const parent = c.parents[0] ?? null;
    const parentTree = parent ? (await this.#reader.readCommit(parent)).tree : null;
    const files: QueueFile[] = [];
    await this.#diffTrees(parentTree, c.tree, "", files);
    let added = 0;
    let removed = 0;
    for (const x of files) {
      added += x.added ?? 0;
      removed += x.removed ?? 0;
    }
    const message = c.message;
    const facts: CommitFacts = {
      parent,
      parentTree,
      tree: c.tree,
      subject: message.split("\n", 1)[0] ?? "",
      message,
      author: `${c.author.name} <${c.author.email}>`,
      files,
      added,
      removed,
    };
    if (this.#facts.size > 2000) this.#facts.clear();
    this.#facts.set(oid, facts);
    return facts;
  }

  async #diffTrees(a: Oid | null, b: Oid | null, prefix: string, out: QueueFile[]): Promise<void> {
    if (a === b) return;
    const ea: TreeEntry[] = a ? await this.#reader.readTree(a) : [];
    const eb: TreeEntry[] = b ? await this.#reader.readTree(b) : [];
    const ma = new Map(ea.map((e) => [e.name, e]));
    const mb = new Map(eb.map((e) => [e.name, e]));
    const names = [...new Set([...ma.keys(), ...mb.keys()])].sort();
    for (const name of names) {
      const x = ma.get(name) ?? null;
      const y = mb.get(name) ?? null;
      if (x && y && x.mode === y.mode && x.oid === y.oid) continue;
      const path = prefix + name;
      const xt = x !== null && isTree(x.mode);
      const yt = y !== null && isTree(y.mode);
      if (xt || yt) {
        await this.#diffTrees(xt ? x!.oid : null, yt ? y!.oid : null, `${path}/`, out);
        if (x && !xt) out.push(await this.#file(path, "D", x, null));
        if (y && !yt) out.push(await this.#file(path, "A", null, y));
        continue;
      }
      const status = !x ? "A" : !y ? "D" : x.mode !== y.mode && x.oid !== y.oid &&
          ((x.mode === GIT_MODE.SYMLINK) !== (y.mode === GIT_MODE.SYMLINK))
        ? "T"
        : "M";
      out.push(await this.#file(path, status, x, y));
    }
  }

  async #file(
    path: string,
    status: QueueFile["status"],
    x: TreeEntry | null,
    y: TreeEntry | null,
  ): Promise<QueueFile> {
    const isBlob = (e: TreeEntry | null) => e === null || e.mode !== GIT_MODE.GITLINK;
    if (!isBlob(x) || !isBlob(y)) return { path, status, added: null, removed: null };
    const read = async (e: TreeEntry | null) => {
      if (!e) return new Uint8Array(0);
      if (await this.#reader.blobSize(e.oid) > MAX_DIFF_BYTES) return null;
      return await this.#reader.readBlob(e.oid);
    };
    const [a, b] = [await read(x), await read(y)];
    const n = a && b ? lineCounts(a, b) : null;
    return { path, status, added: n?.added ?? null, removed: n?.removed ?? null };
  }
}
