/**
 * Re-captures the golden frames in tests/fixtures/nfs_golden/ from the real
 * Linux NFS client (run by hand, as root, when the codec changes):
 *   deno run -A tests/nfs_guest/capture_golden.ts
 * Serves a MemoryVfs holding "hello.txt" with the codec test's secret and
 * epoch (so the captured handles stay valid for replay), runs
 * tests/nfs_guest/golden.sh in nfs-vm, and writes the first call of each
 * wanted procedure as hex. The field-by-field comments live in README.md
 * next to the frames and must be updated by hand.
 */
import { MemoryVfs } from "../../src/vfs/memory_vfs.ts";
import { serveNfs } from "../../src/nfs/mod.ts";
import { GOLDEN_EPOCH, GOLDEN_SECRET } from "../helpers/nfs_golden.ts";

const here = new URL(".", import.meta.url).pathname;
const out = new URL("../fixtures/nfs_golden/", import.meta.url).pathname;
const vfs = new MemoryVfs();
const f = await vfs.create(1, "hello.txt", 0o644, { uid: 0, gid: 0 }, true);
await vfs.write(f.ino, 0, new TextEncoder().encode("hello, golden\n"));
const records: Uint8Array[] = [];
const server = await serveNfs({
  vibeId: "golden",
  vfs,
  secret: GOLDEN_SECRET,
  epoch: GOLDEN_EPOCH,
  captureRecords: (r) => records.push(r),
});
const cmd = new Deno.Command(new URL("../../../shared/tools/nfs-vm", import.meta.url).pathname, {
  args: ["--port", String(server.port), "--export", server.exportPath, "--", `${here}golden.sh`],
});
const res = await cmd.output();
await server.close();
if (res.code !== 0) {
  console.error(new TextDecoder().decode(res.stdout));
  throw new Error(`nfs-vm exited with ${res.code}`);
}
const want: Record<string, [number, number, (r: Uint8Array) => boolean]> = {
  mnt_call: [100005, 1, () => true],
  getattr_call: [100003, 1, () => true],
  lookup_call: [100003, 3, (r) => new TextDecoder().decode(r).includes("hello.txt")],
  readdirplus_call: [100003, 17, () => true],
  write_call: [100003, 7, () => true],
};
for (const [name, [prog, proc, pred]] of Object.entries(want)) {
  const rec = records.find((r) => {
    const v = new DataView(r.buffer, r.byteOffset);
    return r.length >= 24 && v.getUint32(12) === prog && v.getUint32(20) === proc && pred(r);
  });
  if (!rec) throw new Error(`no ${name} captured`);
  const hex = [...rec].map((b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(`${out}${name}.hex`, hex.replace(/(.{64})/g, "$1\n").trim() + "\n");
  console.log(`${name}: ${rec.length} bytes`);
}
