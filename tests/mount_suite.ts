/**
 * The mount-level POSIX suite: one function per behaviour, each given a
 * directory on the filesystem under test (a native directory as the control,
 * a FUSE mount, an NFS mount) and making real syscalls there.
 *
 * Invariants of every behaviour:
 * - It works only inside the directory it is given (a fresh, empty
 *   subdirectory made by `registerMountSuite`; the mount root may hold a
 *   repository's files) and leaves cleanup of that directory to the caller.
 * - Every filesystem call is asynchronous (Deno async ops, the posix worker,
 *   child processes), so a FUSE server running in the test process keeps
 *   being served while a behaviour waits on its mount.
 * - Results and error kinds are exact (errno names); nothing asserts values
 *   that differ between healthy filesystems in unimportant ways: directory
 *   st_size, st_blocks, directory nlink, atime (except right after it is set
 *   explicitly), ctime/rename interplay.
 * - Time checks never measure durations: they set an old time and see it
 *   replaced (or kept), or wait until the clock has passed a recorded ctime.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  assertFails,
  errCode,
  hasPython3,
  listNames,
  O,
  Posix,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  run,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  sleep,
  type Timespec,
  UTIME_NOW,
  UTIME_OMIT,
  XATTR_CREATE,
  XATTR_REPLACE,
} from "./helpers/posix.ts";

/** Capabilities a behaviour depends on beyond plain files and directories. */
export type MountNeed = "xattr" | "mmap" | "fifo" | "chown" | "bigfile";

/** One behaviour: `run` throws (an assertion) when the filesystem at `dir` misbehaves. */
export interface MountBehaviour {
  name: string;
  run(dir: string): Promise<void>;
  needs?: MountNeed[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const MiB = 1024 * 1024;

/** Deterministic bytes: `n` bytes of a pattern keyed by `seed`. */
function pattern(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 101 + (i >> 9)) & 0xff;
  return out;
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await f.write(data.subarray(off));
}

/** Reads exactly `n` bytes (fewer only at end of file). */
async function readN(f: Deno.FsFile, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await f.read(buf.subarray(off));
    if (got === null) break;
    off += got;
  }
  return buf.subarray(0, off);
}

async function readAt(path: string, offset: number, n: number): Promise<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    await f.seek(offset, Deno.SeekMode.Start);
    return await readN(f, n);
  } finally {
    f.close();
  }
}

async function readText(path: string): Promise<string> {
  return dec.decode(await Deno.readFile(path));
}

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Compares byte arrays, reporting the first differing offset instead of dumping them. */
function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

async function withPosix<T>(fn: (px: Posix) => Promise<T>): Promise<T> {
  const px = Posix.open();
  try {
    return await fn(px);
  } finally {
    px.close();
  }
}

function ts(sec: number, nsec = 0): Timespec {
  return { sec, nsec };
}

const OLD = ts(1_000_000_000, 500_000_000);

function tsEq(a: Timespec, b: Timespec): boolean {
  return a.sec === b.sec && a.nsec === b.nsec;
}

function tsGt(a: Timespec, b: Timespec): boolean {
  return a.sec > b.sec || (a.sec === b.sec && a.nsec > b.nsec);
}

/** Waits until the wall clock is well past `t`, so a coarse filesystem clock has ticked too. */
async function waitPast(t: Timespec): Promise<void> {
  const ms = t.sec * 1000 + t.nsec / 1e6 + 30;
  while (Date.now() <= ms) await sleep(10);
}

async function ino(path: string): Promise<number | null> {
  return (await Deno.lstat(path)).ino;
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (errCode(e) === "ENOENT") return false;
    throw e;
  }
}

async function runOk(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd === undefined ? {} : { cwd });
  if (r.code !== 0) {
    assert.fail(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

// --- behaviours --------------------------------------------------------------

async function createWriteRead(dir: string): Promise<void> {
  const p = `${dir}/f`;
  await Deno.writeFile(p, enc.encode("hello"));
  assert.equal(await readText(p), "hello");
  const st = await Deno.stat(p);
  assert.ok(st.isFile);
  assert.equal(st.size, 5);

  const f = await Deno.open(p, { read: true, write: true });
  try {
    assert.equal(await f.seek(0, Deno.SeekMode.End), 5);
    await writeAll(f, enc.encode(" world"));
    assert.equal(await f.seek(0, Deno.SeekMode.Start), 0);
    assert.equal(dec.decode(await readN(f, 100)), "hello world");
    assert.equal(await f.read(new Uint8Array(10)), null, "read at end of file");
    await f.seek(1000, Deno.SeekMode.Start);
    assert.equal(await f.read(new Uint8Array(10)), null, "read past end of file");
    assert.equal((await f.stat()).size, 11);
  } finally {
    f.close();
  }

  // Two handles on one file see each other's writes.
  const w = await Deno.open(p, { write: true });
  const r = await Deno.open(p, { read: true });
  try {
    await w.seek(6, Deno.SeekMode.Start);
    await writeAll(w, enc.encode("WORLD"));
    assert.equal(dec.decode(await readN(r, 100)), "hello WORLD");
  } finally {
    w.close();
    r.close();
  }

  // writeFile truncates (O_TRUNC); an empty file reads as empty.
  await Deno.writeFile(p, enc.encode("x"));
  assert.equal(await readText(p), "x");
  assert.equal((await Deno.stat(p)).size, 1);
  await Deno.writeFile(`${dir}/empty`, new Uint8Array());
  assert.equal((await Deno.stat(`${dir}/empty`)).size, 0);
  assert.equal((await Deno.readFile(`${dir}/empty`)).length, 0);
  assert.deepEqual(await listNames(dir), ["empty", "f"]);

  // A 1 MiB + 1 byte file crosses page and typical request-size boundaries.
  const big = pattern(MiB + 1, 3);
  await Deno.writeFile(`${dir}/g`, big);
  assertBytes(await Deno.readFile(`${dir}/g`), big, "1 MiB + 1 file");
}

async function appendMode(dir: string): Promise<void> {
  const p = `${dir}/f`;
  await Deno.writeFile(p, enc.encode("abc"));
  const f = await Deno.open(p, { append: true });
  try {
    await f.seek(0, Deno.SeekMode.Start);
    await writeAll(f, enc.encode("def"));
    assert.equal(await f.seek(0, Deno.SeekMode.Current), 6, "position after an append");
    await f.seek(1, Deno.SeekMode.Start);
    await writeAll(f, enc.encode("gh"));
  } finally {
    f.close();
  }
  assert.equal(await readText(p), "abcdefgh");
  await Deno.writeFile(p, enc.encode("ij"), { append: true });
  assert.equal(await readText(p), "abcdefghij");
  // O_APPEND|O_CREAT on a missing file creates it.
  await Deno.writeFile(`${dir}/new`, enc.encode("n"), { append: true });
  assert.equal(await readText(`${dir}/new`), "n");
}

async function overwriteMiddle(dir: string): Promise<void> {
  const p = `${dir}/f`;
  const data = pattern(10_000, 5);
  await Deno.writeFile(p, data);
  const f = await Deno.open(p, { write: true });
  try {
    await f.seek(4000, Deno.SeekMode.Start);
    await writeAll(f, new Uint8Array(100).fill(0x58));
    await f.seek(4090, Deno.SeekMode.Start); // straddles the 4 KiB page boundary
    await writeAll(f, new Uint8Array(20).fill(0x59));
  } finally {
    f.close();
  }
  const expected = data.slice();
  expected.fill(0x58, 4000, 4100);
  expected.fill(0x59, 4090, 4110);
  assert.equal((await Deno.stat(p)).size, 10_000);
  assertBytes(await Deno.readFile(p), expected, "after overwrites");
}

async function truncateFile(dir: string): Promise<void> {
  const p = `${dir}/f`;
  const data = pattern(10_000, 7);
  await Deno.writeFile(p, data);
  await Deno.truncate(p, 3000);
  assert.equal((await Deno.stat(p)).size, 3000);
  assertBytes(await Deno.readFile(p), data.subarray(0, 3000), "after shrink");
  await Deno.truncate(p, 8000);
  assert.equal((await Deno.stat(p)).size, 8000);
  assertBytes(
    await Deno.readFile(p),
    concat(data.subarray(0, 3000), new Uint8Array(5000)),
    "after extend",
  );
  await Deno.truncate(p);
  assert.equal((await Deno.stat(p)).size, 0);
  assert.equal((await Deno.readFile(p)).length, 0);

  // ftruncate through an open handle.
  await Deno.writeFile(p, data.subarray(0, 5000));
  const f = await Deno.open(p, { read: true, write: true });
  try {
    await f.truncate(100);
    assert.equal((await f.stat()).size, 100);
    await f.truncate(200_000);
    assert.equal((await f.stat()).size, 200_000);
    await f.seek(0, Deno.SeekMode.Start);
    const back = await readN(f, 300_000);
    assertBytes(back.subarray(0, 100), data.subarray(0, 100), "kept prefix");
    assert.ok(isZero(back.subarray(100)), "extension reads as zeros");
    assert.equal(back.length, 200_000);
    await f.truncate(0);
    assert.equal((await f.stat()).size, 0);
  } finally {
    f.close();
  }
  assert.equal((await Deno.stat(p)).size, 0);
  await assertFails(Deno.truncate(`${dir}/missing`, 0), "ENOENT", "truncate of a missing file");
  await Deno.mkdir(`${dir}/d`);
  await assertFails(Deno.truncate(`${dir}/d`, 0), "EISDIR", "truncate of a directory");
}

async function sparseFile(dir: string): Promise<void> {
  const p = `${dir}/sparse`;
  const hole = 10 * MiB;
  const f = await Deno.open(p, { write: true, read: true, createNew: true });
  try {
    await f.seek(hole, Deno.SeekMode.Start);
    await writeAll(f, enc.encode("tail"));
    assert.equal((await f.stat()).size, hole + 4);
    await f.seek(3 * MiB, Deno.SeekMode.Start);
    await writeAll(f, enc.encode("mid"));
  } finally {
    f.close();
  }
  assert.equal((await Deno.stat(p)).size, hole + 4);
  assert.ok(isZero(await readAt(p, 0, 65536)), "start of the hole");
  assert.ok(isZero(await readAt(p, 3 * MiB - 4096, 4096)), "before the middle write");
  assert.equal(dec.decode(await readAt(p, 3 * MiB, 3)), "mid");
  assert.ok(isZero(await readAt(p, 3 * MiB + 3, 8192)), "after the middle write");
  assert.ok(isZero(await readAt(p, 5 * MiB + 17, 100_000)), "inside the hole");
  assert.equal(dec.decode(await readAt(p, hole - 2, 100)), "\0\0tail");
  const all = await Deno.readFile(p);
  assert.equal(all.length, hole + 4);
  const expected = new Uint8Array(hole + 4);
  expected.set(enc.encode("mid"), 3 * MiB);
  expected.set(enc.encode("tail"), hole);
  assertBytes(all, expected, "whole sparse file");
}

async function largeFile(dir: string): Promise<void> {
  const p = `${dir}/large`;
  const chunks = 100;
  const base = new Uint8Array(MiB);
  for (let off = 0; off < MiB; off += 65536) {
    crypto.getRandomValues(base.subarray(off, off + 65536));
  }
  const chunk = (i: number) => {
    const c = base.slice();
    new DataView(c.buffer).setUint32(0, i, true);
    new DataView(c.buffer).setUint32(MiB - 4, i ^ 0xa5a5a5a5, true);
    return c;
  };
  const wrote = createHash("sha256");
  const f = await Deno.open(p, { write: true, createNew: true });
  try {
    for (let i = 0; i < chunks; i++) {
      const c = chunk(i);
      wrote.update(c);
      await writeAll(f, c);
    }
  } finally {
    f.close();
  }
  assert.equal((await Deno.stat(p)).size, chunks * MiB);
  const read = createHash("sha256");
  const r = await Deno.open(p, { read: true });
  let total = 0;
  try {
    for (;;) {
      const got = await readN(r, MiB);
      if (got.length === 0) break;
      read.update(got);
      total += got.length;
    }
  } finally {
    r.close();
  }
  assert.equal(total, chunks * MiB);
  assert.equal(read.digest("hex"), wrote.digest("hex"), "sha256 of the data read back");
  const off = 57 * MiB + 12_345;
  assertBytes(await readAt(p, off, 100), chunk(57).subarray(12_345, 12_445), "random read");
}

async function renameFileOverFile(dir: string): Promise<void> {
  await Deno.writeFile(`${dir}/a`, enc.encode("A"));
  await Deno.writeFile(`${dir}/b`, enc.encode("B"));
  const ia = await ino(`${dir}/a`);
  await Deno.rename(`${dir}/a`, `${dir}/b`);
  assert.equal(await exists(`${dir}/a`), false);
  assert.equal(await readText(`${dir}/b`), "A");
  assert.equal(await ino(`${dir}/b`), ia, "the renamed inode keeps its number");
  assert.deepEqual(await listNames(dir), ["b"]);
  // rename(x, x) succeeds and changes nothing.
  await Deno.rename(`${dir}/b`, `${dir}/b`);
  assert.equal(await readText(`${dir}/b`), "A");
  // Renaming one hard link of a file over another is a successful no-op.
  await Deno.link(`${dir}/b`, `${dir}/c`);
  await Deno.rename(`${dir}/b`, `${dir}/c`);
  assert.deepEqual(await listNames(dir), ["b", "c"]);
  assert.equal((await Deno.stat(`${dir}/c`)).nlink, 2);
}

async function renameAcrossDirs(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/d1/x`, { recursive: true });
  await Deno.mkdir(`${dir}/d2`);
  await Deno.writeFile(`${dir}/d1/f`, enc.encode("f"));
  await Deno.writeFile(`${dir}/d1/x/y`, enc.encode("y"));
  await Deno.rename(`${dir}/d1/f`, `${dir}/d2/g`);
  assert.equal(await readText(`${dir}/d2/g`), "f");
  assert.deepEqual(await listNames(`${dir}/d1`), ["x"]);
  const ix = await ino(`${dir}/d1/x`);
  await Deno.rename(`${dir}/d1`, `${dir}/d2/sub`);
  assert.equal(await exists(`${dir}/d1`), false);
  assert.equal(await readText(`${dir}/d2/sub/x/y`), "y");
  assert.equal(await ino(`${dir}/d2/sub/x`), ix);
  assert.equal(await ino(`${dir}/d2/sub/..`), await ino(`${dir}/d2`), `".." follows the move`);
  assert.deepEqual(await listNames(`${dir}/d2`), ["g", "sub"]);
  assert.deepEqual(await listNames(dir), ["d2"]);

  // An open file keeps working after its name moves.
  const f = await Deno.open(`${dir}/d2/g`, { read: true, write: true });
  try {
    await Deno.rename(`${dir}/d2/g`, `${dir}/moved`);
    await f.seek(0, Deno.SeekMode.End);
    await writeAll(f, enc.encode("+"));
    assert.equal((await f.stat()).size, 2);
  } finally {
    f.close();
  }
  assert.equal(await readText(`${dir}/moved`), "f+");
}

async function renameDirOverEmptyDir(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/src`);
  await Deno.writeFile(`${dir}/src/f`, enc.encode("f"));
  await Deno.mkdir(`${dir}/dst`);
  await Deno.rename(`${dir}/src`, `${dir}/dst`);
  assert.deepEqual(await listNames(dir), ["dst"]);
  assert.equal(await readText(`${dir}/dst/f`), "f");
}

async function renameErrors(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/a/b`, { recursive: true });
  await Deno.writeFile(`${dir}/a/b/f`, enc.encode("f"));
  await Deno.mkdir(`${dir}/full`);
  await Deno.writeFile(`${dir}/full/x`, enc.encode("x"));
  await Deno.mkdir(`${dir}/empty`);
  await Deno.writeFile(`${dir}/file`, enc.encode("file"));
  const r = (a: string, b: string) => Deno.rename(`${dir}/${a}`, `${dir}/${b}`);
  await assertFails(r("a", "full"), "ENOTEMPTY", "rename of a dir over a non-empty dir");
  await assertFails(r("file", "empty"), "EISDIR", "rename of a file over a dir");
  await assertFails(r("a", "file"), "ENOTDIR", "rename of a dir over a file");
  await assertFails(r("a", "a/b/c"), "EINVAL", "rename of a dir into its own subtree");
  await assertFails(r("a", "a/b"), "EINVAL", "rename of a dir over its own child");
  await assertFails(r("missing", "z"), "ENOENT", "rename of a missing name");
  await assertFails(r("file", "nodir/z"), "ENOENT", "rename into a missing dir");
  await assertFails(r("file", "file/z"), "ENOTDIR", "rename under a file");
  assert.deepEqual(await listNames(dir), ["a", "empty", "file", "full"]);
  assert.deepEqual(await listNames(`${dir}/full`), ["x"]);
  assert.equal(await readText(`${dir}/a/b/f`), "f");
  assert.equal(await readText(`${dir}/file`), "file");
}

async function renameNoreplace(dir: string): Promise<void> {
  await withPosix(async (px) => {
    await Deno.writeFile(`${dir}/a`, enc.encode("A"));
    await Deno.writeFile(`${dir}/b`, enc.encode("B"));
    await Deno.mkdir(`${dir}/d`);
    await assertFails(
      px.renameat2(`${dir}/a`, `${dir}/b`, RENAME_NOREPLACE),
      "EEXIST",
      "RENAME_NOREPLACE over a file",
    );
    await assertFails(
      px.renameat2(`${dir}/a`, `${dir}/d`, RENAME_NOREPLACE),
      "EEXIST",
      "RENAME_NOREPLACE over a dir",
    );
    assert.equal(await readText(`${dir}/a`), "A");
    assert.equal(await readText(`${dir}/b`), "B");
    await px.renameat2(`${dir}/a`, `${dir}/c`, RENAME_NOREPLACE);
    await px.renameat2(`${dir}/d`, `${dir}/e`, RENAME_NOREPLACE);
    assert.deepEqual(await listNames(dir), ["b", "c", "e"]);
    assert.equal(await readText(`${dir}/c`), "A");
  });
}

async function renameExchange(dir: string): Promise<void> {
  await withPosix(async (px) => {
    await Deno.writeFile(`${dir}/f`, enc.encode("file"));
    await Deno.mkdir(`${dir}/d`);
    await Deno.writeFile(`${dir}/d/x`, enc.encode("x"));
    const [fi, di] = [await ino(`${dir}/f`), await ino(`${dir}/d`)];
    await px.renameat2(`${dir}/f`, `${dir}/d`, RENAME_EXCHANGE);
    assert.ok((await Deno.lstat(`${dir}/f`)).isDirectory);
    assert.equal(await readText(`${dir}/f/x`), "x");
    assert.equal(await readText(`${dir}/d`), "file");
    assert.equal(await ino(`${dir}/f`), di);
    assert.equal(await ino(`${dir}/d`), fi);
    await Deno.writeFile(`${dir}/g`, enc.encode("g"));
    await px.renameat2(`${dir}/d`, `${dir}/g`, RENAME_EXCHANGE);
    assert.equal(await readText(`${dir}/d`), "g");
    assert.equal(await readText(`${dir}/g`), "file");
    await assertFails(
      px.renameat2(`${dir}/g`, `${dir}/missing`, RENAME_EXCHANGE),
      "ENOENT",
      "RENAME_EXCHANGE with a missing target",
    );
    assert.deepEqual(await listNames(dir), ["d", "f", "g"]);
  });
}

async function hardLinks(dir: string): Promise<void> {
  const f = `${dir}/f`;
  await Deno.writeFile(f, enc.encode("one"));
  assert.equal((await Deno.stat(f)).nlink, 1);
  await Deno.link(f, `${dir}/g`);
  await Deno.mkdir(`${dir}/sub`);
  await Deno.link(`${dir}/g`, `${dir}/sub/h`);
  for (const p of [f, `${dir}/g`, `${dir}/sub/h`]) {
    const st = await Deno.stat(p);
    assert.equal(st.nlink, 3, `nlink of ${p}`);
    assert.equal(st.ino, await ino(f));
  }
  await Deno.writeFile(`${dir}/g`, enc.encode("two"));
  assert.equal(await readText(f), "two");
  assert.equal(await readText(`${dir}/sub/h`), "two");
  await Deno.remove(f);
  assert.equal((await Deno.stat(`${dir}/g`)).nlink, 2);
  assert.equal(await readText(`${dir}/g`), "two");
  await Deno.remove(`${dir}/sub/h`);
  assert.equal((await Deno.stat(`${dir}/g`)).nlink, 1);
  assert.deepEqual(await listNames(dir), ["g", "sub"]);
  await Deno.writeFile(`${dir}/other`, enc.encode("o"));
  await assertFails(Deno.link(`${dir}/g`, `${dir}/other`), "EEXIST", "link over a name");
  await assertFails(Deno.link(`${dir}/missing`, `${dir}/z`), "ENOENT", "link of a missing file");
  await assertFails(Deno.link(`${dir}/sub`, `${dir}/z`), "EPERM", "link of a directory");
  await assertFails(Deno.link(`${dir}/g`, `${dir}/nodir/z`), "ENOENT", "link into a missing dir");
}

async function symlinks(dir: string): Promise<void> {
  await Deno.writeFile(`${dir}/target`, enc.encode("content"));
  await Deno.symlink("target", `${dir}/s`);
  assert.equal(await Deno.readLink(`${dir}/s`), "target");
  const l = await Deno.lstat(`${dir}/s`);
  assert.ok(l.isSymlink);
  assert.equal(l.size, "target".length, "a symlink's size is its target's length");
  const s = await Deno.stat(`${dir}/s`);
  assert.ok(s.isFile);
  assert.equal(s.size, 7);
  assert.equal(s.ino, await ino(`${dir}/target`));
  assert.equal(await readText(`${dir}/s`), "content");
  await Deno.writeFile(`${dir}/s`, enc.encode("via link"));
  assert.equal(await readText(`${dir}/target`), "via link");

  // Dangling.
  await Deno.symlink("nowhere", `${dir}/dangling`);
  assert.ok((await Deno.lstat(`${dir}/dangling`)).isSymlink);
  await assertFails(Deno.stat(`${dir}/dangling`), "ENOENT", "stat through a dangling symlink");
  await assertFails(Deno.readFile(`${dir}/dangling`), "ENOENT", "read through a dangling symlink");
  assert.equal(await Deno.readLink(`${dir}/dangling`), "nowhere");

  // Targets are stored verbatim: absolute, long, with "..".
  const abs = "/nonexistent/abs/path";
  const long = "../" + "x".repeat(250) + "/" + "y".repeat(200);
  await Deno.symlink(abs, `${dir}/abs`);
  await Deno.symlink(long, `${dir}/long`);
  assert.equal(await Deno.readLink(`${dir}/abs`), abs);
  assert.equal(await Deno.readLink(`${dir}/long`), long);

  // To a directory.
  await Deno.mkdir(`${dir}/d`);
  await Deno.symlink("d", `${dir}/sd`);
  await Deno.writeFile(`${dir}/sd/x`, enc.encode("x"));
  assert.deepEqual(await listNames(`${dir}/sd`), ["x"]);
  assert.equal(await readText(`${dir}/d/x`), "x");

  // Kinds in readdir.
  const kinds: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    kinds[e.name] = e.isSymlink ? "l" : e.isDirectory ? "d" : e.isFile ? "f" : "?";
  }
  assert.deepEqual(kinds, {
    target: "f",
    s: "l",
    dangling: "l",
    abs: "l",
    long: "l",
    d: "d",
    sd: "l",
  });

  // Errors.
  await assertFails(Deno.readLink(`${dir}/target`), "EINVAL", "readlink of a regular file");
  await assertFails(Deno.symlink("x", `${dir}/target`), "EEXIST", "symlink over a file");
  await assertFails(Deno.symlink("x", `${dir}/s`), "EEXIST", "symlink over a symlink");
  await Deno.symlink("loop2", `${dir}/loop1`);
  await Deno.symlink("loop1", `${dir}/loop2`);
  await assertFails(Deno.stat(`${dir}/loop1`), "ELOOP", "stat of a symlink loop");
  await withPosix((px) =>
    assertFails(px.openClose(`${dir}/s`, O.RDONLY | O.NOFOLLOW), "ELOOP", "O_NOFOLLOW open")
  );

  // Removing a symlink leaves its target.
  await Deno.remove(`${dir}/s`);
  assert.equal(await readText(`${dir}/target`), "via link");
}

async function chmodModes(dir: string): Promise<void> {
  const f = `${dir}/f`;
  await Deno.writeFile(f, enc.encode("x"));
  for (const m of [0o644, 0o600, 0o755, 0o400, 0o777, 0o000, 0o4755, 0o640]) {
    await Deno.chmod(f, m);
    assert.equal(await mode(f), m, `file mode ${m.toString(8)}`);
  }
  await Deno.mkdir(`${dir}/d`);
  for (const m of [0o700, 0o1777, 0o2775, 0o755]) {
    await Deno.chmod(`${dir}/d`, m);
    assert.equal(await mode(`${dir}/d`), m, `dir mode ${m.toString(8)}`);
  }
  // chmod follows symlinks.
  await Deno.symlink("f", `${dir}/s`);
  await Deno.chmod(`${dir}/s`, 0o604);
  assert.equal(await mode(f), 0o604);
  assert.ok((await Deno.lstat(`${dir}/s`)).isSymlink);
  await assertFails(Deno.chmod(`${dir}/missing`, 0o644), "ENOENT", "chmod of a missing file");
  // The mode is kept across a rename.
  await Deno.rename(f, `${dir}/g`);
  assert.equal(await mode(`${dir}/g`), 0o604);
}

async function chownIds(dir: string): Promise<void> {
  const f = `${dir}/f`;
  await Deno.writeFile(f, enc.encode("x"));
  await Deno.chown(f, 1234, 5678);
  let st = await Deno.stat(f);
  assert.equal(st.uid, 1234);
  assert.equal(st.gid, 5678);
  await Deno.chown(f, null, 42);
  st = await Deno.stat(f);
  assert.equal(st.uid, 1234, "uid kept when only the gid changes");
  assert.equal(st.gid, 42);
  await Deno.chown(f, 77, null);
  st = await Deno.stat(f);
  assert.equal(st.uid, 77);
  assert.equal(st.gid, 42);
  await Deno.mkdir(`${dir}/d`);
  await Deno.chown(`${dir}/d`, 4321, 8765);
  st = await Deno.stat(`${dir}/d`);
  assert.equal(st.uid, 4321);
  assert.equal(st.gid, 8765);
  // lchown changes the symlink itself, not its target.
  await Deno.symlink("f", `${dir}/s`);
  await withPosix((px) => px.lchown(`${dir}/s`, 999, 998));
  const l = await Deno.lstat(`${dir}/s`);
  assert.equal(l.uid, 999);
  assert.equal(l.gid, 998);
  st = await Deno.stat(f);
  assert.equal(st.uid, 77);
  assert.equal(st.gid, 42);
}

async function utimensNanoseconds(dir: string): Promise<void> {
  await withPosix(async (px) => {
    const f = `${dir}/f`;
    await Deno.writeFile(f, enc.encode("x"));
    const at = ts(1_500_000_000, 111_111_111);
    const mt = ts(1_600_000_000, 123_456_789);
    await px.utimens(f, at, mt);
    let st = await px.statx(f);
    assert.deepEqual(st.atime, at);
    assert.deepEqual(st.mtime, mt);

    // UTIME_OMIT keeps atime; mtime at nanosecond 999,999,999.
    const mt2 = ts(1_234_567_890, 999_999_999);
    await px.utimens(f, ts(0, UTIME_OMIT), mt2);
    st = await px.statx(f);
    assert.deepEqual(st.atime, at);
    assert.deepEqual(st.mtime, mt2);

    // UTIME_NOW sets the current time.
    const before = Math.floor(Date.now() / 1000) - 2;
    await px.utimens(f, ts(0, UTIME_OMIT), ts(0, UTIME_NOW));
    st = await px.statx(f);
    assert.ok(st.mtime.sec >= before, `UTIME_NOW gave ${st.mtime.sec}, expected >= ${before}`);
    assert.deepEqual(st.atime, at);

    // Deno.utime (millisecond Dates).
    await Deno.utime(f, new Date(1_400_000_000_250), new Date(1_300_000_000_750));
    st = await px.statx(f);
    assert.deepEqual(st.mtime, ts(1_300_000_000, 750_000_000));
    assert.deepEqual(st.atime, ts(1_400_000_000, 250_000_000));

    // On a directory, and on a symlink itself (AT_SYMLINK_NOFOLLOW).
    await Deno.mkdir(`${dir}/d`);
    await px.utimens(`${dir}/d`, at, ts(1_100_000_000, 1));
    assert.deepEqual((await px.statx(`${dir}/d`)).mtime, ts(1_100_000_000, 1));
    await Deno.symlink("f", `${dir}/s`);
    await px.utimens(`${dir}/s`, at, ts(1_200_000_000, 2), true);
    assert.deepEqual((await px.statx(`${dir}/s`, true)).mtime, ts(1_200_000_000, 2));
    assert.deepEqual((await px.statx(f)).mtime, ts(1_300_000_000, 750_000_000));
    await assertFails(px.utimens(`${dir}/missing`, at, mt), "ENOENT", "utimens of a missing file");
  });
}

async function manyEntries(dir: string): Promise<void> {
  const n = 10_000;
  const name = (i: number) => `entry-${String(i).padStart(5, "0")}-${"n".repeat(i % 40)}`;
  const d = `${dir}/big`;
  await Deno.mkdir(d);
  const batch = 128;
  for (let i = 0; i < n; i += batch) {
    const ps: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      ps.push(Deno.writeFile(`${d}/${name(j)}`, new Uint8Array()));
    }
    await Promise.all(ps);
  }
  const seen = new Map<string, number>();
  for await (const e of Deno.readDir(d)) seen.set(e.name, (seen.get(e.name) ?? 0) + 1);
  const twice = [...seen].filter(([, c]) => c > 1).map(([k]) => k);
  assert.deepEqual(twice.slice(0, 5), [], "names listed more than once");
  for (let i = 0; i < n; i++) {
    if (!seen.has(name(i))) assert.fail(`"${name(i)}" missing from the listing`);
  }
  assert.equal(seen.size, n);

  // The same through readdir(3), which also returns "." and "..".
  await withPosix(async (px) => {
    const h = await px.opendir(d);
    const names: string[] = [];
    try {
      for (;;) {
        const b = await px.readdirBatch(h, 2000);
        names.push(...b.names);
        if (b.done) break;
      }
    } finally {
      await px.closedir(h);
    }
    assert.equal(names.length, n + 2);
    assert.equal(new Set(names).size, n + 2);
    assert.ok(names.includes(".") && names.includes(".."));
  });

  for (let i = 0; i < n; i += batch) {
    const ps: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) ps.push(Deno.remove(`${d}/${name(j)}`));
    await Promise.all(ps);
  }
  assert.deepEqual(await listNames(d), []);
  await Deno.remove(d);
}

async function deepTree(dir: string): Promise<void> {
  const levels = Array.from({ length: 60 }, (_, i) => `level${String(i).padStart(2, "0")}`);
  const rel = `tree/${levels.join("/")}`;
  await runOk("mkdir", ["-p", rel], dir);
  let p = `${dir}/tree`;
  for (const l of levels) {
    assert.deepEqual(await listNames(p), [l]);
    p = `${p}/${l}`;
  }
  assert.ok((await Deno.stat(p)).isDirectory);
  await Deno.writeFile(`${p}/leaf`, enc.encode("leaf"));
  assert.equal(await readText(`${dir}/${rel}/leaf`), "leaf");
  // Deno's own recursive mkdir beside it.
  await Deno.mkdir(`${dir}/tree/${levels.map((l) => l + "b").join("/")}`, { recursive: true });
  assert.deepEqual(await listNames(`${dir}/tree`), ["level00", "level00b"]);
  await runOk("rm", ["-rf", "tree"], dir);
  assert.equal(await exists(`${dir}/tree`), false);
  assert.deepEqual(await listNames(dir), []);
}

async function unlinkOpenFile(dir: string): Promise<void> {
  const p = `${dir}/f`;
  const f = await Deno.open(p, { read: true, write: true, createNew: true });
  try {
    await writeAll(f, enc.encode("before"));
    await Deno.remove(p);
    assert.deepEqual(await listNames(dir), []);
    await assertFails(Deno.stat(p), "ENOENT", "stat of an unlinked name");
    assert.equal((await f.stat()).nlink, 0, "fstat nlink after unlink");
    await writeAll(f, enc.encode(" after"));
    await f.seek(0, Deno.SeekMode.Start);
    assert.equal(dec.decode(await readN(f, 100)), "before after");
    assert.equal((await f.stat()).size, 12);
    // A new file under the same name is independent.
    await Deno.writeFile(p, enc.encode("new"));
    await f.seek(0, Deno.SeekMode.Start);
    assert.equal(dec.decode(await readN(f, 100)), "before after");
    await f.truncate(6);
    assert.equal((await f.stat()).size, 6);
    assert.equal(await readText(p), "new");
  } finally {
    f.close();
  }
  assert.deepEqual(await listNames(dir), ["f"]);
}

async function fsyncCalls(dir: string): Promise<void> {
  const p = `${dir}/f`;
  const f = await Deno.open(p, { write: true, read: true, createNew: true });
  try {
    await writeAll(f, pattern(100_000, 9));
    await f.sync();
    await writeAll(f, enc.encode("more"));
    await f.syncData();
    await f.seek(0, Deno.SeekMode.Start);
    assert.equal((await readN(f, 200_000)).length, 100_004);
  } finally {
    f.close();
  }
  assertBytes(
    await Deno.readFile(p),
    concat(pattern(100_000, 9), enc.encode("more")),
    "after fsync",
  );
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}

async function exclusiveCreate(dir: string): Promise<void> {
  const p = `${dir}/f`;
  const f = await Deno.open(p, { write: true, createNew: true });
  await writeAll(f, enc.encode("first"));
  f.close();
  await assertFails(
    Deno.open(p, { write: true, createNew: true }),
    "EEXIST",
    "O_EXCL on an existing file",
  );
  assert.equal(await readText(p), "first");
  await Deno.mkdir(`${dir}/d`);
  await assertFails(
    Deno.open(`${dir}/d`, { write: true, createNew: true }),
    "EEXIST",
    "O_EXCL on a directory",
  );
  // O_EXCL does not follow a symlink, even a dangling one.
  await Deno.symlink("target", `${dir}/dangling`);
  await assertFails(
    Deno.open(`${dir}/dangling`, { write: true, createNew: true }),
    "EEXIST",
    "O_EXCL on a dangling symlink",
  );
  assert.equal(await exists(`${dir}/target`), false);
  await withPosix(async (px) => {
    await px.openClose(`${dir}/g`, O.WRONLY | O.CREAT | O.EXCL, 0o600);
    await assertFails(
      px.openClose(`${dir}/g`, O.WRONLY | O.CREAT | O.EXCL, 0o600),
      "EEXIST",
      "open(O_CREAT|O_EXCL) twice",
    );
  });
  assert.equal((await Deno.stat(`${dir}/g`)).size, 0);
  assert.equal(await mode(`${dir}/g`), 0o600);
}

async function appendRace(dir: string): Promise<void> {
  const p = `${dir}/log`;
  const recSize = 64;
  const count = 1000;
  const record = (w: string, i: number) => {
    const head = `${w}:${String(i).padStart(6, "0")}:`;
    return enc.encode(head + w.repeat(recSize - head.length - 1) + "\n");
  };
  const writer = async (w: string) => {
    const f = await Deno.open(p, { append: true, create: true });
    try {
      for (let i = 0; i < count; i++) {
        const n = await f.write(record(w, i));
        assert.equal(n, recSize, "an append is one whole write");
      }
    } finally {
      f.close();
    }
  };
  await Promise.all([writer("A"), writer("B")]);
  const data = await Deno.readFile(p);
  assert.equal(data.length, 2 * count * recSize);
  const next: Record<string, number> = { A: 0, B: 0 };
  for (let off = 0; off < data.length; off += recSize) {
    const rec = dec.decode(data.subarray(off, off + recSize));
    const m = /^([AB]):(\d{6}):([AB]+)\n$/.exec(rec);
    if (!m || m[3] !== m[1]!.repeat(recSize - 10)) {
      assert.fail(`record at ${off} is torn: ${JSON.stringify(rec)}`);
    }
    const w = m[1]!;
    assert.equal(Number(m[2]), next[w], `records of writer ${w} in order`);
    next[w] = next[w]! + 1;
  }
  assert.deepEqual(next, { A: count, B: count });
}

const MMAP_SCRIPT = `
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 0)
sys.stdout.write((m[0:4] + m[4096:4100] + m[8192:8196]).decode())
m[4106:4111] = b"hello"
m[100:103] = b"xyz"
m.flush()
m.close()
os.close(fd)
`;

async function mmapReadWrite(dir: string): Promise<void> {
  const p = `${dir}/mapped`;
  const data = concat(
    new Uint8Array(4096).fill(0x41),
    new Uint8Array(4096).fill(0x42),
    new Uint8Array(4096).fill(0x43),
  );
  await Deno.writeFile(p, data);
  // A write(2) after the file was written, before mapping, must be visible too.
  const f = await Deno.open(p, { write: true });
  await f.seek(8192, Deno.SeekMode.Start);
  await writeAll(f, enc.encode("DDDD"));
  f.close();
  const out = await runOk("python3", ["-c", MMAP_SCRIPT, p]);
  assert.equal(out, "AAAABBBBDDDD", "mapped bytes equal the written bytes");
  const expected = data.slice();
  expected.set(enc.encode("DDDD"), 8192);
  expected.set(enc.encode("hello"), 4106);
  expected.set(enc.encode("xyz"), 100);
  assertBytes(await Deno.readFile(p), expected, "read(2) after writes through a mapping");
  assert.equal((await Deno.stat(p)).size, 3 * 4096);
}

async function fifoNodes(dir: string): Promise<void> {
  await withPosix(async (px) => {
    const p = `${dir}/fifo`;
    await px.mkfifo(p, 0o600);
    const l = await Deno.lstat(p);
    assert.ok(l.isFifo, "lstat reports a FIFO");
    assert.ok(!l.isFile && !l.isDirectory && !l.isSymlink);
    const sx = await px.statx(p, true);
    assert.equal(sx.mode & S_IFMT, S_IFIFO);
    assert.equal(sx.mode & 0o7777, 0o600);
    assert.deepEqual(await listNames(dir), ["fifo"]);
    await assertFails(px.mkfifo(p, 0o600), "EEXIST", "mkfifo over an existing name");
    await Deno.rename(p, `${dir}/fifo2`);
    assert.ok((await Deno.lstat(`${dir}/fifo2`)).isFifo);
    // mknod of a regular file.
    await px.mknod(`${dir}/reg`, S_IFREG | 0o600);
    const r = await Deno.lstat(`${dir}/reg`);
    assert.ok(r.isFile);
    assert.equal(r.size, 0);
    await px.unlink(`${dir}/fifo2`);
    assert.deepEqual(await listNames(dir), ["reg"]);
  });
}

async function xattrs(dir: string): Promise<void> {
  await withPosix(async (px) => {
    const f = `${dir}/f`;
    await Deno.writeFile(f, enc.encode("x"));
    const user = async (p: string) =>
      (await px.listxattr(p)).filter((n) => n.startsWith("user.")).sort();
    assert.deepEqual(await user(f), []);
    await px.setxattr(f, "user.vibe.a", enc.encode("value1"));
    assert.equal(dec.decode(await px.getxattr(f, "user.vibe.a")), "value1");
    const binary = new Uint8Array([0, 1, 2, 255, 0, 128]);
    await px.setxattr(f, "user.vibe.bin", binary, XATTR_CREATE);
    assert.deepEqual(await px.getxattr(f, "user.vibe.bin"), binary);
    await px.setxattr(f, "user.vibe.empty", new Uint8Array());
    assert.equal((await px.getxattr(f, "user.vibe.empty")).length, 0);
    assert.deepEqual(await user(f), ["user.vibe.a", "user.vibe.bin", "user.vibe.empty"]);

    await assertFails(
      px.setxattr(f, "user.vibe.a", enc.encode("v"), XATTR_CREATE),
      "EEXIST",
      "XATTR_CREATE on an existing attribute",
    );
    await assertFails(
      px.setxattr(f, "user.vibe.none", enc.encode("v"), XATTR_REPLACE),
      "ENODATA",
      "XATTR_REPLACE on a missing attribute",
    );
    await px.setxattr(f, "user.vibe.a", enc.encode("value-two"), XATTR_REPLACE);
    assert.equal(dec.decode(await px.getxattr(f, "user.vibe.a")), "value-two");
    await assertFails(px.getxattr(f, "user.vibe.a", 3), "ERANGE", "getxattr into a short buffer");
    await assertFails(px.getxattr(f, "user.vibe.none"), "ENODATA", "getxattr of a missing name");

    await px.removexattr(f, "user.vibe.bin");
    assert.deepEqual(await user(f), ["user.vibe.a", "user.vibe.empty"]);
    await assertFails(px.removexattr(f, "user.vibe.bin"), "ENODATA", "removexattr twice");

    // Attributes stay with the inode across rename and are readable via a hard link.
    await Deno.rename(f, `${dir}/g`);
    await Deno.link(`${dir}/g`, `${dir}/h`);
    assert.equal(dec.decode(await px.getxattr(`${dir}/h`, "user.vibe.a")), "value-two");

    await Deno.mkdir(`${dir}/d`);
    await px.setxattr(`${dir}/d`, "user.vibe.dir", enc.encode("d"));
    assert.deepEqual(await user(`${dir}/d`), ["user.vibe.dir"]);
    await assertFails(
      px.getxattr(`${dir}/missing`, "user.vibe.a"),
      "ENOENT",
      "getxattr of a missing file",
    );
  });
}

async function readdirWhileMutating(dir: string): Promise<void> {
  const d = `${dir}/d`;
  await Deno.mkdir(d);
  const pad = "p".repeat(40);
  const keep = Array.from({ length: 2000 }, (_, i) => `keep-${i}-${pad}`);
  const del = Array.from({ length: 500 }, (_, i) => `del-${i}-${pad}`);
  for (let i = 0; i < keep.length + del.length; i += 50) {
    await Promise.all(
      [...keep, ...del].slice(i, i + 50).map((n) => Deno.writeFile(`${d}/${n}`, new Uint8Array())),
    );
  }
  const added: string[] = [];
  const seen = new Map<string, number>();
  await withPosix(async (px) => {
    const h = await px.opendir(d);
    try {
      for (let round = 0;; round++) {
        const b = await px.readdirBatch(h, 100);
        for (const n of b.names) seen.set(n, (seen.get(n) ?? 0) + 1);
        if (b.done) break;
        const adds = Array.from({ length: 20 }, (_, i) => `new-${round}-${i}-${pad}`);
        added.push(...adds);
        await Promise.all([
          ...adds.map((n) => Deno.writeFile(`${d}/${n}`, new Uint8Array())),
          ...del.slice(round * 20, round * 20 + 20).map((n) => Deno.remove(`${d}/${n}`)),
        ]);
      }
    } finally {
      await px.closedir(h);
    }
  });
  const dup = [...seen].filter(([, c]) => c > 1).map(([n]) => n);
  assert.deepEqual(dup.slice(0, 5), [], "names listed twice");
  const missing = keep.filter((n) => !seen.has(n));
  assert.deepEqual(missing.slice(0, 5), [], "untouched names missing from the listing");
  assert.ok(seen.has(".") && seen.has(".."));
  const known = new Set([...keep, ...del, ...added, ".", ".."]);
  const strange = [...seen.keys()].filter((n) => !known.has(n));
  assert.deepEqual(strange, [], "names that never existed");
  // Afterwards the listing is exact.
  const removed = new Set(del.slice(0, Math.min(del.length, 20 * (added.length / 20))));
  const expected = [...keep, ...del.filter((n) => !removed.has(n)), ...added].sort();
  assert.deepEqual(await listNames(d), expected);
}

async function statfsSanity(dir: string): Promise<void> {
  const out = await runOk("df", [
    "-B1",
    "--output=size,used,avail,itotal,iused,iavail",
    dir,
  ]);
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 2, `df output: ${out}`);
  const nums = lines[1]!.trim().split(/\s+/).map((s) => (s === "-" ? 0 : Number(s)));
  assert.equal(nums.length, 6, `df output: ${out}`);
  assert.ok(nums.every((n) => Number.isInteger(n) && n >= 0), `df output: ${out}`);
  const [size, used, avail] = nums as [number, number, number];
  assert.ok(size > 0, "total size");
  assert.ok(used <= size && avail <= size, `used ${used} and avail ${avail} within ${size}`);
  const sv = await withPosix((px) => px.statvfs(dir));
  assert.ok(sv.bsize > 0 && sv.frsize > 0);
  assert.ok(sv.namemax >= 255, `namemax ${sv.namemax}`);
  assert.ok(sv.bavail <= sv.blocks && sv.bfree <= sv.blocks);
  assert.equal(sv.blocks * sv.frsize, size, "df size = f_blocks * f_frsize");
}

async function mtimeOnWrite(dir: string): Promise<void> {
  await withPosix(async (px) => {
    const f = `${dir}/f`;
    await Deno.writeFile(f, enc.encode("0123456789"));
    const reset = () => px.utimens(f, OLD, OLD);

    await reset();
    await Deno.readFile(f);
    assert.deepEqual((await px.statx(f)).mtime, OLD, "a read keeps mtime");

    await reset();
    const h = await Deno.open(f, { write: true });
    await h.seek(3, Deno.SeekMode.Start);
    await writeAll(h, enc.encode("x"));
    h.close();
    let st = await px.statx(f);
    assert.ok(tsGt(st.mtime, OLD), "a write sets mtime");
    assert.ok(!tsGt(st.mtime, st.ctime), "mtime <= ctime after a write");

    await reset();
    await Deno.truncate(f, 4);
    assert.ok(tsGt((await px.statx(f)).mtime, OLD), "truncate sets mtime");

    await reset();
    await Deno.writeFile(f, enc.encode("y"), { append: true });
    assert.ok(tsGt((await px.statx(f)).mtime, OLD), "an append sets mtime");

    await reset();
    await Deno.writeFile(f, enc.encode("z"));
    st = await px.statx(f);
    assert.ok(tsGt(st.mtime, OLD), "open(O_TRUNC) and write set mtime");
    assert.equal(await readText(f), "z");
  });
}

async function ctimeOnChange(dir: string): Promise<void> {
  await withPosix(async (px) => {
    const f = `${dir}/f`;
    await Deno.writeFile(f, enc.encode("x"));
    const step = async (what: string, fn: () => Promise<void>) => {
      const before = (await px.statx(f)).ctime;
      await waitPast(before);
      await fn();
      const after = (await px.statx(f)).ctime;
      assert.ok(tsGt(after, before), `${what} sets ctime (${JSON.stringify([before, after])})`);
    };
    await step("chmod", () => Deno.chmod(f, 0o600));
    await step("link", () => Deno.link(f, `${dir}/g`));
    await step("unlink of another link", () => Deno.remove(`${dir}/g`));
    await step("utimens", () => px.utimens(f, OLD, OLD));
    await step("a write", () => Deno.writeFile(f, enc.encode("y"), { append: true }));
    const before = (await px.statx(f)).ctime;
    await waitPast(before);
    await Deno.readFile(f);
    assert.ok(tsEq((await px.statx(f)).ctime, before), "a read keeps ctime");
  });
}

async function parentMtime(dir: string): Promise<void> {
  await withPosix(async (px) => {
    const p1 = `${dir}/p1`;
    const p2 = `${dir}/p2`;
    await Deno.mkdir(p1);
    await Deno.mkdir(p2);
    const check = async (what: string, fn: () => Promise<void>, dirs: string[], changes = true) => {
      for (const d of [p1, p2]) await px.utimens(d, OLD, OLD);
      await fn();
      for (const d of [p1, p2]) {
        const m = (await px.statx(d)).mtime;
        const changed = !tsEq(m, OLD);
        const expect = changes && dirs.includes(d);
        assert.equal(changed, expect, `${what}: mtime of ${d} ${expect ? "changes" : "stays"}`);
      }
    };
    await check("create", () => Deno.writeFile(`${p1}/f`, enc.encode("f")), [p1]);
    await check("write to a child", () => Deno.writeFile(`${p1}/f`, enc.encode("g")), [p1], false);
    await check("chmod of a child", () => Deno.chmod(`${p1}/f`, 0o600), [p1], false);
    await check("mkdir", () => Deno.mkdir(`${p1}/sub`), [p1]);
    await check("rmdir", () => px.rmdir(`${p1}/sub`), [p1]);
    await check("symlink", () => Deno.symlink("f", `${p1}/s`), [p1]);
    await check("link", () => Deno.link(`${p1}/f`, `${p2}/l`), [p2]);
    await check("rename across dirs", () => Deno.rename(`${p1}/f`, `${p2}/f`), [p1, p2]);
    await check("rename within a dir", () => Deno.rename(`${p2}/f`, `${p2}/g`), [p2]);
    await check("unlink", () => px.unlink(`${p2}/g`), [p2]);
  });
}

async function obviousErrors(dir: string): Promise<void> {
  await Deno.writeFile(`${dir}/file`, enc.encode("x"));
  await Deno.mkdir(`${dir}/dir`);
  await Deno.mkdir(`${dir}/full`);
  await Deno.writeFile(`${dir}/full/x`, enc.encode("x"));
  const m = `${dir}/missing`;
  const f = `${dir}/file`;
  const d = `${dir}/dir`;
  await withPosix(async (px) => {
    // ENOENT
    await assertFails(Deno.stat(m), "ENOENT", "stat of a missing name");
    await assertFails(Deno.lstat(m), "ENOENT", "lstat of a missing name");
    await assertFails(Deno.open(m, { read: true }), "ENOENT", "open of a missing file");
    await assertFails(Deno.readDir(m)[Symbol.asyncIterator]().next(), "ENOENT", "readdir");
    await assertFails(px.unlink(m), "ENOENT", "unlink of a missing name");
    await assertFails(px.rmdir(m), "ENOENT", "rmdir of a missing name");
    await assertFails(Deno.mkdir(`${m}/sub`), "ENOENT", "mkdir under a missing dir");
    await assertFails(
      Deno.writeFile(`${m}/f`, enc.encode("")),
      "ENOENT",
      "create in a missing dir",
    );
    await assertFails(Deno.readLink(m), "ENOENT", "readlink of a missing name");
    // ENOTDIR
    await assertFails(Deno.stat(`${f}/x`), "ENOTDIR", "stat under a file");
    await assertFails(Deno.stat(`${f}/`), "ENOTDIR", "stat of a file with a trailing slash");
    await assertFails(Deno.mkdir(`${f}/x`), "ENOTDIR", "mkdir under a file");
    await assertFails(
      Deno.readDir(f)[Symbol.asyncIterator]().next(),
      "ENOTDIR",
      "readdir of a file",
    );
    await assertFails(px.rmdir(f), "ENOTDIR", "rmdir of a file");
    await assertFails(Deno.writeFile(`${f}/x`, enc.encode("")), "ENOTDIR", "create under a file");
    await assertFails(px.openClose(f, O.RDONLY | O.DIRECTORY), "ENOTDIR", "O_DIRECTORY on a file");
    // EISDIR
    await assertFails(Deno.open(d, { write: true }), "EISDIR", "open of a dir for writing");
    await assertFails(Deno.writeFile(d, enc.encode("")), "EISDIR", "writeFile to a dir");
    await assertFails(Deno.readFile(d), "EISDIR", "read of a dir");
    await assertFails(px.unlink(d), "EISDIR", "unlink of a dir");
    // ENOTEMPTY
    await assertFails(px.rmdir(`${dir}/full`), "ENOTEMPTY", "rmdir of a non-empty dir");
    await assertFails(Deno.remove(`${dir}/full`), "ENOTEMPTY", "remove of a non-empty dir");
    // EEXIST
    await assertFails(Deno.mkdir(d), "EEXIST", "mkdir of an existing dir");
    await assertFails(Deno.mkdir(f), "EEXIST", "mkdir over a file");
    await assertFails(Deno.symlink("x", d), "EEXIST", "symlink over a dir");
    await assertFails(Deno.link(f, d), "EEXIST", "link over a dir");
    // EINVAL
    await assertFails(Deno.readLink(f), "EINVAL", "readlink of a file");
    await assertFails(px.rmdir(`${d}/.`), "EINVAL", `rmdir of "."`);
  });
  // Nothing changed.
  assert.deepEqual(await listNames(dir), ["dir", "file", "full"]);
  assert.equal(await readText(f), "x");
}

async function nameLengths(dir: string): Promise<void> {
  const ok = "a".repeat(255);
  const long = "b".repeat(256);
  await Deno.writeFile(`${dir}/${ok}`, enc.encode("255"));
  assert.equal(await readText(`${dir}/${ok}`), "255");
  await Deno.mkdir(`${dir}/${"d".repeat(255)}`);
  await Deno.writeFile(`${dir}/${"d".repeat(255)}/${ok}`, enc.encode("deep"));
  await Deno.rename(`${dir}/${ok}`, `${dir}/${"c".repeat(255)}`);
  const euro = "€".repeat(85); // 255 bytes of UTF-8
  await Deno.writeFile(`${dir}/${euro}`, enc.encode("€"));
  assert.deepEqual(await listNames(dir), ["c".repeat(255), "d".repeat(255), euro].sort());
  const c = `${dir}/${"c".repeat(255)}`;
  for (const name of [long, "€".repeat(86)]) {
    const p = `${dir}/${name}`;
    await assertFails(Deno.writeFile(p, enc.encode("")), "ENAMETOOLONG", "create of 256+ bytes");
    await assertFails(Deno.mkdir(p), "ENAMETOOLONG", "mkdir of 256+ bytes");
    await assertFails(Deno.stat(p), "ENAMETOOLONG", "stat of 256+ bytes");
    await assertFails(Deno.rename(c, p), "ENAMETOOLONG", "rename to 256+ bytes");
    await assertFails(Deno.symlink("x", p), "ENAMETOOLONG", "symlink of 256+ bytes");
    await assertFails(Deno.link(c, p), "ENAMETOOLONG", "link of 256+ bytes");
  }
  assert.equal((await listNames(dir)).length, 3);
}

async function specialNames(dir: string): Promise<void> {
  const names = [
    "with space",
    "ünïcödé",
    "-dash",
    "tab\there",
    "new\nline",
    ".hidden",
    "..dots",
    "...",
    "a:b;c|d",
    "emoji😀",
    "back\\slash",
    "quote'\"",
    "UPPER",
    "upper",
  ];
  for (const [i, n] of names.entries()) await Deno.writeFile(`${dir}/${n}`, enc.encode(String(i)));
  assert.deepEqual(await listNames(dir), [...names].sort());
  for (const [i, n] of names.entries()) assert.equal(await readText(`${dir}/${n}`), String(i));
  await Deno.mkdir(`${dir}/ dir with space `);
  await Deno.rename(`${dir}/new\nline`, `${dir}/ dir with space /ünïcödé 2`);
  assert.deepEqual(await listNames(`${dir}/ dir with space `), ["ünïcödé 2"]);
}

async function inodeStability(dir: string): Promise<void> {
  await withPosix(async (px) => {
    await Deno.writeFile(`${dir}/a`, enc.encode("a"));
    await Deno.writeFile(`${dir}/b`, enc.encode("b"));
    await Deno.mkdir(`${dir}/d`);
    const ia = (await px.statx(`${dir}/a`)).ino;
    const ib = (await px.statx(`${dir}/b`)).ino;
    const id = (await px.statx(`${dir}/d`)).ino;
    assert.equal(new Set([ia, ib, id]).size, 3, "distinct files have distinct inode numbers");
    await Deno.writeFile(`${dir}/a`, pattern(70_000));
    await Deno.chmod(`${dir}/a`, 0o600);
    await Deno.rename(`${dir}/a`, `${dir}/d/a2`);
    assert.equal((await px.statx(`${dir}/d/a2`)).ino, ia, "ino kept across write, chmod, rename");
    await Deno.rename(`${dir}/d`, `${dir}/e`);
    assert.equal((await px.statx(`${dir}/e`)).ino, id);
    assert.equal((await px.statx(`${dir}/e/a2`)).ino, ia);
    const f = await Deno.open(`${dir}/b`, { read: true });
    try {
      assert.equal((await f.stat()).ino, Number(ib), "fstat agrees with stat");
    } finally {
      f.close();
    }
  });
}

/** Every behaviour, in registration order. Names are the keys `knownGaps` uses. */
export const MOUNT_BEHAVIOURS: MountBehaviour[] = [
  { name: "create, write and read", run: createWriteRead },
  { name: "append with O_APPEND", run: appendMode },
  { name: "overwrite in the middle", run: overwriteMiddle },
  { name: "truncate: shrink, extend, to zero, ftruncate", run: truncateFile },
  { name: "sparse file: holes read as zeros", run: sparseFile },
  { name: "large file of 100 MiB", run: largeFile, needs: ["bigfile"] },
  { name: "rename file over file", run: renameFileOverFile },
  { name: "rename across directories", run: renameAcrossDirs },
  { name: "rename dir over empty dir", run: renameDirOverEmptyDir },
  { name: "rename errors: ENOTEMPTY, EISDIR, ENOTDIR, EINVAL, ENOENT", run: renameErrors },
  { name: "renameat2 RENAME_NOREPLACE", run: renameNoreplace },
  { name: "renameat2 RENAME_EXCHANGE", run: renameExchange },
  { name: "hard links and nlink", run: hardLinks },
  { name: "symlinks: readlink, lstat, dangling, loops", run: symlinks },
  { name: "chmod", run: chmodModes },
  { name: "chown and lchown", run: chownIds, needs: ["chown"] },
  { name: "utimens with nanoseconds", run: utimensNanoseconds },
  { name: "directory with 10,000 entries", run: manyEntries },
  { name: "mkdir -p of a 60-deep tree and rm -rf", run: deepTree },
  { name: "unlink of an open file", run: unlinkOpenFile },
  { name: "fsync and fdatasync", run: fsyncCalls },
  { name: "O_EXCL create", run: exclusiveCreate },
  { name: "O_APPEND with two concurrent writers", run: appendRace },
  { name: "mmap read and write", run: mmapReadWrite, needs: ["mmap"] },
  { name: "mkfifo and mknod", run: fifoNodes, needs: ["fifo"] },
  { name: "xattrs: set, get, list, remove", run: xattrs, needs: ["xattr"] },
  { name: "readdir while entries are added and removed", run: readdirWhileMutating },
  { name: "statfs via df", run: statfsSanity },
  { name: "mtime on write and truncate", run: mtimeOnWrite },
  { name: "ctime on chmod, link, utimens, write", run: ctimeOnChange },
  { name: "parent mtime on create, unlink, rename", run: parentMtime },
  { name: "errors on the obvious calls", run: obviousErrors },
  { name: "name of 255 bytes ok, 256 ENAMETOOLONG", run: nameLengths },
  { name: "special characters in names", run: specialNames },
  { name: "inode numbers are stable", run: inodeStability },
];

/** Options of `registerMountSuite`. */
export interface MountSuiteOptions {
  /** Behaviour name → reason it fails on this target; registered as ignored tests. */
  knownGaps?: Record<string, string>;
  /** When set, every test is registered as ignored with this message (e.g. "no /dev/fuse"). */
  skip?: string;
  /** Capabilities this target lacks, with the reason; behaviours needing them are ignored. */
  lacks?: Partial<Record<MountNeed, string>>;
}

function unmetNeed(b: MountBehaviour, lacks: Partial<Record<MountNeed, string>>): string | null {
  for (const need of b.needs ?? []) {
    const reason = lacks[need];
    if (reason !== undefined) return `lacks ${need}: ${reason}`;
    if (need === "chown" && Deno.uid() !== 0) return "chown to other ids needs root";
    if (need === "mmap" && !hasPython3()) return "mmap test needs python3";
  }
  return null;
}

/**
 * Registers one `Deno.test` per behaviour, named `${label}: ${name}`.
 *
 * `setup` runs once, lazily, in the first test that runs, and its `cleanup`
 * once after the module's last test (`Deno.test.afterAll`); so a mount is made
 * at most once per module and never when every test is filtered or ignored.
 * Each test works in a fresh subdirectory of the mounted dir that it removes
 * afterwards, pass or fail (a failed removal fails a test that otherwise
 * passed; a behaviour's own failure is the one reported). Ops and
 * resource sanitizers are off: a mount's session outlives the test that
 * started it.
 */
export function registerMountSuite(
  label: string,
  setup: () => Promise<{ dir: string; cleanup: () => Promise<void> }>,
  opts: MountSuiteOptions = {},
): void {
  const gaps = opts.knownGaps ?? {};
  const names = new Set(MOUNT_BEHAVIOURS.map((b) => b.name));
  const unknown = Object.keys(gaps).filter((n) => !names.has(n));
  if (unknown.length > 0) {
    throw new Error(`knownGaps names no behaviour: ${unknown.map((n) => `"${n}"`).join(", ")}`);
  }
  let mounted: Promise<{ dir: string; cleanup: () => Promise<void> }> | null = null;
  if (opts.skip === undefined) {
    Deno.test.afterAll(async () => {
      if (mounted === null) return;
      const m = await mounted.catch(() => null);
      if (m !== null) await m.cleanup();
    });
  }
  for (const b of MOUNT_BEHAVIOURS) {
    const gap = gaps[b.name];
    const reason = opts.skip !== undefined
      ? `skipped: ${opts.skip}`
      : gap !== undefined
      ? `known gap: ${gap}`
      : unmetNeed(b, opts.lacks ?? {});
    Deno.test({
      name: reason === null ? `${label}: ${b.name}` : `${label}: ${b.name} (${reason})`,
      ignore: reason !== null,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        mounted ??= setup();
        const { dir } = await mounted;
        const sub = await Deno.makeTempDir({ dir, prefix: "mount_suite_" });
        // The test's own failure wins over a failure to remove its directory.
        let error: unknown = null;
        try {
          await b.run(sub);
        } catch (e) {
          error = e;
        }
        try {
          await Deno.remove(sub, { recursive: true });
        } catch (e) {
          error ??= e;
        }
        if (error !== null) throw error;
      },
    });
  }
}
