/**
 * NFS file handles: 36 opaque bytes that name an inode of one export and
 * prove they came from this server.
 *
 * Layout (big-endian):
 * | bytes  | field                                                        |
 * | 0      | version (1)                                                  |
 * | 1..3   | reserved, zero                                               |
 * | 4..11  | export epoch (u64; stable per vibe, e.g. its creation time)  |
 * | 12..19 | inode number (u64)                                           |
 * | 20..35 | HMAC-SHA256(secret, bytes 0..19), first 16 bytes             |
 *
 * Invariants:
 * - No inode generation is needed: the Vfs never reuses an inode number
 *   within a vibe, so (epoch, inode) names one object forever. (`Attr.generation`
 *   is a change counter, not an inode generation, and must not go in here.)
 * - The same secret and epoch give the same handle for an inode, in every
 *   process: handles survive a daemon restart.
 * - `decode` answers `FH_BAD` for a wrong length, version, reserved bits or
 *   MAC (forged or foreign handles) and `FH_STALE` for a genuine handle of
 *   another epoch of the same secret (the vibe was recreated). Whether the
 *   inode still exists is the Vfs's to say (ESTALE/ENOENT → NFS3ERR_STALE).
 * - MACs are cached per inode (FIFO, `CACHE_MAX` entries), so a hot handle
 *   costs a 16-byte compare, not an HMAC; comparisons are constant-time.
 */
import { createHmac } from "node:crypto";
import { VibeError } from "../errors.ts";
import type { Ino } from "../types.ts";

export const FH_VERSION = 1;
/** Size of every handle this server issues (NFS3_FHSIZE allows 64). */
export const FH_BYTES = 36;
/** `decode` result: not a handle of this export (NFS3ERR_BADHANDLE). */
export const FH_BAD = -1;
/** `decode` result: a genuine handle of another epoch (NFS3ERR_STALE). */
export const FH_STALE = -2;

const MAC_OFFSET = 20;
const MAC_BYTES = 16;
const CACHE_MAX = 65536;
const TWO_32 = 4294967296;

/** Encodes and checks the handles of one export; see the module doc. */
export class HandleCodec {
  private readonly secret: Uint8Array;
  private readonly epochHi: number;
  private readonly epochLo: number;
  private readonly cache = new Map<Ino, Uint8Array>();

  constructor(secret: Uint8Array, readonly epoch: number) {
    if (secret.length < 16) {
      throw new VibeError(
        "USAGE",
        "Cannot serve NFS: the export secret must have at least 16 bytes",
      );
    }
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      throw new VibeError("USAGE", `Cannot serve NFS: bad export epoch ${epoch}`);
    }
    this.secret = secret.slice();
    this.epochHi = Math.floor(epoch / TWO_32);
    this.epochLo = epoch >>> 0;
  }

  /** The handle of `ino` (owned by the cache: do not modify). */
  encode(ino: Ino): Uint8Array {
    const hit = this.cache.get(ino);
    if (hit) return hit;
    const fh = new Uint8Array(FH_BYTES);
    const v = new DataView(fh.buffer);
    fh[0] = FH_VERSION;
    v.setUint32(4, this.epochHi);
    v.setUint32(8, this.epochLo);
    v.setUint32(12, Math.floor(ino / TWO_32));
    v.setUint32(16, ino >>> 0);
    fh.set(this.mac(fh.subarray(0, MAC_OFFSET)), MAC_OFFSET);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(ino, fh);
    return fh;
  }

  /** The inode `fh` names, or `FH_BAD` / `FH_STALE` (see the module doc). */
  decode(fh: Uint8Array): Ino {
    if (
      fh.length !== FH_BYTES || fh[0] !== FH_VERSION || fh[1] !== 0 || fh[2] !== 0 || fh[3] !== 0
    ) {
      return FH_BAD;
    }
    const v = new DataView(fh.buffer, fh.byteOffset, FH_BYTES);
    const ino = v.getUint32(12) * TWO_32 + v.getUint32(16);
    const sameEpoch = v.getUint32(4) === this.epochHi && v.getUint32(8) === this.epochLo;
    if (sameEpoch && ino >= 1 && ino <= Number.MAX_SAFE_INTEGER) {
      if (equalBytes(this.encode(ino), fh, 0, FH_BYTES)) return ino;
      return FH_BAD;
    }
    // Not ours as issued now: a genuine MAC means another epoch of this secret.
    const mac = this.mac(fh.subarray(0, MAC_OFFSET));
    return equalBytes(mac, fh.subarray(MAC_OFFSET), 0, MAC_BYTES) ? FH_STALE : FH_BAD;
  }

  /** 8 bytes derived from the secret and epoch for `purpose` (fsid, cookie verifier). */
  derive(purpose: string): Uint8Array {
    const h = createHmac("sha256", this.secret);
    h.update(`vibe-nfs:${purpose}:${this.epoch}`);
    return new Uint8Array(h.digest().subarray(0, 8));
  }

  private mac(data: Uint8Array): Uint8Array {
    const h = createHmac("sha256", this.secret);
    h.update(data);
    return new Uint8Array(h.digest().subarray(0, MAC_BYTES));
  }
}

/** Constant-time comparison of `n` bytes of `a` and `b` from `start`. */
function equalBytes(a: Uint8Array, b: Uint8Array, start: number, n: number): boolean {
  let diff = 0;
  for (let i = start; i < start + n; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
