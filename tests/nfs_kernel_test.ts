/**
 * The real Linux kernel NFS client against our server: ../shared/tools/nfs-vm
 * boots a Debian kernel in QEMU, mounts `serveNfs` (a MemoryVfs) over
 * loopback with NFSv3 and runs busybox-sh scripts from tests/nfs_guest/ in
 * the mount; the guest's exit code is the result. Two boots:
 * 1. guest-smoke.sh (shared tools), posix.sh and build.sh (a generated
 *    source tree untarred, edited, "built", compared, removed); the host then
 *    checks the manifest of md5 sums the guest wrote against the tree it
 *    generated, with the same edits applied.
 * 2. restart.sh: a write loop on a hard mount while this test closes the
 *    server and serves the same Vfs again on the same port; the loop
 *    completes and every acknowledged record is in the Vfs.
 *
 * Skipped (with the reason) when not root on Linux, or nfs-vm is missing or
 * cannot build its VM image (it downloads a Debian kernel on first use).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import { type Vfs } from "../src/vfs/vfs.ts";
import { type NfsServer, serveNfs } from "../src/nfs/mod.ts";

const NFS_VM = new URL("../../shared/tools/nfs-vm", import.meta.url).pathname;
const SMOKE = new URL("../../shared/tools/guest-smoke.sh", import.meta.url).pathname;
const GUEST = new URL("./nfs_guest/", import.meta.url).pathname;
const SECRET = new Uint8Array(16).map((_, i) => i * 17);
const EPOCH = 1_700_000_000_123;

function skipReason(): string | null {
  if (Deno.build.os !== "linux") return "nfs-vm needs Linux";
  if (Deno.uid() !== 0) return "nfs-vm needs root";
  try {
    Deno.statSync(NFS_VM);
  } catch {
    return `${NFS_VM} is missing`;
  }
  // First use downloads the kernel and busybox into nfs-vm's cache (instant once cached).
  const build = new Deno.Command(NFS_VM, {
    args: ["--build-only"],
    stdout: "null",
    stderr: "piped",
  })
    .outputSync();
  if (!build.success) {
    const why = new TextDecoder().decode(build.stderr).trim().split("\n").at(-1);
    return `nfs-vm could not build its VM image (${why})`;
  }
  return null;
}
const SKIP = skipReason();

function kernelTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: SKIP === null
      ? `nfs kernel client: ${name}`
      : `nfs kernel client: ${name} (skipped: ${SKIP})`,
    ignore: SKIP !== null,
    fn,
  });
}

/** Resolves `path` (slash-separated, relative to the root) in the Vfs. */
async function resolve(vfs: Vfs, path: string): Promise<number> {
  let ino = 1;
  for (const part of path.split("/").filter((p) => p)) ino = (await vfs.lookup(ino, part)).ino;
  return ino;
}

async function readText(vfs: Vfs, path: string): Promise<string> {
  const ino = await resolve(vfs, path);
  const a = await vfs.getattr(ino);
  return new TextDecoder().decode(await vfs.read(ino, 0, a.size));
}

/** A generated source tree: path → content (deterministic). */
function sourceTree(): Map<string, string> {
  const files = new Map<string, string>();
  for (let m = 0; m < 8; m++) {
    files.set(`src/mod${m}/config.h`, `#define VERSION 1\n#define MODULE ${m}\n`);
    files.set(
      `src/mod${m}/Makefile`,
      `obj-y += ${Array.from({ length: 12 }, (_, i) => `file${i}.o`).join(" ")}\n`,
    );
    for (let f = 0; f < 12; f++) {
      const body = Array.from(
        { length: 5 + ((m * 12 + f) % 60) },
        (_, i) => `int f${m}_${f}_${i}(int x) { return x * ${i} + ${m}; }`,
      ).join("\n");
      files.set(`src/mod${m}/file${f}.c`, `#include "config.h"\n${body}\n`);
    }
    files.set(`src/mod${m}/include/deep/nested/h${m}.h`, `/* nested ${m} */\n`);
  }
  return files;
}

function runVm(
  port: number,
  exportPath: string,
  script: string,
  args: string[],
  extra: string[],
) {
  const cmd = new Deno.Command(NFS_VM, {
    args: ["--port", String(port), "--export", exportPath, ...extra, "--", script, ...args],
    stdout: "piped",
    stderr: "piped",
  });
  return cmd.spawn();
}

kernelTest("guest-smoke, POSIX script and a build-like workload", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nfs-kernel-" });
  const vfs = new MemoryVfs();
  const logs: string[] = [];
  const server = await serveNfs({
    vibeId: "k1",
    vfs,
    secret: SECRET,
    epoch: EPOCH,
    log: (m) => logs.push(m),
  });
  try {
    const tree = sourceTree();
    for (const [path, content] of tree) {
      await Deno.mkdir(`${tmp}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${tmp}/${path}`, content);
    }
    const tar = await new Deno.Command("tar", {
      args: ["-czf", `${tmp}/src.tar.gz`, "-C", tmp, "src"],
    }).output();
    assert.equal(tar.code, 0, new TextDecoder().decode(tar.stderr));
    const child = runVm(server.port, server.exportPath, `${GUEST}all.sh`, [], [
      "--opts",
      "soft,timeo=100,retrans=3",
      "--add",
      SMOKE,
      "--add",
      `${GUEST}posix.sh`,
      "--add",
      `${GUEST}build.sh`,
      "--add",
      `${tmp}/src.tar.gz`,
    ]);
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(
      out.code,
      0,
      `guest failed (exit ${out.code}):\n${stdout}\n${new TextDecoder().decode(out.stderr)}`,
    );
    assert.match(stdout, /SMOKE OK/);
    assert.match(stdout, /POSIX OK/);
    assert.match(stdout, /BUILD OK/);

    // What the guest left behind is in the Vfs.
    assert.equal(await readText(vfs, "posix-done.txt"), "posix ok\n");
    assert.match(await readText(vfs, "smoke-kernel.txt"), /written by nfs-vm guest/);
    // The manifest matches the generated tree with the guest's edits applied.
    const edited = new Map(tree);
    for (const [p, c] of tree) {
      if (p.endsWith("config.h")) edited.set(p, c.replace("VERSION 1", "VERSION 2"));
    }
    edited.set("src/mod0/file0.c", tree.get("src/mod0/file0.c")! + "/* edit */\n");
    edited.set("src/mod1/file1.c", tree.get("src/mod1/file1.c")! + "// saved\n");
    edited.set("src/mod2/file2.c", tree.get("src/mod2/file2.c")! + "/* again */\n");
    const manifest = (await readText(vfs, "manifest.txt")).trim().split("\n");
    assert.equal(manifest.length, edited.size);
    for (const line of manifest) {
      const [sum, path] = line.split(/\s+/) as [string, string];
      const want = createHash("md5").update(edited.get(path)!).digest("hex");
      assert.equal(sum, want, path);
    }
    await assert.rejects(resolve(vfs, "src"), "src was removed");
    const st = server.stats();
    for (
      const p of [
        "READDIRPLUS",
        "WRITE",
        "CREATE",
        "REMOVE",
        "RENAME",
        "LINK",
        "SYMLINK",
        "MKNOD",
        "SETATTR",
        "COMMIT",
        "READ",
        "RMDIR",
      ]
    ) {
      assert.ok((st.byProc[`nfs3.${p}`] ?? 0) > 0, `the kernel used ${p}`);
    }
    assert.deepEqual(logs.filter((l) => l.includes("SERVERFAULT") || l.includes("SYSTEM_ERR")), []);
  } finally {
    await server.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

kernelTest("restart during a write loop on a hard mount loses no acknowledged write", async () => {
  const vfs = new MemoryVfs();
  const logs: string[] = [];
  const serve = (port = 0) =>
    serveNfs({ vibeId: "k2", vfs, secret: SECRET, epoch: EPOCH, port, log: (m) => logs.push(m) });
  let server: NfsServer = await serve();
  const port = server.port;
  const n = 40;
  const child = runVm(port, server.exportPath, `${GUEST}restart.sh`, [String(n)], [
    "--opts",
    "hard,timeo=10",
  ]);
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  let restarted = false;
  let lastAckBeforeRestart = 0;
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
      const acks = [...stdout.matchAll(/ACK (\d+)/g)].map((m) => Number(m[1]));
      const last = acks.at(-1) ?? 0;
      if (!restarted && last >= 10) {
        restarted = true;
        lastAckBeforeRestart = last;
        await server.close();
        // Every acknowledged record is in the Vfs while the server is down.
        const wlog = await readText(vfs, "wlog");
        for (let i = 1; i <= last; i++) {
          assert.ok(wlog.includes(`record ${i}\n`), `record ${i} acked`);
        }
        await new Promise((r) => setTimeout(r, 1000));
        server = await serve(port);
      }
    }
    const status = await child.status;
    assert.equal(status.code, 0, `guest failed (exit ${status.code}):\n${stdout}\n${await stderr}`);
    assert.ok(restarted, "the server was restarted mid-loop");
    assert.ok(lastAckBeforeRestart < n, "the loop was still running at the restart");
    if (Deno.env.get("NFS_TEST_VERBOSE")) console.log(stdout, lastAckBeforeRestart);
    assert.match(stdout, /RESTART OK/);
    const wlog = await readText(vfs, "wlog");
    assert.equal(wlog, Array.from({ length: n }, (_, i) => `record ${i + 1}\n`).join(""));
    for (let i = 1; i <= n; i++) assert.equal(await readText(vfs, `w-${i}`), `rec-${i}\n`);
    assert.deepEqual(logs.filter((l) => l.includes("SERVERFAULT") || l.includes("SYSTEM_ERR")), []);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await stderr.catch(() => "");
    await server.close();
  }
});
