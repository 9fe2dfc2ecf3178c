/**
 * ONC RPC record marking over TCP (RFC 5531 §11): a record is one or more
 * fragments, each preceded by a 4-byte header (bit 31: last fragment, bits
 * 0–30: fragment length).
 *
 * Invariants:
 * - Every record handed out is a fresh buffer that the assembler never
 *   touches again, so requests may keep views into it (WRITE data).
 * - A record larger than `maxRecordBytes` (the sum of its fragments) throws
 *   `RecordTooLargeError` as soon as a fragment header announces it, before
 *   any of its bytes are buffered; the connection must then be closed.
 * - Memory per connection is bounded by one record being assembled.
 */

/** Bit 31 of a fragment header: this fragment ends the record. */
export const LAST_FRAGMENT = 0x80000000;

/** A record beyond the configured bound; the stream cannot be resynchronised. */
export class RecordTooLargeError extends Error {
  constructor(size: number, max: number) {
    super(`RPC record of at least ${size} bytes exceeds the limit of ${max} bytes`);
    this.name = "RecordTooLargeError";
  }
}

/** Splits a byte stream into records; see the module doc. */
export class RecordAssembler {
  private readonly header = new Uint8Array(4);
  private headerHave = 0;
  private inBody = false;
  private fragRemaining = 0;
  private fragLast = false;
  private rec: Uint8Array | null = null;
  private recLen = 0;

  constructor(readonly maxRecordBytes: number) {}

  /** True when no partial record is buffered. */
  get idle(): boolean {
    return !this.inBody && this.headerHave === 0 && this.recLen === 0;
  }

  /** Feeds stream bytes; calls `onRecord` for each record completed. */
  push(chunk: Uint8Array, onRecord: (rec: Uint8Array) => void): void {
    let i = 0;
    while (i < chunk.length) {
      if (!this.inBody) {
        const take = Math.min(4 - this.headerHave, chunk.length - i);
        for (let k = 0; k < take; k++) this.header[this.headerHave++] = chunk[i + k]!;
        i += take;
        if (this.headerHave === 4) this.startFragment(onRecord);
        continue;
      }
      const take = Math.min(this.fragRemaining, chunk.length - i);
      this.rec!.set(chunk.subarray(i, i + take), this.recLen);
      this.recLen += take;
      this.fragRemaining -= take;
      i += take;
      if (this.fragRemaining === 0) this.endFragment(onRecord);
    }
  }

  /**
   * When at least `min` bytes of a fragment body are still to come, the view
   * to read them into directly (saves a copy for large WRITEs); else null.
   */
  directTarget(min: number): Uint8Array | null {
    if (!this.inBody || this.fragRemaining < min) return null;
    return this.rec!.subarray(this.recLen, this.recLen + this.fragRemaining);
  }

  /** `n` bytes were read into the view `directTarget` returned. */
  directFilled(n: number, onRecord: (rec: Uint8Array) => void): void {
    this.recLen += n;
    this.fragRemaining -= n;
    if (this.fragRemaining === 0) this.endFragment(onRecord);
  }

  private startFragment(onRecord: (rec: Uint8Array) => void): void {
    const h = ((this.header[0]! << 24) | (this.header[1]! << 16) | (this.header[2]! << 8) |
      this.header[3]!) >>> 0;
    this.headerHave = 0;
    const len = h & 0x7fffffff;
    this.fragLast = (h & LAST_FRAGMENT) !== 0;
    const total = this.recLen + len;
    if (total > this.maxRecordBytes) throw new RecordTooLargeError(total, this.maxRecordBytes);
    if (this.rec === null) {
      this.rec = new Uint8Array(len);
    } else if (this.rec.length < total) {
      const next = new Uint8Array(total);
      next.set(this.rec.subarray(0, this.recLen));
      this.rec = next;
    }
    this.fragRemaining = len;
    this.inBody = true;
    if (len === 0) this.endFragment(onRecord);
  }

  private endFragment(onRecord: (rec: Uint8Array) => void): void {
    this.inBody = false;
    if (!this.fragLast) return;
    const rec = this.rec!;
    const out = rec.length === this.recLen ? rec : rec.subarray(0, this.recLen);
    this.rec = null;
    this.recLen = 0;
    onRecord(out);
  }
}

/** Frames `payload` as one record of `fragmentBytes`-sized fragments (for tests and clients). */
export function frameRecord(payload: Uint8Array, fragmentBytes = 0x7fffffff): Uint8Array {
  const n = Math.max(1, Math.ceil(payload.length / fragmentBytes));
  const out = new Uint8Array(payload.length + 4 * n);
  const view = new DataView(out.buffer);
  let src = 0;
  let dst = 0;
  for (let f = 0; f < n; f++) {
    const len = Math.min(fragmentBytes, payload.length - src);
    view.setUint32(dst, (f === n - 1 ? LAST_FRAGMENT : 0) | len);
    out.set(payload.subarray(src, src + len), dst + 4);
    src += len;
    dst += 4 + len;
  }
  return out;
}
