/**
 * XDR (RFC 4506) reader and writer, written for the NFS hot paths.
 *
 * Invariants:
 * - `XdrReader` reads one message through one `DataView`; every read is
 *   bounds-checked and throws `XdrError` (the server answers GARBAGE_ARGS).
 *   Opaque data comes back as a view into the message (no copy): whoever
 *   keeps it beyond the request must not let the message buffer be reused
 *   (the record layer hands out a fresh buffer per record).
 * - `XdrWriter` appends into one growable buffer; nothing is allocated per
 *   field. `finish()` hands the bytes out and resets the writer; small
 *   messages are copied out, large ones take the buffer itself. A large
 *   opaque that ends a message may stay where it is (`opaqueLast`): the
 *   writer then holds it as the message's tail, and whoever sends the
 *   message sends `takeTail()` right after it.
 * - Hyper values (u64) travel as JS numbers. Values vibe produces stay below
 *   2^53; a larger value read from the wire comes back rounded (callers treat
 *   anything above `Number.MAX_SAFE_INTEGER` as out of range).
 */

/** Undecodable input: truncated, a length beyond the message, a bad boolean or enum. */
export class XdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XdrError";
  }
}

const TWO_32 = 4294967296;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Bytes of padding after `n` bytes of opaque data. */
export function xdrPad(n: number): number {
  return (4 - (n & 3)) & 3;
}

/** Size on the wire of a variable-length opaque or string of `n` bytes. */
export function xdrOpaqueSize(n: number): number {
  return 4 + n + xdrPad(n);
}

/** Reads one XDR message; see the module doc. */
export class XdrReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Next byte to read, relative to `bytes`. */
  pos: number;

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new XdrError(`XDR message truncated at byte ${this.pos} (${n} more wanted)`);
    }
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned hyper as a number (exact below 2^53). */
  u64(): number {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** Unsigned hyper split in words (exact for all values). */
  u64Words(): [number, number] {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return [hi, lo];
  }

  bool(): boolean {
    const v = this.u32();
    if (v > 1) throw new XdrError(`XDR boolean is ${v}`);
    return v === 1;
  }

  /** A discriminant that must be below `limit`. */
  enumBelow(limit: number): number {
    const v = this.u32();
    if (v >= limit) throw new XdrError(`XDR enum value ${v} is out of range`);
    return v;
  }

  /** Fixed-length opaque: a view of `n` bytes (padding skipped). */
  fixed(n: number): Uint8Array {
    const padded = n + xdrPad(n);
    this.need(padded);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return out;
  }

  /** Variable-length opaque of at most `max` bytes: a view into the message. */
  opaque(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw new XdrError(`XDR opaque of ${n} bytes exceeds ${max}`);
    return this.fixed(n);
  }

  /** String of at most `max` bytes; null when it is not valid UTF-8. */
  stringOrNull(max: number): string | null {
    const b = this.opaque(max);
    return decodeUtf8(b);
  }

  /** String of at most `max` bytes; XdrError when it is not valid UTF-8. */
  string(max: number): string {
    const s = this.stringOrNull(max);
    if (s === null) throw new XdrError("XDR string is not valid UTF-8");
    return s;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

/** Decodes UTF-8 (ASCII fast path); null when the bytes are not valid UTF-8. */
export function decodeUtf8(b: Uint8Array): string | null {
  if (b.length <= 32) {
    let s = "";
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x80) return decodeSlow(b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeSlow(b);
}

function decodeSlow(b: Uint8Array): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

/** Bytes of `s` in UTF-8 (no allocation). */
export function utf8Size(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

const DEFAULT_CAPACITY = 64 * 1024;
/** Messages up to this size are copied out by `finish()`; larger ones take the buffer. */
const COPY_LIMIT = 16 * 1024;

/** Opaques at least this long, 4-byte aligned, ending a message are sent from where they are. */
export const TAIL_MIN = 64 * 1024;

/** Appends one XDR message at a time; see the module doc. */
export class XdrWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  pos = 0;
  private tail: Uint8Array | null = null;
  private tailRelease: (() => void) | null = null;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }

  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v | 0);
    this.pos += 4;
  }

  /** Unsigned hyper from a non-negative safe integer (negatives clamp to 0). */
  u64(v: number): void {
    this.ensure(8);
    if (!(v > 0)) v = 0;
    this.view.setUint32(this.pos, Math.floor(v / TWO_32) >>> 0);
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
  }

  /** Unsigned hyper from its two words. */
  u64Words(hi: number, lo: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, hi >>> 0);
    this.view.setUint32(this.pos + 4, lo >>> 0);
    this.pos += 8;
  }

  bool(v: boolean): void {
    this.u32(v ? 1 : 0);
  }

  /** Fixed-length opaque (padded). */
  fixed(b: Uint8Array): void {
    const pad = xdrPad(b.length);
    this.ensure(b.length + pad);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    for (let i = 0; i < pad; i++) this.buf[this.pos++] = 0;
  }

  /** Variable-length opaque. */
  opaque(b: Uint8Array): void {
    this.u32(b.length);
    this.fixed(b);
  }

  /**
   * Variable-length opaque that ends the message. A large, aligned one is not
   * copied: it becomes the tail (`takeTail`), so nothing may be written after
   * it, and `b` must stay unchanged until sent. `release` is called once `b`
   * is no longer needed: at once when it was copied, else by whoever sends
   * the tail.
   */
  opaqueLast(b: Uint8Array, release?: () => void): void {
    if (b.length < TAIL_MIN || (b.length & 3) !== 0) {
      this.opaque(b);
      release?.();
      return;
    }
    this.u32(b.length);
    this.tail = b;
    this.tailRelease = release ?? null;
  }

  /** Length of the tail (0 without one): part of the message on the wire. */
  get tailBytes(): number {
    return this.tail?.length ?? 0;
  }

  /** The tail set by `opaqueLast` and its release callback (once), or null. */
  takeTail(): { bytes: Uint8Array; release: (() => void) | null } | null {
    const t = this.tail;
    const release = this.tailRelease;
    this.tail = null;
    this.tailRelease = null;
    return t ? { bytes: t, release } : null;
  }

  /** String as UTF-8 (ASCII written byte by byte, no temporary). */
  string(s: string): void {
    const max = s.length * 3;
    this.ensure(4 + max + 3);
    const start = this.pos + 4;
    let n: number;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      this.buf[start + i] = c;
    }
    if (ascii) n = s.length;
    else n = utf8Encoder.encodeInto(s, this.buf.subarray(start, start + max)).written;
    this.view.setUint32(this.pos, n);
    this.pos = start + n;
    const pad = xdrPad(n);
    for (let i = 0; i < pad; i++) this.buf[this.pos++] = 0;
  }

  /** Overwrites a u32 at byte `at` (already written). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }

  /** Drops everything written. */
  reset(): void {
    this.pos = 0;
    this.tail = null;
    this.tailRelease = null;
  }

  /** The message written so far, owned by the caller; the writer starts over. */
  finish(): Uint8Array {
    let out: Uint8Array;
    if (this.pos <= COPY_LIMIT) {
      out = this.buf.slice(0, this.pos);
    } else {
      out = this.buf.subarray(0, this.pos);
      this.buf = new Uint8Array(DEFAULT_CAPACITY);
      this.view = new DataView(this.buf.buffer);
    }
    this.pos = 0;
    return out;
  }
}
