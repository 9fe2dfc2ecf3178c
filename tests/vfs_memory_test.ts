/** The Vfs contract against `MemoryVfs`, plus what only the in-memory reference promises. */
import assert from "node:assert/strict";
import { ROOT_INO } from "../src/vfs/vfs.ts";
import { MemoryVfs } from "../src/vfs/memory_vfs.ts";
import { assertErrno, runVfsContract } from "./vfs_contract.ts";

runVfsContract("memory", () => Promise.resolve({ vfs: new MemoryVfs(), close: async () => {} }));

const CALLER = { uid: 1000, gid: 1000 };
const enc = new TextEncoder();

// The suite must not assume an empty root (the workspace Vfs serves a git tree there).
runVfsContract("memory with a populated root", async () => {
  const vfs = new MemoryVfs();
  const src = await vfs.mkdir(ROOT_INO, "src", 0o755, CALLER);
  await vfs.mkdir(src.ino, "lib", 0o755, CALLER);
  const readme = await vfs.create(ROOT_INO, "README.md", 0o644, CALLER, true);
  await vfs.write(readme.ino, 0, enc.encode("# seeded\n"));
  await vfs.symlink(ROOT_INO, "link", "README.md", CALLER);
  return { vfs, close: async () => {} };
});

Deno.test("memory: the root takes its owner and mode from the options", async () => {
  const vfs = new MemoryVfs({ root: { uid: 501, gid: 20, mode: 0o1777 } });
  const root = await vfs.getattr(ROOT_INO);
  assert.equal(root.uid, 501);
  assert.equal(root.gid, 20);
  assert.equal(root.mode, 0o1777);
  assert.equal(root.kind, "dir");
  assert.equal(root.nlink, 2);
  const plain = await new MemoryVfs().getattr(ROOT_INO);
  assert.deepEqual([plain.uid, plain.gid, plain.mode], [0, 0, 0o755]);
});

Deno.test("memory: inode numbers count up from 2 and are never reused", async () => {
  const vfs = new MemoryVfs();
  const a = await vfs.create(ROOT_INO, "a", 0o644, CALLER, true);
  assert.equal(a.ino, 2);
  await vfs.unlink(ROOT_INO, "a");
  vfs.forget(a.ino, 1);
  const b = await vfs.create(ROOT_INO, "a", 0o644, CALLER, true);
  assert.equal(b.ino, 3);
});

Deno.test("memory: an unlinked inode answers until its lookups are forgotten", async () => {
  const vfs = new MemoryVfs();
  const f = await vfs.create(ROOT_INO, "f", 0o644, CALLER, true); // lookups 1
  await vfs.lookup(ROOT_INO, "f"); // lookups 2
  await vfs.write(f.ino, 0, enc.encode("still here"));
  await vfs.unlink(ROOT_INO, "f");
  assert.equal((await vfs.getattr(f.ino)).nlink, 0);
  await vfs.write(f.ino, 10, enc.encode("!"));
  assert.equal(new TextDecoder().decode(await vfs.read(f.ino, 0, 100)), "still here!");
  await assertErrno(vfs.link(f.ino, ROOT_INO, "back"), "ENOENT");
  vfs.forget(f.ino, 1);
  assert.equal((await vfs.getattr(f.ino)).size, 11);
  vfs.forget(f.ino, 1);
  await assertErrno(vfs.getattr(f.ino), "ESTALE");
  vfs.forget(f.ino, 1); // forgetting an unknown inode is harmless
  vfs.forget(ROOT_INO, 100);
  assert.equal((await vfs.getattr(ROOT_INO)).kind, "dir");
});

Deno.test("memory: a forgotten inode that still has a name stays", async () => {
  const vfs = new MemoryVfs();
  const f = await vfs.create(ROOT_INO, "f", 0o644, CALLER, true);
  vfs.forget(f.ino, 5);
  assert.equal((await vfs.getattr(f.ino)).nlink, 1);
  await vfs.unlink(ROOT_INO, "f"); // no lookups left: dropped at once
  await assertErrno(vfs.getattr(f.ino), "ESTALE");
});

Deno.test("memory: a removed directory accepts no new entries", async () => {
  const vfs = new MemoryVfs();
  const d = await vfs.mkdir(ROOT_INO, "d", 0o755, CALLER);
  await vfs.rmdir(ROOT_INO, "d");
  assert.equal((await vfs.getattr(d.ino)).nlink, 0);
  assert.deepEqual(await vfs.readdir(d.ino, 0, 10), []);
  await assertErrno(vfs.create(d.ino, "x", 0o644, CALLER, true), "ENOENT");
  await assertErrno(vfs.mkdir(d.ino, "x", 0o755, CALLER), "ENOENT");
});

Deno.test("memory: set-group-ID directories pass on their group", async () => {
  const vfs = new MemoryVfs();
  const d = await vfs.mkdir(ROOT_INO, "d", 0o2775, { uid: 1, gid: 77 });
  const f = await vfs.create(d.ino, "f", 0o644, CALLER, true);
  assert.equal(f.gid, 77);
  const sub = await vfs.mkdir(d.ino, "sub", 0o755, CALLER);
  assert.equal(sub.gid, 77);
  assert.equal(sub.mode, 0o2755);
});

Deno.test("memory: symlinks, sizes and flags at the edges", async () => {
  const vfs = new MemoryVfs();
  await vfs.symlink(ROOT_INO, "max", "x".repeat(4096), CALLER);
  await assertErrno(vfs.symlink(ROOT_INO, "empty", "", CALLER), "ENOENT");
  await assertErrno(vfs.symlink(ROOT_INO, "nul", "a\0b", CALLER), "EINVAL");
  const p = await vfs.mknod(ROOT_INO, "p", "fifo", 0o644, CALLER);
  await assertErrno(vfs.setattr(p.ino, { size: 0 }), "EINVAL");
  await assertErrno(vfs.read(p.ino, 0, 1), "EINVAL");
  const f = await vfs.create(ROOT_INO, "f", 0o644, CALLER, true);
  await assertErrno(vfs.write(f.ino, -1, enc.encode("x")), "EINVAL");
  await assertErrno(vfs.write(f.ino, 2 ** 44, enc.encode("x")), "EFBIG");
  await assertErrno(vfs.setattr(f.ino, { size: -1 }), "EINVAL");
  await assertErrno(
    vfs.setattr(f.ino, { mtime: { sec: 1, nsec: 1e9 }, mode: 0o600 }),
    "EINVAL",
  );
  assert.equal((await vfs.getattr(f.ino)).mode, 0o644, "a failed setattr changes nothing");
  await assertErrno(
    vfs.rename(ROOT_INO, "f", ROOT_INO, "p", { exchange: true, noReplace: true }),
    "EINVAL",
  );
});

Deno.test("memory: capacity limits writes and shows in statfs", async () => {
  const vfs = new MemoryVfs({ capacityBytes: 4 * 65536, maxInodes: 3 });
  const f = await vfs.create(ROOT_INO, "f", 0o644, CALLER, true);
  await vfs.write(f.ino, 0, new Uint8Array(3 * 65536));
  const s = await vfs.statfs();
  assert.equal(s.totalBlocks, 64);
  assert.equal(s.freeBlocks, 16);
  assert.equal(s.freeFiles, 1);
  await assertErrno(vfs.write(f.ino, 3 * 65536, new Uint8Array(65537)), "ENOSPC");
  await vfs.write(f.ino, 3 * 65536, new Uint8Array(65536));
  await vfs.setattr(f.ino, { size: 10 });
  assert.equal((await vfs.statfs()).freeBlocks, 64 - 16);
  await vfs.create(ROOT_INO, "g", 0o644, CALLER, true);
  await assertErrno(vfs.create(ROOT_INO, "h", 0o644, CALLER, true), "ENOSPC");
});

Deno.test("memory: readdir stays in order through many removals", async () => {
  const vfs = new MemoryVfs();
  for (let i = 0; i < 500; i++) await vfs.create(ROOT_INO, `f${i}`, 0o644, CALLER, true);
  for (let i = 0; i < 500; i += 2) await vfs.unlink(ROOT_INO, `f${i}`);
  const page = await vfs.readdir(ROOT_INO, 0, 1000);
  assert.deepEqual(page.map((e) => e.name), Array.from({ length: 250 }, (_, i) => `f${2 * i + 1}`));
  const after = await vfs.readdir(ROOT_INO, page[99]!.cookie, 3);
  assert.deepEqual(after.map((e) => e.name), ["f201", "f203", "f205"]);
});
