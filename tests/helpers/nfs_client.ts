/**
 * A small ONC RPC / NFSv3 / MOUNT v3 client for tests: one TCP connection,
 * calls matched to replies by xid (several may be in flight), results decoded
 * into plain objects. It reuses the server's XDR codec, so the golden frames
 * captured from the Linux client keep the codec honest on the other side.
 */
import { frameRecord, RecordAssembler } from "../../src/nfs/record.ts";
import { AUTH_SYS, MSG_ACCEPTED, RPC_REPLY, SUCCESS, writeCallHeader } from "../../src/nfs/rpc.ts";
import { XdrReader, XdrWriter } from "../../src/nfs/xdr.ts";
import { putSattr, readTime } from "../../src/nfs/nfs3_xdr.ts";
import type { SetAttr } from "../../src/vfs/vfs.ts";
import type { Timespec } from "../../src/types.ts";

export const NFS_PROG = 100003;
export const MOUNT_PROG = 100005;
export const PMAP_PROG = 100000;

export interface Fattr {
  type: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  used: number;
  fsid: number;
  fileid: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

export interface WccAttr {
  size: number;
  mtime: Timespec;
  ctime: Timespec;
}

export interface Wcc {
  pre: WccAttr | null;
  post: Fattr | null;
}

/** A decoded RPC reply. `r` is positioned at the result when `accepted` and stat is SUCCESS. */
export interface RpcReply {
  xid: number;
  accepted: boolean;
  /** accept_stat when accepted, else reject_stat. */
  stat: number;
  /** auth_stat for AUTH_ERROR, low/high for mismatches. */
  extra: number[];
  r: XdrReader;
  /** Bytes of the result (after the accepted reply header). */
  resultBytes: number;
}

export interface DirEntry3 {
  fileid: number;
  name: string;
  cookie: number;
  attr?: Fattr | null;
  fh?: Uint8Array | null;
}

export function readFattr(r: XdrReader): Fattr {
  const type = r.u32();
  const mode = r.u32();
  const nlink = r.u32();
  const uid = r.u32();
  const gid = r.u32();
  const size = r.u64();
  const used = r.u64();
  r.u32();
  r.u32();
  const fsid = r.u64();
  const fileid = r.u64();
  const atime = readTime(r);
  const mtime = readTime(r);
  const ctime = readTime(r);
  return { type, mode, nlink, uid, gid, size, used, fsid, fileid, atime, mtime, ctime };
}

export function readPostOp(r: XdrReader): Fattr | null {
  return r.bool() ? readFattr(r) : null;
}

export function readWcc(r: XdrReader): Wcc {
  let pre: WccAttr | null = null;
  if (r.bool()) pre = { size: r.u64(), mtime: readTime(r), ctime: readTime(r) };
  return { pre, post: readPostOp(r) };
}

function readPostFh(r: XdrReader): Uint8Array | null {
  return r.bool() ? r.opaque(64).slice() : null;
}

export interface ClientOptions {
  uid?: number;
  gid?: number;
  gids?: number[];
  /** AUTH_NONE instead of AUTH_SYS. */
  authNone?: boolean;
}

/** One connection to an RPC server; see the module doc. */
export class NfsTestClient {
  private nextXid = 1;
  private readonly pending = new Map<number, (rec: Uint8Array) => void>();
  private readonly readDone: Promise<void>;
  private closed = false;
  cred: { uid: number; gid: number; gids: number[] } | undefined;

  private constructor(readonly conn: Deno.TcpConn, opts: ClientOptions) {
    this.cred = opts.authNone
      ? undefined
      : { uid: opts.uid ?? 0, gid: opts.gid ?? 0, gids: opts.gids ?? [] };
    this.readDone = this.readLoop();
  }

  static async connect(port: number, opts: ClientOptions = {}): Promise<NfsTestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new NfsTestClient(conn, opts);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      try {
        this.conn.close();
      } catch { /* closed */ }
    }
    await this.readDone;
  }

  /** Resolves when the server closes the connection. */
  get ended(): Promise<void> {
    return this.readDone;
  }

  private async readLoop(): Promise<void> {
    const asm = new RecordAssembler(64 * 1024 * 1024);
    const buf = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        asm.push(buf.subarray(0, n), (rec) => {
          const xid = new DataView(rec.buffer, rec.byteOffset).getUint32(0);
          const cb = this.pending.get(xid);
          if (cb) {
            this.pending.delete(xid);
            cb(rec);
          }
        });
      }
    } catch { /* connection closed */ }
    for (const cb of this.pending.values()) cb(new Uint8Array(0));
    this.pending.clear();
  }

  private writeChain: Promise<void> = Promise.resolve();

  /** Sends raw bytes (already framed or deliberately broken); concurrent sends never interleave. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    const p = this.writeChain.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
    });
    this.writeChain = p.catch(() => {});
    return p;
  }

  /** Sends a record payload framed as one record and waits for the reply with `xid`. */
  async sendRecord(payload: Uint8Array, xid: number, fragmentBytes?: number): Promise<RpcReply> {
    const p = this.expect(xid);
    p.catch(() => {}); // observed below; not unhandled if the send fails first
    await this.sendRaw(frameRecord(payload, fragmentBytes));
    return await p;
  }

  /** Waits for the reply to `xid` (rejects if the connection ends first). */
  expect(xid: number): Promise<RpcReply> {
    return new Promise((resolve, reject) => {
      this.pending.set(xid, (rec) => {
        if (rec.length === 0) reject(new Error(`connection closed before reply to xid ${xid}`));
        else resolve(decodeReply(rec));
      });
    });
  }

  newXid(): number {
    return this.nextXid++;
  }

  /** One RPC call; `args` writes the procedure arguments. */
  async call(
    prog: number,
    vers: number,
    proc: number,
    args: (w: XdrWriter) => void = () => {},
  ): Promise<RpcReply> {
    const xid = this.newXid();
    const w = new XdrWriter(1024);
    writeCallHeader(w, xid, prog, vers, proc, this.cred);
    args(w);
    return await this.sendRecord(w.finish(), xid);
  }

  /** An NFS v3 call whose reply must be accepted with SUCCESS; returns the result reader. */
  async nfs(
    proc: number,
    args: (w: XdrWriter) => void,
  ): Promise<{ status: number; r: XdrReader; bytes: number }> {
    const rep = await this.call(NFS_PROG, 3, proc, args);
    if (!rep.accepted || rep.stat !== SUCCESS) {
      throw new Error(
        `NFS proc ${proc}: RPC ${rep.accepted ? "accept" : "reject"} stat ${rep.stat}`,
      );
    }
    return { status: rep.r.u32(), r: rep.r, bytes: rep.resultBytes };
  }

  // ---- MOUNT ----

  async mnt(path: string): Promise<{ status: number; fh: Uint8Array | null; flavors: number[] }> {
    const rep = await this.call(MOUNT_PROG, 3, 1, (w) => w.string(path));
    const status = rep.r.u32();
    if (status !== 0) return { status, fh: null, flavors: [] };
    const fh = rep.r.opaque(64).slice();
    const n = rep.r.u32();
    const flavors: number[] = [];
    for (let i = 0; i < n; i++) flavors.push(rep.r.u32());
    return { status, fh, flavors };
  }

  // ---- NFS v3 ----

  async getattr(fh: Uint8Array): Promise<{ status: number; attr: Fattr | null }> {
    const { status, r } = await this.nfs(1, (w) => w.opaque(fh));
    return { status, attr: status === 0 ? readFattr(r) : null };
  }

  async setattr(
    fh: Uint8Array,
    s: SetAttr,
    guard?: Timespec,
  ): Promise<{ status: number; wcc: Wcc }> {
    const { status, r } = await this.nfs(2, (w) => {
      w.opaque(fh);
      putSattr(w, s);
      if (guard) {
        w.u32(1);
        w.u32(guard.sec);
        w.u32(guard.nsec);
      } else w.u32(0);
    });
    return { status, wcc: readWcc(r) };
  }

  async lookup(
    dir: Uint8Array,
    name: string,
  ): Promise<{ status: number; fh: Uint8Array | null; attr: Fattr | null; dirAttr: Fattr | null }> {
    const { status, r } = await this.nfs(3, (w) => {
      w.opaque(dir);
      w.string(name);
    });
    if (status !== 0) return { status, fh: null, attr: null, dirAttr: readPostOp(r) };
    const fh = r.opaque(64).slice();
    const attr = readPostOp(r);
    return { status, fh, attr, dirAttr: readPostOp(r) };
  }

  async access(fh: Uint8Array, want: number): Promise<{ status: number; access: number }> {
    const { status, r } = await this.nfs(4, (w) => {
      w.opaque(fh);
      w.u32(want);
    });
    readPostOp(r);
    return { status, access: status === 0 ? r.u32() : 0 };
  }

  async readlink(fh: Uint8Array): Promise<{ status: number; path: string }> {
    const { status, r } = await this.nfs(5, (w) => w.opaque(fh));
    readPostOp(r);
    return { status, path: status === 0 ? r.string(1 << 20) : "" };
  }

  async read(
    fh: Uint8Array,
    offset: number,
    count: number,
  ): Promise<{ status: number; attr: Fattr | null; eof: boolean; data: Uint8Array }> {
    const { status, r } = await this.nfs(6, (w) => {
      w.opaque(fh);
      w.u64(offset);
      w.u32(count);
    });
    const attr = readPostOp(r);
    if (status !== 0) return { status, attr, eof: false, data: new Uint8Array(0) };
    const n = r.u32();
    const eof = r.bool();
    const data = r.opaque(1 << 24).slice();
    if (data.length !== n) throw new Error("READ count differs from data length");
    return { status, attr, eof, data };
  }

  async write(
    fh: Uint8Array,
    offset: number,
    data: Uint8Array,
    stable = 0,
  ): Promise<{ status: number; wcc: Wcc; count: number; committed: number; verf: Uint8Array }> {
    const { status, r } = await this.nfs(7, (w) => {
      w.opaque(fh);
      w.u64(offset);
      w.u32(data.length);
      w.u32(stable);
      w.opaque(data);
    });
    const wcc = readWcc(r);
    if (status !== 0) return { status, wcc, count: 0, committed: 0, verf: new Uint8Array(0) };
    return { status, wcc, count: r.u32(), committed: r.u32(), verf: r.fixed(8).slice() };
  }

  private async created(
    proc: number,
    args: (w: XdrWriter) => void,
  ): Promise<{ status: number; fh: Uint8Array | null; attr: Fattr | null; wcc: Wcc }> {
    const { status, r } = await this.nfs(proc, args);
    if (status !== 0) return { status, fh: null, attr: null, wcc: readWcc(r) };
    const fh = readPostFh(r);
    const attr = readPostOp(r);
    return { status, fh, attr, wcc: readWcc(r) };
  }

  /** CREATE; `how` 0 UNCHECKED, 1 GUARDED (with `s`), 2 EXCLUSIVE (with `verf`). */
  create(dir: Uint8Array, name: string, how: 0 | 1 | 2, s: SetAttr = {}, verf?: Uint8Array) {
    return this.created(8, (w) => {
      w.opaque(dir);
      w.string(name);
      w.u32(how);
      if (how === 2) w.fixed(verf ?? new Uint8Array(8));
      else putSattr(w, s);
    });
  }

  mkdir(dir: Uint8Array, name: string, s: SetAttr = {}) {
    return this.created(9, (w) => {
      w.opaque(dir);
      w.string(name);
      putSattr(w, s);
    });
  }

  symlink(dir: Uint8Array, name: string, target: string, s: SetAttr = {}) {
    return this.created(10, (w) => {
      w.opaque(dir);
      w.string(name);
      putSattr(w, s);
      w.string(target);
    });
  }

  /** MKNOD of `type` (ftype3); CHR/BLK get device 1,2. */
  mknod(dir: Uint8Array, name: string, type: number, s: SetAttr = {}) {
    return this.created(11, (w) => {
      w.opaque(dir);
      w.string(name);
      w.u32(type);
      if (type === 3 || type === 4) {
        putSattr(w, s);
        w.u32(1);
        w.u32(2);
      } else if (type === 6 || type === 7) putSattr(w, s);
    });
  }

  async remove(dir: Uint8Array, name: string, proc = 12): Promise<{ status: number; wcc: Wcc }> {
    const { status, r } = await this.nfs(proc, (w) => {
      w.opaque(dir);
      w.string(name);
    });
    return { status, wcc: readWcc(r) };
  }

  rmdir(dir: Uint8Array, name: string): Promise<{ status: number; wcc: Wcc }> {
    return this.remove(dir, name, 13);
  }

  async rename(
    from: Uint8Array,
    fromName: string,
    to: Uint8Array,
    toName: string,
  ): Promise<{ status: number; from: Wcc; to: Wcc }> {
    const { status, r } = await this.nfs(14, (w) => {
      w.opaque(from);
      w.string(fromName);
      w.opaque(to);
      w.string(toName);
    });
    return { status, from: readWcc(r), to: readWcc(r) };
  }

  async link(
    fh: Uint8Array,
    dir: Uint8Array,
    name: string,
  ): Promise<{ status: number; attr: Fattr | null; wcc: Wcc }> {
    const { status, r } = await this.nfs(15, (w) => {
      w.opaque(fh);
      w.opaque(dir);
      w.string(name);
    });
    return { status, attr: readPostOp(r), wcc: readWcc(r) };
  }

  /** READDIR (plus: READDIRPLUS with `dircount`); `bytes` is the size of the result. */
  async readdir(
    dir: Uint8Array,
    cookie: number,
    verf: Uint8Array,
    count: number,
    plus = false,
    dircount = count,
  ): Promise<{
    status: number;
    dirAttr: Fattr | null;
    verf: Uint8Array;
    entries: DirEntry3[];
    eof: boolean;
    bytes: number;
  }> {
    const { status, r, bytes } = await this.nfs(plus ? 17 : 16, (w) => {
      w.opaque(dir);
      w.u64(cookie);
      w.fixed(verf);
      if (plus) w.u32(dircount);
      w.u32(count);
    });
    const dirAttr = readPostOp(r);
    if (status !== 0) {
      return { status, dirAttr, verf: new Uint8Array(8), entries: [], eof: false, bytes };
    }
    const v = r.fixed(8).slice();
    const entries: DirEntry3[] = [];
    while (r.bool()) {
      const e: DirEntry3 = { fileid: r.u64(), name: r.string(4096), cookie: r.u64() };
      if (plus) {
        e.attr = readPostOp(r);
        e.fh = readPostFh(r);
      }
      entries.push(e);
    }
    return { status, dirAttr, verf: v, entries, eof: r.bool(), bytes };
  }

  async fsstat(fh: Uint8Array): Promise<{ status: number; values: number[] }> {
    const { status, r } = await this.nfs(18, (w) => w.opaque(fh));
    readPostOp(r);
    if (status !== 0) return { status, values: [] };
    const values = [r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u32()];
    return { status, values };
  }

  async fsinfo(fh: Uint8Array): Promise<{ status: number; values: number[]; properties: number }> {
    const { status, r } = await this.nfs(19, (w) => w.opaque(fh));
    readPostOp(r);
    if (status !== 0) return { status, values: [], properties: 0 };
    const values = [r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u64()];
    const delta = readTime(r);
    values.push(delta.sec, delta.nsec);
    return { status, values, properties: r.u32() };
  }

  async pathconf(fh: Uint8Array): Promise<{ status: number; values: number[] }> {
    const { status, r } = await this.nfs(20, (w) => w.opaque(fh));
    readPostOp(r);
    if (status !== 0) return { status, values: [] };
    return { status, values: [r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32()] };
  }

  async commit(fh: Uint8Array): Promise<{ status: number; wcc: Wcc; verf: Uint8Array }> {
    const { status, r } = await this.nfs(21, (w) => {
      w.opaque(fh);
      w.u64(0);
      w.u32(0);
    });
    const wcc = readWcc(r);
    return { status, wcc, verf: status === 0 ? r.fixed(8).slice() : new Uint8Array(0) };
  }
}

/** Decodes a reply record. */
export function decodeReply(rec: Uint8Array): RpcReply {
  const r = new XdrReader(rec);
  const xid = r.u32();
  if (r.u32() !== RPC_REPLY) throw new Error("not a reply");
  const replyStat = r.u32();
  if (replyStat === MSG_ACCEPTED) {
    r.u32(); // verifier flavor
    r.opaque(400);
    const stat = r.u32();
    const extra: number[] = [];
    if (stat === 2) extra.push(r.u32(), r.u32());
    return { xid, accepted: true, stat, extra, r, resultBytes: rec.length - r.pos };
  }
  const stat = r.u32();
  const extra = stat === 0 ? [r.u32(), r.u32()] : [r.u32()];
  return { xid, accepted: false, stat, extra, r, resultBytes: 0 };
}

export { AUTH_SYS };
