/**
 * The POSIX contract every `Vfs` implementation keeps (see src/vfs/vfs.ts).
 *
 * `runVfsContract` registers one `Deno.test` per behaviour, named
 * `${label}: <behaviour>`. Each test makes a fresh Vfs, creates its own
 * subdirectory under the root (the root may already hold files, e.g. a git
 * tree) and works only inside it, and closes the Vfs in `finally`.
 *
 * Decisions the suite pins down:
 * - Errors are `VibeError`s with exact errno names (`assertErrno`).
 * - An inode number that was unlinked and then forgotten (its one entry
 *   reply given back with `forget(ino, 1)`), or that was never handed out,
 *   makes `getattr` throw ENOENT or ESTALE; either is accepted.
 * - Before `forget`, an unlinked inode may or may not still answer; the suite
 *   does not check it.
 * - Time checks never measure durations: they set an old time explicitly and
 *   see it replaced, or wait until the clock has passed a recorded ctime.
 */
import assert from "node:assert/strict";
import { type ErrnoName, VibeError } from "../src/errors.ts";
import { type Ino, nowTimespec, type Timespec } from "../src/types.ts";
import { type Attr, type Caller, type DirEntry, ROOT_INO, type Vfs } from "../src/vfs/vfs.ts";

/** Makes a fresh Vfs for one test; `close` releases everything it holds. */
export type MakeVfs = () => Promise<{ vfs: Vfs; close: () => Promise<void> }>;

export interface VfsContractOptions {
  /**
   * Behaviour names (without the label) this implementation does not meet
   * yet, each with the reason. They are registered as ignored tests whose
   * name carries the reason, so the gap stays visible.
   */
  knownGaps?: Record<string, string>;
}

/**
 * Asserts that `promise` rejects with a `VibeError` whose code is `code` (or
 * one of `code` when a list is given).
 */
export async function assertErrno(
  promise: Promise<unknown>,
  code: ErrnoName | readonly ErrnoName[],
  what = "the call",
): Promise<void> {
  const codes: readonly ErrnoName[] = typeof code === "string" ? [code] : code;
  let result: unknown;
  try {
    result = await promise;
  } catch (e) {
    if (e instanceof VibeError && (codes as readonly string[]).includes(e.code)) return;
    const got = e instanceof VibeError ? `VibeError ${e.code}: ${e.message}` : String(e);
    assert.fail(`Expected ${what} to fail with ${codes.join(" or ")}, got ${got}`);
  }
  assert.fail(
    `Expected ${what} to fail with ${codes.join(" or ")}, it returned ${show(result)}`,
  );
}

/** Names of all behaviours the suite checks (the keys `knownGaps` may use). */
export function vfsContractBehaviours(): string[] {
  return Object.keys(BEHAVIOURS);
}

/** Registers the contract suite for one implementation; see the module doc. */
export function runVfsContract(
  label: string,
  makeVfs: MakeVfs,
  opts: VfsContractOptions = {},
): void {
  const gaps = opts.knownGaps ?? {};
  for (const [behaviour, fn] of Object.entries(BEHAVIOURS)) {
    const reason = gaps[behaviour];
    Deno.test({
      name: reason === undefined
        ? `${label}: ${behaviour}`
        : `${label}: ${behaviour} (known gap: ${reason})`,
      ignore: reason !== undefined,
      fn: async () => {
        const { vfs, close } = await makeVfs();
        try {
          const name = `contract-${crypto.randomUUID().slice(0, 8)}`;
          const dir = (await vfs.mkdir(ROOT_INO, name, 0o755, CALLER)).ino;
          await fn({ vfs, dir });
        } finally {
          await close();
        }
      },
    });
  }
  Deno.test(`${label}: known gaps name real behaviours`, () => {
    const unknown = Object.keys(gaps).filter((k) => !(k in BEHAVIOURS));
    assert.deepEqual(unknown, [], `knownGaps names no behaviour: ${unknown.join(", ")}`);
  });
}

// ---- helpers ----

interface Ctx {
  vfs: Vfs;
  /** A fresh, empty directory owned by this test. */
  dir: Ino;
}

const CALLER: Caller = { uid: 1234, gid: 5678 };
const enc = new TextEncoder();
const dec = new TextDecoder();

function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

function text(b: Uint8Array): string {
  return dec.decode(b);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}

async function mkfile(vfs: Vfs, parent: Ino, name: string, content = ""): Promise<Attr> {
  const attr = await vfs.create(parent, name, 0o644, CALLER, true);
  if (content) await vfs.write(attr.ino, 0, bytes(content));
  return content ? await vfs.getattr(attr.ino) : attr;
}

async function mkdir(vfs: Vfs, parent: Ino, name: string): Promise<Attr> {
  return await vfs.mkdir(parent, name, 0o755, CALLER);
}

async function readAll(vfs: Vfs, ino: Ino): Promise<Uint8Array> {
  const { size } = await vfs.getattr(ino);
  return await vfs.read(ino, 0, size + 1);
}

async function readText(vfs: Vfs, ino: Ino): Promise<string> {
  return text(await readAll(vfs, ino));
}

/**
 * Lists `dir` in pages of `pageSize`, checking the listing invariants: no
 * `.`/`..`, positive cookies strictly increasing across pages.
 */
async function listAll(vfs: Vfs, dir: Ino, pageSize = 1000): Promise<DirEntry[]> {
  return await listFrom(vfs, dir, 0, pageSize);
}

async function listFrom(
  vfs: Vfs,
  dir: Ino,
  afterCookie: number,
  pageSize: number,
): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  let cookie = afterCookie;
  for (;;) {
    const page = await vfs.readdir(dir, cookie, pageSize);
    assert.ok(page.length <= pageSize, `readdir returned ${page.length} > limit ${pageSize}`);
    for (const e of page) {
      assert.ok(e.name !== "." && e.name !== "..", "readdir must not return . or ..");
      assert.ok(e.cookie > 0, `cookie ${e.cookie} must be positive`);
      assert.ok(e.cookie > cookie, `cookie ${e.cookie} must exceed ${cookie}`);
      cookie = e.cookie;
      out.push(e);
    }
    if (page.length === 0) return out;
  }
}

async function names(vfs: Vfs, dir: Ino): Promise<string[]> {
  return (await listAll(vfs, dir)).map((e) => e.name).sort();
}

/** Deterministic pseudo-random bytes (xorshift32), so offset mistakes show. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function later(a: Timespec, b: Timespec): boolean {
  return a.sec > b.sec || (a.sec === b.sec && a.nsec > b.nsec);
}

/** Waits until the system clock is past `t`, so a change made now gets a later time. */
async function clockPast(t: Timespec): Promise<void> {
  while (!later(nowTimespec(), t)) await new Promise((r) => setTimeout(r, 1));
}

const OLD: Timespec = { sec: 1_000_000, nsec: 0 };

/** Sets `dir`'s mtime to `OLD`, runs `op`, checks mtime and ctime moved on. */
async function expectDirTimesChange(
  vfs: Vfs,
  dir: Ino,
  what: string,
  op: () => Promise<unknown>,
): Promise<void> {
  const before = await vfs.setattr(dir, { mtime: OLD });
  await clockPast(before.ctime);
  await op();
  const after = await vfs.getattr(dir);
  assert.ok(later(after.mtime, OLD), `${what}: directory mtime must change`);
  assert.ok(later(after.ctime, before.ctime), `${what}: directory ctime must change`);
}

const INVALID_NAMES = ["", ".", "..", "a/b", "a\0b", "/", "abc/"];
const LONG_NAMES = [
  "a".repeat(256),
  "é".repeat(128), // 2-byte chars, 128 UTF-16 units
  "€".repeat(85) + "a", // 3-byte chars, 86 units
  "😀".repeat(64), // 4-byte chars (surrogate pairs), 128 units
];
const MAX_NAMES = [
  "a".repeat(255),
  "é".repeat(127) + "a",
  "€".repeat(85),
  "😀".repeat(63) + "abc",
];

/** Every call that takes a name, given a bad name, must fail with `code`. */
async function expectNameRejected(
  vfs: Vfs,
  dir: Ino,
  bad: string,
  code: ErrnoName,
): Promise<void> {
  const file = await vfs.lookup(dir, "f");
  const w = (op: string) => `${op}(${JSON.stringify(bad.slice(0, 12))}…)`;
  await assertErrno(vfs.lookup(dir, bad), code, w("lookup"));
  await assertErrno(vfs.create(dir, bad, 0o644, CALLER, true), code, w("create excl"));
  await assertErrno(vfs.create(dir, bad, 0o644, CALLER, false), code, w("create"));
  await assertErrno(vfs.mknod(dir, bad, "file", 0o644, CALLER), code, w("mknod file"));
  await assertErrno(vfs.mknod(dir, bad, "fifo", 0o644, CALLER), code, w("mknod fifo"));
  await assertErrno(vfs.mkdir(dir, bad, 0o755, CALLER), code, w("mkdir"));
  await assertErrno(vfs.symlink(dir, bad, "target", CALLER), code, w("symlink"));
  await assertErrno(vfs.link(file.ino, dir, bad), code, w("link"));
  await assertErrno(vfs.unlink(dir, bad), code, w("unlink"));
  await assertErrno(vfs.rmdir(dir, bad), code, w("rmdir"));
  await assertErrno(vfs.rename(dir, bad, dir, "new"), code, w("rename from"));
  await assertErrno(vfs.rename(dir, "f", dir, bad), code, w("rename to"));
  await assertErrno(
    vfs.rename(dir, "f", dir, bad, { noReplace: true }),
    code,
    w("rename noReplace to"),
  );
  await assertErrno(
    vfs.rename(dir, "f", dir, bad, { exchange: true }),
    code,
    w("rename exchange to"),
  );
  assert.deepEqual(await names(vfs, dir), ["f", "s"], "nothing may be created or removed");
}

// ---- behaviours ----

const BEHAVIOURS: Record<string, (t: Ctx) => Promise<void>> = {
  "lookup: a missing name is ENOENT": async ({ vfs, dir }) => {
    await assertErrno(vfs.lookup(dir, "missing"), "ENOENT");
    await mkfile(vfs, dir, "present");
    await assertErrno(vfs.lookup(dir, "Present"), "ENOENT");
  },

  "lookup: a parent that is not a directory is ENOTDIR": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    await assertErrno(vfs.lookup(f.ino, "x"), "ENOTDIR");
    const l = await vfs.symlink(dir, "l", "f", CALLER);
    await assertErrno(vfs.lookup(l.ino, "x"), "ENOTDIR");
  },

  "lookup: returns what getattr returns": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f", "hello");
    await mkdir(vfs, dir, "d");
    await vfs.symlink(dir, "l", "f", CALLER);
    for (const name of ["f", "d", "l"]) {
      const a = await vfs.lookup(dir, name);
      const b = await vfs.getattr(a.ino);
      for (const key of ["ino", "kind", "mode", "nlink", "uid", "gid", "size"] as const) {
        assert.equal(a[key], b[key], `${name}: ${key}`);
      }
      assert.deepEqual(a.mtime, b.mtime, `${name}: mtime`);
    }
    assert.equal((await vfs.lookup(dir, "f")).size, 5);
  },

  "names: invalid names are EINVAL on every call": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f", "x");
    await mkdir(vfs, dir, "s");
    for (const bad of INVALID_NAMES) await expectNameRejected(vfs, dir, bad, "EINVAL");
  },

  "names: names over 255 bytes are ENAMETOOLONG on every call": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f", "x");
    await mkdir(vfs, dir, "s");
    for (const bad of LONG_NAMES) await expectNameRejected(vfs, dir, bad, "ENAMETOOLONG");
  },

  "names: names of exactly 255 bytes work, also multibyte": async ({ vfs, dir }) => {
    const parts: Record<string, Ino> = {};
    for (const p of ["create", "link", "mkdir", "symlink", "mknod", "renamed"]) {
      parts[p] = (await mkdir(vfs, dir, p)).ino;
    }
    const target = await mkfile(vfs, dir, "target", "t");
    for (const name of MAX_NAMES) {
      assert.equal(bytes(name).length, 255);
      const f = await vfs.create(parts.create!, name, 0o644, CALLER, true);
      assert.equal((await vfs.lookup(parts.create!, name)).ino, f.ino);
      await vfs.link(target.ino, parts.link!, name);
      await vfs.mkdir(parts.mkdir!, name, 0o755, CALLER);
      await vfs.symlink(parts.symlink!, name, "target", CALLER);
      await vfs.mknod(parts.mknod!, name, "fifo", 0o644, CALLER);
      await vfs.rename(parts.create!, name, parts.renamed!, name);
      assert.equal((await vfs.lookup(parts.renamed!, name)).ino, f.ino);
    }
    const expected = [...MAX_NAMES].sort();
    for (const p of ["link", "mkdir", "symlink", "mknod", "renamed"]) {
      assert.deepEqual(await names(vfs, parts[p]!), expected, `names listed in ${p}`);
    }
    assert.deepEqual(await names(vfs, parts.create!), []);
  },

  "create: a new file has the requested attributes": async ({ vfs, dir }) => {
    const a = await vfs.create(dir, "f", 0o640, CALLER, true);
    assert.equal(a.kind, "file");
    assert.equal(a.mode, 0o640);
    assert.equal(a.size, 0);
    assert.equal(a.nlink, 1);
    assert.notEqual(a.ino, ROOT_INO);
    assert.equal((await vfs.lookup(dir, "f")).ino, a.ino);
    const entries = await listAll(vfs, dir);
    assert.deepEqual(entries.map((e) => [e.name, e.ino, e.kind]), [["f", a.ino, "file"]]);
  },

  "create: new nodes are owned by the caller": async ({ vfs, dir }) => {
    const other: Caller = { uid: 4242, gid: 4343 };
    const nodes = [
      await vfs.create(dir, "f", 0o644, other, true),
      await vfs.mknod(dir, "p", "fifo", 0o644, other),
      await vfs.mkdir(dir, "d", 0o755, other),
      await vfs.symlink(dir, "l", "f", other),
    ];
    for (const a of nodes) {
      assert.equal(a.uid, other.uid, `${a.kind} uid`);
      assert.equal(a.gid, other.gid, `${a.kind} gid`);
    }
  },

  "create: exclusive on an existing name is EEXIST": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f", "keep");
    await mkdir(vfs, dir, "d");
    await vfs.symlink(dir, "l", "f", CALLER);
    for (const name of ["f", "d", "l"]) {
      await assertErrno(vfs.create(dir, name, 0o644, CALLER, true), "EEXIST", name);
    }
    assert.equal(await readText(vfs, (await vfs.lookup(dir, "f")).ino), "keep");
  },

  "create: non-exclusive on an existing file returns that inode": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "hello");
    const again = await vfs.create(dir, "f", 0o600, CALLER, false);
    assert.equal(again.ino, f.ino);
    assert.equal(again.size, 5, "create must not truncate");
    assert.equal(await readText(vfs, f.ino), "hello");
  },

  "create: non-exclusive on a directory is EISDIR": async ({ vfs, dir }) => {
    await mkdir(vfs, dir, "d");
    await assertErrno(vfs.create(dir, "d", 0o644, CALLER, false), "EISDIR");
  },

  "create: a parent that is not a directory is ENOTDIR": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f");
    await assertErrno(vfs.create(f.ino, "x", 0o644, CALLER, true), "ENOTDIR");
    await assertErrno(vfs.mkdir(f.ino, "x", 0o755, CALLER), "ENOTDIR");
    await assertErrno(vfs.symlink(f.ino, "x", "t", CALLER), "ENOTDIR");
    await assertErrno(vfs.mknod(f.ino, "x", "fifo", 0o644, CALLER), "ENOTDIR");
  },

  "mknod: creates regular files and FIFOs": async ({ vfs, dir }) => {
    const f = await vfs.mknod(dir, "f", "file", 0o600, CALLER);
    assert.equal(f.kind, "file");
    assert.equal(f.mode, 0o600);
    assert.equal(f.size, 0);
    assert.equal(await vfs.write(f.ino, 0, bytes("abc")), 3);
    assert.equal(await readText(vfs, f.ino), "abc");
    const p = await vfs.mknod(dir, "p", "fifo", 0o640, CALLER);
    assert.equal(p.kind, "fifo");
    assert.equal(p.mode, 0o640);
    assert.equal(p.nlink, 1);
    assert.equal((await vfs.lookup(dir, "p")).kind, "fifo");
    const entries = await listAll(vfs, dir);
    assert.deepEqual(
      entries.map((e) => [e.name, e.kind]).sort(),
      [["f", "file"], ["p", "fifo"]],
    );
    await assertErrno(vfs.mknod(dir, "p", "file", 0o644, CALLER), "EEXIST");
    await assertErrno(vfs.mknod(dir, "f", "fifo", 0o644, CALLER), "EEXIST");
  },

  "write/read: at offsets": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f");
    assert.equal(await vfs.write(f.ino, 0, bytes("hello world")), 11);
    assert.equal(await vfs.write(f.ino, 6, bytes("WORLD")), 5);
    assert.equal(await vfs.write(f.ino, 0, bytes("J")), 1);
    assert.equal(text(await vfs.read(f.ino, 0, 100)), "Jello WORLD");
    assert.equal(text(await vfs.read(f.ino, 6, 5)), "WORLD");
    assert.equal(text(await vfs.read(f.ino, 3, 4)), "lo W");
    assert.equal((await vfs.read(f.ino, 0, 0)).length, 0);
    assert.equal((await vfs.getattr(f.ino)).size, 11);
  },

  "write: appending at the size grows the file": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f");
    let expected = "";
    for (let i = 0; i < 20; i++) {
      const piece = `line ${i}\n`;
      const { size } = await vfs.getattr(f.ino);
      assert.equal(size, bytes(expected).length);
      await vfs.write(f.ino, size, bytes(piece));
      expected += piece;
    }
    assert.equal(await readText(vfs, f.ino), expected);
  },

  "write: past the end leaves a zero-filled hole": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "abc");
    await vfs.write(f.ino, 100_000, bytes("xyz"));
    assert.equal((await vfs.getattr(f.ino)).size, 100_003);
    const all = await vfs.read(f.ino, 0, 200_000);
    assert.equal(all.length, 100_003);
    assert.equal(text(all.subarray(0, 3)), "abc");
    assert.ok(isZero(all.subarray(3, 100_000)), "the hole reads as zeros");
    assert.equal(text(all.subarray(100_000)), "xyz");

    const g = await mkfile(vfs, dir, "g");
    const mib = 1 << 20;
    await vfs.write(g.ino, mib, bytes("end"));
    assert.equal((await vfs.getattr(g.ino)).size, mib + 3);
    assert.ok(isZero(await vfs.read(g.ino, 0, 4096)));
    assert.ok(isZero(await vfs.read(g.ino, mib - 10, 10)));
    assert.equal(text(await vfs.read(g.ino, mib - 1, 10)), "\0end");
  },

  "read into a caller's buffer: same bytes, holes zeroed over old contents": async (
    { vfs, dir },
  ) => {
    const f = await mkfile(vfs, dir, "f", "abc");
    await vfs.write(f.ino, 300_000, bytes("xyz"));
    const into = new Uint8Array(400_000).fill(0xee);
    const all = await vfs.read(f.ino, 0, 400_000, into);
    assert.equal(all.length, 300_003);
    assert.equal(text(all.subarray(0, 3)), "abc");
    assert.ok(isZero(all.subarray(3, 300_000)), "the hole reads as zeros, not the old bytes");
    assert.equal(text(all.subarray(300_000)), "xyz");
    // Too small a buffer is not used; the result is still right.
    const small = new Uint8Array(2);
    assert.equal(text(await vfs.read(f.ino, 0, 3, small)), "abc");
    assert.equal(text(await vfs.read(f.ino, 300_001, 10, into)), "yz");
  },

  "setattr: growing the size extends with zeros": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "abc");
    const a = await vfs.setattr(f.ino, { size: 10 });
    assert.equal(a.size, 10);
    assert.equal((await vfs.getattr(f.ino)).size, 10);
    assert.deepEqual([...await vfs.read(f.ino, 0, 100)], [97, 98, 99, 0, 0, 0, 0, 0, 0, 0]);
    await vfs.setattr(f.ino, { size: 300_000 });
    const all = await vfs.read(f.ino, 0, 400_000);
    assert.equal(all.length, 300_000);
    assert.ok(isZero(all.subarray(3)));
  },

  "setattr: truncating to 0 empties the file": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x".repeat(1000));
    const a = await vfs.setattr(f.ino, { size: 0 });
    assert.equal(a.size, 0);
    assert.equal((await vfs.getattr(f.ino)).size, 0);
    assert.equal((await vfs.read(f.ino, 0, 100)).length, 0);
    await vfs.write(f.ino, 0, bytes("y"));
    assert.equal(await readText(vfs, f.ino), "y");
  },

  "setattr: shrinking then growing reads zeros, not old bytes": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f");
    const data = pattern(200_000, 7);
    await vfs.write(f.ino, 0, data);
    for (const cut of [150_001, 70_001, 1000, 1]) {
      await vfs.setattr(f.ino, { size: cut });
      assertBytes(await vfs.read(f.ino, 0, 300_000), data.subarray(0, cut), `cut at ${cut}`);
      await vfs.setattr(f.ino, { size: 200_000 });
      const all = await vfs.read(f.ino, 0, 300_000);
      assert.equal(all.length, 200_000);
      assertBytes(all.subarray(0, cut), data.subarray(0, cut), `kept before ${cut}`);
      assert.ok(isZero(all.subarray(cut)), `zeros after ${cut}`);
    }
  },

  "read: at or past the end returns what is left": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "0123456789");
    assert.equal((await vfs.read(f.ino, 10, 5)).length, 0);
    assert.equal((await vfs.read(f.ino, 1000, 5)).length, 0);
    assert.equal(text(await vfs.read(f.ino, 5, 100)), "56789");
    const empty = await mkfile(vfs, dir, "e");
    assert.equal((await vfs.read(empty.ino, 0, 10)).length, 0);
  },

  "read/write: a directory is EISDIR": async ({ vfs, dir }) => {
    const d = await mkdir(vfs, dir, "d");
    await assertErrno(vfs.read(d.ino, 0, 10), "EISDIR", "read");
    await assertErrno(vfs.write(d.ino, 0, bytes("x")), "EISDIR", "write");
  },

  "write/read: 3 MiB in 128 KiB chunks reads back in odd-sized chunks": async ({ vfs, dir }) => {
    const total = 3 << 20;
    const data = pattern(total, 12345);
    const f = await mkfile(vfs, dir, "big");
    const chunk = 128 << 10;
    for (let off = 0; off < total; off += chunk) {
      assert.equal(await vfs.write(f.ino, off, data.subarray(off, off + chunk)), chunk);
    }
    assert.equal((await vfs.getattr(f.ino)).size, total);
    const odd = 100_003;
    for (let off = 0; off < total; off += odd) {
      const got = await vfs.read(f.ino, off, odd);
      assertBytes(got, data.subarray(off, Math.min(total, off + odd)), `read at ${off}`);
    }
    assert.equal((await vfs.read(f.ino, total, odd)).length, 0);
  },

  "setattr: chmod sets permission bits and ctime": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    for (const mode of [0o600, 0o755, 0o4755, 0o1777, 0o000]) {
      const before = await vfs.getattr(f.ino);
      await clockPast(before.ctime);
      const a = await vfs.setattr(f.ino, { mode });
      assert.equal(a.mode, mode);
      assert.equal(a.kind, "file");
      assert.equal(a.ino, f.ino);
      assert.equal((await vfs.getattr(f.ino)).mode, mode);
      assert.ok(later(a.ctime, before.ctime), "ctime must change");
      assert.deepEqual(a.mtime, before.mtime, "chmod must not change mtime");
    }
    const d = await mkdir(vfs, dir, "d");
    assert.equal((await vfs.setattr(d.ino, { mode: 0o700 })).mode, 0o700);
    assert.equal((await vfs.getattr(d.ino)).kind, "dir");
  },

  "setattr: chown sets uid and gid": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    let before = await vfs.getattr(f.ino);
    await clockPast(before.ctime);
    let a = await vfs.setattr(f.ino, { uid: 4321 });
    assert.equal(a.uid, 4321);
    assert.equal(a.gid, f.gid);
    assert.ok(later(a.ctime, before.ctime), "ctime must change");
    before = a;
    await clockPast(before.ctime);
    a = await vfs.setattr(f.ino, { gid: 8765 });
    assert.equal(a.uid, 4321);
    assert.equal(a.gid, 8765);
    assert.ok(later(a.ctime, before.ctime), "ctime must change");
    a = await vfs.setattr(f.ino, { uid: 0, gid: 0 });
    assert.equal(a.uid, 0);
    assert.equal(a.gid, 0);
    const g = await vfs.getattr(f.ino);
    assert.equal(g.uid, 0);
    assert.equal(g.gid, 0);
  },

  "setattr: utimens stores exact timespecs": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    const atime = { sec: 1_000_000_000, nsec: 123_456_789 };
    const mtime = { sec: 1_234_567_890, nsec: 987_654_321 };
    const before = await vfs.getattr(f.ino);
    await clockPast(before.ctime);
    const a = await vfs.setattr(f.ino, { atime, mtime });
    assert.deepEqual(a.atime, atime);
    assert.deepEqual(a.mtime, mtime);
    assert.ok(later(a.ctime, before.ctime), "ctime must change");
    const g = await vfs.getattr(f.ino);
    assert.deepEqual(g.atime, atime);
    assert.deepEqual(g.mtime, mtime);
    const far = { sec: 4_102_444_800, nsec: 1 }; // 2100-01-01, past 2038
    const b = await vfs.setattr(f.ino, { mtime: far });
    assert.deepEqual(b.mtime, far);
    assert.deepEqual(b.atime, atime, "atime must stay when only mtime is set");
    const c = await vfs.setattr(f.ino, { atime: { sec: 0, nsec: 0 } });
    assert.deepEqual(c.atime, { sec: 0, nsec: 0 });
    assert.deepEqual(c.mtime, far, "mtime must stay when only atime is set");
  },

  "setattr: utimens now uses the current time": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    await vfs.setattr(f.ino, { atime: OLD, mtime: OLD });
    const start = nowTimespec();
    const a = await vfs.setattr(f.ino, { atime: "now", mtime: "now" });
    const end = nowTimespec();
    for (const [key, t] of [["atime", a.atime], ["mtime", a.mtime]] as const) {
      // One second of slack each side for clocks coarser than ours.
      assert.ok(t.sec >= start.sec - 1 && t.sec <= end.sec + 1, `${key} ${t.sec} is not now`);
    }
    assert.deepEqual((await vfs.getattr(f.ino)).mtime, a.mtime);
  },

  "setattr: a size on a directory is EISDIR": async ({ vfs, dir }) => {
    const d = await mkdir(vfs, dir, "d");
    await assertErrno(vfs.setattr(d.ino, { size: 0 }), "EISDIR");
  },

  "mkdir: a new directory has nlink 2 and the requested mode": async ({ vfs, dir }) => {
    const d = await vfs.mkdir(dir, "d", 0o750, CALLER);
    assert.equal(d.kind, "dir");
    assert.equal(d.mode, 0o750);
    assert.equal(d.nlink, 2);
    assert.equal((await vfs.lookup(dir, "d")).ino, d.ino);
    assert.deepEqual(await listAll(vfs, d.ino), []);
    assert.deepEqual(await vfs.readdir(d.ino, 0, 10), []);
  },

  "mkdir: nests 50 deep": async ({ vfs, dir }) => {
    const inos: Ino[] = [];
    let parent = dir;
    for (let i = 0; i < 50; i++) {
      parent = (await mkdir(vfs, parent, `level${i}`)).ino;
      inos.push(parent);
    }
    await mkfile(vfs, parent, "leaf", "deep");
    let cur = dir;
    for (let i = 0; i < 50; i++) {
      const a = await vfs.lookup(cur, `level${i}`);
      assert.equal(a.ino, inos[i]);
      assert.equal(a.kind, "dir");
      assert.equal(a.nlink, i === 49 ? 2 : 3, `nlink at depth ${i}`);
      cur = a.ino;
    }
    assert.equal(await readText(vfs, (await vfs.lookup(cur, "leaf")).ino), "deep");
    await assertErrno(vfs.rmdir(dir, "level0"), "ENOTEMPTY");
  },

  "mkdir: an existing name is EEXIST": async ({ vfs, dir }) => {
    await mkdir(vfs, dir, "d");
    await mkfile(vfs, dir, "f");
    await vfs.symlink(dir, "l", "d", CALLER);
    for (const name of ["d", "f", "l"]) {
      await assertErrno(vfs.mkdir(dir, name, 0o755, CALLER), "EEXIST", name);
    }
  },

  "symlink: readlink returns the target": async ({ vfs, dir }) => {
    const targets = ["target", "../a/b/c", "/abs/path", "ünïcødé/😀", "dangling", "y".repeat(4000)];
    for (const [i, target] of targets.entries()) {
      const l = await vfs.symlink(dir, `l${i}`, target, CALLER);
      assert.equal(l.kind, "symlink");
      assert.equal(l.size, bytes(target).length, "size is the target's UTF-8 length");
      assert.equal(l.nlink, 1);
      assert.equal(await vfs.readlink(l.ino), target);
      assert.equal((await vfs.lookup(dir, `l${i}`)).ino, l.ino);
    }
    const entries = await listAll(vfs, dir);
    assert.ok(entries.every((e) => e.kind === "symlink"));
  },

  "symlink: an existing name is EEXIST": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f");
    await mkdir(vfs, dir, "d");
    await assertErrno(vfs.symlink(dir, "f", "t", CALLER), "EEXIST");
    await assertErrno(vfs.symlink(dir, "d", "t", CALLER), "EEXIST");
  },

  "symlink: targets over 4096 bytes are ENAMETOOLONG": async ({ vfs, dir }) => {
    await assertErrno(vfs.symlink(dir, "l", "x".repeat(4097), CALLER), "ENAMETOOLONG");
    await assertErrno(vfs.symlink(dir, "l", "€".repeat(1366), CALLER), "ENAMETOOLONG");
    assert.deepEqual(await names(vfs, dir), []);
  },

  "readlink: a non-symlink is EINVAL": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    const d = await mkdir(vfs, dir, "d");
    await assertErrno(vfs.readlink(f.ino), "EINVAL", "readlink(file)");
    await assertErrno(vfs.readlink(d.ino), "EINVAL", "readlink(dir)");
  },

  "link: a hard link shares the inode": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "data");
    const sub = await mkdir(vfs, dir, "sub");
    const g = await vfs.link(f.ino, dir, "g");
    assert.equal(g.ino, f.ino);
    assert.equal(g.nlink, 2);
    assert.equal((await vfs.getattr(f.ino)).nlink, 2);
    assert.equal((await vfs.lookup(dir, "g")).ino, f.ino);
    const h = await vfs.link(f.ino, sub.ino, "h");
    assert.equal(h.nlink, 3);
    await vfs.write(f.ino, 4, bytes("!"));
    assert.equal(await readText(vfs, (await vfs.lookup(sub.ino, "h")).ino), "data!");
    await vfs.unlink(dir, "f");
    await assertErrno(vfs.lookup(dir, "f"), "ENOENT");
    const left = await vfs.lookup(dir, "g");
    assert.equal(left.nlink, 2);
    await vfs.unlink(sub.ino, "h");
    assert.equal((await vfs.getattr(f.ino)).nlink, 1);
    assert.equal(await readText(vfs, (await vfs.lookup(dir, "g")).ino), "data!");
  },

  "link: a directory is EPERM": async ({ vfs, dir }) => {
    const d = await mkdir(vfs, dir, "d");
    await assertErrno(vfs.link(d.ino, dir, "d2"), "EPERM");
    assert.deepEqual(await names(vfs, dir), ["d"]);
  },

  "link: an existing name is EEXIST": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f");
    await mkfile(vfs, dir, "g");
    await assertErrno(vfs.link(f.ino, dir, "g"), "EEXIST");
    await assertErrno(vfs.link(f.ino, dir, "f"), "EEXIST");
    assert.equal((await vfs.getattr(f.ino)).nlink, 1);
  },

  "unlink: removes the name": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f", "x");
    await vfs.symlink(dir, "l", "f", CALLER);
    await vfs.mknod(dir, "p", "fifo", 0o644, CALLER);
    await mkfile(vfs, dir, "keep");
    await vfs.unlink(dir, "f");
    await vfs.unlink(dir, "l");
    await vfs.unlink(dir, "p");
    for (const name of ["f", "l", "p"]) await assertErrno(vfs.lookup(dir, name), "ENOENT", name);
    assert.deepEqual(await names(vfs, dir), ["keep"]);
  },

  "unlink: a directory is EISDIR, a missing name ENOENT": async ({ vfs, dir }) => {
    await mkdir(vfs, dir, "d");
    const f = await mkfile(vfs, dir, "f");
    await assertErrno(vfs.unlink(dir, "d"), "EISDIR");
    await assertErrno(vfs.unlink(dir, "missing"), "ENOENT");
    await assertErrno(vfs.unlink(f.ino, "x"), "ENOTDIR");
    assert.deepEqual(await names(vfs, dir), ["d", "f"]);
  },

  "rmdir: removes an empty directory": async ({ vfs, dir }) => {
    await mkdir(vfs, dir, "d");
    await vfs.rmdir(dir, "d");
    await assertErrno(vfs.lookup(dir, "d"), "ENOENT");
    assert.deepEqual(await names(vfs, dir), []);
  },

  "rmdir: ENOTEMPTY, ENOTDIR and ENOENT": async ({ vfs, dir }) => {
    const d = await mkdir(vfs, dir, "d");
    await mkfile(vfs, d.ino, "inner");
    await mkfile(vfs, dir, "f");
    await vfs.symlink(dir, "l", "d", CALLER);
    await assertErrno(vfs.rmdir(dir, "d"), "ENOTEMPTY");
    await assertErrno(vfs.rmdir(dir, "f"), "ENOTDIR");
    await assertErrno(vfs.rmdir(dir, "l"), "ENOTDIR");
    await assertErrno(vfs.rmdir(dir, "missing"), "ENOENT");
    await vfs.unlink(d.ino, "inner");
    await vfs.rmdir(dir, "d");
    assert.deepEqual(await names(vfs, dir), ["f", "l"]);
  },

  "rename: a missing source is ENOENT": async ({ vfs, dir }) => {
    await assertErrno(vfs.rename(dir, "missing", dir, "x"), "ENOENT");
    await assertErrno(vfs.rename(dir, "missing", dir, "x", { noReplace: true }), "ENOENT");
  },

  "rename: a file to a new name in the same directory": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "a", "content");
    await vfs.rename(dir, "a", dir, "b");
    await assertErrno(vfs.lookup(dir, "a"), "ENOENT");
    const b = await vfs.lookup(dir, "b");
    assert.equal(b.ino, f.ino);
    assert.equal(await readText(vfs, b.ino), "content");
    assert.deepEqual(await names(vfs, dir), ["b"]);
  },

  "rename: a file across directories": async ({ vfs, dir }) => {
    const x = await mkdir(vfs, dir, "x");
    const y = await mkdir(vfs, dir, "y");
    const f = await mkfile(vfs, x.ino, "f", "moved");
    await vfs.rename(x.ino, "f", y.ino, "g");
    assert.deepEqual(await names(vfs, x.ino), []);
    assert.deepEqual(await names(vfs, y.ino), ["g"]);
    const g = await vfs.lookup(y.ino, "g");
    assert.equal(g.ino, f.ino);
    assert.equal(await readText(vfs, g.ino), "moved");
  },

  "rename: a file over an existing file replaces it": async ({ vfs, dir }) => {
    const a = await mkfile(vfs, dir, "a", "AAA");
    await mkfile(vfs, dir, "b", "BB");
    await vfs.rename(dir, "a", dir, "b");
    await assertErrno(vfs.lookup(dir, "a"), "ENOENT");
    const b = await vfs.lookup(dir, "b");
    assert.equal(b.ino, a.ino);
    assert.equal(await readText(vfs, b.ino), "AAA");
    assert.deepEqual(await names(vfs, dir), ["b"]);
    const sub = await mkdir(vfs, dir, "sub");
    const c = await mkfile(vfs, sub.ino, "c", "C");
    await vfs.rename(sub.ino, "c", dir, "b");
    assert.equal((await vfs.lookup(dir, "b")).ino, c.ino);
    assert.deepEqual(await names(vfs, sub.ino), []);
  },

  "rename: a directory over an empty directory replaces it": async ({ vfs, dir }) => {
    const d1 = await mkdir(vfs, dir, "d1");
    await mkfile(vfs, d1.ino, "child", "c");
    await mkdir(vfs, dir, "d2");
    await vfs.rename(dir, "d1", dir, "d2");
    await assertErrno(vfs.lookup(dir, "d1"), "ENOENT");
    const d2 = await vfs.lookup(dir, "d2");
    assert.equal(d2.ino, d1.ino);
    assert.equal(await readText(vfs, (await vfs.lookup(d2.ino, "child")).ino), "c");
    assert.deepEqual(await names(vfs, dir), ["d2"]);
    assert.equal((await vfs.getattr(dir)).nlink, 3);
  },

  "rename: a directory over a non-empty directory is ENOTEMPTY": async ({ vfs, dir }) => {
    const d1 = await mkdir(vfs, dir, "d1");
    const d2 = await mkdir(vfs, dir, "d2");
    await mkfile(vfs, d2.ino, "x");
    await assertErrno(vfs.rename(dir, "d1", dir, "d2"), "ENOTEMPTY");
    assert.equal((await vfs.lookup(dir, "d1")).ino, d1.ino);
    assert.equal((await vfs.lookup(dir, "d2")).ino, d2.ino);
    assert.deepEqual(await names(vfs, d2.ino), ["x"]);
  },

  "rename: a file over a directory is EISDIR": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f");
    await mkdir(vfs, dir, "d");
    await assertErrno(vfs.rename(dir, "f", dir, "d"), "EISDIR");
    assert.deepEqual(await names(vfs, dir), ["d", "f"]);
  },

  "rename: a directory over a file is ENOTDIR": async ({ vfs, dir }) => {
    await mkfile(vfs, dir, "f");
    await mkdir(vfs, dir, "d");
    await assertErrno(vfs.rename(dir, "d", dir, "f"), "ENOTDIR");
    assert.deepEqual(await names(vfs, dir), ["d", "f"]);
  },

  "rename: a directory into its own subtree is EINVAL": async ({ vfs, dir }) => {
    const a = await mkdir(vfs, dir, "a");
    const b = await mkdir(vfs, a.ino, "b");
    const c = await mkdir(vfs, b.ino, "c");
    await assertErrno(vfs.rename(dir, "a", a.ino, "x"), "EINVAL", "into itself");
    await assertErrno(vfs.rename(dir, "a", b.ino, "x"), "EINVAL", "into a child");
    await assertErrno(vfs.rename(dir, "a", c.ino, "x"), "EINVAL", "into a grandchild");
    await assertErrno(vfs.rename(a.ino, "b", c.ino, "x"), "EINVAL", "b into its child");
    assert.deepEqual(await names(vfs, dir), ["a"]);
    assert.deepEqual(await names(vfs, c.ino), []);
    assert.equal((await vfs.lookup(b.ino, "c")).ino, c.ino);
  },

  "rename: onto itself is a no-op": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "same");
    const d = await mkdir(vfs, dir, "d");
    await vfs.rename(dir, "f", dir, "f");
    await vfs.rename(dir, "d", dir, "d");
    assert.equal((await vfs.lookup(dir, "f")).ino, f.ino);
    assert.equal((await vfs.lookup(dir, "d")).ino, d.ino);
    assert.equal(await readText(vfs, f.ino), "same");
    assert.deepEqual(await names(vfs, dir), ["d", "f"]);
  },

  "rename: between two hard links of one inode is a no-op": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    await vfs.link(f.ino, dir, "g");
    await vfs.rename(dir, "f", dir, "g");
    assert.deepEqual(await names(vfs, dir), ["f", "g"], "POSIX keeps both names");
    assert.equal((await vfs.getattr(f.ino)).nlink, 2);
  },

  "rename: noReplace on an existing target is EEXIST": async ({ vfs, dir }) => {
    const a = await mkfile(vfs, dir, "a", "A");
    const b = await mkfile(vfs, dir, "b", "B");
    await assertErrno(vfs.rename(dir, "a", dir, "b", { noReplace: true }), "EEXIST");
    assert.equal((await vfs.lookup(dir, "a")).ino, a.ino);
    assert.equal((await vfs.lookup(dir, "b")).ino, b.ino);
    await vfs.rename(dir, "a", dir, "c", { noReplace: true });
    assert.equal((await vfs.lookup(dir, "c")).ino, a.ino);
    assert.deepEqual(await names(vfs, dir), ["b", "c"]);
  },

  "rename: exchange swaps a file and a directory": async ({ vfs, dir }) => {
    const x = await mkdir(vfs, dir, "x");
    const y = await mkdir(vfs, dir, "y");
    const f = await mkfile(vfs, x.ino, "f", "file");
    const d = await mkdir(vfs, y.ino, "d");
    await mkfile(vfs, d.ino, "child", "c");
    await vfs.rename(x.ino, "f", y.ino, "d", { exchange: true });
    const nowF = await vfs.lookup(x.ino, "f");
    const nowD = await vfs.lookup(y.ino, "d");
    assert.equal(nowF.ino, d.ino);
    assert.equal(nowF.kind, "dir");
    assert.equal(nowD.ino, f.ino);
    assert.equal(nowD.kind, "file");
    assert.equal(await readText(vfs, nowD.ino), "file");
    assert.equal(await readText(vfs, (await vfs.lookup(nowF.ino, "child")).ino), "c");
    assert.equal((await vfs.getattr(x.ino)).nlink, 3, "x gained a subdirectory");
    assert.equal((await vfs.getattr(y.ino)).nlink, 2, "y lost its subdirectory");
    const kinds = async (p: Ino) => (await listAll(vfs, p)).map((e) => [e.name, e.ino, e.kind]);
    assert.deepEqual(await kinds(x.ino), [["f", d.ino, "dir"]]);
    assert.deepEqual(await kinds(y.ino), [["d", f.ino, "file"]]);
    await assertErrno(vfs.rename(x.ino, "f", y.ino, "missing", { exchange: true }), "ENOENT");
    await assertErrno(vfs.rename(x.ino, "missing", y.ino, "d", { exchange: true }), "ENOENT");
  },

  "inode: numbers are unique and stable across rename, chmod and write": async ({ vfs, dir }) => {
    const seen = new Set<Ino>([ROOT_INO, dir]);
    for (let i = 0; i < 20; i++) {
      const a = i % 2 ? await mkfile(vfs, dir, `f${i}`) : await mkdir(vfs, dir, `d${i}`);
      assert.ok(!seen.has(a.ino), `inode ${a.ino} handed out twice`);
      seen.add(a.ino);
    }
    const f = await mkfile(vfs, dir, "f", "x");
    const sub = await mkdir(vfs, dir, "sub");
    await vfs.write(f.ino, 1, bytes("yz"));
    assert.equal((await vfs.getattr(f.ino)).ino, f.ino);
    await vfs.setattr(f.ino, { mode: 0o600 });
    await vfs.rename(dir, "f", sub.ino, "moved");
    assert.equal((await vfs.lookup(sub.ino, "moved")).ino, f.ino);
    await vfs.rename(dir, "sub", dir, "sub2");
    assert.equal((await vfs.lookup(dir, "sub2")).ino, sub.ino);
    assert.equal(await readText(vfs, f.ino), "xyz");
    assert.equal((await vfs.getattr(ROOT_INO)).kind, "dir");
  },

  "readdir: 1000 entries in pages of 37 list each entry exactly once": async ({ vfs, dir }) => {
    const expected = new Map<string, Ino>();
    for (let i = 0; i < 1000; i++) {
      const name = `entry-${String(i).padStart(4, "0")}`;
      const a = i % 10 === 0 ? await mkdir(vfs, dir, name) : await mkfile(vfs, dir, name);
      expected.set(name, a.ino);
    }
    const entries = await listAll(vfs, dir, 37);
    assert.equal(entries.length, 1000);
    const got = new Set(entries.map((e) => e.name));
    assert.equal(got.size, 1000, "no entry listed twice");
    for (const e of entries) {
      assert.equal(e.ino, expected.get(e.name), `ino of ${e.name}`);
      assert.equal(e.kind, Number(e.name.slice(6)) % 10 === 0 ? "dir" : "file", e.name);
    }
    const whole = await listAll(vfs, dir, 5000);
    assert.deepEqual(whole.map((e) => e.name).sort(), [...expected.keys()].sort());
  },

  "readdir: a listing resumes across deletes": async ({ vfs, dir }) => {
    const all: string[] = [];
    for (let i = 0; i < 100; i++) {
      all.push(`e${i}`);
      await mkfile(vfs, dir, `e${i}`);
    }
    const first = await vfs.readdir(dir, 0, 30);
    assert.equal(first.length, 30);
    const seen = first.map((e) => e.name);
    const unseen = all.filter((n) => !seen.includes(n));
    // Delete the entry the cookie points at, one listed earlier and three not listed yet.
    const deleted = [seen[29]!, seen[10]!, unseen[0]!, unseen[35]!, unseen[69]!];
    for (const name of deleted) await vfs.unlink(dir, name);
    const rest = await listFrom(vfs, dir, first[29]!.cookie, 7);
    const restNames = rest.map((e) => e.name);
    assert.equal(new Set(restNames).size, restNames.length, "no duplicates");
    for (const name of restNames) assert.ok(!seen.includes(name), `${name} listed twice`);
    const expected = unseen.filter((n) => !deleted.includes(n)).sort();
    assert.deepEqual([...restNames].sort(), expected);
  },

  "readdir: entries added during a listing appear exactly once": async ({ vfs, dir }) => {
    for (let i = 0; i < 50; i++) await mkfile(vfs, dir, `old${i}`);
    const first = await vfs.readdir(dir, 0, 20);
    const seen = new Set(first.map((e) => e.name));
    const added: string[] = [];
    for (let i = 0; i < 10; i++) {
      added.push(`new${i}`);
      await mkfile(vfs, dir, `new${i}`);
    }
    const rest = await listFrom(vfs, dir, first.at(-1)!.cookie, 9);
    const restNames = rest.map((e) => e.name);
    assert.equal(new Set(restNames).size, restNames.length, "no duplicates");
    for (const name of restNames) assert.ok(!seen.has(name), `${name} listed twice`);
    for (const name of added) assert.ok(restNames.includes(name), `${name} missing`);
    assert.equal(seen.size + restNames.length, 60);
  },

  "readdir: an entry renamed during a listing appears under its new name": async ({ vfs, dir }) => {
    for (let i = 0; i < 40; i++) await mkfile(vfs, dir, `e${i}`);
    const first = await vfs.readdir(dir, 0, 15);
    const seen = first.map((e) => e.name);
    const renamed = seen[3]!;
    await vfs.rename(dir, renamed, dir, "renamed");
    const rest = (await listFrom(vfs, dir, first.at(-1)!.cookie, 6)).map((e) => e.name);
    assert.ok(rest.includes("renamed"), "the new name must be listed");
    assert.ok(!rest.includes(renamed));
    assert.equal(new Set([...seen, ...rest]).size, seen.length + rest.length, "no duplicates");
    assert.equal(rest.length, 26);
  },

  "readdir: a non-directory is ENOTDIR": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f");
    const l = await vfs.symlink(dir, "l", "f", CALLER);
    await assertErrno(vfs.readdir(f.ino, 0, 10), "ENOTDIR");
    await assertErrno(vfs.readdir(l.ino, 0, 10), "ENOTDIR");
  },

  "readdir: an empty directory lists nothing": async ({ vfs, dir }) => {
    assert.deepEqual(await vfs.readdir(dir, 0, 100), []);
    await mkfile(vfs, dir, "f");
    const [only] = await vfs.readdir(dir, 0, 100);
    assert.ok(only);
    assert.deepEqual(await vfs.readdir(dir, only.cookie, 100), []);
    await vfs.unlink(dir, "f");
    assert.deepEqual(await vfs.readdir(dir, 0, 100), []);
  },

  "nlink: a directory has 2 plus its subdirectories": async ({ vfs, dir }) => {
    const nlink = async (ino: Ino) => (await vfs.getattr(ino)).nlink;
    const d = await mkdir(vfs, dir, "d");
    const e = await mkdir(vfs, dir, "e");
    assert.equal(await nlink(d.ino), 2);
    await mkdir(vfs, d.ino, "s1");
    await mkdir(vfs, d.ino, "s2");
    assert.equal(await nlink(d.ino), 4);
    await mkfile(vfs, d.ino, "file");
    await vfs.symlink(d.ino, "link", "s1", CALLER);
    await vfs.mknod(d.ino, "fifo", "fifo", 0o644, CALLER);
    assert.equal(await nlink(d.ino), 4, "non-directories do not count");
    await vfs.rmdir(d.ino, "s1");
    assert.equal(await nlink(d.ino), 3);
    await vfs.rename(d.ino, "s2", e.ino, "s2");
    assert.equal(await nlink(d.ino), 2);
    assert.equal(await nlink(e.ino), 3);
    await mkdir(vfs, d.ino, "t");
    await vfs.rename(e.ino, "s2", d.ino, "t"); // over an empty directory
    assert.equal(await nlink(d.ino), 3);
    assert.equal(await nlink(e.ino), 2);
    await vfs.rename(d.ino, "t", d.ino, "t2");
    assert.equal(await nlink(d.ino), 3);
    assert.equal(await nlink(dir), 4);
    const rootDirs = (await listAll(vfs, ROOT_INO)).filter((x) => x.kind === "dir").length;
    assert.equal(await nlink(ROOT_INO), 2 + rootDirs, "root counts its subdirectories");
  },

  "times: a directory's mtime and ctime change when its entries change": async ({ vfs, dir }) => {
    const other = await mkdir(vfs, dir, "other");
    const change = (what: string, op: () => Promise<unknown>) =>
      expectDirTimesChange(vfs, dir, what, op);
    await change("create", () => vfs.create(dir, "f", 0o644, CALLER, true));
    await change("mknod", () => vfs.mknod(dir, "p", "fifo", 0o644, CALLER));
    await change("mkdir", () => vfs.mkdir(dir, "d", 0o755, CALLER));
    await change("symlink", () => vfs.symlink(dir, "l", "f", CALLER));
    const f = await vfs.lookup(dir, "f");
    await change("link", () => vfs.link(f.ino, dir, "g"));
    await change("rename within", () => vfs.rename(dir, "g", dir, "h"));
    await change("rename out", () => vfs.rename(dir, "h", other.ino, "h"));
    await expectDirTimesChange(
      vfs,
      other.ino,
      "rename in",
      () => vfs.rename(dir, "p", other.ino, "p"),
    );
    await change("unlink", () => vfs.unlink(dir, "l"));
    await change("rmdir", () => vfs.rmdir(dir, "d"));
  },

  "times: write and truncate change mtime and ctime": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    for (
      const [what, op] of [
        ["write", () => vfs.write(f.ino, 1, bytes("y"))],
        ["truncate", () => vfs.setattr(f.ino, { size: 0 })],
        ["extend", () => vfs.setattr(f.ino, { size: 10 })],
      ] as const
    ) {
      const before = await vfs.setattr(f.ino, { mtime: OLD });
      await clockPast(before.ctime);
      await op();
      const after = await vfs.getattr(f.ino);
      assert.ok(later(after.mtime, OLD), `${what}: mtime must change`);
      assert.ok(later(after.ctime, before.ctime), `${what}: ctime must change`);
    }
  },

  "times: link and unlink change the file's ctime": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    let before = await vfs.getattr(f.ino);
    await clockPast(before.ctime);
    await vfs.link(f.ino, dir, "g");
    let after = await vfs.getattr(f.ino);
    assert.ok(later(after.ctime, before.ctime), "link must change ctime");
    before = after;
    await clockPast(before.ctime);
    await vfs.unlink(dir, "f");
    after = await vfs.getattr(f.ino);
    assert.ok(later(after.ctime, before.ctime), "unlink must change ctime");
  },

  "inode: a removed and forgotten inode is ENOENT or ESTALE": async ({ vfs, dir }) => {
    const gone: ErrnoName[] = ["ENOENT", "ESTALE"];
    const f = await mkfile(vfs, dir, "f", "x"); // one entry reply
    await vfs.unlink(dir, "f");
    vfs.forget(f.ino, 1);
    await assertErrno(vfs.getattr(f.ino), gone, "getattr(unlinked file)");
    await assertErrno(vfs.read(f.ino, 0, 1), gone, "read(unlinked file)");

    const d = await mkdir(vfs, dir, "d");
    await vfs.rmdir(dir, "d");
    vfs.forget(d.ino, 1);
    await assertErrno(vfs.getattr(d.ino), gone, "getattr(removed dir)");
    await assertErrno(vfs.readdir(d.ino, 0, 10), gone, "readdir(removed dir)");

    const b = await mkfile(vfs, dir, "b", "old");
    await mkfile(vfs, dir, "a", "new");
    await vfs.rename(dir, "a", dir, "b");
    vfs.forget(b.ino, 1);
    await assertErrno(vfs.getattr(b.ino), gone, "getattr(replaced file)");

    const never = 2 ** 52 + 17;
    await assertErrno(vfs.getattr(never), gone, "getattr(never handed out)");
    await assertErrno(vfs.lookup(never, "x"), gone, "lookup(never handed out)");
  },

  "statfs: fields are present and sane": async ({ vfs }) => {
    const s = await vfs.statfs();
    for (const [key, value] of Object.entries(s)) {
      assert.ok(Number.isSafeInteger(value) && value >= 0, `${key} = ${value}`);
    }
    assert.ok(s.blockSize > 0);
    assert.ok(s.totalBlocks > 0);
    assert.ok(s.freeBlocks <= s.totalBlocks);
    assert.ok(s.availBlocks <= s.freeBlocks);
    assert.ok(s.freeFiles <= s.totalFiles);
    assert.equal(s.nameMax, 255);
  },

  "fsync: succeeds on files and directories": async ({ vfs, dir }) => {
    const f = await mkfile(vfs, dir, "f", "x");
    await vfs.fsync(f.ino, false);
    await vfs.fsync(f.ino, true);
    await vfs.fsync(dir, false);
    await vfs.fsync(dir, true);
    assert.equal(await readText(vfs, f.ino), "x");
  },
};
