/**
 * Mounting vibes over NFS: the transport choice, the clear refusal where the
 * kernel has no NFS client (this machine's case), a real local NFS mount
 * where it has one, and — through ../shared/tools/nfs-vm — the real Linux
 * NFS client mounting a vibe the daemon serves with exactly the options vibe
 * mounts with, so the option set is checked by the kernel that will use it.
 */
import assert from "node:assert/strict";
import { SAMPLE_FILES } from "./helpers/repo.ts";
import { fuseUnavailable, mountPoints, vibe, vibeOk, withCliProject } from "./helpers/vibe_cli.ts";
import { linuxNfsOptions, nfsClientUnavailableReason } from "../src/service/nfs_mount.ts";
import { resolveTransport } from "../src/service/daemon.ts";

const NFS_VM = new URL("../../shared/tools/nfs-vm", import.meta.url).pathname;

const withProject = (fn: (repo: string, mnt: string) => Promise<void>) =>
  withCliProject("vibe-nfsmnt-", fn);

Deno.test("nfs mount: options and transport choice", async () => {
  const o = linuxNfsOptions(2049).split(",");
  for (const want of ["vers=3", "proto=tcp", "port=2049", "mountport=2049", "mountproto=tcp"]) {
    assert.ok(o.includes(want), want);
  }
  for (const want of ["addr=127.0.0.1", "mountaddr=127.0.0.1", "nolock", "hard", "actimeo=1"]) {
    assert.ok(o.includes(want), want);
  }
  assert.equal(await resolveTransport("nfs"), "nfs");
  assert.equal(await resolveTransport("fuse"), "fuse");
  await assert.rejects(
    resolveTransport("smb"),
    /Unknown transport "smb" \(use fuse, nfs or auto\)/,
  );
  if (fuseUnavailable() === null) assert.equal(await resolveTransport("auto"), "fuse");
  else if (nfsClientUnavailableReason() === null) {
    assert.equal(await resolveTransport("auto"), "nfs");
  } else await assert.rejects(resolveTransport(undefined), /Cannot mount here: FUSE: .*; NFS: /);
});

const nfsWhy = nfsClientUnavailableReason();
const fuseWhy = fuseUnavailable();

Deno.test({
  name: "nfs mount: spawn --transport nfs says why it cannot mount, and leaves no vibe",
  ignore: nfsWhy === null || fuseWhy !== null,
  async fn() {
    await withProject(async (repo, mnt) => {
      const r = await vibe(repo, "spawn", "n1", "--transport", "nfs", "--mount", `${mnt}/n1`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Cannot mount over NFS: /);
      assert.ok(r.stderr.includes(nfsWhy!), r.stderr);
      assert.match(r.stderr, /use --transport fuse, or "vibe serve <id> --nfs"/);
      const ls = JSON.parse(await vibeOk(repo, "ls", "--json")) as unknown[];
      assert.equal(ls.length, 0, "the half-made vibe was undone");
      // auto picks FUSE here.
      const ok = JSON.parse(
        await vibeOk(repo, "spawn", "n2", "--transport", "auto", "--mount", `${mnt}/n2`, "--json"),
      );
      assert.equal(ok.mountPath, `${mnt}/n2`);
      assert.equal(JSON.parse(await vibeOk(repo, "ls", "--json"))[0].transport, "fuse");
    });
  },
});

Deno.test({
  name: nfsWhy === null
    ? "nfs mount: a vibe mounted with the kernel's NFS client"
    : `nfs mount: a vibe mounted with the kernel's NFS client (skipped: ${nfsWhy})`,
  ignore: nfsWhy !== null,
  async fn() {
    await withProject(async (repo, mnt) => {
      const root = `${mnt}/n3`;
      await vibeOk(repo, "spawn", "n3", "--transport", "nfs", "--mount", root);
      assert.ok(mountPoints().includes(root));
      assert.equal(await Deno.readTextFile(`${root}/README.md`), SAMPLE_FILES["README.md"]);
      await Deno.writeTextFile(`${root}/over-nfs.txt`, "hello\n");
      const st = JSON.parse(await vibeOk(repo, "status", "n3", "--json"));
      assert.ok(
        st.changes.some((c: { path: string }) => c.path === "over-nfs.txt"),
        JSON.stringify(st.changes),
      );
      await vibeOk(repo, "unmount", "n3");
      assert.ok(!mountPoints().includes(root));
    });
  },
});

function vmSkip(): string | null {
  if (Deno.build.os !== "linux") return "nfs-vm needs Linux";
  if (Deno.uid() !== 0) return "nfs-vm needs root";
  if (fuseWhy !== null) return `the daemon test harness needs FUSE here (${fuseWhy})`;
  try {
    Deno.statSync(NFS_VM);
  } catch {
    return `${NFS_VM} is missing`;
  }
  const b = new Deno.Command(NFS_VM, { args: ["--build-only"], stdout: "null", stderr: "piped" })
    .outputSync();
  return b.success ? null : "nfs-vm could not build its VM image";
}
const VM_SKIP = vmSkip();

Deno.test({
  name: VM_SKIP === null
    ? "nfs mount: the Linux NFS client accepts vibe's mount options on a served vibe"
    : `nfs mount: the Linux NFS client accepts vibe's mount options (skipped: ${VM_SKIP})`,
  ignore: VM_SKIP !== null,
  async fn() {
    await withProject(async (repo) => {
      await vibeOk(repo, "spawn", "v1", "--no-mount");
      const s = JSON.parse(await vibeOk(repo, "serve", "v1", "--nfs", "--json"));
      // The guest reaches the server through QEMU's slirp address, so the
      // addressing options are nfs-vm's; every other option is vibe's own.
      const ours = linuxNfsOptions(s.port).split(",").filter((o) =>
        !/^(addr|mountaddr|port|mountport)=/.test(o)
      ).join(",");
      const guest = await Deno.makeTempFile({ suffix: ".sh" });
      await Deno.writeTextFile(
        guest,
        [
          "set -e",
          "grep ' /mnt/nfs ' /proc/mounts",
          'test "$(cat src/lib/deep/a.txt)" = a',
          "echo from-guest > guest.txt",
          'test "$(cat guest.txt)" = from-guest',
          "",
        ].join("\n"),
      );
      try {
        const out = await new Deno.Command(NFS_VM, {
          args: ["--port", String(s.port), "--export", s.exportPath, "--opts", ours, "--", guest],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, `${text}\n${new TextDecoder().decode(out.stderr)}`);
        const line = text.split("\n").find((l) => l.includes(" /mnt/nfs nfs")) ?? "";
        for (const want of ["vers=3", "hard", "nolock", "rsize=1048576", "wsize=1048576"]) {
          assert.ok(line.includes(want), `${want} in: ${line}`);
        }
        assert.match(line, /acregmin=1,acregmax=1,acdirmin=1,acdirmax=1/);
      } finally {
        await Deno.remove(guest).catch(() => {});
      }
      const st = JSON.parse(await vibeOk(repo, "status", "v1", "--json"));
      assert.ok(st.changes.some((c: { path: string }) => c.path === "guest.txt"));
    });
  },
});
