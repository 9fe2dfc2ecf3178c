/**
 * FUSE passthrough of clean big files (io_modes.ts) through the real daemon:
 * which opens are passed through, that their reads never reach the daemon,
 * that a passed-through file cannot be changed in place while so open
 * (ETXTBSY), and that page-cache opens and passthrough never mix.
 */
import assert from "node:assert/strict";
import { makeRepo } from "./helpers/repo.ts";
import { cleanupDaemon, fuseUnavailable, vibe, vibeOk } from "./helpers/vibe_cli.ts";

const skip = fuseUnavailable();
const SIZE = 6 * 1024 * 1024; // above the blob cache's 4 MiB spill size

function letters(n: number, seed: number): string {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = 97 + ((s >>> 16) % 26);
  }
  return new TextDecoder().decode(out);
}

interface MountStats {
  passthrough: boolean;
  byOpcode: Record<string, number>;
  openFiles: { cache: number; passthrough: number; direct: number };
}

async function stats(repo: string, id: string): Promise<MountStats> {
  const st = JSON.parse(await vibeOk(repo, "daemon", "status", "--json"));
  return st.mounts.find((m: { id: string }) => m.id === id).stats;
}

function readAll(f: Deno.FsFile, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  let got = 0;
  f.seekSync(0, Deno.SeekMode.Start);
  while (got < n) {
    const r = f.readSync(buf.subarray(got));
    if (r === null || r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

const enc = new TextEncoder();

Deno.test({
  name: "fuse passthrough: read-only opens of a clean big file bypass the daemon and pin it",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const big = letters(SIZE, 7);
    const big2 = letters(SIZE, 9);
    // A 5 MiB script: executed from the mount through passthrough.
    const script = '#!/bin/sh\necho ran "$1"\nexit 0\n' + "#".repeat(63).concat("\n").repeat(81920);
    const repo = await makeRepo({
      "big.bin": big,
      "big2.bin": big2,
      "small.txt": "small\n",
      "tool.sh": { content: script, mode: 0o755 },
    });
    const mnt = await Deno.makeTempDir({ prefix: "vibe-pt-" });
    const dir = `${mnt}/pt`;
    try {
      await vibeOk(repo, "init");
      await vibeOk(repo, "spawn", "pt", "--mount", dir);
      const [major, minor] = Deno.osRelease().split(".").map(Number) as [number, number];
      const kernelHasIt = major > 6 || (major === 6 && minor >= 9);
      assert.equal((await stats(repo, "pt")).passthrough, kernelHasIt, "passthrough negotiated");
      const doc = JSON.parse(await vibeOk(repo, "doctor", "--json"));
      const check = doc.checks.find((c: { name: string }) => c.name === "passthrough");
      assert.equal(check?.ok, kernelHasIt, JSON.stringify(check));

      // First read: the page cache path, which writes the blob's cache file.
      assert.deepEqual(await Deno.readFile(`${dir}/big.bin`), enc.encode(big));
      assert.deepEqual(await Deno.readFile(`${dir}/big2.bin`), enc.encode(big2));
      if (!kernelHasIt) {
        console.log(`passthrough part skipped: kernel ${Deno.osRelease()} predates it (6.9)`);
        return;
      }

      // Executing a big clean script: the kernel and the shell open it read-only.
      assert.equal((await Deno.readFile(`${dir}/tool.sh`)).length, script.length);
      const ran = await new Deno.Command(`${dir}/tool.sh`, { args: ["ok"], stdout: "piped" })
        .output();
      assert.equal(new TextDecoder().decode(ran.stdout), "ran ok\n");

      // Now a read-only open is passed through: its reads never reach the daemon.
      const before = await stats(repo, "pt");
      const r1 = Deno.openSync(`${dir}/big.bin`, { read: true });
      const mid = await stats(repo, "pt");
      assert.equal(mid.openFiles.passthrough, 1, JSON.stringify(mid.openFiles));
      assert.deepEqual(readAll(r1, SIZE + 10), enc.encode(big));
      const after = await stats(repo, "pt");
      assert.equal(
        after.byOpcode["FUSE_READ"] ?? 0,
        before.byOpcode["FUSE_READ"] ?? 0,
        "passthrough reads must not reach the daemon",
      );
      // A second reader shares it; small files never are passed through.
      const r2 = Deno.openSync(`${dir}/big.bin`, { read: true });
      assert.equal(new TextDecoder().decode(await Deno.readFile(`${dir}/small.txt`)), "small\n");
      assert.equal((await stats(repo, "pt")).openFiles.passthrough, 2);
      // Another process maps it (read-only mmap of a passthrough file) and sees the same bytes.
      const py = await new Deno.Command("python3", {
        args: [
          "-c",
          "import mmap,sys\nwith open(sys.argv[1],'rb') as f:\n m=mmap.mmap(f.fileno(),0,access=mmap.ACCESS_READ)\n sys.stdout.write(m[:16].decode()+' '+m[-16:].decode()+' '+str(len(m)))",
          `${dir}/big.bin`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
      assert.equal(
        new TextDecoder().decode(py.stdout),
        `${big.slice(0, 16)} ${big.slice(-16)} ${SIZE}`,
      );

      // While it is open with passthrough its bytes are pinned: writing it in
      // place fails with ETXTBSY (as for a running executable), nothing changes.
      for (const how of [{ write: true }, { write: true, truncate: true }, { append: true }]) {
        assert.throws(
          () => Deno.openSync(`${dir}/big.bin`, how),
          (e: Error) => /Text file busy/.test(e.message),
          JSON.stringify(how),
        );
      }
      assert.throws(() => Deno.truncateSync(`${dir}/big.bin`, 10), /Text file busy/);
      // Metadata changes and renames still work.
      await Deno.chmod(`${dir}/big.bin`, 0o600);
      assert.equal((await Deno.stat(`${dir}/big.bin`)).mode! & 0o777, 0o600);
      assert.deepEqual(readAll(r2, SIZE), enc.encode(big));
      // Replacing it by rename (how editors save) is not affected.
      await Deno.writeTextFile(`${dir}/big.bin.tmp`, "replaced\n");
      await Deno.rename(`${dir}/big.bin.tmp`, `${dir}/big.bin`);
      assert.equal(await Deno.readTextFile(`${dir}/big.bin`), "replaced\n");
      assert.deepEqual(readAll(r1, 8), enc.encode(big.slice(0, 8)), "the open one keeps its file");
      r1.close();
      r2.close();
      assert.equal((await stats(repo, "pt")).openFiles.passthrough, 0);
      assert.match(await vibeOk(repo, "status", "pt"), /big\.bin/);

      // Once closed, the file can be written in place again.
      const big3 = "big3.bin";
      await Deno.writeTextFile(`${dir}/${big3}`, "x"); // a dirty file: never passed through
      const r4 = Deno.openSync(`${dir}/${big3}`, { read: true });
      assert.equal((await stats(repo, "pt")).openFiles.passthrough, 0);
      const w4 = Deno.openSync(`${dir}/${big3}`, { write: true });
      w4.writeSync(enc.encode("y"));
      w4.close();
      assert.equal(new TextDecoder().decode(readAll(r4, 4)), "y");
      r4.close();

      // A page-cache writer open first: a read-only open must not be passed through
      // (the kernel would refuse the mix with EIO), and both work and agree.
      const w2 = Deno.openSync(`${dir}/big2.bin`, { read: true, write: true });
      const r3 = Deno.openSync(`${dir}/big2.bin`, { read: true });
      const s3 = await stats(repo, "pt");
      assert.equal(s3.openFiles.passthrough, 0, JSON.stringify(s3.openFiles));
      assert.equal(s3.openFiles.cache, 2);
      assert.deepEqual(readAll(r3, SIZE), enc.encode(big2));
      w2.writeSync(enc.encode("WORLD"));
      assert.equal(new TextDecoder().decode(readAll(r3, 5)), "WORLD");
      w2.close();
      r3.close();
      // The original blob is untouched for everyone else (the shared cache file).
      const r = await vibe(repo, "spawn", "other", "--mount", `${mnt}/other`);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await Deno.readFile(`${mnt}/other/big.bin`), enc.encode(big));
      assert.deepEqual(await Deno.readFile(`${mnt}/other/big2.bin`), enc.encode(big2));
    } finally {
      await cleanupDaemon(repo, mnt);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "fuse passthrough: a project on overlayfs (too deep to pass through) reads normally",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const hasOverlay = Deno.readTextFileSync("/proc/filesystems").includes("\toverlay\n");
    if (!hasOverlay) {
      console.log("skipped: this kernel has no overlayfs (modprobe overlay)");
      return;
    }
    const base = await Deno.makeTempDir({ prefix: "vibe-pt-ovl-" });
    const merged = `${base}/merged`;
    for (const d of ["lower", "upper", "work", "merged", "mnt"]) await Deno.mkdir(`${base}/${d}`);
    const mount = await new Deno.Command("mount", {
      args: [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`,
        merged,
      ],
    }).output();
    assert.equal(mount.code, 0, new TextDecoder().decode(mount.stderr));
    const repo = `${merged}/repo`;
    try {
      const big = letters(SIZE, 11);
      await Deno.mkdir(repo);
      const git = (...args: string[]) =>
        new Deno.Command("git", { args, cwd: repo, stdout: "null", stderr: "null" }).output();
      await git("init", "-q");
      await Deno.writeTextFile(`${repo}/big.bin`, big);
      await git("add", "big.bin");
      await git("-c", "user.name=T", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", "big");
      await vibeOk(repo, "init");
      await vibeOk(repo, "spawn", "o", "--mount", `${base}/mnt/o`);
      assert.deepEqual(await Deno.readFile(`${base}/mnt/o/big.bin`), enc.encode(big));
      // The blob cache file is there now; its filesystem is stacked, so the kernel
      // refuses it as a backing file and the mount turns passthrough off for good.
      assert.deepEqual(await Deno.readFile(`${base}/mnt/o/big.bin`), enc.encode(big));
      assert.deepEqual(await Deno.readFile(`${base}/mnt/o/big.bin`), enc.encode(big));
      const st = await stats(repo, "o");
      assert.equal(st.passthrough, false, "passthrough turned off");
      assert.equal(st.openFiles.passthrough, 0);
      const w = Deno.openSync(`${base}/mnt/o/big.bin`, { write: true });
      w.writeSync(enc.encode("OVERLAY"));
      w.close();
      assert.equal(
        new TextDecoder().decode((await Deno.readFile(`${base}/mnt/o/big.bin`)).subarray(0, 8)),
        "OVERLAY" + big[7],
      );
    } finally {
      await cleanupDaemon(repo, `${base}/mnt`).catch(() => {});
      await new Deno.Command("umount", { args: ["-l", merged] }).output();
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});
