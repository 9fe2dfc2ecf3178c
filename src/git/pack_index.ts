/**
 * Pack index (`.idx`) version 2 reader.
 *
 * Layout: magic "\377tOc", version 2, 256-entry fanout (big-endian u32
 * cumulative counts by first oid byte), N sorted 20-byte oids, N CRC32s, N
 * 32-bit offsets (MSB set = index into the 64-bit offset table), the 64-bit
 * table, then the pack's SHA-1 and the index's own SHA-1.
 *
 * The whole file is held in memory (≈ 28 bytes per object) and lookups binary
 * search it in place, comparing big-endian 32-bit words, without allocating.
 */
import { createHash } from "node:crypto";
import { VibeError } from "../errors.ts";
import { oidHexAt } from "./oid_hex.ts";

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const HEADER = 8;
const FANOUT_BYTES = 256 * 4;

/** Lookup result for an absent oid. */
export const NOT_FOUND = -1;

export class PackIndex {
  /** Number of objects in the pack. */
  readonly count: number;
  /** SHA-1 of the pack file this index describes (its trailer), as hex. */
  readonly packChecksum: string;
  private readonly view: DataView;
  private readonly oidsAt: number;
  private readonly offsetsAt: number;
  private readonly largeAt: number;
  private readonly largeCount: number;
  private sorted: Uint32Array | Float64Array | null = null;

  private constructor(readonly path: string, private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const corrupt = (why: string) =>
      new VibeError(
        "CORRUPT",
        `Cannot read pack index "${path}": ${why} (run "git index-pack" on its pack or "git repack -adf")`,
      );
    if (data.length < HEADER + FANOUT_BYTES + 40) throw corrupt("file is truncated");
    const magic = this.view.getUint32(0);
    if (magic !== IDX_MAGIC) {
      throw corrupt("not a version 2 pack index (version 1 is not supported)");
    }
    const version = this.view.getUint32(4);
    if (version !== 2) throw corrupt(`unsupported version ${version}, only version 2 is read`);
    let prev = 0;
    for (let i = 0; i < 256; i++) {
      const v = this.view.getUint32(HEADER + i * 4);
      if (v < prev) throw corrupt("fanout table is not monotonic");
      prev = v;
    }
    const n = prev;
    this.count = n;
    this.oidsAt = HEADER + FANOUT_BYTES;
    this.offsetsAt = this.oidsAt + n * 24; // oids (20) + crc32 (4) per object
    this.largeAt = this.offsetsAt + n * 4;
    const minLength = this.largeAt + 40;
    const extra = data.length - minLength;
    if (extra < 0 || extra % 8 !== 0) throw corrupt("file size does not match its object count");
    this.largeCount = extra / 8;
    const body = data.subarray(0, data.length - 20);
    const sum = createHash("sha1").update(body).digest();
    for (let i = 0; i < 20; i++) {
      if (sum[i] !== data[data.length - 20 + i]) throw corrupt("checksum mismatch");
    }
    this.packChecksum = oidHexAt(data, data.length - 40);
  }

  /** Parses and verifies (checksum, layout) an index file's bytes. Throws CORRUPT naming `path`. */
  static parse(path: string, data: Uint8Array): PackIndex {
    return new PackIndex(path, data);
  }

  /**
   * Position of the oid given as five big-endian words (see `hexToWords`), or
   * NOT_FOUND. Allocation-free.
   */
  findWords(w: Uint32Array): number {
    const v = this.view;
    const first = w[0]! >>> 24;
    let lo = first === 0 ? 0 : v.getUint32(HEADER + (first - 1) * 4);
    let hi = v.getUint32(HEADER + first * 4); // exclusive
    const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.oidsAt + mid * 20;
      let a = v.getUint32(at);
      let cmp = a === w0 ? 0 : (a < w0 ? -1 : 1);
      if (cmp === 0) {
        a = v.getUint32(at + 4);
        cmp = a === w1 ? 0 : (a < w1 ? -1 : 1);
        if (cmp === 0) {
          a = v.getUint32(at + 8);
          cmp = a === w2 ? 0 : (a < w2 ? -1 : 1);
          if (cmp === 0) {
            a = v.getUint32(at + 12);
            cmp = a === w3 ? 0 : (a < w3 ? -1 : 1);
            if (cmp === 0) {
              a = v.getUint32(at + 16);
              cmp = a === w4 ? 0 : (a < w4 ? -1 : 1);
              if (cmp === 0) return mid;
            }
          }
        }
      }
      if (cmp < 0) lo = mid + 1;
      else hi = mid;
    }
    return NOT_FOUND;
  }

  /** Byte offset in the pack of the object at index position `pos`. */
  offsetAt(pos: number): number {
    const o = this.view.getUint32(this.offsetsAt + pos * 4);
    if ((o & 0x80000000) === 0) return o;
    const li = o & 0x7fffffff;
    if (li >= this.largeCount) {
      throw new VibeError(
        "CORRUPT",
        `Cannot read pack index "${this.path}": 64-bit offset ${li} is out of range (run "git repack -adf")`,
      );
    }
    const hi = this.view.getUint32(this.largeAt + li * 8);
    const lo = this.view.getUint32(this.largeAt + li * 8 + 4);
    return hi * 0x100000000 + lo;
  }

  /** Hex oid at index position `pos`. */
  oidAt(pos: number): string {
    return oidHexAt(this.data, this.oidsAt + pos * 20);
  }

  /**
   * The offset where the entry starting at `offset` ends: the next larger
   * object offset, or `packEnd` (the pack size minus its 20-byte trailer).
   * Returns -1 when no object starts at `offset` (a damaged delta base
   * offset). The sorted offset table is built on first use (O(n log n), once).
   */
  entryEnd(offset: number, packEnd: number): number {
    let s = this.sorted;
    if (s === null) {
      // Uint32 sorts ~3x faster than Float64; packs under 2 GiB have no large offsets.
      s = this.largeCount === 0 ? new Uint32Array(this.count) : new Float64Array(this.count);
      for (let i = 0; i < this.count; i++) s[i] = this.offsetAt(i);
      s.sort();
      this.sorted = s;
    }
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || s[lo - 1] !== offset) return -1;
    return lo < s.length ? s[lo]! : packEnd;
  }

  /**
   * Appends to `out` every oid starting with the hex `prefix` (lowercase,
   * 1–40 digits), stopping after `limit` matches in total.
   */
  findPrefix(prefix: string, out: Set<string>, limit: number): void {
    const bytes = new Uint8Array(20);
    for (let i = 0; i < prefix.length; i++) {
      const nib = parseInt(prefix[i]!, 16);
      bytes[i >> 1] = bytes[i >> 1]! | ((i & 1) === 0 ? nib << 4 : nib);
    }
    const first = bytes[0]!;
    let lo = first === 0 ? 0 : this.view.getUint32(HEADER + (first - 1) * 4);
    let hi = this.view.getUint32(HEADER + first * 4);
    // Lower bound: first oid >= the prefix padded with zeros.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(mid, bytes) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let pos = lo; pos < this.count && out.size < limit; pos++) {
      const hex = this.oidAt(pos);
      if (!hex.startsWith(prefix)) break;
      out.add(hex);
    }
  }

  private compareAt(pos: number, bytes: Uint8Array): number {
    const at = this.oidsAt + pos * 20;
    for (let i = 0; i < 20; i++) {
      const d = this.data[at + i]! - bytes[i]!;
      if (d !== 0) return d;
    }
    return 0;
  }
}
