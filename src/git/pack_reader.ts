/**
 * One packfile (`.pack` + its `.idx`): entry headers and inflated entry
 * payloads. Delta chains are resolved a level up (object_db.ts) because a
 * REF_DELTA base may live elsewhere.
 *
 * Reads are positioned reads on a file handle kept open until `close()`.
 * Each entry is read with one `seek`+`read` of exactly its bytes: an entry
 * ends where the next object (in offset order) starts, or at the 20-byte
 * trailer, so every inflate gets an exact slice.
 *
 * Invariant: methods are synchronous and share one module-level read buffer,
 * so a returned `compressed` view is valid only until the next call.
 */
import { VibeError } from "../errors.ts";
import { InflateError, inflateExact, inflateExactInto, inflateHead } from "./inflate.ts";
import { oidHexAt } from "./oid_hex.ts";
import { PackIndex } from "./pack_index.ts";

export const OBJ_COMMIT = 1;
export const OBJ_TREE = 2;
export const OBJ_BLOB = 3;
export const OBJ_TAG = 4;
export const OBJ_OFS_DELTA = 6;
export const OBJ_REF_DELTA = 7;

/** Parsed header of one pack entry; reused between calls by its owner. */
export interface PackEntry {
  /** OBJ_* kind (1–4 for whole objects, 6/7 for deltas). */
  kind: number;
  /** Inflated size: the object's size, or the delta payload's size. */
  size: number;
  /** Absolute pack offset of the entry's zlib stream. */
  dataStart: number;
  /** Absolute pack offset where the entry ends. */
  end: number;
  /** OFS_DELTA: absolute offset of the base entry. */
  baseOffset: number;
  /** REF_DELTA: hex oid of the base object. */
  baseOid: string;
}

export function newPackEntry(): PackEntry {
  return { kind: 0, size: 0, dataStart: 0, end: 0, baseOffset: 0, baseOid: "" };
}

/** A reusable output buffer that callers let grow. */
export interface Scratch {
  buf: Uint8Array;
}

let ioBuf = new Uint8Array(64 * 1024);
/** Entries larger than this get a one-off buffer, so one huge blob does not pin memory. */
const MAX_SHARED_IO = 8 * 1024 * 1024;

/** A read buffer of at least `n` bytes: the shared one (grown by doubling) or a one-off. */
function ioBuffer(n: number): Uint8Array {
  if (n > MAX_SHARED_IO) return new Uint8Array(n);
  if (ioBuf.length < n) {
    let size = ioBuf.length;
    while (size < n) size *= 2;
    ioBuf = new Uint8Array(size);
  }
  return ioBuf;
}

export class PackFile {
  /**
   * Cache slot assigned by the owning database: unique among the packs it has
   * open (its cache keys combine it with entry offsets).
   */
  slot = 0;
  private closed = false;
  /** The handle's file position, or -1 when unknown: sequential reads skip the seek. */
  private filePos = -1;

  private constructor(
    readonly packPath: string,
    readonly idx: PackIndex,
    private readonly file: Deno.FsFile,
    /** Offset of the 20-byte trailer: no entry extends past it. */
    readonly dataEnd: number,
  ) {}

  /**
   * Opens `pack-*.idx` and its `.pack`. Returns null when the `.pack` is gone
   * (a concurrent `git gc` removed it). Throws CORRUPT naming the file when
   * either is damaged or they do not belong together.
   */
  static open(idxPath: string): PackFile | null {
    const packPath = idxPath.slice(0, -4) + ".pack";
    let idxData: Uint8Array;
    let file: Deno.FsFile;
    try {
      idxData = Deno.readFileSync(idxPath);
      file = Deno.openSync(packPath, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    try {
      const idx = PackIndex.parse(idxPath, idxData);
      const size = file.statSync().size;
      const corrupt = (why: string) =>
        new VibeError("CORRUPT", `Cannot read pack "${packPath}": ${why} (run "git fsck")`);
      if (size < 32) throw corrupt("file is truncated");
      const head = new Uint8Array(12);
      readFully(file, 0, head, 12, packPath);
      const dv = new DataView(head.buffer);
      if (dv.getUint32(0) !== 0x5041434b) throw corrupt("not a pack file");
      const version = dv.getUint32(4);
      if (version !== 2 && version !== 3) throw corrupt(`unsupported pack version ${version}`);
      if (dv.getUint32(8) !== idx.count) {
        throw corrupt(`it has ${dv.getUint32(8)} objects but its index lists ${idx.count}`);
      }
      const trailer = new Uint8Array(20);
      readFully(file, size - 20, trailer, 20, packPath);
      if (oidHexAt(trailer, 0) !== idx.packChecksum) {
        throw corrupt(`its checksum does not match its index "${idxPath}"`);
      }
      return new PackFile(packPath, idx, file, size - 20);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * Reads at most `maxLength` bytes of the entry at `offset` into the shared
   * buffer, fills `e` from its header and returns the part of its zlib stream
   * that was read (all of it when `maxLength` covers the entry). 64 bytes
   * always hold a header.
   */
  readEntry(offset: number, e: PackEntry, maxLength: number): Uint8Array {
    const end = this.idx.entryEnd(offset, this.dataEnd);
    if (end <= offset) throw this.corrupt(offset, "no object starts at this offset");
    const len = Math.min(end - offset, maxLength);
    const buf = ioBuffer(len);
    this.read(offset, buf, len);
    let p = 0;
    let c = buf[p++]!;
    const kind = (c >> 4) & 7;
    let size = c & 15;
    let mul = 16;
    while ((c & 0x80) !== 0) {
      if (p >= len) throw this.corrupt(offset, "entry header is truncated");
      c = buf[p++]!;
      size += (c & 0x7f) * mul;
      mul *= 128;
    }
    e.kind = kind;
    e.size = size;
    e.end = end;
    if (kind === OBJ_OFS_DELTA) {
      if (p >= len) throw this.corrupt(offset, "delta offset is truncated");
      c = buf[p++]!;
      let back = c & 0x7f;
      while ((c & 0x80) !== 0) {
        if (p >= len) throw this.corrupt(offset, "delta offset is truncated");
        c = buf[p++]!;
        back = (back + 1) * 128 + (c & 0x7f);
      }
      if (back <= 0 || back > offset) {
        throw this.corrupt(offset, "delta base offset is out of range");
      }
      e.baseOffset = offset - back;
    } else if (kind === OBJ_REF_DELTA) {
      if (p + 20 > len) throw this.corrupt(offset, "delta base id is truncated");
      e.baseOid = oidHexAt(buf, p);
      p += 20;
    } else if (kind < OBJ_COMMIT || kind > OBJ_TAG) {
      throw this.corrupt(offset, `unknown entry type ${kind}`);
    }
    e.dataStart = offset + p;
    return buf.subarray(p, len);
  }

  /**
   * Inflates the payload (object bytes or delta) of the entry at `offset`;
   * fills `e`. With `scratch` the payload lands in `scratch.buf` (grown as
   * needed) and is valid only until the scratch is reused; otherwise it is
   * a fresh array.
   */
  inflateEntry(offset: number, e: PackEntry, scratch: Scratch | null = null): Uint8Array {
    const z = this.readEntry(offset, e, Infinity);
    try {
      if (scratch === null) return inflateExact(z, e.size);
      if (scratch.buf.length < e.size + 1) scratch.buf = new Uint8Array(e.size + 1024);
      return inflateExactInto(z, e.size, scratch.buf);
    } catch (err) {
      if (err instanceof InflateError) throw this.corrupt(offset, `zlib data ${err.message}`);
      throw err;
    }
  }

  /**
   * Inflates only the first bytes of a delta entry's payload (enough for its
   * size varints) into `out`; returns the count. Reads 4 KiB of the entry
   * first and the rest only if that was not enough. Fills `e`.
   */
  inflateDeltaHead(offset: number, e: PackEntry, out: Uint8Array): number {
    try {
      const z = this.readEntry(offset, e, 4096);
      const n = inflateHead(z, out);
      if (n === out.length || e.dataStart + z.length >= e.end) return n;
      return inflateHead(this.readEntry(offset, e, Infinity), out);
    } catch (err) {
      if (err instanceof InflateError) throw this.corrupt(offset, `zlib data ${err.message}`);
      throw err;
    }
  }

  /** A CORRUPT error naming this pack and the entry offset. */
  corrupt(offset: number, why: string): VibeError {
    return new VibeError(
      "CORRUPT",
      `Cannot read pack "${this.packPath}" at offset ${offset}: ${why} (run "git fsck")`,
    );
  }

  private read(offset: number, buf: Uint8Array, len: number): void {
    if (this.closed) {
      throw new VibeError("EBADF", `Cannot read pack "${this.packPath}": it is closed`);
    }
    const seek = offset !== this.filePos;
    this.filePos = -1;
    readFully(this.file, offset, buf, len, this.packPath, seek);
    this.filePos = offset + len;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
  }
}

/** Positioned read of exactly `len` bytes; CORRUPT on a short file. */
function readFully(
  file: Deno.FsFile,
  offset: number,
  buf: Uint8Array,
  len: number,
  path: string,
  seek = true,
): void {
  if (seek) file.seekSync(offset, Deno.SeekMode.Start);
  let n = 0;
  while (n < len) {
    const r = file.readSync(n === 0 && len === buf.length ? buf : buf.subarray(n, len));
    if (r === null || r === 0) {
      throw new VibeError(
        "CORRUPT",
        `Cannot read pack "${path}": file ends before offset ${offset + len} (run "git fsck")`,
      );
    }
    n += r;
  }
}
