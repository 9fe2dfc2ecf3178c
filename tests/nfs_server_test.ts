/**
 * The NFS server in process: `serveNfs` over a MemoryVfs on 127.0.0.1:0,
 * driven by the test RPC client (tests/helpers/nfs_client.ts) through every
 * MOUNT and NFSv3 procedure, their error cases, RPC-level rejections, the
 * duplicate request cache, concurrency on one connection, and a restart
 * with the same secret and epoch (old handles keep working).
 */
import assert from "node:assert/strict";
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import type { Vfs } from "../src/vfs/vfs.ts";
import { type NfsServer, serveNfs } from "../src/nfs/mod.ts";
import { XdrWriter } from "../src/nfs/xdr.ts";
import { writeCallHeader } from "../src/nfs/rpc.ts";
import {
  ACCESS3_DELETE,
  ACCESS3_EXECUTE,
  ACCESS3_EXTEND,
  ACCESS3_LOOKUP,
  ACCESS3_MODIFY,
  ACCESS3_READ,
} from "../src/nfs/nfs3_xdr.ts";
import { MOUNT_PROG, NFS_PROG, NfsTestClient, PMAP_PROG } from "./helpers/nfs_client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SECRET = new Uint8Array(16).map((_, i) => 0x5a ^ i);
const EPOCH = 1_700_000_000_000;
const ZERO8 = new Uint8Array(8);
const ALL_ACCESS = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND |
  ACCESS3_DELETE | ACCESS3_EXECUTE;

// nfsstat3 values used below
const OK = 0,
  NOENT = 2,
  EXIST = 17,
  NOTDIR = 20,
  ISDIR = 21,
  INVAL = 22,
  NAMETOOLONG = 63,
  NOTEMPTY = 66,
  STALE = 70,
  BADHANDLE = 10001,
  NOT_SYNC = 10002,
  BAD_COOKIE = 10003,
  NOTSUPP = 10004,
  TOOSMALL = 10005,
  BADTYPE = 10007;

interface Ctx {
  vfs: Vfs;
  server: NfsServer;
  client: NfsTestClient;
  root: Uint8Array;
  logs: string[];
}

async function start(vfs: Vfs, port = 0, opts: { priv?: boolean; epoch?: number } = {}) {
  const logs: string[] = [];
  const server = await serveNfs({
    vibeId: "t1",
    vfs,
    secret: SECRET,
    epoch: opts.epoch ?? EPOCH,
    port,
    log: (m) => logs.push(m),
    requirePrivilegedPort: opts.priv ?? false,
  });
  return { server, logs };
}

function nfsTest(
  name: string,
  fn: (c: Ctx) => Promise<void>,
  vfs: () => Vfs = () => new MemoryVfs(),
) {
  Deno.test(`nfs server: ${name}`, async () => {
    const v = vfs();
    const { server, logs } = await start(v);
    const client = await NfsTestClient.connect(server.port);
    try {
      const m = await client.mnt(server.exportPath);
      assert.equal(m.status, 0);
      await fn({ vfs: v, server, client, root: m.fh!, logs });
    } finally {
      await client.close();
      await server.close();
    }
  });
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

async function mkfile(c: Ctx, name: string, content = "", dir = c.root): Promise<Uint8Array> {
  const r = await c.client.create(dir, name, 0, { mode: 0o644 });
  assert.equal(r.status, OK, `create ${name}`);
  if (content) assert.equal((await c.client.write(r.fh!, 0, enc.encode(content), 2)).status, OK);
  return r.fh!;
}

nfsTest("MOUNT: exact export path only, nothing listed, portmap answers", async (c) => {
  const { client, server } = c;
  assert.deepEqual((await client.mnt(server.exportPath)).flavors, [1]);
  assert.equal((await client.mnt(server.exportPath + "/")).status, 0);
  for (
    const p of [
      "/",
      "/vibe",
      "/vibe/t1",
      server.exportPath + "x",
      server.exportPath.slice(0, -1),
      "",
    ]
  ) {
    assert.equal((await client.mnt(p)).status, 13, `MNT ${JSON.stringify(p)} must be ACCES`);
  }
  assert.ok(c.logs.some((l) => l.includes("MNT3ERR_ACCES")));
  assert.ok(!c.logs.some((l) => l.includes(server.exportPath.split("/")[3]!)), "secret not logged");
  // DUMP and EXPORT list nothing (the path is the secret).
  for (const proc of [2, 5]) {
    const rep = await client.call(MOUNT_PROG, 3, proc);
    assert.equal(rep.stat, 0);
    assert.equal(rep.r.u32(), 0);
  }
  for (const proc of [0, 4]) assert.equal((await client.call(MOUNT_PROG, 3, proc)).stat, 0);
  assert.equal((await client.call(MOUNT_PROG, 3, 3, (w) => w.string(server.exportPath))).stat, 0);
  // Portmapper GETPORT: this port for NFS v3 / MOUNT v3 over TCP, 0 otherwise.
  const getport = async (prog: number, vers: number, prot: number) => {
    const rep = await client.call(PMAP_PROG, 2, 3, (w) => {
      w.u32(prog);
      w.u32(vers);
      w.u32(prot);
      w.u32(0);
    });
    return rep.r.u32();
  };
  assert.equal(await getport(NFS_PROG, 3, 6), server.port);
  assert.equal(await getport(MOUNT_PROG, 3, 6), server.port);
  assert.equal(await getport(NFS_PROG, 4, 6), 0);
  assert.equal(await getport(NFS_PROG, 3, 17), 0);
  assert.equal((await client.call(PMAP_PROG, 2, 0)).stat, 0);
  assert.equal(
    server.exportPath,
    `/vibe/t1/${[...SECRET].map((b) => b.toString(16).padStart(2, "0")).join("")}`,
  );
});

nfsTest(
  "RPC rejections: PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, RPC_MISMATCH, AUTH_BADCRED",
  async (c) => {
    const { client } = c;
    const unavail = await client.call(100099, 1, 0);
    assert.deepEqual([unavail.accepted, unavail.stat], [true, 1]);
    const mism = await client.call(NFS_PROG, 4, 0);
    assert.deepEqual([mism.accepted, mism.stat, mism.extra], [true, 2, [3, 3]]);
    const mism2 = await client.call(MOUNT_PROG, 1, 0);
    assert.deepEqual([mism2.stat, mism2.extra], [2, [3, 3]]);
    const noproc = await client.call(NFS_PROG, 3, 22);
    assert.deepEqual([noproc.accepted, noproc.stat], [true, 3]);
    // Truncated arguments.
    const garbage = await client.call(NFS_PROG, 3, 1, (w) => w.u32(36));
    assert.deepEqual([garbage.accepted, garbage.stat], [true, 4]);
    // A handle longer than NFS3_FHSIZE is an XDR violation.
    const long = await client.call(NFS_PROG, 3, 1, (w) => w.opaque(new Uint8Array(65)));
    assert.equal(long.stat, 4);
    // RPC version 3.
    const w = new XdrWriter();
    w.u32(777);
    w.u32(0);
    w.u32(3);
    for (let i = 0; i < 7; i++) w.u32(0);
    const rpcv = await client.sendRecord(w.finish(), 777);
    assert.deepEqual([rpcv.accepted, rpcv.stat, rpcv.extra], [false, 0, [2, 2]]);
    // Unknown auth flavor (RPCSEC_GSS = 6).
    w.u32(778);
    w.u32(0);
    w.u32(2);
    w.u32(NFS_PROG);
    w.u32(3);
    w.u32(0);
    w.u32(6);
    w.u32(0);
    w.u32(0);
    w.u32(0);
    const auth = await client.sendRecord(w.finish(), 778);
    assert.deepEqual([auth.accepted, auth.stat, auth.extra], [false, 1, [1]]);
    // AUTH_NONE callers work (as nobody).
    const anon = await NfsTestClient.connect(c.server.port, { authNone: true });
    try {
      assert.equal((await anon.getattr(c.root)).status, OK);
    } finally {
      await anon.close();
    }
    assert.ok(c.server.stats().calls > 0);
  },
);

Deno.test("nfs server: requirePrivilegedPort answers AUTH_TOOWEAK from unprivileged ports", async () => {
  const { server } = await start(new MemoryVfs(), 0, { priv: true });
  const client = await NfsTestClient.connect(server.port);
  try {
    assert.equal((await client.call(NFS_PROG, 3, 0)).stat, 0, "NULL is always allowed");
    const rep = await client.call(MOUNT_PROG, 3, 1, (w) => w.string(server.exportPath));
    assert.deepEqual([rep.accepted, rep.stat, rep.extra], [false, 1, [5]]);
  } finally {
    await client.close();
    await server.close();
  }
});

nfsTest("every NFSv3 procedure on the happy path", async (c) => {
  const { client, root } = c;
  assert.equal((await client.call(NFS_PROG, 3, 0)).stat, 0);
  const ga = await client.getattr(root);
  assert.equal(ga.attr!.type, 2);
  assert.equal(ga.attr!.fileid, 1);

  // CREATE + WRITE (all three stabilities) + READ
  const cr = await client.create(root, "a.txt", 1, { mode: 0o640 });
  assert.equal(cr.status, OK);
  assert.equal(cr.attr!.mode, 0o640);
  assert.equal(cr.attr!.type, 1);
  assert.ok(cr.wcc.pre && cr.wcc.post, "create carries wcc of the directory");
  const fh = cr.fh!;
  const w1 = await client.write(fh, 0, enc.encode("hello "), 0);
  assert.deepEqual([w1.status, w1.count, w1.committed], [OK, 6, 0]);
  const w2 = await client.write(fh, 6, enc.encode("world"), 1);
  assert.deepEqual([w2.status, w2.committed], [OK, 1]);
  const w3 = await client.write(fh, 11, enc.encode("!"), 2);
  assert.deepEqual([w3.status, w3.committed], [OK, 2]);
  assert.deepEqual(w1.verf, w3.verf, "one write verifier per server run");
  assert.equal(w3.wcc.pre!.size, 11);
  assert.equal(w3.wcc.post!.size, 12);
  const rd = await client.read(fh, 0, 100);
  assert.equal(dec.decode(rd.data), "hello world!");
  assert.equal(rd.eof, true);
  const part = await client.read(fh, 0, 5);
  assert.deepEqual([dec.decode(part.data), part.eof], ["hello", false]);
  const past = await client.read(fh, 100, 5);
  assert.deepEqual([past.status, past.data.length, past.eof], [OK, 0, true]);
  const cm = await client.commit(fh);
  assert.equal(cm.status, OK);
  assert.deepEqual(cm.verf, w1.verf);

  // SETATTR: mode, size, times
  const sa = await client.setattr(fh, { mode: 0o600, size: 5, mtime: { sec: 1_000_000, nsec: 5 } });
  assert.equal(sa.status, OK);
  assert.deepEqual([sa.wcc.pre!.size, sa.wcc.post!.size, sa.wcc.post!.mode], [12, 5, 0o600]);
  assert.deepEqual(sa.wcc.post!.mtime, { sec: 1_000_000, nsec: 5 });

  // LOOKUP, including "." and ".."
  const lk = await client.lookup(root, "a.txt");
  assert.equal(lk.status, OK);
  assert.deepEqual(lk.fh, fh, "LOOKUP gives the same handle as CREATE");
  assert.equal(lk.dirAttr!.fileid, 1);
  const md = await client.mkdir(root, "d", { mode: 0o750 });
  assert.equal(md.status, OK);
  assert.equal(md.attr!.mode, 0o750);
  assert.equal((await client.lookup(md.fh!, "..")).attr!.fileid, 1);
  assert.equal((await client.lookup(md.fh!, ".")).attr!.fileid, md.attr!.fileid);
  assert.equal((await client.lookup(root, "..")).attr!.fileid, 1);

  // ACCESS as root
  assert.equal(
    (await client.access(fh, ALL_ACCESS)).access,
    ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND,
  );
  assert.equal(
    (await client.access(md.fh!, ALL_ACCESS)).access,
    ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE,
  );

  // SYMLINK + READLINK
  const sl = await client.symlink(root, "ln", "a.txt");
  assert.equal(sl.status, OK);
  assert.equal(sl.attr!.type, 5);
  assert.equal((await client.readlink(sl.fh!)).path, "a.txt");

  // MKNOD: FIFO and socket; devices unsupported; REG is a bad type
  const fifo = await client.mknod(root, "p", 7, { mode: 0o600 });
  assert.deepEqual([fifo.status, fifo.attr!.type, fifo.attr!.mode], [OK, 7, 0o600]);
  const sock = await client.mknod(root, "s", 6);
  assert.deepEqual([sock.status, sock.attr!.type], [OK, 6]);
  assert.equal((await client.mknod(root, "c", 4)).status, NOTSUPP);
  assert.equal((await client.mknod(root, "b", 3)).status, NOTSUPP);
  assert.equal((await client.mknod(root, "r", 1)).status, BADTYPE);

  // LINK
  const ln = await client.link(fh, md.fh!, "hard");
  assert.equal(ln.status, OK);
  assert.equal(ln.attr!.nlink, 2);
  assert.ok(ln.wcc.pre && ln.wcc.post);

  // RENAME within and across directories
  const rn = await client.rename(root, "a.txt", md.fh!, "b.txt");
  assert.equal(rn.status, OK);
  assert.ok(rn.from.pre && rn.from.post && rn.to.pre && rn.to.post);
  assert.equal((await client.lookup(root, "a.txt")).status, NOENT);
  assert.deepEqual((await client.lookup(md.fh!, "b.txt")).fh, fh);

  // READDIR / READDIRPLUS
  const ls = await client.readdir(md.fh!, 0, ZERO8, 4096);
  assert.equal(ls.status, OK);
  assert.deepEqual(ls.entries.map((e) => e.name).sort(), [".", "..", "b.txt", "hard"]);
  assert.deepEqual(ls.entries.slice(0, 2).map((e) => e.cookie), [1, 2]);
  assert.equal(ls.eof, true);
  const lp = await client.readdir(md.fh!, 0, ZERO8, 8192, true, 1024);
  assert.equal(lp.status, OK);
  const b = lp.entries.find((e) => e.name === "b.txt")!;
  assert.deepEqual(b.fh, fh);
  assert.equal(b.attr!.nlink, 2);
  assert.equal(lp.entries.find((e) => e.name === "..")!.fileid, 1);

  // REMOVE, RMDIR
  assert.equal((await client.remove(md.fh!, "hard")).status, OK);
  assert.equal((await client.getattr(fh)).attr!.nlink, 1);
  assert.equal((await client.remove(md.fh!, "b.txt")).status, OK);
  const rmd = await client.rmdir(root, "d");
  assert.equal(rmd.status, OK);
  assert.ok(rmd.wcc.pre && rmd.wcc.post);

  // FSSTAT, FSINFO, PATHCONF
  const fs = await client.fsstat(root);
  assert.equal(fs.status, OK);
  assert.ok(fs.values[0]! > 0 && fs.values[3]! > 0);
  const fi = await client.fsinfo(root);
  assert.equal(fi.status, OK);
  assert.deepEqual(fi.values.slice(0, 7), [1 << 20, 1 << 20, 4096, 1 << 20, 1 << 20, 4096, 65536]);
  assert.deepEqual(fi.values.slice(8), [0, 1], "time_delta 1 ns");
  assert.equal(fi.properties, 0x1 | 0x2 | 0x8 | 0x10);
  const pc = await client.pathconf(root);
  assert.deepEqual(pc.values, [65000, 255, 1, 1, 0, 1]);

  const st = c.server.stats();
  for (
    const p of [
      "NULL",
      "GETATTR",
      "SETATTR",
      "LOOKUP",
      "ACCESS",
      "READLINK",
      "READ",
      "WRITE",
      "CREATE",
      "MKDIR",
      "SYMLINK",
      "MKNOD",
      "REMOVE",
      "RMDIR",
      "RENAME",
      "LINK",
      "READDIR",
      "READDIRPLUS",
      "FSSTAT",
      "FSINFO",
      "PATHCONF",
      "COMMIT",
    ]
  ) {
    assert.ok((st.byProc[`nfs3.${p}`] ?? 0) > 0, `stats count ${p}`);
  }
  assert.equal(st.connections, 1);
});

nfsTest(
  "error statuses: BADHANDLE, STALE, NOT_SYNC, EXIST, NOTEMPTY, NOTDIR, ISDIR, NAMETOOLONG …",
  async (c) => {
    const { client, root } = c;
    const fh = await mkfile(c, "f", "data");
    // Forged and malformed handles
    const forged = fh.slice();
    forged[35]! ^= 1;
    assert.equal((await client.getattr(forged)).status, BADHANDLE);
    const forgedIno = fh.slice();
    forgedIno[19] = 1; // claims the root inode with f's MAC
    assert.equal((await client.getattr(forgedIno)).status, BADHANDLE);
    assert.equal((await client.getattr(fh.subarray(0, 20))).status, BADHANDLE);
    assert.equal((await client.getattr(new Uint8Array(0))).status, BADHANDLE);
    assert.equal(
      (await client.getattr(crypto.getRandomValues(new Uint8Array(36)))).status,
      BADHANDLE,
    );
    assert.equal((await client.write(forged, 0, enc.encode("x"))).status, BADHANDLE);
    assert.equal((await client.lookup(forged, "f")).status, BADHANDLE);

    // STALE after REMOVE (file) and RMDIR (dir)
    assert.equal((await client.remove(root, "f")).status, OK);
    assert.equal((await client.getattr(fh)).status, STALE);
    assert.equal((await client.read(fh, 0, 10)).status, STALE);
    const d = (await client.mkdir(root, "dd")).fh!;
    assert.equal((await client.rmdir(root, "dd")).status, OK);
    assert.equal((await client.getattr(d)).status, STALE);
    assert.equal((await client.readdir(d, 0, ZERO8, 4096)).status, STALE);
    assert.equal((await client.create(d, "x", 0)).status, STALE);
    // A file replaced by RENAME goes stale too; the renamed one keeps its handle.
    const a = await mkfile(c, "a", "A");
    const b = await mkfile(c, "b", "B");
    assert.equal((await client.rename(root, "a", root, "b")).status, OK);
    assert.equal((await client.getattr(b)).status, STALE);
    assert.equal(dec.decode((await client.read(a, 0, 10)).data), "A");
    // …but a file that still has a link elsewhere does not.
    const h = await mkfile(c, "h", "H");
    assert.equal((await client.link(h, root, "h2")).status, OK);
    assert.equal((await client.remove(root, "h")).status, OK);
    assert.equal((await client.getattr(h)).attr!.nlink, 1);

    // SETATTR guard
    const g = await client.getattr(a);
    const wrong = { sec: g.attr!.ctime.sec, nsec: (g.attr!.ctime.nsec + 1) % 1e9 };
    const ns = await client.setattr(a, { mode: 0o600 }, wrong);
    assert.equal(ns.status, NOT_SYNC);
    assert.ok(ns.wcc.pre, "NOT_SYNC carries the pre-op attributes");
    assert.equal((await client.getattr(a)).attr!.mode, 0o644, "guard failure changes nothing");
    assert.equal((await client.setattr(a, { mode: 0o600 }, g.attr!.ctime)).status, OK);

    // CREATE GUARDED on an existing name; UNCHECKED truncates when asked
    const ex = await client.create(root, "b", 1); // "b" is file a since the rename
    assert.equal(ex.status, EXIST);
    assert.ok(ex.wcc.pre && ex.wcc.post, "failure carries the directory's wcc");
    const un = await client.create(root, "b", 0, { size: 0 });
    assert.equal(un.status, OK);
    assert.deepEqual(un.fh, a);
    assert.equal(un.attr!.size, 0);

    // EXCLUSIVE: a retransmission with the same verifier succeeds, another verifier is EXIST
    const verf = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const e1 = await client.create(root, "x", 2, {}, verf);
    assert.equal(e1.status, OK);
    const e2 = await client.create(root, "x", 2, {}, verf);
    assert.equal(e2.status, OK);
    assert.deepEqual(e2.fh, e1.fh);
    assert.equal((await client.create(root, "x", 2, {}, new Uint8Array(8).fill(9))).status, EXIST);
    // after the client sets real attributes, the verifier is gone
    assert.equal(
      (await client.setattr(e1.fh!, { mode: 0o644, mtime: "now", atime: "now" })).status,
      OK,
    );
    assert.equal((await client.create(root, "x", 2, {}, verf)).status, EXIST);

    // Directories
    const dir = (await client.mkdir(root, "full")).fh!;
    await mkfile(c, "inner", "", dir);
    assert.equal((await client.rmdir(root, "full")).status, NOTEMPTY);
    assert.equal((await client.mkdir(root, "full")).status, EXIST);
    const empty = (await client.mkdir(root, "empty")).fh!;
    assert.equal((await client.rename(root, "empty", root, "full")).status, NOTEMPTY);
    assert.equal((await client.rename(root, "full", dir, "sub")).status, INVAL, "into itself");
    assert.equal((await client.lookup(a, "x")).status, NOTDIR);
    assert.equal((await client.create(a, "x", 0)).status, NOTDIR);
    assert.equal((await client.readdir(a, 0, ZERO8, 4096)).status, NOTDIR);
    assert.equal((await client.read(dir, 0, 10)).status, ISDIR);
    assert.equal((await client.write(dir, 0, enc.encode("x"))).status, ISDIR);
    assert.equal((await client.remove(root, "full")).status, ISDIR);
    assert.equal((await client.rmdir(root, "b")).status, NOTDIR);
    assert.equal((await client.link(dir, root, "dl")).status, 1, "hard link to a dir is PERM");
    assert.equal((await client.lookup(root, "nope")).status, NOENT);
    const miss = await client.lookup(root, "nope");
    assert.equal(miss.dirAttr!.fileid, 1, "failed LOOKUP carries the directory's attributes");
    assert.equal((await client.remove(root, "nope")).status, NOENT);
    assert.equal((await client.lookup(root, "n".repeat(256))).status, NAMETOOLONG);
    assert.equal((await client.create(root, "n".repeat(256), 0)).status, NAMETOOLONG);
    assert.equal((await client.create(root, "a/b", 0)).status, INVAL);
    assert.equal((await client.remove(root, ".")).status, INVAL);
    assert.equal((await client.readlink(a)).status, INVAL);
    assert.equal((await client.setattr(dir, { size: 0 })).status, ISDIR);
    void empty;
    // Invalid UTF-8 in a name is INVAL, not garbage.
    const bad = await client.nfs(3, (w) => {
      w.opaque(root);
      w.opaque(new Uint8Array([0x66, 0xff, 0xfe]));
    });
    assert.equal(bad.status, INVAL);

    // READDIR: TOOSMALL, BAD_COOKIE
    assert.equal((await client.readdir(root, 0, ZERO8, 100)).status, TOOSMALL);
    assert.equal((await client.readdir(root, 0, ZERO8, 200, true, 200)).status, TOOSMALL);
    const l1 = await client.readdir(root, 0, ZERO8, 4096);
    assert.equal(
      (await client.readdir(root, 3, new Uint8Array(8).fill(1), 4096)).status,
      BAD_COOKIE,
    );
    assert.equal((await client.readdir(root, 2 ** 60, l1.verf, 4096)).status, BAD_COOKIE);
    assert.equal((await client.readdir(root, 3, l1.verf, 4096)).status, OK);
    assert.equal(
      (await client.readdir(root, 3, ZERO8, 4096)).status,
      OK,
      "a zero verifier is accepted",
    );
    assert.equal(c.logs.filter((l) => l.includes("SERVERFAULT")).length, 0, c.logs.join("\n"));
  },
);

nfsTest("ACCESS follows mode bits, owner, group and supplementary groups", async (c) => {
  const { root, server } = c;
  const fh = await mkfile(c, "f");
  const dir = (await c.client.mkdir(root, "d", { mode: 0o750 })).fh!;
  const want = ALL_ACCESS;
  assert.equal((await c.client.setattr(fh, { uid: 1000, gid: 100, mode: 0o754 })).status, OK);
  assert.equal((await c.client.setattr(dir, { uid: 1000, gid: 100 })).status, OK);
  const as = async (uid: number, gid: number, gids: number[], h: Uint8Array) => {
    const cl = await NfsTestClient.connect(server.port, { uid, gid, gids });
    try {
      return (await cl.access(h, want)).access;
    } finally {
      await cl.close();
    }
  };
  const R = ACCESS3_READ, W = ACCESS3_MODIFY | ACCESS3_EXTEND, X = ACCESS3_EXECUTE;
  assert.equal(await as(1000, 1, [], fh), R | W | X);
  assert.equal(await as(2000, 100, [], fh), R | X);
  assert.equal(await as(2000, 5, [7, 100], fh), R | X);
  assert.equal(await as(2000, 5, [], fh), R);
  assert.equal(await as(1000, 1, [], dir), R | ACCESS3_LOOKUP | W | ACCESS3_DELETE);
  assert.equal(await as(2000, 100, [], dir), R | ACCESS3_LOOKUP);
  assert.equal(await as(2000, 5, [], dir), 0);
  // root: everything but EXECUTE on a file without execute bits
  assert.equal((await c.client.setattr(fh, { mode: 0o644 })).status, OK);
  assert.equal(await as(0, 0, [], fh), R | W);
  // creations are owned by the caller
  const cl = await NfsTestClient.connect(server.port, { uid: 1234, gid: 567 });
  try {
    const cr = await cl.create(root, "mine", 1, { mode: 0o600 });
    assert.deepEqual([cr.attr!.uid, cr.attr!.gid], [1234, 567]);
  } finally {
    await cl.close();
  }
});

nfsTest(
  "READDIR and READDIRPLUS page 2,000 entries with small counts: every entry once",
  async (c) => {
    const { client, root, vfs } = c;
    const dir = (await client.mkdir(root, "big")).fh!;
    const dirIno = (await client.getattr(dir)).attr!.fileid;
    const expected = new Map<string, number>();
    const caller = { uid: 0, gid: 0 };
    for (let i = 0; i < 1900; i++) {
      const a = await vfs.create(dirIno, `file-${i}-${"x".repeat(i % 23)}`, 0o644, caller, true);
      expected.set(`file-${i}-${"x".repeat(i % 23)}`, a.ino);
    }
    // 100 hard links to 10 files: each name is its own entry.
    for (let i = 0; i < 100; i++) {
      const target = expected.get(`file-${i % 10}-${"x".repeat(i % 10 % 23)}`)!;
      await vfs.link(target, dirIno, `link-${i}`);
      expected.set(`link-${i}`, target);
    }
    expected.set(".", dirIno);
    expected.set("..", 1);
    for (const [plus, count] of [[false, 512], [false, 1000], [true, 700], [true, 4096]] as const) {
      const seen = new Map<string, number>();
      let cookie = 0;
      let verf: Uint8Array = ZERO8;
      let pages = 0;
      for (;;) {
        const page = await client.readdir(dir, cookie, verf, count, plus, plus ? 600 : count);
        assert.equal(page.status, OK);
        assert.ok(page.bytes <= count, `reply of ${page.bytes} bytes exceeds count ${count}`);
        assert.ok(page.entries.length > 0 || page.eof);
        pages++;
        for (const e of page.entries) {
          assert.ok(!seen.has(e.name), `entry ${e.name} listed twice (plus=${plus})`);
          seen.set(e.name, e.fileid);
          if (plus) {
            assert.equal(e.attr!.fileid, e.fileid);
            assert.ok(e.fh && e.fh.length === 36);
          }
        }
        if (page.eof) break;
        cookie = page.entries.at(-1)!.cookie;
        verf = page.verf;
      }
      assert.equal(seen.size, expected.size, `plus=${plus} count=${count}`);
      for (const [name, ino] of expected) assert.equal(seen.get(name), ino, name);
      assert.ok(pages > 10, `small pages (${pages})`);
    }
    // Resumption across changes: entries that stay put are listed exactly once.
    const seen = new Set<string>();
    let cookie = 0;
    let verf: Uint8Array = ZERO8;
    let round = 0;
    for (;;) {
      const page = await client.readdir(dir, cookie, verf, 800);
      for (const e of page.entries) {
        assert.ok(!seen.has(e.name), `${e.name} repeated`);
        seen.add(e.name);
      }
      if (page.eof) break;
      cookie = page.entries.at(-1)!.cookie;
      verf = page.verf;
      // churn: remove an early file, add a new one
      round++;
      await vfs.unlink(dirIno, `file-${1000 + round}-${"x".repeat((1000 + round) % 23)}`);
      await vfs.create(dirIno, `new-${round}`, 0o644, caller, true);
    }
    for (let i = 1200; i < 1900; i++) assert.ok(seen.has(`file-${i}-${"x".repeat(i % 23)}`));
    for (let r = 1; r <= round; r++) {
      assert.ok(
        seen.has(`new-${r}`),
        "entries added meanwhile show up",
      );
    }
  },
);

nfsTest("a slow READ does not block a GETATTR on the same connection", async (c) => {
  const fh = await mkfile(c, "slow", "abc");
  const vfs = c.vfs as MemoryVfs;
  const origRead = vfs.read.bind(vfs);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  vfs.read = async (ino, off, len) => {
    await gate;
    return await origRead(ino, off, len);
  };
  const order: string[] = [];
  const reading = c.client.read(fh, 0, 3).then((r) => {
    order.push("read");
    return r;
  });
  await new Promise((r) => setTimeout(r, 20));
  const ga = await c.client.getattr(fh);
  order.push("getattr");
  assert.equal(ga.status, OK);
  release();
  assert.equal(dec.decode((await reading).data), "abc");
  assert.deepEqual(order, ["getattr", "read"]);
});

nfsTest("WRITE stability and COMMIT reach vfs.fsync as documented", async (c) => {
  const fh = await mkfile(c, "s");
  const vfs = c.vfs as MemoryVfs;
  const calls: string[] = [];
  const orig = vfs.fsync.bind(vfs);
  vfs.fsync = (ino, dataOnly) => {
    calls.push(dataOnly ? "data" : "full");
    return orig(ino, dataOnly);
  };
  assert.equal((await c.client.write(fh, 0, enc.encode("u"), 0)).committed, 0);
  assert.deepEqual(calls, []);
  assert.equal((await c.client.write(fh, 0, enc.encode("d"), 1)).committed, 1);
  assert.deepEqual(calls, ["data"]);
  assert.equal((await c.client.write(fh, 0, enc.encode("f"), 2)).committed, 2);
  assert.deepEqual(calls, ["data", "full"]);
  await c.client.commit(fh);
  assert.deepEqual(calls, ["data", "full", "full"]);
});

nfsTest(
  "duplicate request cache: a retransmitted CREATE GUARDED is answered, not re-run",
  async (c) => {
    const w = new XdrWriter();
    const xid = 0x7777;
    writeCallHeader(w, xid, NFS_PROG, 3, 8, { uid: 0, gid: 0 });
    w.opaque(c.root);
    w.string("once");
    w.u32(1); // GUARDED
    for (let i = 0; i < 6; i++) w.u32(0);
    const rec = w.finish();
    const first = await c.client.sendRecord(rec, xid);
    assert.equal(first.r.u32(), OK);
    // Retransmission on a new connection (as after a reconnect).
    const again = await NfsTestClient.connect(c.server.port);
    try {
      const second = await again.sendRecord(rec, xid);
      assert.equal(second.r.u32(), OK, "answered from the DRC, not EXIST");
    } finally {
      await again.close();
    }
    // A new xid is a new call.
    const w2 = new XdrWriter();
    writeCallHeader(w2, xid + 1, NFS_PROG, 3, 8, { uid: 0, gid: 0 });
    w2.opaque(c.root);
    w2.string("once");
    w2.u32(1);
    for (let i = 0; i < 6; i++) w2.u32(0);
    assert.equal((await c.client.sendRecord(w2.finish(), xid + 1)).r.u32(), EXIST);
  },
);

nfsTest("multi-fragment records and pipelined calls", async (c) => {
  const fh = await mkfile(c, "frag");
  const data = randomBytes(300_000);
  const w = new XdrWriter();
  const xid = 0x9999;
  writeCallHeader(w, xid, NFS_PROG, 3, 7, { uid: 0, gid: 0 });
  w.opaque(fh);
  w.u64(0);
  w.u32(data.length);
  w.u32(2);
  w.opaque(data);
  const rep = await c.client.sendRecord(w.finish(), xid, 1000);
  assert.equal(rep.r.u32(), OK);
  const back = await c.client.read(fh, 0, data.length);
  assert.deepEqual(back.data, data);
  // Large READ replies go out as a header and the data itself (not copied);
  // pipelined with small replies, each record stays whole and in one piece.
  const mixed = await Promise.all(
    Array.from(
      { length: 24 },
      (_, i) =>
        i % 3 === 2
          ? c.client.getattr(fh).then((r) => r.attr!.size)
          : c.client.read(fh, i * 4096, 65536 + (i % 2) * 65536 + (i % 4) * 2).then((r) => r.data),
    ),
  );
  mixed.forEach((got, i) => {
    if (i % 3 === 2) assert.equal(got, data.length);
    else {
      const len = 65536 + (i % 2) * 65536 + (i % 4) * 2;
      assert.deepEqual(got, data.subarray(i * 4096, i * 4096 + len), `read ${i}`);
    }
  });
  // 200 calls in flight at once on one connection.
  const all = await Promise.all(Array.from({ length: 200 }, () => c.client.getattr(fh)));
  assert.ok(all.every((r) => r.status === OK && r.attr!.size === data.length));
});

Deno.test("nfs server: restart with the same secret and epoch keeps handles valid", async () => {
  const vfs = new MemoryVfs();
  const first = await start(vfs);
  const port = first.server.port;
  let client = await NfsTestClient.connect(port);
  const root = (await client.mnt(first.server.exportPath)).fh!;
  const d = (await client.mkdir(root, "dir")).fh!;
  const f = (await client.create(d, "file", 0, { mode: 0o644 })).fh!;
  await client.write(f, 0, enc.encode("persisted"), 2);
  const verf1 = (await client.commit(f)).verf;
  const cookies = await client.readdir(d, 0, ZERO8, 4096);
  await client.close();
  await first.server.close();

  const second = await start(vfs, port);
  try {
    client = await NfsTestClient.connect(port);
    assert.equal(second.server.port, port);
    // No MNT needed: the old handles work as they are.
    assert.equal((await client.getattr(root)).status, OK);
    assert.equal(dec.decode((await client.read(f, 0, 100)).data), "persisted");
    assert.equal((await client.lookup(d, "file")).status, OK);
    const verf2 = (await client.commit(f)).verf;
    assert.notDeepEqual(verf1, verf2, "a new server run has a new write verifier");
    // Cookies and the cookie verifier survive too.
    const resumed = await client.readdir(d, cookies.entries[1]!.cookie, cookies.verf, 4096);
    assert.equal(resumed.status, OK);
    assert.deepEqual(resumed.entries.map((e) => e.name), ["file"]);
    await client.close();
  } finally {
    await second.server.close();
  }
  // Another epoch of the same secret: genuine but stale handles.
  const third = await start(vfs, port, { epoch: EPOCH + 1 });
  try {
    client = await NfsTestClient.connect(port);
    assert.equal((await client.getattr(f)).status, STALE);
    await client.close();
  } finally {
    await third.server.close();
  }
});
