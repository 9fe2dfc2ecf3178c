/**
 * What `vibe status` says about a vibe's layers: each layer as resolved at
 * spawn and whether this vibe changed it. Reads rows only, O(path depth)
 * per layer, and loads nothing: a layer whose directory was never loaded
 * is untouched by definition.
 */
import type { MetaStore, VibeLayerRecord } from "../meta/meta_store.ts";
import { ROOT_INO } from "../vfs/vfs.ts";

export interface LayerStatus {
  path: string;
  mode: VibeLayerRecord["mode"];
  /** As configured: "root", "cache:<name>" ("" for private layers). */
  source: string;
  /** "root:<path>", "cache:<digest>" (null for private layers). */
  origin: string | null;
  report: boolean;
  /**
   * "untouched": as injected; "changed": something in it was written,
   * created, removed or renamed in this vibe; "removed": the layer's path
   * no longer exists in this vibe (removed or moved away).
   */
  state: "untouched" | "changed" | "removed";
}

export function layerStatus(
  meta: MetaStore,
  vibe: string,
  layers: readonly VibeLayerRecord[],
): LayerStatus[] {
  return layers.map((l) => {
    const base = {
      path: l.path,
      mode: l.mode,
      source: l.source,
      origin: l.origin,
      report: l.report,
    };
    let cur = ROOT_INO;
    for (const name of l.path.split("/")) {
      const dir = meta.getInode(vibe, cur);
      if (!dir || !dir.loaded) return { ...base, state: "untouched" as const };
      const d = meta.getDirent(vibe, cur, name);
      if (!d) return { ...base, state: "removed" as const };
      cur = d.ino;
    }
    const n = meta.getInode(vibe, cur);
    if (!n) return { ...base, state: "removed" as const };
    const replaced = l.origin !== null && n.origin !== l.origin;
    return { ...base, state: n.dirty || replaced ? "changed" as const : "untouched" as const };
  });
}
