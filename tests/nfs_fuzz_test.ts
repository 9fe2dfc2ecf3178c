/**
 * Fuzzing the NFS server: random byte streams, random and mutated records
 * (valid calls of every procedure with bytes flipped, truncated or
 * extended), oversized and truncated records, all while a witness client
 * keeps working on its own connection. The server must stay up, answer the
 * witness correctly, never log an internal fault (SYSTEM_ERR/SERVERFAULT),
 * and keep memory bounded. The PRNG is seeded; the seed is printed on failure.
 */
import assert from "node:assert/strict";
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import { serveNfs } from "../src/nfs/mod.ts";
import { frameRecord } from "../src/nfs/record.ts";
import { writeCallHeader } from "../src/nfs/rpc.ts";
import { putSattr } from "../src/nfs/nfs3_xdr.ts";
import { XdrWriter } from "../src/nfs/xdr.ts";
import { MOUNT_PROG, NFS_PROG, NfsTestClient, PMAP_PROG } from "./helpers/nfs_client.ts";

const SEED = Number(Deno.env.get("NFS_FUZZ_SEED") ?? Date.now() % 1_000_000);

/** xorshift32: deterministic per seed. */
function prng(seed: number) {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    u32: next,
    below: (n: number) => next() % n,
    bytes: (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

/** Argument writers for a valid call of every procedure of every program. */
function validCalls(root: Uint8Array, file: Uint8Array, dir: Uint8Array, exportPath: string) {
  const fh = (w: XdrWriter, h: Uint8Array) => w.opaque(h);
  const calls: Array<[number, number, number, (w: XdrWriter) => void]> = [
    [NFS_PROG, 3, 0, () => {}],
    [NFS_PROG, 3, 1, (w) => fh(w, file)],
    [NFS_PROG, 3, 2, (w) => {
      fh(w, file);
      putSattr(w, { mode: 0o644, mtime: "now" });
      w.u32(0);
    }],
    [NFS_PROG, 3, 3, (w) => {
      fh(w, root);
      w.string("f");
    }],
    [NFS_PROG, 3, 4, (w) => {
      fh(w, file);
      w.u32(0x3f);
    }],
    [NFS_PROG, 3, 5, (w) => fh(w, file)],
    [NFS_PROG, 3, 6, (w) => {
      fh(w, file);
      w.u64(0);
      w.u32(4096);
    }],
    [NFS_PROG, 3, 7, (w) => {
      fh(w, file);
      w.u64(10);
      w.u32(5);
      w.u32(0);
      w.opaque(new TextEncoder().encode("fuzzy"));
    }],
    [NFS_PROG, 3, 8, (w) => {
      fh(w, dir);
      w.string("c");
      w.u32(0);
      putSattr(w, { mode: 0o600 });
    }],
    [NFS_PROG, 3, 9, (w) => {
      fh(w, dir);
      w.string("m");
      putSattr(w, {});
    }],
    [NFS_PROG, 3, 10, (w) => {
      fh(w, dir);
      w.string("s");
      putSattr(w, {});
      w.string("target");
    }],
    [NFS_PROG, 3, 11, (w) => {
      fh(w, dir);
      w.string("p");
      w.u32(7);
      putSattr(w, {});
    }],
    [NFS_PROG, 3, 12, (w) => {
      fh(w, dir);
      w.string("c");
    }],
    [NFS_PROG, 3, 13, (w) => {
      fh(w, dir);
      w.string("m");
    }],
    [NFS_PROG, 3, 14, (w) => {
      fh(w, dir);
      w.string("s");
      fh(w, dir);
      w.string("s2");
    }],
    [NFS_PROG, 3, 15, (w) => {
      fh(w, file);
      fh(w, dir);
      w.string("l");
    }],
    [NFS_PROG, 3, 16, (w) => {
      fh(w, dir);
      w.u64(0);
      w.fixed(new Uint8Array(8));
      w.u32(4096);
    }],
    [NFS_PROG, 3, 17, (w) => {
      fh(w, dir);
      w.u64(0);
      w.fixed(new Uint8Array(8));
      w.u32(1024);
      w.u32(8192);
    }],
    [NFS_PROG, 3, 18, (w) => fh(w, root)],
    [NFS_PROG, 3, 19, (w) => fh(w, root)],
    [NFS_PROG, 3, 20, (w) => fh(w, root)],
    [NFS_PROG, 3, 21, (w) => {
      fh(w, file);
      w.u64(0);
      w.u32(0);
    }],
    [MOUNT_PROG, 3, 0, () => {}],
    [MOUNT_PROG, 3, 1, (w) => w.string(exportPath)],
    [MOUNT_PROG, 3, 2, () => {}],
    [MOUNT_PROG, 3, 3, (w) => w.string(exportPath)],
    [MOUNT_PROG, 3, 4, () => {}],
    [MOUNT_PROG, 3, 5, () => {}],
    [PMAP_PROG, 2, 3, (w) => {
      w.u32(NFS_PROG);
      w.u32(3);
      w.u32(6);
      w.u32(0);
    }],
    [PMAP_PROG, 2, 4, () => {}],
  ];
  return calls;
}

async function sendAndForget(port: number, bytes: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    // Drain whatever comes back until the server closes or we give up.
    const buf = new Uint8Array(65536);
    const timer = setTimeout(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    }, 100);
    try {
      while ((await conn.read(buf)) !== null) { /* discard */ }
    } catch { /* closed by us */ }
    clearTimeout(timer);
  } catch {
    /* the server may close first */
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test(`nfs fuzz: garbage never crashes the server or disturbs other clients (seed ${SEED})`, async () => {
  const rnd = prng(SEED);
  const logs: string[] = [];
  const vfs = new MemoryVfs();
  const server = await serveNfs({
    vibeId: "fuzz",
    vfs,
    secret: new Uint8Array(32).fill(3),
    epoch: 42,
    log: (m) => logs.push(m),
  });
  const witness = await NfsTestClient.connect(server.port);
  let stop = false;
  try {
    const root = (await witness.mnt(server.exportPath)).fh!;
    const file = (await witness.create(root, "f", 0, { mode: 0o644 })).fh!;
    await witness.write(file, 0, new TextEncoder().encode("witness data"), 2);
    const dir = (await witness.mkdir(root, "d")).fh!;
    const victim = (await witness.create(root, "v", 0, { mode: 0o644 })).fh!;
    const checkWitness = async () => {
      const r = await witness.read(file, 0, 12);
      assert.equal(new TextDecoder().decode(r.data), "witness data", `seed ${SEED}`);
    };
    const rssBefore = Deno.memoryUsage().rss;

    // Keep the witness busy in parallel with everything below.
    let witnessCalls = 0;
    let witnessError: unknown = null;
    const witnessLoop = (async () => {
      try {
        while (!stop) {
          await checkWitness();
          witnessCalls++;
          await new Promise((r) => setTimeout(r, 2));
        }
      } catch (e) {
        witnessError = e;
      }
    })();

    // 1. Random byte streams (random record marks: huge, tiny, non-last fragments).
    await Promise.all(
      Array.from({ length: 40 }, () => sendAndForget(server.port, rnd.bytes(1 + rnd.below(3000)))),
    );

    // 2. Well-framed random records (not even RPC calls, or calls with random bodies).
    const c2 = await NfsTestClient.connect(server.port);
    for (let i = 0; i < 300; i++) {
      const payload = rnd.bytes(rnd.below(600));
      if (i % 2 === 0 && payload.length >= 24) {
        const v = new DataView(payload.buffer);
        v.setUint32(4, 0); // CALL
        v.setUint32(8, 2); // RPC v2
        v.setUint32(12, [NFS_PROG, MOUNT_PROG, PMAP_PROG][i % 3]!);
        v.setUint32(16, [3, 3, 2][i % 3]!);
        v.setUint32(20, rnd.below(25));
      }
      await c2.sendRaw(frameRecord(payload, 1 + rnd.below(700)));
    }
    // The connection is still in sync: a NULL call is answered.
    assert.equal((await c2.call(NFS_PROG, 3, 0)).stat, 0, `seed ${SEED}`);
    await c2.close();

    // 3. Mutated valid calls of every procedure.
    const calls = validCalls(root, victim, dir, server.exportPath);
    const c3 = await NfsTestClient.connect(server.port);
    let xid = 0x10000;
    for (let round = 0; round < 40; round++) {
      for (const [prog, vers, proc, args] of calls) {
        const w = new XdrWriter();
        writeCallHeader(w, ++xid, prog, vers, proc, { uid: 0, gid: 0 });
        args(w);
        let body = w.finish();
        const mode = rnd.below(4);
        if (mode === 0) body = body.subarray(0, rnd.below(body.length + 1));
        else if (mode === 1) {
          body = body.slice();
          for (let k = 0, n = 1 + rnd.below(8); k < n; k++) {
            body[24 + rnd.below(Math.max(1, body.length - 24))] = rnd.u32() & 0xff;
          }
        } else if (mode === 2) {
          const ext = new Uint8Array(body.length + rnd.below(64));
          ext.set(body);
          ext.set(rnd.bytes(ext.length - body.length), body.length);
          body = ext;
        } else {
          const cut = Math.min(body.length, 40 + rnd.below(Math.max(1, body.length - 40)));
          const rep = new Uint8Array(cut + rnd.below(200));
          rep.set(body.subarray(0, cut));
          rep.set(rnd.bytes(rep.length - cut), cut);
          body = rep;
        }
        await c3.sendRaw(frameRecord(body));
      }
    }
    assert.equal((await c3.call(NFS_PROG, 3, 0)).stat, 0, `seed ${SEED}`);
    await c3.close();

    // 4. Oversized records close that connection only.
    for (const size of [2 * 1024 * 1024, 0x7fffffff, 1024 * 1024 + 9000]) {
      const big = await NfsTestClient.connect(server.port);
      const head = new Uint8Array(8);
      new DataView(head.buffer).setUint32(0, 0x80000000 | size);
      await big.sendRaw(head);
      await big.ended; // the server hung up
      await big.close();
    }
    // Fragments that add up beyond the limit.
    const frag = await NfsTestClient.connect(server.port);
    const piece = new Uint8Array(4 + 600_000);
    new DataView(piece.buffer).setUint32(0, 600_000); // not last
    try {
      await frag.sendRaw(piece);
      await frag.sendRaw(piece);
    } catch { /* closed mid-way */ }
    await frag.ended;
    await frag.close();
    assert.ok(logs.some((l) => l.includes("exceeds the limit")), `seed ${SEED}`);

    // 5. Truncated records: the peer goes away mid-record.
    await Promise.all(Array.from({ length: 20 }, () => {
      const t = new Uint8Array(4 + 50);
      new DataView(t.buffer).setUint32(0, 0x80000000 | 100);
      return sendAndForget(server.port, t);
    }));

    // 6. A flood of 1 MiB WRITEs with a forged handle from several connections at once.
    const flood = await Promise.all(
      Array.from({ length: 4 }, () => NfsTestClient.connect(server.port)),
    );
    const forged = new Uint8Array(36);
    await Promise.all(flood.map(async (cl) => {
      const data = new Uint8Array(1024 * 1024);
      const res = await Promise.all(Array.from({ length: 8 }, () => cl.write(forged, 0, data)));
      assert.ok(res.every((r) => r.status === 10001));
    }));
    await Promise.all(flood.map((cl) => cl.close()));

    // 7. A client that sends 300 one-MiB READs and never reads the replies.
    const bigFile = (await witness.create(root, "big", 0, { mode: 0o644 })).fh!;
    await witness.write(bigFile, 0, new Uint8Array(1024 * 1024).fill(7), 2);
    const rssMid = Deno.memoryUsage().rss;
    const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const reads = new XdrWriter();
    for (let i = 0; i < 300; i++) {
      const w = new XdrWriter();
      writeCallHeader(w, 0x50000 + i, NFS_PROG, 3, 6, { uid: 0, gid: 0 });
      w.opaque(bigFile);
      w.u64(0);
      w.u32(1024 * 1024);
      reads.fixed(frameRecord(w.finish()));
    }
    const readsBytes = reads.finish();
    const sending = (async () => {
      let off = 0;
      try {
        while (off < readsBytes.length) off += await lazy.write(readsBytes.subarray(off));
      } catch { /* closed below */ }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const lazyGrowth = Deno.memoryUsage().rss - rssMid;
    if (Deno.env.get("NFS_TEST_VERBOSE")) {
      console.log(`unread replies: rss grew ${lazyGrowth} bytes`);
    }
    assert.ok(
      lazyGrowth < 200 * 1024 * 1024,
      `unread replies held ${lazyGrowth} bytes (seed ${SEED})`,
    );
    await checkWitness();
    lazy.close();
    await sending;

    stop = true;
    await witnessLoop;
    if (witnessError) throw witnessError;
    await checkWitness();
    assert.ok(witnessCalls > 0);
    const grown = Deno.memoryUsage().rss - rssBefore;
    assert.ok(grown < 300 * 1024 * 1024, `memory grew by ${grown} bytes (seed ${SEED})`);
    const faults = logs.filter((l) => l.includes("SYSTEM_ERR") || l.includes("SERVERFAULT"));
    assert.deepEqual(faults, [], `seed ${SEED}`);
    // Every connection but the witness's is gone.
    for (let i = 0; i < 50 && server.stats().connections > 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(server.stats().connections, 1);
  } finally {
    stop = true;
    if (Deno.env.get("NFS_TEST_VERBOSE")) console.log(logs);
    await witness.close();
    await server.close();
  }
});
