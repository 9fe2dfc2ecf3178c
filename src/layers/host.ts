/**
 * The host side of untracked layers: where a layer node's clean bytes and
 * entries live, read on demand (a directory is listed when the Vfs loads it,
 * a file is read when the Vfs reads it — nothing is walked or copied ahead).
 *
 * Origins (the `origin` column of a layer node):
 *   "root:<path>"              <project root>/<path>          (live: the root's copy)
 *   "cache:<digest>[/<path>]"  .vibe/cache/store/<digest>/data[/<path>]  (immutable)
 *
 * Nothing here writes to a source: copy-on-write clones the bytes into the
 * vibe's delta (`DeltaStore.cloneFrom`), shared-readonly answers EROFS.
 */
import { VibeError } from "../errors.ts";
import type { Timespec } from "../types.ts";
import type { FileKind } from "../vfs/vfs.ts";
import { OpenFiles, readAt } from "../io/files.ts";

const MAX_OPEN_FILES = 64;

/** `.vibe/cache/store/<digest>/data`: the tree of a cache entry. */
export function cacheDataPath(vibeDir: string, digest: string): string {
  return `${vibeDir}/cache/store/${digest}/data`;
}

/** The origin of `name` inside the directory whose origin is `origin`. */
export function childOrigin(origin: string, name: string): string {
  return `${origin}/${name}`;
}

/** What a layer node takes from its host entry when it is first listed. */
export interface HostStat {
  kind: FileKind;
  /** Permission bits. */
  mode: number;
  size: number;
  nlink: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Symlinks: the target. */
  target: string | null;
}

function ts(d: Date | null, fallback: Timespec): Timespec {
  if (!d) return fallback;
  const ms = d.getTime();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

function hostError(what: string, path: string, e: unknown): VibeError {
  const code = e instanceof Deno.errors.NotFound ? "ENOENT" : "EIO";
  return new VibeError(
    code,
    `Cannot ${what} "${path}" of an untracked layer: ${(e as Error).message}`,
  );
}

export class LayerHost {
  readonly workTree: string;
  readonly vibeDir: string;
  #open = new OpenFiles<string>(MAX_OPEN_FILES);

  constructor(workTree: string, vibeDir: string) {
    this.workTree = workTree;
    this.vibeDir = vibeDir;
  }

  /** The host path behind an origin. */
  pathOf(origin: string): string {
    if (origin.startsWith("root:")) {
      const rel = origin.slice(5);
      return rel === "" ? this.workTree : `${this.workTree}/${rel}`;
    }
    if (origin.startsWith("cache:")) {
      const rest = origin.slice(6);
      const slash = rest.indexOf("/");
      const digest = slash < 0 ? rest : rest.slice(0, slash);
      const base = cacheDataPath(this.vibeDir, digest);
      return slash < 0 ? base : `${base}${rest.slice(slash)}`;
    }
    throw new VibeError("EIO", `Unknown layer origin "${origin}"`);
  }

  /** The host entry's attributes (symlinks not followed); null when it is gone. */
  stat(origin: string): HostStat | null {
    const path = this.pathOf(origin);
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw hostError("stat", path, e);
    }
    return this.#fromInfo(st, path);
  }

  #fromInfo(st: Deno.FileInfo, path: string): HostStat | null {
    const kind: FileKind | null = st.isFile
      ? "file"
      : st.isDirectory
      ? "dir"
      : st.isSymlink
      ? "symlink"
      : null;
    if (kind === null) return null; // devices, sockets, FIFOs: not carried into vibes
    const mtime = ts(st.mtime, { sec: 0, nsec: 0 });
    let target: string | null = null;
    if (kind === "symlink") {
      try {
        target = Deno.readLinkSync(path);
      } catch (e) {
        throw hostError("read the link", path, e);
      }
    }
    return {
      kind,
      mode: (st.mode ?? (kind === "dir" ? 0o755 : 0o644)) & 0o7777,
      size: kind === "symlink" ? new TextEncoder().encode(target ?? "").length : st.size,
      nlink: kind === "dir" ? Math.max(2, st.nlink ?? 2) : 1,
      atime: ts(st.atime, mtime),
      mtime,
      ctime: ts(st.ctime, mtime),
      target,
    };
  }

  /** The entries of a host directory with their attributes (one readdir, one lstat each). */
  list(origin: string): { name: string; stat: HostStat }[] {
    const dir = this.pathOf(origin);
    const out: { name: string; stat: HostStat }[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw hostError("list", dir, e);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(path);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue; // removed while we listed
        throw hostError("stat", path, err);
      }
      const s = this.#fromInfo(st, path);
      if (s) out.push({ name: e.name, stat: s });
    }
    return out;
  }

  /** Up to `length` bytes at `offset` of the host file (short at its end). */
  read(origin: string, offset: number, length: number, into?: Uint8Array): Uint8Array {
    const path = this.pathOf(origin);
    const f = this.#open.get(path, () => {
      try {
        return Deno.openSync(path, { read: true });
      } catch (e) {
        throw hostError("open", path, e);
      }
    });
    return readAt(f, offset, length, into);
  }

  /** The whole host file. */
  whole(origin: string): Uint8Array {
    const path = this.pathOf(origin);
    try {
      return Deno.readFileSync(path);
    } catch (e) {
      throw hostError("read", path, e);
    }
  }

  close(): void {
    this.#open.close();
  }
}
