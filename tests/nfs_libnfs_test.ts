/**
 * The libnfs command-line client (Debian libnfs-utils: nfs-ls, nfs-cat,
 * nfs-cp) against `serveNfs` over a MemoryVfs. MOUNT is answered on the NFS
 * port, so the URLs pass the same port as nfsport and mountport. libnfs takes
 * everything before a file URL's last "/" as the export, so files sit right
 * under the export path; a directory URL mounts its whole path, so
 * subdirectories are listed with -R from the export root.
 *
 * Installs libnfs-utils with apt-get when missing (as root); skipped with
 * the reason when that is impossible.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import { serveNfs } from "../src/nfs/mod.ts";

function have(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
}

function ensureLibnfs(): string | null {
  if (Deno.build.os !== "linux") return "libnfs-utils tests run on Linux";
  if (have("nfs-ls") && have("nfs-cat") && have("nfs-cp")) return null;
  if (Deno.uid() !== 0) return "nfs-ls is missing and installing libnfs-utils needs root";
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  let r = new Deno.Command("apt-get", { args: ["install", "-y", "-qq", "libnfs-utils"], env })
    .outputSync();
  if (!r.success) {
    new Deno.Command("apt-get", { args: ["update", "-qq"], env }).outputSync();
    r = new Deno.Command("apt-get", { args: ["install", "-y", "-qq", "libnfs-utils"], env })
      .outputSync();
  }
  return have("nfs-ls") ? null : "libnfs-utils is missing and could not be installed";
}
const SKIP = ensureLibnfs();

async function run(cmd: string, ...args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function md5(b: Uint8Array): string {
  return createHash("md5").update(b).digest("hex");
}

Deno.test({
  name: SKIP === null
    ? "nfs libnfs: nfs-ls, nfs-cat, nfs-cp against the server"
    : `nfs libnfs (skipped: ${SKIP})`,
  ignore: SKIP !== null,
  fn: async () => {
    const vfs = new MemoryVfs();
    const caller = { uid: 0, gid: 0 };
    const hello = await vfs.create(1, "hello.txt", 0o644, caller, true);
    await vfs.write(hello.ino, 0, new TextEncoder().encode("hello from vibe\n"));
    const sub = await vfs.mkdir(1, "sub", 0o755, caller);
    for (let i = 0; i < 50; i++) await vfs.create(sub.ino, `inner-${i}.txt`, 0o600, caller, true);
    const logs: string[] = [];
    const server = await serveNfs({
      vibeId: "lib",
      vfs,
      secret: crypto.getRandomValues(new Uint8Array(16)),
      epoch: 7,
      log: (m) => logs.push(m),
    });
    const tmp = await Deno.makeTempDir({ prefix: "nfs-libnfs-" });
    const q = `version=3&nfsport=${server.port}&mountport=${server.port}`;
    const url = (path = "") => `nfs://127.0.0.1${server.exportPath}${path}?${q}`;
    try {
      const ls = await run("nfs-ls", url());
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /hello\.txt/);
      assert.match(ls.stdout, /sub/);
      assert.match(ls.stdout, /\s16 hello\.txt/, "size is listed");

      const rec = await run("nfs-ls", "-R", url());
      assert.equal(rec.code, 0, rec.stderr);
      for (let i = 0; i < 50; i++) assert.match(rec.stdout, new RegExp(`inner-${i}\\.txt`));

      const cat = await run("nfs-cat", url("/hello.txt"));
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(cat.stdout, "hello from vibe\n");

      // Upload a 3 MiB file, download it again, compare.
      const data = new Uint8Array(3 * 1024 * 1024 + 123);
      for (let i = 0; i < data.length; i += 65536) {
        crypto.getRandomValues(data.subarray(i, Math.min(data.length, i + 65536)));
      }
      await Deno.writeFile(`${tmp}/up.bin`, data);
      const up = await run("nfs-cp", `${tmp}/up.bin`, url("/up.bin"));
      assert.equal(up.code, 0, up.stderr);
      const a = await vfs.lookup(1, "up.bin");
      assert.equal(a.size, data.length);
      assert.equal(md5(await vfs.read(a.ino, 0, a.size)), md5(data), "server has the upload");
      const down = await run("nfs-cp", url("/up.bin"), `${tmp}/down.bin`);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(md5(await Deno.readFile(`${tmp}/down.bin`)), md5(data));

      // nfs-cp never overwrites: the server answers EXIST.
      const again = await run("nfs-cp", `${tmp}/up.bin`, url("/up.bin"));
      assert.notEqual(again.code, 0);

      // A wrong export path is refused at MNT.
      const wrong = await run("nfs-ls", `nfs://127.0.0.1/vibe/lib/${"0".repeat(32)}?${q}`);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stdout + wrong.stderr, /MNT3ERR_ACCES/);
      const root = await run("nfs-ls", `nfs://127.0.0.1/?${q}`);
      assert.notEqual(root.code, 0);

      assert.deepEqual(
        logs.filter((l) => l.includes("SERVERFAULT") || l.includes("SYSTEM_ERR")),
        [],
      );
    } finally {
      await server.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
