/**
 * Git's binary delta format (the payload of OFS_DELTA / REF_DELTA pack
 * entries): two size varints (base, result), then opcodes. An opcode with the
 * MSB set copies a range of the base (offset/size bytes selected by its low
 * 7 bits; size 0 means 0x10000); 1–127 inserts that many literal bytes; 0 is
 * reserved. See git's Documentation/gitformat-pack.txt.
 */

/** A delta did not apply; the caller names the pack and offset. */
export class DeltaError extends Error {
  override name = "DeltaError";
}

/** Reads the little-endian base-128 size varint at `pos`; returns [value, nextPos]. */
function readSize(delta: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (;;) {
    if (pos >= delta.length) throw new DeltaError("delta header is truncated");
    const b = delta[pos++]!;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [value, pos];
    if (mul > 2 ** 53) throw new DeltaError("delta size is too large");
  }
}

/**
 * Result size announced by a delta whose first bytes are `head` (a prefix is
 * enough: the two varints fit in 20 bytes). Throws DeltaError if truncated.
 */
export function deltaResultSize(head: Uint8Array): number {
  const [, p] = readSize(head, 0);
  return readSize(head, p)[0];
}

/** Applies `delta` to `base`, returning a fresh array. Throws DeltaError when they do not fit. */
export function applyDelta(base: Uint8Array, delta: Uint8Array): Uint8Array {
  let [baseSize, pos] = readSize(delta, 0);
  if (baseSize !== base.length) {
    throw new DeltaError(`delta expects a ${baseSize}-byte base, got ${base.length} bytes`);
  }
  let resultSize: number;
  [resultSize, pos] = readSize(delta, pos);
  const out = new Uint8Array(resultSize);
  let o = 0;
  const end = delta.length;
  while (pos < end) {
    const op = delta[pos++]!;
    if ((op & 0x80) !== 0) {
      let off = 0;
      let size = 0;
      if (op & 0x01) off = delta[pos++]!;
      if (op & 0x02) off |= delta[pos++]! << 8;
      if (op & 0x04) off |= delta[pos++]! << 16;
      if (op & 0x08) off = (off | (delta[pos++]! << 24)) >>> 0;
      if (op & 0x10) size = delta[pos++]!;
      if (op & 0x20) size |= delta[pos++]! << 8;
      if (op & 0x40) size |= delta[pos++]! << 16;
      if (size === 0) size = 0x10000;
      if (pos > end || off + size > baseSize || o + size > resultSize) {
        throw new DeltaError("delta copies outside its base or result");
      }
      if (size < 32) {
        for (let i = 0; i < size; i++) out[o + i] = base[off + i]!;
      } else {
        out.set(base.subarray(off, off + size), o);
      }
      o += size;
    } else if (op !== 0) {
      if (pos + op > end || o + op > resultSize) {
        throw new DeltaError("delta inserts past its end");
      }
      if (op < 32) {
        for (let i = 0; i < op; i++) out[o + i] = delta[pos + i]!;
      } else {
        out.set(delta.subarray(pos, pos + op), o);
      }
      o += op;
      pos += op;
    } else {
      throw new DeltaError("delta has the reserved opcode 0");
    }
  }
  if (o !== resultSize) {
    throw new DeltaError(`delta produced ${o} bytes, expected ${resultSize}`);
  }
  return out;
}
