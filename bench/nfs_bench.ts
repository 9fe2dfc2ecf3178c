/**
 * vibe's NFS server against NFS-Ganesha through the same client: the Linux
 * kernel NFSv3 client in ../shared/tools/nfs-vm (QEMU), one boot per server,
 * the same busybox workloads, timed inside the guest:
 * - seq-read-64MiB: `cat` of a 64 MiB file after dropping the page cache
 * - read-5k-tree: `cat` of every file of a 5,000-file tree (50 dirs × 100)
 * - write-1k-small: 1,000 `echo … > file` (create, write, close)
 * - ls-l-10k: `ls -l` of a 10,000-entry directory (READDIRPLUS + attrs)
 * - create-remove-2k: create 2,000 empty files, then `rm -rf` them
 * Ganesha (../shared/tools/ganesha-local, VFS FSAL) serves a temp directory;
 * vibe serves the same content as the product does (`--server daemon`, the
 * default): committed to a git repo, one vibe of it exported by the vibe
 * daemon (`vibe serve <id> --nfs`), so reads come from git objects and the
 * blob cache and writes go to the delta store and SQLite; `--server memory`
 * serves a MemoryVfs in this process instead (the server code alone).
 * Both servers' files live on one journaled loop ext4 made for the run.
 * Figures are reported, never asserted. Needs root (nfs-vm, ganesha-local).
 *
 * Each server first gets `--warmup` untimed passes (default 1: vibe's server
 * is a long-running daemon, so its JIT warm-up is not what a user waits for;
 * Ganesha's caches warm alike), then the timed runs alternate which server
 * goes first. The guest's own per-operation counts and round-trip times
 * (/proc/self/mountstats) are summed per server, so a difference can be told
 * apart as more calls or slower calls.
 *
 * First, without any VM, the server's own capacity in process (the test
 * client over loopback, its decoding included): GETATTR calls/s with 64 in
 * flight, 1 MiB READ and UNSTABLE WRITE throughput with 8 in flight, and
 * READDIRPLUS entries/s over a 10,000-entry directory.
 *
 *   deno run -A bench/nfs_bench.ts [--runs 1] [--warmup 1] [--only w1,w2]
 *     [--server daemon|memory] [--inprocess-only]
 */
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import { serveNfs } from "../src/nfs/mod.ts";
import { NfsTestClient } from "../tests/helpers/nfs_client.ts";
import { mountLoopFs } from "../tests/helpers/loop_fs.ts";
import { MAIN, median, run } from "./common.ts";

const TOOLS = new URL("../../shared/tools/", import.meta.url).pathname;
const WORKLOADS = [
  "seq-read-64MiB",
  "read-5k-tree",
  "write-1k-small",
  "ls-l-10k",
  "create-remove-2k",
];

/** One guest command per workload (busybox sh, cwd = the mount). */
const WORKLOAD_SH: Record<string, string> = {
  "seq-read-64MiB": `drop; s=$(now); cat big.bin >/dev/null; e=$(now); t seq-read-64MiB $s $e`,
  "read-5k-tree":
    `drop; s=$(now); find tree -type f -exec cat {} + >/dev/null; e=$(now); t read-5k-tree $s $e`,
  "write-1k-small":
    `mkdir -p w; s=$(now); i=0; while [ $i -lt 1000 ]; do echo "small file $i" >w/f$i; i=$((i + 1)); done; sync; e=$(now); t write-1k-small $s $e; rm -rf w`,
  "ls-l-10k": `drop; s=$(now); ls -l flat >/dev/null; e=$(now); t ls-l-10k $s $e`,
  "create-remove-2k":
    `mkdir -p c; s=$(now); i=0; while [ $i -lt 2000 ]; do : >c/f$i; i=$((i + 1)); done; rm -rf c; e=$(now); t create-remove-2k $s $e`,
};

function guestScript(workloads: string[]): string {
  return `#!/bin/sh
set -eu
now() { cut -d' ' -f1 /proc/uptime; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
t() { echo "RESULT $1 $(awk "BEGIN{print $3 - $2}")"; }
${workloads.map((w) => WORKLOAD_SH[w]).join("\n")}
awk '/^device/{p=0} /nfs statvers/{p=1} p && /^[ \\t]+[A-Z]+: [1-9]/{print "OPSTAT", $0}' /proc/self/mountstats
echo BENCH DONE
`;
}

/** Deterministic pseudo-random bytes (fast, no entropy limits). */
function fill(b: Uint8Array, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const v = new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
  for (let i = 0; i < v.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    v[i] = s >>> 0;
  }
  return b;
}

interface Content {
  big: Uint8Array;
  tree: Array<[string, Uint8Array]>;
}

function makeContent(): Content {
  const big = fill(new Uint8Array(64 * 1024 * 1024), 1);
  const tree: Array<[string, Uint8Array]> = [];
  for (let d = 0; d < 50; d++) {
    for (let f = 0; f < 100; f++) {
      tree.push([
        `d${d}/f${f}.txt`,
        fill(new Uint8Array(512 + ((d * 100 + f) % 8) * 512), d * 100 + f + 7),
      ]);
    }
  }
  return { big, tree };
}

async function writeDir(root: string, c: Content): Promise<void> {
  await Deno.writeFile(`${root}/big.bin`, c.big);
  for (const [path, data] of c.tree) {
    await Deno.mkdir(`${root}/tree/${path.slice(0, path.indexOf("/"))}`, { recursive: true });
    await Deno.writeFile(`${root}/tree/${path}`, data);
  }
  await Deno.mkdir(`${root}/flat`);
  for (let i = 0; i < 10_000; i++) {
    await Deno.writeFile(`${root}/flat/entry-${i}`, new Uint8Array(0));
  }
}

async function fillVfs(vfs: MemoryVfs, c: Content): Promise<void> {
  const who = { uid: 0, gid: 0 };
  const big = await vfs.create(1, "big.bin", 0o644, who, true);
  await vfs.write(big.ino, 0, c.big);
  const tree = await vfs.mkdir(1, "tree", 0o755, who);
  const dirs = new Map<string, number>();
  for (const [path, data] of c.tree) {
    const dname = path.slice(0, path.indexOf("/"));
    let d = dirs.get(dname);
    if (d === undefined) {
      d = (await vfs.mkdir(tree.ino, dname, 0o755, who)).ino;
      dirs.set(dname, d);
    }
    const f = await vfs.create(d, path.slice(path.indexOf("/") + 1), 0o644, who, true);
    await vfs.write(f.ino, 0, data);
  }
  const flat = await vfs.mkdir(1, "flat", 0o755, who);
  for (let i = 0; i < 10_000; i++) await vfs.create(flat.ino, `entry-${i}`, 0o644, who, true);
}

function freePort(): number {
  for (;;) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = l.addr.port;
    l.close();
    // ganesha needs p and p+1
    try {
      const l2 = Deno.listen({ hostname: "127.0.0.1", port: p + 1 });
      l2.close();
      return p;
    } catch { /* try again */ }
  }
}

/** The guest's per-operation totals: calls and summed round-trip milliseconds. */
type OpStats = Map<string, { calls: number; rttMs: number }>;

interface GuestRun {
  results: Map<string, number>;
  ops: OpStats;
}

async function runGuest(script: string, args: string[]): Promise<GuestRun> {
  const out = await new Deno.Command(`${TOOLS}nfs-vm`, {
    args: [...args, "--timeout", "900", "--", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0 || !text.includes("BENCH DONE")) {
    throw new Error(
      `nfs-vm failed (${out.code}):\n${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const res = new Map<string, number>();
  for (const m of text.matchAll(/RESULT (\S+) ([\d.]+)/g)) res.set(m[1]!, Number(m[2]));
  // mountstats per-op line: ops trans timeouts bytes_sent bytes_recv queue rtt execute …
  const ops: OpStats = new Map();
  for (const m of text.matchAll(/OPSTAT\s+([A-Z]+): ([\d ]+)/g)) {
    const f = m[2]!.trim().split(/\s+/).map(Number);
    ops.set(m[1]!, { calls: f[0]!, rttMs: f[6]! });
  }
  return { results: res, ops };
}

/** Runs `total` calls of `one`, `inFlight` at a time; returns seconds. */
async function pipelined(
  total: number,
  inFlight: number,
  one: () => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next++ < total) await one();
  }));
  return (performance.now() - t0) / 1000;
}

async function inProcess(): Promise<void> {
  const vfs = new MemoryVfs();
  const who = { uid: 0, gid: 0 };
  const big = await vfs.create(1, "big", 0o644, who, true);
  await vfs.write(big.ino, 0, fill(new Uint8Array(64 * 1024 * 1024), 3));
  const flat = await vfs.mkdir(1, "flat", 0o755, who);
  for (let i = 0; i < 10_000; i++) await vfs.create(flat.ino, `entry-${i}`, 0o644, who, true);
  const server = await serveNfs({ vibeId: "ip", vfs, secret: new Uint8Array(16), epoch: 1 });
  const c = await NfsTestClient.connect(server.port);
  try {
    const root = (await c.mnt(server.exportPath)).fh!;
    const fh = (await c.lookup(root, "big")).fh!;
    const dir = (await c.lookup(root, "flat")).fh!;
    const w = (await c.create(root, "w", 0)).fh!;
    const mib = new Uint8Array(1 << 20);
    const rows: string[][] = [["in process", "figure"]];
    let secs = await pipelined(50_000, 64, () => c.getattr(fh));
    rows.push(["GETATTR (64 in flight)", `${Math.round(50_000 / secs)} calls/s`]);
    let off = 0;
    secs = await pipelined(256, 8, () => c.read(fh, (off++ % 64) << 20, 1 << 20));
    rows.push(["READ 1 MiB (8 in flight)", `${Math.round(256 / secs)} MiB/s`]);
    off = 0;
    secs = await pipelined(256, 8, () => c.write(w, (off++ % 64) << 20, mib, 0));
    rows.push(["WRITE 1 MiB UNSTABLE (8 in flight)", `${Math.round(256 / secs)} MiB/s`]);
    let entries = 0;
    const t0 = performance.now();
    for (let round = 0; round < 5; round++) {
      let cookie = 0;
      let verf: Uint8Array = new Uint8Array(8);
      for (;;) {
        const page = await c.readdir(dir, cookie, verf, 65536, true, 65536);
        entries += page.entries.length;
        if (page.eof) break;
        cookie = page.entries.at(-1)!.cookie;
        verf = page.verf;
      }
    }
    rows.push([
      "READDIRPLUS 64 KiB pages",
      `${Math.round(entries / ((performance.now() - t0) / 1000))} entries/s`,
    ]);
    const width = Math.max(...rows.map((r) => r[0]!.length));
    for (const r of rows) console.log(`${r[0]!.padEnd(width)}  ${r[1]}`);
    console.log("");
  } finally {
    await c.close();
    await server.close();
  }
}

interface Served {
  port: number;
  exportPath: string;
  close(): Promise<void>;
}

/** The product path: the content committed to a git repo, one vibe of it served by the vibe daemon. */
async function serveVibe(repo: string, content: Content): Promise<Served> {
  await Deno.mkdir(repo);
  await writeDir(repo, content);
  await run(repo, "git", "init", "-q");
  await run(repo, "git", "add", "-A");
  await run(repo, "git", "commit", "-q", "-m", "bench content");
  const vibe = (...args: string[]) => run(repo, Deno.execPath(), "run", "-A", MAIN, ...args);
  await vibe("init");
  await vibe("spawn", "bench", "--no-mount");
  const info = JSON.parse(await vibe("serve", "bench", "--nfs", "--json"));
  return {
    port: info.port,
    exportPath: info.exportPath,
    close: async () => {
      await vibe("daemon", "stop").catch(() => "");
    },
  };
}

/** The server alone: a MemoryVfs with the same content, in this process. */
async function serveMemory(content: Content): Promise<Served> {
  const vfs = new MemoryVfs();
  await fillVfs(vfs, content);
  const s = await serveNfs({
    vibeId: "bench",
    vfs,
    secret: crypto.getRandomValues(new Uint8Array(16)),
    epoch: 1,
    log: (m) => console.error(m),
  });
  return { port: s.port, exportPath: s.exportPath, close: () => s.close() };
}

async function main(): Promise<void> {
  await inProcess();
  if (Deno.args.includes("--inprocess-only")) return;
  const runsArg = Deno.args.indexOf("--runs");
  const runs = runsArg >= 0 ? Number(Deno.args[runsArg + 1]) : 1;
  const tmp = await Deno.makeTempDir({ prefix: "nfs-bench-" });
  const script = `${tmp}/bench.sh`;
  const onlyArg = Deno.args.indexOf("--only");
  const workloads = onlyArg >= 0 ? Deno.args[onlyArg + 1]!.split(",") : WORKLOADS;
  const unknown = workloads.filter((w) => !WORKLOAD_SH[w]);
  if (unknown.length > 0) {
    throw new Error(
      `--only: unknown workload(s) ${unknown.join(", ")} (known: ${WORKLOADS.join(", ")})`,
    );
  }
  await Deno.writeTextFile(script, guestScript(workloads));
  console.error("generating content …");
  const content = makeContent();
  const warmArg = Deno.args.indexOf("--warmup");
  const warmup = warmArg >= 0 ? Number(Deno.args[warmArg + 1]) : 1;
  const results: Record<string, Map<string, number[]>> = { ganesha: new Map(), vibe: new Map() };
  const ops: Record<string, OpStats> = { ganesha: new Map(), vibe: new Map() };
  const add = (who: string, r: GuestRun) => {
    for (const [k, v] of r.results) results[who]!.set(k, [...(results[who]!.get(k) ?? []), v]);
    for (const [k, v] of r.ops) {
      const t = ops[who]!.get(k) ?? { calls: 0, rttMs: 0 };
      ops[who]!.set(k, { calls: t.calls + v.calls, rttMs: t.rttMs + v.rttMs });
    }
  };
  let ganeshaError: string | null = null;
  const serverArg = Deno.args.indexOf("--server");
  const serverKind = serverArg >= 0 ? Deno.args[serverArg + 1] : "daemon";
  if (serverKind !== "daemon" && serverKind !== "memory") {
    throw new Error(`--server: "daemon" (a vibe served by the vibe daemon) or "memory"`);
  }
  // Both servers' files on one journaled loop ext4 (not the root ext4, whose
  // creates slow down for a while after many deletes).
  const loop = await mountLoopFs("ext4", { sizeMiB: 2048, inodes: 200_000, directIo: true });
  let server: Served;
  try {
    server = serverKind === "daemon"
      ? await serveVibe(`${loop.mnt}/repo`, content)
      : await serveMemory(content);
  } catch (e) {
    await loop.remove();
    throw e;
  }
  const gdir = `${loop.mnt}/export`;
  const port = freePort();
  let ganeshaUp = false;
  try {
    await Deno.mkdir(gdir);
    await writeDir(gdir, content);
    const start = await new Deno.Command(`${TOOLS}ganesha-local`, {
      args: ["start", gdir, "--port", String(port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    ganeshaUp = start.code === 0;
    if (!ganeshaUp) {
      ganeshaError = `ganesha-local start failed: ${new TextDecoder().decode(start.stderr).trim()}`;
    }
    const guestArgs: Record<string, string[]> = {
      vibe: ["--port", String(server.port), "--export", server.exportPath],
      ganesha: ["--port", String(port), "--mountport", String(port + 1)],
    };
    const servers = ganeshaUp ? ["vibe", "ganesha"] : ["vibe"];
    for (let i = 0; i < warmup; i++) {
      for (const who of servers) {
        console.error(`${who} warm-up ${i + 1} …`);
        await runGuest(script, guestArgs[who]!);
      }
    }
    // Interleaved runs, alternating who goes first, so load from elsewhere on
    // the machine and any drift over time hit both alike.
    for (let i = 0; i < runs; i++) {
      for (const who of i % 2 === 0 ? servers : [...servers].reverse()) {
        console.error(`${who} run ${i + 1} …`);
        add(who, await runGuest(script, guestArgs[who]!));
      }
    }
  } finally {
    await server.close();
    if (ganeshaUp) {
      await new Deno.Command(`${TOOLS}ganesha-local`, { args: ["stop", "--port", String(port)] })
        .output();
    }
    await loop.remove();
    await Deno.remove(tmp, { recursive: true });
  }

  const rows = [[
    "workload",
    "ganesha s",
    "vibe s",
    "vibe speed vs ganesha",
    "runs (ganesha | vibe)",
  ]];
  for (const w of workloads) {
    const g = results.ganesha!.get(w);
    const v = results.vibe!.get(w);
    const gs = g ? median(g) : NaN;
    const vs = v ? median(v) : NaN;
    rows.push([
      w,
      g ? gs.toFixed(2) : "n/a",
      v ? vs.toFixed(2) : "n/a",
      g && v ? `${(gs / vs).toFixed(2)}×` : "n/a",
      `${(g ?? []).map((x) => x.toFixed(2)).join(" ")} | ${
        (v ?? []).map((x) => x.toFixed(2)).join(" ")
      }`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
  console.log(
    `(median of ${runs} run(s) after ${warmup} warm-up pass(es) each; vibe: ${
      serverKind === "daemon"
        ? "a vibe of a git repo, served by the vibe daemon"
        : "a MemoryVfs in process"
    }; guest under QEMU ${Deno.build.arch}; speed > 1× means vibe is faster)`,
  );
  const names = [...new Set([...ops.vibe!.keys(), ...ops.ganesha!.keys()])];
  if (names.length > 0) {
    console.log("");
    const opRows = [[
      "guest calls, all runs",
      "ganesha calls",
      "vibe calls",
      "ganesha rtt",
      "vibe rtt",
    ]];
    const perCall = (o: { calls: number; rttMs: number } | undefined) =>
      o && o.calls > 0 ? `${(o.rttMs / o.calls).toFixed(2)} ms` : "n/a";
    for (const n of names.sort()) {
      const g = ops.ganesha!.get(n);
      const v = ops.vibe!.get(n);
      opRows.push([n, String(g?.calls ?? 0), String(v?.calls ?? 0), perCall(g), perCall(v)]);
    }
    const ow = opRows[0]!.map((_, i) => Math.max(...opRows.map((r) => r[i]!.length)));
    for (const r of opRows) console.log(r.map((c, i) => c.padEnd(ow[i]!)).join("  "));
    console.log("(the guest's /proc/self/mountstats: calls and mean round trip per call)");
  }
  if (ganeshaError) console.log(ganeshaError);
}

if (import.meta.main) await main();
