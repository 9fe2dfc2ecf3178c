/**
 * Hex <-> binary conversion for SHA-1 object ids with lookup tables (the
 * tree parser and pack index lookups call these once per entry / per read, so
 * they avoid per-call allocation).
 */

/** Two lowercase hex digits for every byte value. */
const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(i.toString(16).padStart(2, "0"));

/** Nibble value for a char code, or -1. Accepts upper- and lowercase. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/** Length of a SHA-1 oid in bytes and in hex digits. */
export const OID_BYTES = 20;
export const OID_HEX_LENGTH = 40;

const FULL_HEX_RE = /^[0-9a-f]{40}$/;

/** True when `s` is a full lowercase 40-digit hex oid. */
export function isFullOid(s: string): boolean {
  return s.length === 40 && FULL_HEX_RE.test(s);
}

/** Char codes of the high and low hex digit of every byte value. */
const HI = new Uint8Array(256);
const LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  HI[i] = "0123456789abcdef".charCodeAt(i >> 4);
  LO[i] = "0123456789abcdef".charCodeAt(i & 15);
}

/**
 * Lowercase hex of `OID_BYTES` bytes of `buf` starting at `off`.
 * One `String.fromCharCode` call yields a flat one-byte string: no rope of
 * concatenations to flatten or retain (measured 3–4x faster on a tree walk
 * that keeps its entries).
 */
export function oidHexAt(buf: Uint8Array, off: number): string {
  const b0 = buf[off]!, b1 = buf[off + 1]!, b2 = buf[off + 2]!, b3 = buf[off + 3]!;
  const b4 = buf[off + 4]!, b5 = buf[off + 5]!, b6 = buf[off + 6]!, b7 = buf[off + 7]!;
  const b8 = buf[off + 8]!, b9 = buf[off + 9]!, b10 = buf[off + 10]!, b11 = buf[off + 11]!;
  const b12 = buf[off + 12]!, b13 = buf[off + 13]!, b14 = buf[off + 14]!;
  const b15 = buf[off + 15]!, b16 = buf[off + 16]!, b17 = buf[off + 17]!;
  const b18 = buf[off + 18]!, b19 = buf[off + 19]!;
  return String.fromCharCode(
    HI[b0]!,
    LO[b0]!,
    HI[b1]!,
    LO[b1]!,
    HI[b2]!,
    LO[b2]!,
    HI[b3]!,
    LO[b3]!,
    HI[b4]!,
    LO[b4]!,
    HI[b5]!,
    LO[b5]!,
    HI[b6]!,
    LO[b6]!,
    HI[b7]!,
    LO[b7]!,
    HI[b8]!,
    LO[b8]!,
    HI[b9]!,
    LO[b9]!,
    HI[b10]!,
    LO[b10]!,
    HI[b11]!,
    LO[b11]!,
    HI[b12]!,
    LO[b12]!,
    HI[b13]!,
    LO[b13]!,
    HI[b14]!,
    LO[b14]!,
    HI[b15]!,
    LO[b15]!,
    HI[b16]!,
    LO[b16]!,
    HI[b17]!,
    LO[b17]!,
    HI[b18]!,
    LO[b18]!,
    HI[b19]!,
    LO[b19]!,
  );
}

/** Hex of any byte range (for messages and prefixes). */
export function bytesToHex(buf: Uint8Array): string {
  let s = "";
  for (let i = 0; i < buf.length; i++) s += BYTE_HEX[buf[i]!]!;
  return s;
}

/**
 * Decodes the first `2 * out.length` hex digits of `hex` into `out`.
 * Returns false (leaving `out` partly written) when a digit is not hex.
 */
export function hexToBytesInto(hex: string, out: Uint8Array): boolean {
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const a = hex.charCodeAt(j);
    const b = hex.charCodeAt(j + 1);
    const hi = a < 128 ? NIBBLE[a]! : -1;
    const lo = b < 128 ? NIBBLE[b]! : -1;
    if (hi < 0 || lo < 0) return false;
    out[i] = (hi << 4) | lo;
  }
  return true;
}

/**
 * Decodes a full 40-digit hex oid into five big-endian 32-bit words (the form
 * pack index lookups compare). Returns false when `hex` is not 40 hex digits.
 */
export function hexToWords(hex: string, out: Uint32Array): boolean {
  if (hex.length !== 40) return false;
  for (let w = 0; w < 5; w++) {
    let v = 0;
    for (let k = 0; k < 8; k++) {
      const c = hex.charCodeAt(w * 8 + k);
      const n = c < 128 ? NIBBLE[c]! : -1;
      if (n < 0) return false;
      v = (v << 4) | n;
    }
    out[w] = v >>> 0;
  }
  return true;
}

/** True when every char of `s` is a hex digit (either case). */
export function isHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || NIBBLE[c]! < 0) return false;
  }
  return true;
}
