/**
 * Where layers enter a vibe's tree. Spawn records a vibe's layers (one row
 * each, `vibe_layers`) and nothing else; a layer's entry appears when the
 * directory that holds it is first loaded, exactly as git entries do, so
 * spawn is O(layers), never O(layer size), and the directories above a
 * layer stay clean (status, diff and promote never visit them for it).
 *
 * A layer below a directory git does not track (e.g. "build/cache" with no
 * "build/") gets a plain, non-volatile directory for each missing
 * component ("scaffold"): what a vibe creates next to the layer is ordinary
 * work and is reported.
 */
import type { VibeLayerRecord } from "../meta/meta_store.ts";

export type Injection =
  | { name: string; layer: VibeLayerRecord; scaffold?: undefined }
  | { name: string; scaffold: true; layer?: undefined };

/**
 * The entries layers add to the directory at `dirPath` ("" = the vibe
 * root), one per name, in layer order; `taken` holds the names git already
 * has there (a layer never shadows a tracked entry; spawn checks that).
 */
export function injectionsAt(
  layers: readonly VibeLayerRecord[],
  dirPath: string,
  taken: ReadonlySet<string>,
): Injection[] {
  const prefix = dirPath === "" ? "" : `${dirPath}/`;
  const out: Injection[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    if (!layer.path.startsWith(prefix)) continue;
    const rest = layer.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (name === "" || seen.has(name) || taken.has(name)) continue;
    seen.add(name);
    out.push(slash < 0 ? { name, layer } : { name, scaffold: true });
  }
  return out;
}

/** True when some layer lies below a directory other than the root. */
export function hasNestedLayers(layers: readonly VibeLayerRecord[]): boolean {
  return layers.some((l) => l.path.includes("/"));
}
