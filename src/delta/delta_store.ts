/**
 * Per-vibe copy-on-write bytes: `.vibe/sessions/<id>/delta/<ino>` holds the
 * content of every materialized file of the vibe.
 *
 * Crash ordering (the caller keeps it): copy-up writes the complete bytes to
 * a temporary file and renames it to `<ino>` before the metadata row flips to
 * materialized; removal flips the metadata first and deletes the bytes after.
 * A crash therefore leaves at worst an unreferenced `<ino>` or temp file,
 * which `collectGarbage` removes, never a row pointing at missing bytes.
 */
import { VibeError } from "../errors.ts";
import type { Ino } from "../types.ts";
import { cloneFile } from "../snapshot/clone.ts";
import { OpenFiles, readAt } from "../io/files.ts";

const MAX_OPEN_FILES = 128;

export class DeltaStore {
  readonly dir: string;
  #open = new OpenFiles<Ino>(MAX_OPEN_FILES);
  /** Inodes whose file is known to be this vibe's alone (not hard-linked). */
  #own = new Set<Ino>();

  /** `sessionDir` is `.vibe/sessions/<id>`; its `delta/` is created when missing. */
  constructor(sessionDir: string) {
    this.dir = `${sessionDir}/delta`;
    Deno.mkdirSync(this.dir, { recursive: true });
  }

  pathOf(ino: Ino): string {
    return `${this.dir}/${ino}`;
  }

  #file(ino: Ino): Deno.FsFile {
    return this.#open.get(ino, () => {
      try {
        return Deno.openSync(this.pathOf(ino), { read: true, write: true });
      } catch (e) {
        throw new VibeError(
          "EIO",
          `Cannot open the bytes of inode ${ino} at "${this.pathOf(ino)}": ${(e as Error).message}`,
        );
      }
    });
  }

  /** Writes `data` as the complete content of `ino` (temp file, then rename). */
  writeWhole(ino: Ino, data: Uint8Array): void {
    this.#forget(ino);
    const tmp = `${this.pathOf(ino)}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      Deno.writeFileSync(tmp, data);
      Deno.renameSync(tmp, this.pathOf(ino));
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch { /* nothing to clean */ }
      throw ioError("write", ino, e);
    }
  }

  /**
   * Creates the empty content of a new inode (whose number was never used,
   * so there is nothing to replace atomically) and keeps it open for the
   * writes that usually follow.
   */
  createEmpty(ino: Ino): void {
    this.#forget(ino);
    this.#open.get(ino, () => {
      try {
        return Deno.openSync(this.pathOf(ino), { read: true, write: true, createNew: true });
      } catch (e) {
        throw ioError("create", ino, e);
      }
    });
  }

  /** Copies an existing file (e.g. the blob cache's copy) as the content of `ino`. */
  copyFrom(ino: Ino, srcPath: string): void {
    this.#forget(ino);
    this.#replace(ino, "copy", (tmp) => Deno.copyFileSync(srcPath, tmp));
  }

  /**
   * Makes the content of `ino` with `make(tmp)` beside it and renames it into
   * place, so the delta file is never half made; the temp file goes on failure.
   */
  #replace(ino: Ino, what: string, make: (tmp: string) => void): void {
    const path = this.pathOf(ino);
    const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      make(tmp);
      Deno.renameSync(tmp, path);
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch { /* nothing to clean */ }
      if (e instanceof VibeError) throw e;
      throw ioError(what, ino, e);
    }
  }

  /**
   * Clones a file from outside the delta (an untracked layer's source) as
   * the content of `ino`: a reflink where the filesystem can, else a copy;
   * then made writable for the vibe's own writes.
   */
  cloneFrom(ino: Ino, srcPath: string): void {
    this.#forget(ino);
    this.#replace(ino, "clone", (tmp) => {
      cloneFile(srcPath, tmp);
      Deno.chmodSync(tmp, 0o644);
    });
  }

  size(ino: Ino): number {
    return this.#file(ino).statSync().size;
  }

  read(ino: Ino, offset: number, length: number, into?: Uint8Array): Uint8Array {
    const f = this.#file(ino);
    const size = f.statSync().size;
    if (offset >= size) return new Uint8Array(0);
    return readAt(f, offset, Math.min(length, size - offset), into);
  }

  /**
   * The file of `ino`, ready to change in place. A delta file may be a hard
   * link shared with a snapshot or a fork (they link instead of copying);
   * such a file is never written in place: it is first replaced by a clone
   * of itself (a reflink where the filesystem can, else a copy), which is
   * this vibe's alone. The check is one fstat per file per open.
   */
  #writable(ino: Ino): Deno.FsFile {
    if (this.#own.has(ino)) return this.#file(ino);
    let f = this.#file(ino);
    const nlink = f.statSync().nlink;
    if (nlink !== null && nlink > 1) {
      this.#forget(ino);
      const path = this.pathOf(ino);
      this.#replace(ino, "unshare", (tmp) => cloneFile(path, tmp));
      f = this.#file(ino);
    }
    this.#own.add(ino);
    return f;
  }

  /**
   * Forgets which files are known to be unshared: call after hard-linking
   * this store's files elsewhere (a snapshot, a fork), before any write.
   */
  forgetOwnership(): void {
    this.#own.clear();
  }

  write(ino: Ino, offset: number, data: Uint8Array): number {
    const f = this.#writable(ino);
    f.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < data.length) done += f.writeSync(data.subarray(done));
    return done;
  }

  truncate(ino: Ino, size: number): void {
    this.#writable(ino).truncateSync(size);
  }

  fsync(ino: Ino, dataOnly: boolean): void {
    const f = this.#file(ino);
    if (dataOnly) f.syncDataSync();
    else f.syncSync();
  }

  remove(ino: Ino): void {
    this.#forget(ino);
    try {
      Deno.removeSync(this.pathOf(ino));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw ioError("remove", ino, e);
    }
  }

  /** Removes files whose inode is not in `keep` (leftovers of crashes). Returns how many. */
  collectGarbage(keep: Set<Ino>): number {
    let n = 0;
    for (const e of Deno.readDirSync(this.dir)) {
      const ino = Number(e.name);
      if (Number.isInteger(ino) && keep.has(ino)) continue;
      try {
        Deno.removeSync(`${this.dir}/${e.name}`);
        n++;
      } catch { /* raced with another cleaner */ }
    }
    return n;
  }

  /** Bytes used by the delta (apparent sizes). */
  usageBytes(): number {
    let total = 0;
    for (const e of Deno.readDirSync(this.dir)) {
      try {
        total += Deno.statSync(`${this.dir}/${e.name}`).size;
      } catch { /* removed meanwhile */ }
    }
    return total;
  }

  #forget(ino: Ino): void {
    this.#own.delete(ino);
    this.#open.forget(ino);
  }

  close(): void {
    this.#open.close();
    this.#own.clear();
  }
}

function ioError(what: string, ino: Ino, e: unknown): VibeError {
  const code = e instanceof Deno.errors.NotFound
    ? "EIO"
    : (e as { code?: string }).code === "ENOSPC"
    ? "ENOSPC"
    : (e as { code?: string }).code === "EDQUOT"
    ? "EDQUOT"
    : "EIO";
  return new VibeError(code, `Cannot ${what} the bytes of inode ${ino}: ${(e as Error).message}`);
}
