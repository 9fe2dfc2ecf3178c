/**
 * File helpers the stores share: positioned reads, and a bounded set of
 * open files (least recently used closed first) so hot files are not
 * reopened on every request.
 */

/**
 * Up to `length` bytes of `f` at `offset` (shorter at the end of the file),
 * read into `into` when it is given and large enough (a view of it is
 * returned), else into a new array.
 */
export function readAt(
  f: Deno.FsFile,
  offset: number,
  length: number,
  into?: Uint8Array,
): Uint8Array {
  const buf = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
  f.seekSync(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const r = f.readSync(buf.subarray(got));
    if (r === null || r === 0) break;
    got += r;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Open files by key, at most `max`; the least recently used is closed first. */
export class OpenFiles<K> {
  #files = new Map<K, Deno.FsFile>();
  constructor(private readonly max: number) {}

  /** The open file of `key`, opened with `open` when it is not. */
  get(key: K, open: () => Deno.FsFile): Deno.FsFile {
    let f = this.#files.get(key);
    if (f) {
      this.#files.delete(key); // refresh its place
      this.#files.set(key, f);
      return f;
    }
    f = open();
    this.#files.set(key, f);
    if (this.#files.size > this.max) {
      const [oldKey, oldFile] = this.#files.entries().next().value as [K, Deno.FsFile];
      this.#files.delete(oldKey);
      oldFile.close();
    }
    return f;
  }

  /** Closes the file of `key` if open. */
  forget(key: K): void {
    const f = this.#files.get(key);
    if (!f) return;
    this.#files.delete(key);
    f.close();
  }

  close(): void {
    for (const f of this.#files.values()) f.close();
    this.#files.clear();
  }
}
