/**
 * The NFS codecs: XDR round trips for every type the server uses, record
 * marking (fragments, byte-at-a-time, direct reads, limits), RPC call/reply
 * headers and credentials, file handles, and the golden frames captured from
 * the Linux kernel client (tests/fixtures/nfs_golden/README.md describes each
 * field), decoded field by field and replayed against a live server.
 */
import assert from "node:assert/strict";
import { TAIL_MIN, XdrError, xdrOpaqueSize, XdrReader, XdrWriter } from "../src/nfs/xdr.ts";
import {
  frameRecord,
  LAST_FRAGMENT,
  RecordAssembler,
  RecordTooLargeError,
} from "../src/nfs/record.ts";
import {
  AUTH_BADCRED,
  AUTH_SYS,
  type CallProblem,
  parseCall,
  type RpcCall,
  writeAcceptedHeader,
  writeAuthError,
  writeCallHeader,
  writeProgMismatch,
  writeRpcMismatch,
} from "../src/nfs/rpc.ts";
import { FH_BAD, FH_BYTES, FH_STALE, HandleCodec } from "../src/nfs/handles.ts";
import {
  FATTR3_BYTES,
  putFattr,
  putPostOpAttr,
  putPostOpFh,
  putPreOpAttr,
  putSattr,
  putWcc,
  readSattr,
} from "../src/nfs/nfs3_xdr.ts";
import { NFS3_STATUS } from "../src/nfs/status_map.ts";
import type { Attr, SetAttr } from "../src/vfs/vfs.ts";
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import { serveNfs } from "../src/nfs/mod.ts";
import {
  decodeReply,
  NfsTestClient,
  readFattr,
  readPostOp,
  readWcc,
} from "./helpers/nfs_client.ts";
import { GOLDEN_EPOCH, GOLDEN_SECRET, readGolden } from "./helpers/nfs_golden.ts";

Deno.test("xdr: integers, booleans, hypers round trip", () => {
  const w = new XdrWriter(8); // tiny capacity: growth is exercised
  const u32s = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
  const i32s = [0, -1, -0x80000000, 0x7fffffff];
  const u64s = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
  for (const v of u32s) w.u32(v);
  for (const v of i32s) w.i32(v);
  for (const v of u64s) w.u64(v);
  w.bool(true);
  w.bool(false);
  w.u64Words(0xdeadbeef, 0x01234567);
  const bytes = w.finish();
  assert.equal(bytes.length, u32s.length * 4 + i32s.length * 4 + u64s.length * 8 + 8 + 8);
  const r = new XdrReader(bytes);
  for (const v of u32s) assert.equal(r.u32(), v);
  for (const v of i32s) assert.equal(r.i32(), v);
  for (const v of u64s) assert.equal(r.u64(), v);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  assert.deepEqual(r.u64Words(), [0xdeadbeef, 0x01234567]);
  assert.equal(r.remaining, 0);
  // big-endian on the wire
  const w2 = new XdrWriter();
  w2.u64(2 ** 32 + 2);
  assert.deepEqual([...w2.finish()], [0, 0, 0, 1, 0, 0, 0, 2]);
});

Deno.test("xdr: opaques and strings with padding, UTF-8, large values", () => {
  const w = new XdrWriter(16);
  const blobs = [0, 1, 2, 3, 4, 5, 100, 70_000].map((n) => new Uint8Array(n).map((_, i) => i * 7));
  for (const b of blobs) w.opaque(b);
  w.fixed(new Uint8Array([1, 2, 3]));
  const strings = [
    "",
    "a",
    "abcd",
    "hello.txt",
    "héllo wörld",
    "日本語のファイル名",
    "emoji 😀 x",
    "x".repeat(300),
  ];
  for (const s of strings) w.string(s);
  const bytes = w.finish();
  assert.equal(bytes.length % 4, 0);
  const r = new XdrReader(bytes);
  for (const b of blobs) assert.deepEqual(r.opaque(1 << 20), b);
  assert.deepEqual(r.fixed(3), new Uint8Array([1, 2, 3]));
  for (const s of strings) assert.equal(r.string(1024), s);
  assert.equal(r.remaining, 0);
  for (const s of strings) {
    assert.equal(xdrOpaqueSize(new TextEncoder().encode(s).length) % 4, 0);
  }
});

Deno.test("xdr: malformed input throws XdrError, never reads out of bounds", () => {
  assert.throws(() => new XdrReader(new Uint8Array(3)).u32(), XdrError);
  assert.throws(() => new XdrReader(new Uint8Array(7)).u64(), XdrError);
  assert.throws(() => new XdrReader(new Uint8Array([0, 0, 0, 2])).bool(), XdrError);
  assert.throws(() => new XdrReader(new Uint8Array([0, 0, 0, 3])).enumBelow(3), XdrError);
  // length beyond the message, beyond the max, padding missing
  assert.throws(() => new XdrReader(new Uint8Array([0, 0, 0, 9, 1, 2])).opaque(100), XdrError);
  assert.throws(
    () => new XdrReader(new Uint8Array([0, 0, 0, 9, ...new Uint8Array(12)])).opaque(8),
    XdrError,
  );
  assert.throws(() => new XdrReader(new Uint8Array([0, 0, 0, 1, 65])).opaque(8), XdrError);
  assert.throws(
    () => new XdrReader(new Uint8Array([0xff, 0xff, 0xff, 0xff])).opaque(2 ** 32),
    XdrError,
  );
  // invalid UTF-8: null from stringOrNull, XdrError from string
  const bad = new Uint8Array([0, 0, 0, 2, 0xc3, 0x28, 0, 0]);
  assert.equal(new XdrReader(bad).stringOrNull(10), null);
  assert.throws(() => new XdrReader(bad).string(10), XdrError);
  // a view into a larger buffer reads only its own bytes
  const big = new Uint8Array(16).fill(0xff);
  big.set([0, 0, 0, 5], 4);
  const sub = new XdrReader(big.subarray(4, 8));
  assert.equal(sub.u32(), 5);
  assert.throws(() => sub.u32(), XdrError);
});

Deno.test("xdr: writer finish hands out independent buffers", () => {
  const w = new XdrWriter(64);
  w.u32(1);
  const a = w.finish();
  w.u32(2);
  const b = w.finish();
  assert.deepEqual([...a], [0, 0, 0, 1]);
  assert.deepEqual([...b], [0, 0, 0, 2]);
  const large = new Uint8Array(100_000).fill(9);
  w.opaque(large);
  const c = w.finish();
  w.u32(3);
  w.finish();
  assert.equal(c.length, 100_004);
  assert.equal(c[50_000], 9, "a large message keeps its bytes after the writer moves on");
});

const sampleAttr: Attr = {
  ino: 2 ** 40 + 5,
  kind: "file",
  mode: 0o4755,
  nlink: 3,
  uid: 1000,
  gid: 100,
  size: 2 ** 33 + 1,
  atime: { sec: 1_700_000_000, nsec: 123 },
  mtime: { sec: 1_700_000_001, nsec: 999_999_999 },
  ctime: { sec: 1_700_000_002, nsec: 0 },
};

Deno.test("nfs3 xdr: fattr3, post_op_attr, pre_op_attr, wcc_data, post_op_fh3 round trip", () => {
  const w = new XdrWriter();
  putFattr(w, sampleAttr, 77);
  assert.equal(w.pos, FATTR3_BYTES);
  putPostOpAttr(w, sampleAttr, 77);
  putPostOpAttr(w, null, 77);
  putWcc(w, sampleAttr, { ...sampleAttr, size: 9 }, 77);
  putPreOpAttr(w, null);
  putPostOpFh(w, new Uint8Array(36).fill(1));
  putPostOpFh(w, null);
  const r = new XdrReader(w.finish());
  const check = (f: ReturnType<typeof readFattr>, a: Attr) => {
    assert.equal(f.type, 1);
    assert.equal(f.mode, a.mode);
    assert.deepEqual([f.nlink, f.uid, f.gid, f.size, f.fsid, f.fileid], [
      a.nlink,
      a.uid,
      a.gid,
      a.size,
      77,
      a.ino,
    ]);
    assert.equal(f.used, Math.ceil(a.size / 4096) * 4096);
    assert.deepEqual([f.atime, f.mtime, f.ctime], [a.atime, a.mtime, a.ctime]);
  };
  check(readFattr(r), sampleAttr);
  check(readPostOp(r)!, sampleAttr);
  assert.equal(readPostOp(r), null);
  const wcc = readWcc(r);
  assert.deepEqual(wcc.pre, {
    size: sampleAttr.size,
    mtime: sampleAttr.mtime,
    ctime: sampleAttr.ctime,
  });
  assert.equal(wcc.post!.size, 9);
  assert.equal(r.bool(), false);
  assert.equal(r.bool(), true);
  assert.deepEqual(r.opaque(64), new Uint8Array(36).fill(1));
  assert.equal(r.bool(), false);
  assert.equal(r.remaining, 0);
  // Every kind maps to its ftype3; out-of-range times are clamped.
  const kinds = { file: 1, dir: 2, symlink: 5, socket: 6, fifo: 7 } as const;
  for (const [kind, type] of Object.entries(kinds)) {
    const w2 = new XdrWriter();
    putFattr(w2, {
      ...sampleAttr,
      kind: kind as Attr["kind"],
      atime: { sec: -5, nsec: 0 },
      mtime: { sec: 2 ** 40, nsec: 1 },
    }, 1);
    const f = readFattr(new XdrReader(w2.finish()));
    assert.equal(f.type, type);
    assert.equal(f.atime.sec, 0);
    assert.equal(f.mtime.sec, 0xffffffff);
  }
});

Deno.test("nfs3 xdr: sattr3 round trip (every field present and absent)", () => {
  const cases: SetAttr[] = [
    {},
    { mode: 0o640 },
    { uid: 5, gid: 6 },
    { size: 2 ** 40 },
    { atime: "now", mtime: "now" },
    { atime: { sec: 1, nsec: 2 }, mtime: { sec: 3, nsec: 4 } },
    { mode: 0o7777, uid: 0, gid: 0, size: 0, atime: "now", mtime: { sec: 9, nsec: 9 } },
  ];
  for (const s of cases) {
    const w = new XdrWriter();
    putSattr(w, s);
    const r = new XdrReader(w.finish());
    assert.deepEqual(readSattr(r), s);
    assert.equal(r.remaining, 0);
  }
  // time_how 3 does not exist
  const w = new XdrWriter();
  for (let i = 0; i < 4; i++) w.u32(0);
  w.u32(3);
  assert.throws(() => readSattr(new XdrReader(w.finish())), XdrError);
});

Deno.test("record marking: fragments, byte-at-a-time, direct reads, limits", () => {
  const payloads = [
    new Uint8Array(0),
    new Uint8Array([1, 2, 3]),
    new Uint8Array(20_000).map((_, i) => i),
  ];
  for (const frag of [1, 3, 1000, 0x7fffffff]) {
    const stream = new Uint8Array(payloads.reduce((n, p) => n + frameRecord(p, frag).length, 0));
    let off = 0;
    for (const p of payloads) {
      const f = frameRecord(p, frag);
      stream.set(f, off);
      off += f.length;
    }
    // whole stream at once
    const got: Uint8Array[] = [];
    new RecordAssembler(1 << 20).push(stream, (r) => got.push(r));
    assert.deepEqual(got, payloads);
    // one byte at a time
    const got2: Uint8Array[] = [];
    const asm = new RecordAssembler(1 << 20);
    for (let i = 0; i < stream.length; i++) {
      asm.push(stream.subarray(i, i + 1), (r) => got2.push(r));
    }
    assert.deepEqual(got2, payloads);
    assert.ok(asm.idle);
  }
  // direct reads into the record buffer
  const big = new Uint8Array(200_000).map((_, i) => i * 3);
  const framed = frameRecord(big);
  const asm = new RecordAssembler(1 << 20);
  const got: Uint8Array[] = [];
  asm.push(framed.subarray(0, 10), (r) => got.push(r));
  let pos = 10;
  for (;;) {
    const target = asm.directTarget(1024);
    if (!target) break;
    const n = Math.min(target.length, 50_000);
    target.set(framed.subarray(pos, pos + n));
    pos += n;
    asm.directFilled(n, (r) => got.push(r));
  }
  asm.push(framed.subarray(pos), (r) => got.push(r));
  assert.deepEqual(got, [big]);
  // records handed out are independent of later input
  const a: Uint8Array[] = [];
  const asm2 = new RecordAssembler(100);
  asm2.push(frameRecord(new Uint8Array([1, 1])), (r) => a.push(r));
  asm2.push(frameRecord(new Uint8Array([2, 2])), (r) => a.push(r));
  assert.deepEqual(a.map((r) => [...r]), [[1, 1], [2, 2]]);
  // limits: a single fragment, and fragments adding up
  assert.throws(
    () => new RecordAssembler(100).push(frameRecord(new Uint8Array(101)), () => {}),
    RecordTooLargeError,
  );
  assert.throws(
    () => new RecordAssembler(100).push(frameRecord(new Uint8Array(150), 60), () => {}),
    RecordTooLargeError,
  );
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, (LAST_FRAGMENT | 0x7fffffff) >>> 0);
  assert.throws(() => new RecordAssembler(1 << 20).push(head, () => {}), RecordTooLargeError);
  // exactly at the limit is fine
  const ok: Uint8Array[] = [];
  new RecordAssembler(100).push(frameRecord(new Uint8Array(100), 7), (r) => ok.push(r));
  assert.equal(ok[0]!.length, 100);
});

function isCall(p: RpcCall | CallProblem): p is RpcCall {
  return !("kind" in p);
}

Deno.test("rpc: call headers with AUTH_SYS and AUTH_NONE, problems, reply headers", () => {
  const w = new XdrWriter();
  writeCallHeader(w, 42, 100003, 3, 1, {
    uid: 1000,
    gid: 100,
    gids: [4, 24, 27],
    machine: "hostname",
  });
  w.u32(0xabcdef01);
  const call = parseCall(w.finish());
  assert.ok(isCall(call));
  assert.deepEqual([call.xid, call.prog, call.vers, call.proc], [42, 100003, 3, 1]);
  assert.deepEqual(call.cred, { flavor: AUTH_SYS, uid: 1000, gid: 100, gids: [4, 24, 27] });
  assert.equal(call.args.u32(), 0xabcdef01);
  writeCallHeader(w, 43, 100005, 3, 0);
  const none = parseCall(w.finish());
  assert.ok(isCall(none));
  assert.deepEqual([none.cred.flavor, none.cred.uid], [0, 65534]);

  const problem = (bytes: number[]) => parseCall(new Uint8Array(bytes));
  assert.equal((problem([0, 0, 0]) as CallProblem).kind, "drop");
  assert.equal((problem([0, 0, 0, 1, 0, 0, 0, 1]) as CallProblem).kind, "drop", "a REPLY");
  assert.deepEqual(problem([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3]), { kind: "rpc_mismatch", xid: 1 });
  assert.deepEqual(problem([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]), {
    kind: "garbage",
    xid: 1,
  });
  // AUTH_SYS with 17 gids, and a flavor we do not speak
  const bad = new XdrWriter();
  for (const v of [7, 0, 2, 100003, 3, 0, AUTH_SYS, 20, 0, 0, 0, 0, 17]) bad.u32(v);
  bad.u32(0);
  bad.u32(0);
  assert.deepEqual(parseCall(bad.finish()), { kind: "auth", xid: 7, stat: AUTH_BADCRED });
  for (const v of [8, 0, 2, 100003, 3, 0, 6, 0, 0, 0]) bad.u32(v);
  assert.deepEqual(parseCall(bad.finish()), { kind: "auth", xid: 8, stat: AUTH_BADCRED });

  // reply headers decode as the client expects
  const rw = new XdrWriter();
  writeAcceptedHeader(rw, 1, 0);
  let rep = decodeReply(rw.finish());
  assert.deepEqual([rep.xid, rep.accepted, rep.stat], [1, true, 0]);
  writeProgMismatch(rw, 2, 3, 3);
  rep = decodeReply(rw.finish());
  assert.deepEqual([rep.stat, rep.extra], [2, [3, 3]]);
  writeRpcMismatch(rw, 3);
  rep = decodeReply(rw.finish());
  assert.deepEqual([rep.accepted, rep.stat, rep.extra], [false, 0, [2, 2]]);
  writeAuthError(rw, 4, 5);
  rep = decodeReply(rw.finish());
  assert.deepEqual([rep.accepted, rep.stat, rep.extra], [false, 1, [5]]);
});

Deno.test("handles: encode, verify, forgeries, other epochs and secrets", () => {
  const secret = new Uint8Array(16).fill(1);
  const h = new HandleCodec(secret, 123);
  for (const ino of [1, 2, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
    const fh = h.encode(ino);
    assert.equal(fh.length, FH_BYTES);
    assert.equal(h.decode(fh), ino);
    assert.equal(new HandleCodec(secret, 123).decode(fh.slice()), ino, "stable across instances");
  }
  const fh = h.encode(5).slice();
  for (let i = 0; i < FH_BYTES; i++) {
    const t = fh.slice();
    t[i]! ^= 0x40;
    assert.equal(h.decode(t), FH_BAD, `byte ${i} tampered`);
  }
  assert.equal(h.decode(fh.subarray(0, 35)), FH_BAD);
  assert.equal(h.decode(new Uint8Array(64)), FH_BAD);
  assert.equal(h.decode(new Uint8Array(0)), FH_BAD);
  assert.equal(new HandleCodec(new Uint8Array(16).fill(2), 123).decode(fh), FH_BAD, "other secret");
  assert.equal(new HandleCodec(secret, 124).decode(fh), FH_STALE, "other epoch, same secret");
  assert.throws(() => new HandleCodec(new Uint8Array(15), 1));
  assert.throws(() => new HandleCodec(secret, -1));
  assert.notDeepEqual(h.derive("fsid"), h.derive("cookieverf"));
  assert.deepEqual(h.derive("fsid"), new HandleCodec(secret, 123).derive("fsid"));
});

Deno.test("status map: every errno name has an nfsstat3", () => {
  for (const [name, status] of Object.entries(NFS3_STATUS)) {
    assert.ok(Number.isInteger(status) && status > 0, name);
  }
  assert.equal(NFS3_STATUS.ENOENT, 2);
  assert.equal(NFS3_STATUS.ESTALE, 70);
  assert.equal(NFS3_STATUS.EAGAIN, 10008);
  assert.equal(NFS3_STATUS.ENOTEMPTY, 66);
});

/** The call header of a golden frame, checked against README.md. */
function goldenHeader(rec: Uint8Array, prog: number, proc: number): RpcCall {
  const call = parseCall(rec);
  assert.ok(isCall(call), "golden frame parses as a call");
  assert.deepEqual([call.prog, call.vers, call.proc], [prog, 3, proc]);
  assert.deepEqual(call.cred, { flavor: AUTH_SYS, uid: 0, gid: 0, gids: [] });
  // bytes 36..47: machinename "(none)"
  assert.equal(new TextDecoder().decode(rec.subarray(40, 46)), "(none)");
  assert.equal(call.args.pos, 68, "arguments start after the AUTH_NONE verifier");
  return call;
}

function goldenHandle(call: RpcCall, ino: number): void {
  const fh = call.args.opaque(64);
  assert.equal(fh.length, 36);
  const v = new DataView(fh.buffer, fh.byteOffset, 36);
  assert.equal(fh[0], 1);
  assert.equal(v.getUint32(4) * 2 ** 32 + v.getUint32(8), GOLDEN_EPOCH);
  assert.equal(v.getUint32(16), ino);
  assert.equal(new HandleCodec(GOLDEN_SECRET, GOLDEN_EPOCH).decode(fh), ino, "MAC verifies");
}

Deno.test("golden frames from the Linux client decode field by field", async () => {
  const mnt = goldenHeader(await readGolden("mnt_call"), 100005, 1);
  const path = mnt.args.string(1024);
  assert.equal(path, `/vibe/golden/${[...GOLDEN_SECRET].map((b) => b.toString(16)).join("")}`);
  assert.equal(mnt.args.remaining, 0);

  const ga = goldenHeader(await readGolden("getattr_call"), 100003, 1);
  goldenHandle(ga, 1);
  assert.equal(ga.args.remaining, 0);

  const lk = goldenHeader(await readGolden("lookup_call"), 100003, 3);
  goldenHandle(lk, 1);
  assert.equal(lk.args.string(255), "hello.txt");
  assert.equal(lk.args.remaining, 0);

  const rdp = goldenHeader(await readGolden("readdirplus_call"), 100003, 17);
  goldenHandle(rdp, 1);
  assert.equal(rdp.args.u64(), 0, "cookie");
  assert.deepEqual(rdp.args.fixed(8), new Uint8Array(8), "cookieverf");
  assert.equal(rdp.args.u32(), 65536, "dircount");
  assert.equal(rdp.args.u32(), 65536, "maxcount");
  assert.equal(rdp.args.remaining, 0);

  const wr = goldenHeader(await readGolden("write_call"), 100003, 7);
  goldenHandle(wr, 3);
  assert.equal(wr.args.u64(), 0, "offset");
  assert.equal(wr.args.u32(), 13, "count");
  assert.equal(wr.args.u32(), 2, "stable FILE_SYNC");
  assert.equal(new TextDecoder().decode(wr.args.opaque(1 << 20)), "golden write\n");
  assert.equal(wr.args.remaining, 0);
});

Deno.test("golden frames replay against a server with the capture's secret", async () => {
  const vfs = new MemoryVfs();
  await vfs.create(1, "hello.txt", 0o644, { uid: 0, gid: 0 }, true); // inode 2
  await vfs.create(1, "written.txt", 0o644, { uid: 0, gid: 0 }, true); // inode 3
  const server = await serveNfs({
    vibeId: "golden",
    vfs,
    secret: GOLDEN_SECRET,
    epoch: GOLDEN_EPOCH,
    log: () => {},
  });
  const client = await NfsTestClient.connect(server.port);
  try {
    for (
      const name of ["mnt_call", "getattr_call", "lookup_call", "readdirplus_call", "write_call"]
    ) {
      const rec = await readGolden(name);
      const xid = new DataView(rec.buffer).getUint32(0);
      const rep = await client.sendRecord(rec, xid);
      assert.deepEqual([rep.accepted, rep.stat], [true, 0], name);
      assert.equal(rep.r.u32(), 0, `${name}: status OK`);
    }
    const back = await vfs.read(3, 0, 100);
    assert.equal(new TextDecoder().decode(back), "golden write\n");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("xdr: opaqueLast keeps a large aligned opaque as the tail, copies anything else", () => {
  const w = new XdrWriter(64);
  const small = new Uint8Array([1, 2, 3]);
  w.u32(7);
  w.opaqueLast(small);
  assert.equal(w.tailBytes, 0);
  assert.deepEqual([...w.finish()], [0, 0, 0, 7, 0, 0, 0, 3, 1, 2, 3, 0]);
  assert.equal(w.takeTail(), null);

  const big = new Uint8Array(TAIL_MIN).fill(9);
  w.u32(7);
  w.opaqueLast(big);
  assert.equal(w.tailBytes, big.length);
  assert.deepEqual([...w.finish()], [0, 0, 0, 7, 0, 1, 0, 0]);
  assert.equal(w.takeTail()!.bytes, big, "the caller's bytes, not a copy");
  assert.equal(w.takeTail(), null, "taken once");
  // The release callback: at once when copied, else handed over with the tail.
  let released = 0;
  w.opaqueLast(small, () => released++);
  assert.equal(released, 1);
  w.finish();
  w.opaqueLast(big, () => released++);
  assert.equal(released, 1);
  const t = w.takeTail()!;
  t.release!();
  assert.equal(released, 2);
  w.reset();

  // Unaligned: padding must follow, so it is copied in.
  const odd = new Uint8Array(TAIL_MIN + 1).fill(5);
  w.opaqueLast(odd);
  assert.equal(w.tailBytes, 0);
  const out = w.finish();
  assert.equal(out.length, xdrOpaqueSize(odd.length));
  const r = new XdrReader(out);
  assert.deepEqual(r.opaque(1 << 20), odd);

  // reset() drops a tail that was never taken.
  w.opaqueLast(big);
  w.reset();
  assert.equal(w.tailBytes, 0);
});
