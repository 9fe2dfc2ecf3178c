/**
 * Spawn-time checks of the configured layers against the vibe's base tree
 * and the disk, and their resolution into the rows a vibe keeps
 * (`vibe_layers`). O(layers × path depth): one tree read per path
 * component (from the metadata's tree cache) and one lstat per source.
 */
import { VibeError } from "../errors.ts";
import { GIT_MODE, type Oid } from "../types.ts";
import type { TreeEntry } from "../git/object_store.ts";
import type { MetaStore, VibeLayerRecord } from "../meta/meta_store.ts";
import { listCacheEntries, lookupCacheEntry } from "./cache_store.ts";
import { cacheDataPath } from "./host.ts";
import type { LayerSpec } from "./spec.ts";

export interface ResolveContext {
  /** The vibe being spawned (for messages). */
  id: string;
  configPath: string;
  baseCommit: Oid;
  baseTree: Oid;
  trees: (oid: Oid) => Promise<TreeEntry[]>;
  meta: MetaStore;
  workTree: string;
  vibeDir: string;
}

/** Where `path` meets the base tree: absent, tracked, or below a tracked non-directory. */
async function trackedAt(
  trees: ResolveContext["trees"],
  baseTree: Oid,
  path: string,
): Promise<{ tracked: "path" | "parent"; at: string } | null> {
  const parts = path.split("/");
  let entries = await trees(baseTree);
  for (let i = 0; i < parts.length; i++) {
    const e = entries.find((x) => x.name === parts[i]);
    if (!e) return null;
    const at = parts.slice(0, i + 1).join("/");
    if (i === parts.length - 1) return { tracked: "path", at };
    if (e.mode !== GIT_MODE.TREE) return { tracked: "parent", at };
    entries = await trees(e.oid);
  }
  return null;
}

/** Checks every layer for a spawn and returns the vibe's layer rows (in config order). */
export async function resolveLayers(
  ctx: ResolveContext,
  specs: readonly LayerSpec[],
): Promise<VibeLayerRecord[]> {
  const out: VibeLayerRecord[] = [];
  for (const [i, l] of specs.entries()) {
    const where = `layer "${l.path}" (${ctx.configPath} layers[${i}])`;
    const fail = (problem: string, fix: string) =>
      new VibeError("USAGE", `Cannot spawn "${ctx.id}": ${where} ${problem} (${fix})`);
    const t = await trackedAt(ctx.trees, ctx.baseTree, l.path);
    if (t?.tracked === "path") {
      throw fail(
        `is tracked by git at the base commit ${ctx.baseCommit.slice(0, 12)}, ` +
          `so the layer would hide tracked content`,
        `remove the layer, or stop tracking the path: git rm -r --cached ${l.path}, then commit`,
      );
    }
    if (t?.tracked === "parent") {
      throw fail(
        `lies below "${t.at}", which git tracks as a file at the base commit ${
          ctx.baseCommit.slice(0, 12)
        }`,
        "remove the layer or choose another path",
      );
    }
    if (l.mode === "private") {
      out.push({ path: l.path, mode: l.mode, source: "", origin: null, report: l.report });
      continue;
    }
    let origin: string;
    if (l.source === "root") {
      const host = `${ctx.workTree}/${l.path}`;
      try {
        Deno.lstatSync(host);
      } catch {
        throw fail(
          `has no source: "${host}" does not exist`,
          `create it in the project root (e.g. run "npm install" there), ` +
            `or take it from the cache with "vibe cache add <dir> --name <name>" and ` +
            `"source": "cache:<name>", or remove the layer`,
        );
      }
      origin = `root:${l.path}`;
    } else {
      const name = l.source.slice("cache:".length);
      const entry = lookupCacheEntry(ctx.meta, name);
      if (!entry) {
        const known = listCacheEntries(ctx.meta).map((e) => e.name);
        throw fail(
          `has no source: the cache has no entry "${name}" (${
            known.length ? `it has: ${known.join(", ")}` : "it is empty"
          })`,
          `add one with "vibe cache add <dir> --name ${name}", or remove the layer`,
        );
      }
      try {
        Deno.statSync(cacheDataPath(ctx.vibeDir, entry.digest));
      } catch {
        throw fail(
          `has no source: the content of cache entry "${name}" (${
            entry.digest.slice(0, 12)
          }) is missing from ${ctx.vibeDir}/cache/store`,
          `add it again with "vibe cache add <dir> --name ${name}"`,
        );
      }
      origin = `cache:${entry.digest}`;
    }
    out.push({ path: l.path, mode: l.mode, source: l.source, origin, report: l.report });
  }
  return out;
}
