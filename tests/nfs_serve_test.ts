/**
 * `vibe serve <id> --nfs` end to end: the daemon exports a vibe of a real
 * repository; the libnfs tools and the real Linux kernel client (in QEMU via
 * ../shared/tools/nfs-vm) read and write it; the changes show in `vibe status`
 * and land in git through `vibe promote`.
 */
import assert from "node:assert/strict";
import { git, makeRepo, SAMPLE_FILES } from "./helpers/repo.ts";
import { cleanupDaemon, vibe, vibeOk } from "./helpers/vibe_cli.ts";

const NFS_VM = new URL("../../shared/tools/nfs-vm", import.meta.url).pathname;
const SMOKE = new URL("../../shared/tools/guest-smoke.sh", import.meta.url).pathname;

function have(cmd: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).outputSync()
    .success;
}

const libnfsMissing = have("nfs-cat") && have("nfs-cp")
  ? null
  : "libnfs-utils (nfs-cat, nfs-cp) is not installed (apt-get install libnfs-utils)";
if (libnfsMissing) console.warn(`nfs_serve_test: skipped: ${libnfsMissing}`);

async function run(cmd: string, ...args: string[]) {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

Deno.test({
  name: "serve --nfs: libnfs reads and writes a vibe; the change shows in status and promotes",
  ignore: libnfsMissing !== null,
  async fn() {
    const repo = await makeRepo(SAMPLE_FILES);
    const mnt = await Deno.makeTempDir({ prefix: "vibe-serve-" });
    try {
      await vibeOk(repo, "init");
      await vibeOk(repo, "spawn", "s1", "--no-mount");
      const r = JSON.parse(await vibeOk(repo, "serve", "s1", "--nfs", "--json"));
      assert.equal(r.hostname, "127.0.0.1");
      assert.match(r.exportPath, /^\/vibe\/s1\/[0-9a-f]{64}$/);
      const q = `version=3&nfsport=${r.port}&mountport=${r.port}`;
      const cat = await run("nfs-cat", `nfs://127.0.0.1${r.exportPath}/README.md?${q}`);
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(cat.stdout, SAMPLE_FILES["README.md"]);

      // Without the secret the export is refused.
      const wrong = await run("nfs-cat", `nfs://127.0.0.1/vibe/s1/README.md?${q}`);
      assert.notEqual(wrong.code, 0);

      await Deno.writeTextFile(`${mnt}/up.txt`, "uploaded over NFS\n");
      const cp = await run("nfs-cp", `${mnt}/up.txt`, `nfs://127.0.0.1${r.exportPath}/up.txt?${q}`);
      assert.equal(cp.code, 0, cp.stderr);
      const st = JSON.parse(await vibeOk(repo, "status", "s1", "--json"));
      assert.deepEqual(st.changes.map((c: { path: string }) => c.path), ["up.txt"]);
      await vibeOk(repo, "promote", "s1");
      assert.equal(await git(repo, "show", "refs/vibes/s1:up.txt"), "uploaded over NFS\n");

      // The same export (and its handles) after a daemon restart: the secret is kept.
      await vibeOk(repo, "daemon", "stop");
      const r2 = JSON.parse(
        await vibeOk(repo, "serve", "s1", "--nfs", "--port", String(r.port), "--json"),
      );
      assert.equal(r2.exportPath, r.exportPath);
      const again = await run("nfs-cat", `nfs://127.0.0.1${r.exportPath}/up.txt?${q}`);
      assert.equal(again.stdout, "uploaded over NFS\n");

      const stop = await vibe(repo, "serve", "s1", "--nfs", "--stop");
      assert.equal(stop.code, 0, stop.stderr);
      const gone = await run("nfs-cat", `nfs://127.0.0.1${r.exportPath}/up.txt?${q}`);
      assert.notEqual(gone.code, 0);
    } finally {
      await cleanupDaemon(repo, mnt);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});

function vmMissing(): string | null {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return "the NFS VM test needs root on Linux";
  try {
    Deno.statSync(NFS_VM);
  } catch {
    return `${NFS_VM} is missing (it comes with the shared test tools)`;
  }
  return null;
}

const noVm = vmMissing();
if (noVm) console.warn(`nfs_serve_test: kernel-client test skipped: ${noVm}`);

Deno.test({
  name: "serve --nfs: the Linux kernel client mounts the vibe and runs the smoke script",
  ignore: noVm !== null,
  async fn() {
    const repo = await makeRepo(SAMPLE_FILES);
    const tmp = await Deno.makeTempDir({ prefix: "vibe-serve-vm-" });
    try {
      await vibeOk(repo, "init");
      await vibeOk(repo, "spawn", "k1", "--no-mount");
      const r = JSON.parse(await vibeOk(repo, "serve", "k1", "--nfs", "--json"));
      const vm = await run(
        NFS_VM,
        "--port",
        String(r.port),
        "--mountport",
        String(r.port),
        "--export",
        r.exportPath,
        "--opts",
        "soft,timeo=50,retrans=2",
        "--timeout",
        "240",
        "--",
        SMOKE,
      );
      assert.equal(vm.code, 0, `${vm.stdout.slice(-3000)}\n${vm.stderr.slice(-2000)}`);
      // The guest's writes are the vibe's changes.
      const st = JSON.parse(await vibeOk(repo, "status", "k1", "--json"));
      assert.ok(st.changes.length > 0, "the smoke script changed the vibe");
      assert.equal(
        await Deno.readTextFile(`${repo}/README.md`),
        SAMPLE_FILES["README.md"] as string,
      );
    } finally {
      await cleanupDaemon(repo, tmp);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
