/**
 * The layer cache, `.vibe/cache/store/`: directory trees (a prepared
 * `node_modules`, a toolchain) that layers use as their source with
 * `"source": "cache:<name>"`.
 *
 * Layout:
 *   cache/store/<digest>/data            the tree, cloned file by file (reflink where possible)
 *   cache/store/<digest>/manifest.json   figures and when it was added
 *   settings "cache-entry:<name>"        name → { digest, … } in the metadata
 *
 * An entry is content-addressed: its digest is the SHA-256 of a manifest of
 * every path with its kind, permission bits, size and the SHA-256 of its
 * bytes (symlinks: of their target), so adding the same tree twice stores it
 * once. Entries are immutable once added: a vibe records the digest at
 * spawn, and re-adding a name points the name elsewhere without changing
 * existing vibes. Crash ordering: the tree is built under a temporary name
 * and renamed into place, then the name is recorded.
 */
import { createHash } from "node:crypto";
import { VibeError } from "../errors.ts";
import type { MetaStore } from "../meta/meta_store.ts";
import { cloneFile, type CloneMethod } from "../snapshot/clone.ts";
import { validCacheName } from "./spec.ts";

const KEY = "cache-entry:";

export interface CacheEntry {
  name: string;
  digest: string;
  files: number;
  dirs: number;
  symlinks: number;
  /** Apparent bytes of the files. */
  bytes: number;
  addedMs: number;
  /** Absolute path it was added from. */
  source: string;
}

export interface AddResult extends CacheEntry {
  /** The same content was stored already (nothing new written). */
  reused: boolean;
  /** "reflink" when every file was cloned, "copy" when any had to be copied. */
  method: CloneMethod;
  /** The digest the name pointed to before, when it changed. */
  replaced: string | null;
  ms: number;
}

export function cacheStoreDir(vibeDir: string): string {
  return `${vibeDir}/cache/store`;
}

function parseEntry(name: string, value: string): CacheEntry | null {
  try {
    const o = JSON.parse(value) as Omit<CacheEntry, "name">;
    return typeof o.digest === "string" ? { ...o, name } : null;
  } catch {
    return null;
  }
}

/** The entry a name points to, or null. */
export function lookupCacheEntry(meta: MetaStore, name: string): CacheEntry | null {
  const v = meta.getSetting(`${KEY}${name}`);
  return v === null ? null : parseEntry(name, v);
}

/** Every named entry, by name. */
export function listCacheEntries(meta: MetaStore): CacheEntry[] {
  return meta.listSettings(KEY)
    .map((s) => parseEntry(s.key.slice(KEY.length), s.value))
    .filter((e): e is CacheEntry => e !== null)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkName(name: string): void {
  if (!validCacheName(name)) {
    throw new VibeError(
      "USAGE",
      `Invalid cache name "${name}": use 1-64 letters, digits, ".", "_" or "-", ` +
        `starting with a letter or digit (e.g. "node_modules" or "web-deps")`,
    );
  }
}

const CHUNK = 1 << 20;

/** SHA-256 (hex) of a file's bytes, read in 1 MiB chunks. */
function hashFile(path: string, buf: Uint8Array): string {
  const h = createHash("sha256");
  const f = Deno.openSync(path, { read: true });
  try {
    for (;;) {
      const n = f.readSync(buf);
      if (n === null || n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    f.close();
  }
  return h.digest("hex");
}

interface Tally {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  copied: number;
  manifest: string[];
}

/** Copies the tree at `src` into `dst` (which exists), hashing as it goes. */
function copyTree(src: string, dst: string, t: Tally): void {
  const buf = new Uint8Array(CHUNK);
  const dirModes: { path: string; mode: number }[] = [];
  const walk = (from: string, to: string, rel: string) => {
    const names = [...Deno.readDirSync(from)].map((e) => e.name).sort();
    for (const name of names) {
      const s = `${from}/${name}`;
      const d = `${to}/${name}`;
      const r = rel ? `${rel}/${name}` : name;
      const st = Deno.lstatSync(s);
      const mode = (st.mode ?? 0) & 0o7777;
      if (st.isDirectory) {
        Deno.mkdirSync(d, { mode: 0o755 });
        dirModes.push({ path: d, mode });
        t.dirs++;
        t.manifest.push(`d ${mode.toString(8)} 0 - ${JSON.stringify(r)}`);
        walk(s, d, r);
      } else if (st.isFile) {
        if (cloneFile(s, d) === "copy") t.copied++;
        Deno.chmodSync(d, mode);
        if (st.mtime) Deno.utimeSync(d, st.atime ?? st.mtime, st.mtime);
        t.files++;
        t.bytes += st.size;
        t.manifest.push(
          `f ${mode.toString(8)} ${st.size} ${hashFile(d, buf)} ${JSON.stringify(r)}`,
        );
      } else if (st.isSymlink) {
        const target = Deno.readLinkSync(s);
        Deno.symlinkSync(target, d);
        t.symlinks++;
        const h = createHash("sha256").update(target).digest("hex");
        t.manifest.push(`l 777 0 ${h} ${JSON.stringify(r)}`);
      }
      // Sockets, FIFOs and devices are not carried (a layer never shows them).
    }
  };
  walk(src, dst, "");
  // Directory modes last (deepest first), so read-only directories could be filled.
  for (const { path, mode } of dirModes.reverse()) Deno.chmodSync(path, mode);
}

/**
 * Adds the directory tree at `src` to the store under `name` (default: the
 * directory's base name). Content already stored is not stored again.
 */
export function addToCache(
  meta: MetaStore,
  vibeDir: string,
  src: string,
  name?: string,
): AddResult {
  const t0 = performance.now();
  const abs = src.startsWith("/") ? src : `${Deno.cwd()}/${src}`;
  const clean = abs.replace(/\/+$/, "") || "/";
  const chosen = name ?? clean.slice(clean.lastIndexOf("/") + 1);
  checkName(chosen);
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(clean);
  } catch {
    throw new VibeError(
      "ENOENT",
      `Cannot add "${src}" to the cache: it does not exist (prepare it first, e.g. "npm ci")`,
    );
  }
  if (!st.isDirectory) {
    throw new VibeError(
      "USAGE",
      `Cannot add "${src}" to the cache: it is not a directory ` +
        `(cache entries are directory trees such as a prepared node_modules)`,
    );
  }
  const store = cacheStoreDir(vibeDir);
  Deno.mkdirSync(store, { recursive: true });
  const tmp = `${store}/.tmp-${crypto.randomUUID().slice(0, 12)}`;
  const t: Tally = { files: 0, dirs: 0, symlinks: 0, bytes: 0, copied: 0, manifest: [] };
  let digest: string;
  let reused = false;
  try {
    Deno.mkdirSync(`${tmp}/data`, { recursive: true });
    Deno.chmodSync(`${tmp}/data`, (st.mode ?? 0o755) & 0o7777);
    copyTree(clean, `${tmp}/data`, t);
    digest = createHash("sha256").update(t.manifest.join("\n")).digest("hex");
    const final = `${store}/${digest}`;
    Deno.writeTextFileSync(
      `${tmp}/manifest.json`,
      JSON.stringify({
        digest,
        files: t.files,
        dirs: t.dirs,
        symlinks: t.symlinks,
        bytes: t.bytes,
      }),
    );
    let exists = false;
    try {
      Deno.statSync(`${final}/data`);
      exists = true;
    } catch { /* new content */ }
    if (exists) {
      reused = true;
      removeTree(tmp);
    } else {
      Deno.renameSync(tmp, final);
    }
  } catch (e) {
    removeTree(tmp);
    if (e instanceof VibeError) throw e;
    throw new VibeError("EIO", `Cannot add "${src}" to the cache: ${(e as Error).message}`);
  }
  const before = lookupCacheEntry(meta, chosen);
  const entry: CacheEntry = {
    name: chosen,
    digest,
    files: t.files,
    dirs: t.dirs,
    symlinks: t.symlinks,
    bytes: t.bytes,
    addedMs: Date.now(),
    source: clean,
  };
  const { name: _n, ...value } = entry;
  meta.setSetting(`${KEY}${chosen}`, JSON.stringify(value));
  return {
    ...entry,
    reused,
    method: t.copied > 0 ? "copy" : "reflink",
    replaced: before && before.digest !== digest ? before.digest : null,
    ms: performance.now() - t0,
  };
}

function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* absent */ }
}

export interface RemoveResult {
  name: string;
  digest: string;
  /** The stored tree was deleted (no other name and no vibe uses it). */
  removedData: boolean;
  /** Vibes whose layers still read this content (it stays until they are destroyed). */
  usedBy: string[];
}

/**
 * Forgets a name; deletes the stored tree when no other name points to it
 * and no vibe's layer uses it.
 */
export function removeCacheEntry(meta: MetaStore, vibeDir: string, name: string): RemoveResult {
  const e = lookupCacheEntry(meta, name);
  if (!e) {
    const known = listCacheEntries(meta).map((x) => x.name);
    throw new VibeError(
      "ENOENT",
      `No cache entry "${name}" (${
        known.length ? `known: ${known.join(", ")}` : "the cache is empty"
      }; "vibe cache ls" lists them)`,
    );
  }
  meta.deleteSetting(`${KEY}${name}`);
  const otherNames = listCacheEntries(meta).some((x) => x.digest === e.digest);
  const usedBy = meta.vibesUsingOrigin(`cache:${e.digest}`);
  const removedData = !otherNames && usedBy.length === 0;
  if (removedData) removeTree(`${cacheStoreDir(vibeDir)}/${e.digest}`);
  return { name, digest: e.digest, removedData, usedBy };
}

/** Store entries younger than this are left alone by gc (an add may be between its rename and its name). */
export const PRUNE_GRACE_MS = 3600_000;

/**
 * Removes stored trees no name points to and no vibe's layer uses, and
 * leftovers of interrupted adds (`.tmp-*`), older than PRUNE_GRACE_MS.
 * Returns what it removed (digests, and temp directory names).
 */
export function pruneCacheStore(meta: MetaStore, vibeDir: string, nowMs = Date.now()): string[] {
  const store = cacheStoreDir(vibeDir);
  const named = new Set(listCacheEntries(meta).map((e) => e.digest));
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(store)];
  } catch {
    return removed; // no store yet
  }
  for (const e of entries) {
    if (!e.isDirectory) continue;
    const path = `${store}/${e.name}`;
    let mtime = nowMs;
    try {
      mtime = Deno.statSync(path).mtime?.getTime() ?? nowMs;
    } catch {
      continue;
    }
    if (nowMs - mtime < PRUNE_GRACE_MS) continue;
    const leftover = e.name.startsWith(".tmp-");
    if (!leftover && !/^[0-9a-f]{64}$/.test(e.name)) continue; // not ours
    if (!leftover && (named.has(e.name) || meta.vibesUsingOrigin(`cache:${e.name}`).length > 0)) {
      continue;
    }
    removeTree(path);
    removed.push(e.name);
  }
  return removed;
}
