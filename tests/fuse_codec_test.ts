/**
 * FUSE codec: struct layouts against fuse.h, round trips of every struct the
 * channel uses, reply encoders, and golden request frames captured from the
 * kernel (tests/fixtures/fuse_golden, described field by field in FIELDS.md).
 * Pure: needs neither root nor /dev/fuse.
 */
import assert from "node:assert/strict";
import * as abi from "../src/fuse/abi.ts";
import {
  decodeDirents,
  decodeInHeader,
  decodeInitIn,
  direntplusSize,
  direntSize,
  encodeName,
  FrameError,
  getCString,
  getI64,
  getU64,
  putAttr,
  putAttrOut,
  putDirent,
  putEntryOut,
  putOutHeader,
  putStatfs,
  putU64,
  readStruct,
  toTimeout,
  writeStruct,
} from "../src/fuse/codec.ts";
import { ErrnoMapper, FUSE_ERRNO } from "../src/fuse/errno_map.ts";
import { accessAllowed } from "../src/fuse/handlers.ts";
import { describeInitFlags, enosysOpcodes, OPS, WANTED_INIT_FLAGS } from "../src/fuse/session.ts";
import { devString, fuseMountData, parseMountInfo } from "../src/fuse/mount.ts";
import { errnoName, LINUX_ERRNO } from "../ffi/errno_linux.ts";
import { VibeError } from "../src/errors.ts";
import type { Attr } from "../src/vfs/vfs.ts";

const GOLDEN = new URL("./fixtures/fuse_golden/", import.meta.url);

function golden(name: string): { v: DataView; b: Uint8Array } {
  const hex = Deno.readTextFileSync(new URL(`${name}.hex`, GOLDEN)).replace(/\s+/g, "");
  const b = new Uint8Array(hex.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { v: new DataView(b.buffer), b };
}

const ATTR: Attr = {
  ino: 2 ** 40 + 7,
  kind: "file",
  mode: 0o4755,
  nlink: 3,
  uid: 1000,
  gid: 4294967294,
  size: 2 ** 33 + 5,
  atime: { sec: 1_700_000_000, nsec: 123 },
  mtime: { sec: 1_700_000_001, nsec: 999_999_999 },
  ctime: { sec: 1_700_000_002, nsec: 0 },
};

Deno.test("fuse abi: struct sizes and offsets agree with fuse.h", () => {
  const sizes: [abi.StructLayout, number][] = [
    [abi.fuse_in_header, 40],
    [abi.fuse_out_header, 16],
    [abi.fuse_attr, 88],
    [abi.fuse_init_in, 64],
    [abi.fuse_init_out, 64],
    [abi.fuse_setattr_in, 88],
    [abi.fuse_read_in, 40],
    [abi.fuse_write_in, 40],
    [abi.fuse_kstatfs, 80],
    [abi.fuse_dirent, 24],
    [abi.fuse_open_out, 16],
    [abi.fuse_release_in, 24],
    [abi.fuse_fallocate_in, 32],
    [abi.fuse_lseek_in, 24],
    [abi.fuse_notify_inval_inode_out, 24],
    [abi.fuse_notify_inval_entry_out, 16],
  ];
  for (const [s, n] of sizes) assert.equal(s.size, n, s.name);
  assert.equal(abi.FUSE_ENTRY_OUT_SIZE, 128);
  assert.equal(abi.FUSE_ATTR_OUT_SIZE, 104);
  assert.equal(abi.FUSE_NAME_OFFSET_DIRENTPLUS, 152);
  assert.equal(abi.fuse_attr.at.mode, 60);
  assert.equal(abi.fuse_attr.at.flags, 84);
  assert.equal(abi.fuse_setattr_in.at.mode, 68);
  assert.equal(abi.fuse_setattr_in.at.gid, 80);
  assert.equal(abi.fuse_init_out.at.max_write, 20);
  assert.equal(abi.fuse_init_out.at.max_pages, 28);
  assert.equal(abi.fuse_init_out.at.flags2, 32);
  assert.equal(abi.fuse_init_out.at.request_timeout, 40);
  assert.equal(abi.fuse_in_header.at.total_extlen, 36);
  assert.throws(() => abi.defineStruct("bad", 12, [["a", "u64"], ["b", "u32"]]), /16 bytes/);
});

Deno.test("fuse codec: every struct round-trips through writeStruct/readStruct", () => {
  const layouts = (Object.values(abi) as unknown[]).filter((x): x is abi.StructLayout =>
    typeof x === "object" && x !== null && "fields" in x && "size" in x
  );
  assert.ok(layouts.length >= 38, `found ${layouts.length} layouts`);
  for (const layout of layouts) {
    const values: Record<string, number> = {};
    layout.fields.forEach((f, i) => {
      const big: Record<abi.FieldType, number> = {
        u16: 0xfff0 + (i % 15),
        i16: -1000 - i,
        u32: 0xfffffff0 - i,
        i32: -(2 ** 31) + i,
        u64: 2 ** 53 - 1 - i,
        i64: -(2 ** 52) - i,
      };
      values[f.name] = big[f.type];
    });
    const buf = new Uint8Array(layout.size + 8);
    const v = new DataView(buf.buffer);
    assert.equal(writeStruct(layout, v, 8, values), 8 + layout.size);
    assert.deepEqual(readStruct(layout, v, 8), values, layout.name);
    // Absent fields are written as zero.
    writeStruct(layout, v, 8, {});
    assert.ok(buf.subarray(8).every((x) => x === 0), `${layout.name} zero fill`);
  }
});

Deno.test("fuse codec: 64-bit helpers", () => {
  const v = new DataView(new ArrayBuffer(16));
  for (const n of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    putU64(v, 0, n);
    assert.equal(getU64(v, 0), n);
    assert.equal(v.getBigUint64(0, true), BigInt(n));
  }
  for (const n of [-1, -(2 ** 40) - 3]) {
    putU64(v, 8, n);
    assert.equal(getI64(v, 8), n);
    assert.equal(v.getBigInt64(8, true), BigInt(n));
  }
  assert.deepEqual(toTimeout(1.5), { sec: 1, nsec: 500_000_000 });
  assert.deepEqual(toTimeout(0), { sec: 0, nsec: 0 });
  assert.deepEqual(toTimeout(-3), { sec: 0, nsec: 0 });
});

Deno.test("fuse codec: attr, entry_out, attr_out, statfs, out_header", () => {
  const buf = new Uint8Array(512);
  const v = new DataView(buf.buffer);
  assert.equal(putAttr(v, 0, ATTR), 88);
  const a = readStruct(abi.fuse_attr, v, 0);
  assert.equal(a.ino, ATTR.ino);
  assert.equal(a.size, ATTR.size);
  assert.equal(a.blocks, Math.ceil(ATTR.size / 512));
  assert.equal(a.mode, abi.S_IFREG | 0o4755);
  assert.deepEqual(
    [a.atime, a.atimensec, a.mtime, a.mtimensec, a.ctime, a.ctimensec],
    [1_700_000_000, 123, 1_700_000_001, 999_999_999, 1_700_000_002, 0],
  );
  assert.deepEqual([a.nlink, a.uid, a.gid, a.rdev, a.blksize, a.flags], [
    3,
    1000,
    4294967294,
    0,
    4096,
    0,
  ]);
  for (
    const [kind, bits] of [["dir", abi.S_IFDIR], ["symlink", abi.S_IFLNK], ["fifo", abi.S_IFIFO], [
      "socket",
      abi.S_IFSOCK,
    ]] as const
  ) {
    putAttr(v, 0, { ...ATTR, kind, mode: 0o755 });
    assert.equal(readStruct(abi.fuse_attr, v, 0).mode, bits | 0o755);
  }

  buf.fill(0xee);
  const end = putEntryOut(v, 16, ATTR, toTimeout(2.25), toTimeout(1));
  assert.equal(end, 16 + 128);
  const e = readStruct(abi.fuse_entry_out, v, 16);
  assert.deepEqual(e, {
    nodeid: ATTR.ino,
    generation: 0,
    entry_valid: 2,
    attr_valid: 1,
    entry_valid_nsec: 250_000_000,
    attr_valid_nsec: 0,
  });
  assert.equal(readStruct(abi.fuse_attr, v, 16 + 40).ino, ATTR.ino);

  buf.fill(0xee);
  putEntryOut(v, 0, null, toTimeout(1), toTimeout(1));
  const neg = readStruct(abi.fuse_entry_out, v, 0);
  assert.equal(neg.nodeid, 0, "negative entry");
  assert.equal(neg.entry_valid, 1);
  assert.ok(buf.subarray(40, 128).every((x) => x === 0), "negative entry has a zero attr");

  assert.equal(putAttrOut(v, 0, ATTR, toTimeout(1)), 104);
  assert.deepEqual(readStruct(abi.fuse_attr_out, v, 0), {
    attr_valid: 1,
    attr_valid_nsec: 0,
    dummy: 0,
  });
  assert.equal(readStruct(abi.fuse_attr, v, 16).nlink, 3);

  const st = {
    blocks: 10,
    bfree: 9,
    bavail: 8,
    files: 7,
    ffree: 6,
    bsize: 4096,
    namelen: 255,
    frsize: 4096,
  };
  assert.equal(putStatfs(v, 0, st), 80);
  const k = readStruct(abi.fuse_kstatfs, v, 0);
  for (const [key, val] of Object.entries(st)) assert.equal(k[key as keyof typeof k], val, key);

  assert.equal(putOutHeader(v, 0, 144, -2, 2 ** 40 + 6), 16);
  assert.deepEqual(readStruct(abi.fuse_out_header, v, 0), {
    len: 144,
    error: -2,
    unique: 2 ** 40 + 6,
  });
});

Deno.test("fuse codec: dirent and direntplus records are aligned, padded and decodable", () => {
  assert.equal(direntSize(1), 32);
  assert.equal(direntSize(8), 32);
  assert.equal(direntSize(9), 40);
  assert.equal(direntplusSize(1), 160);
  assert.equal(direntplusSize(255), 408);
  const buf = new Uint8Array(4096).fill(0xaa);
  const v = new DataView(buf.buffer);
  let off = 0;
  const names = ["a", "éé", "x".repeat(255)];
  names.forEach((n, i) => {
    off = putDirent(v, buf, off, 100 + i, 3 + i, abi.DT_REG, encodeName(n));
  });
  assert.equal(off % 8, 0);
  assert.equal(buf[24 + 1], 0, "padding after the name is zero");
  const got = decodeDirents(buf.subarray(0, off), false);
  assert.deepEqual(got.map((d) => [d.name, d.ino, d.off, d.type]), [
    ["a", 100, 3, abi.DT_REG],
    ["éé", 101, 4, abi.DT_REG],
    ["x".repeat(255), 102, 5, abi.DT_REG],
  ]);

  off = 0;
  off = putEntryOut(v, off, null, toTimeout(1), toTimeout(1));
  off = putDirent(v, buf, off, 1, 1, abi.DT_DIR, encodeName("."));
  off = putEntryOut(v, off, ATTR, toTimeout(1), toTimeout(1));
  off = putDirent(v, buf, off, ATTR.ino, 9, abi.DT_REG, encodeName("file"));
  const plus = decodeDirents(buf.subarray(0, off), true);
  assert.equal(plus.length, 2);
  assert.equal(plus[0]!.nodeid, 0);
  assert.equal(plus[1]!.nodeid, ATTR.ino);
  assert.equal(plus[1]!.attr!.size, ATTR.size);
  assert.equal(plus[1]!.off, 9);
});

Deno.test("fuse codec: names", () => {
  const b = new Uint8Array([0x61, 0x62, 0, 0xc3, 0xa9, 0, 0xff, 0xfe, 0, 0x7a]);
  const one = getCString(b, 0, b.length);
  assert.deepEqual(one, { text: "ab", next: 3 });
  assert.equal(getCString(b, one.next, b.length).text, "é");
  assert.throws(
    () => getCString(b, 6, b.length),
    (e) => e instanceof FrameError && e.errno === "EILSEQ",
  );
  assert.throws(
    () => getCString(b, 9, b.length),
    (e) => e instanceof FrameError && e.errno === "EINVAL",
  );
  assert.throws(() => getCString(b, 0, 2), (e) => e instanceof FrameError && e.errno === "EINVAL");
});

Deno.test("fuse codec: INIT in both sizes; the flags we ask for", () => {
  const buf = new Uint8Array(64);
  const v = new DataView(buf.buffer);
  writeStruct(abi.fuse_init_in, v, 0, {
    major: 7,
    minor: 45,
    max_readahead: 65536,
    flags: abi.FUSE_ASYNC_READ | abi.FUSE_INIT_EXT,
    flags2: abi.FUSE_HAS_RESEND_2,
  });
  assert.deepEqual(decodeInitIn(v, 0, 64), {
    major: 7,
    minor: 45,
    maxReadahead: 65536,
    flags: abi.FUSE_ASYNC_READ | abi.FUSE_INIT_EXT,
    flags2: abi.FUSE_HAS_RESEND_2,
  });
  // A pre-7.36 kernel sends 16 bytes and no flags2.
  assert.equal(decodeInitIn(v, 0, 16).flags2, 0);
  assert.throws(() => decodeInitIn(v, 0, 8), FrameError);
  assert.deepEqual(describeInitFlags(WANTED_INIT_FLAGS), [
    "ASYNC_READ",
    "ATOMIC_O_TRUNC",
    "EXPORT_SUPPORT",
    "BIG_WRITES",
    "AUTO_INVAL_DATA",
    "DO_READDIRPLUS",
    "READDIRPLUS_AUTO",
    "ASYNC_DIO",
    "PARALLEL_DIROPS",
    "MAX_PAGES",
    "CACHE_SYMLINKS",
  ]);
  assert.equal(WANTED_INIT_FLAGS & abi.FUSE_INIT_EXT, 0, "no flags2 bit wanted, so no INIT_EXT");
  assert.equal(WANTED_INIT_FLAGS & abi.FUSE_WRITEBACK_CACHE, 0);
});

Deno.test("fuse golden: INIT from a 7.45 kernel", () => {
  const { v, b } = golden("fuse_init");
  const h = decodeInHeader(v);
  assert.deepEqual([h.len, h.opcode, h.nodeid, h.uid, h.pid, h.totalExtlen], [
    104,
    abi.FUSE_INIT,
    0,
    0,
    0,
    0,
  ]);
  assert.equal(h.len, b.length);
  const init = decodeInitIn(v, 40, h.len - 40);
  assert.deepEqual([init.major, init.minor, init.maxReadahead], [7, 45, 131072]);
  assert.equal(init.flags, 0x73fffffb);
  assert.equal(init.flags2, 0x5fd);
  const offered = describeInitFlags(init.flags, init.flags2);
  for (const f of describeInitFlags(WANTED_INIT_FLAGS)) assert.ok(offered.includes(f), f);
  assert.ok(offered.includes("HAS_RESEND") && !offered.includes("FILE_OPS"));
});

Deno.test("fuse golden: LOOKUP, GETATTR, CREATE, WRITE, READ", () => {
  {
    const { v, b } = golden("fuse_lookup");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid, h.len], [abi.FUSE_LOOKUP, 1, 51]);
    assert.equal(h.unique % 2, 0, "kernel request ids are even");
    assert.deepEqual(getCString(b, 40, h.len), { text: "golden.txt", next: 51 });
  }
  {
    const { v } = golden("fuse_getattr");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid, h.len], [abi.FUSE_GETATTR, 1, 56]);
    assert.deepEqual(readStruct(abi.fuse_getattr_in, v, 40), { getattr_flags: 0, dummy: 0, fh: 0 });
  }
  {
    const { v, b } = golden("fuse_create");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid], [abi.FUSE_CREATE, 1]);
    const c = readStruct(abi.fuse_create_in, v, 40);
    assert.equal(c.flags & abi.O_ACCMODE, 1, "O_WRONLY");
    assert.ok(c.flags & abi.O_CREAT && c.flags & abi.O_TRUNC && !(c.flags & abi.O_EXCL));
    assert.equal(c.mode, abi.S_IFREG | 0o644);
    assert.equal(c.umask, 0o022);
    assert.equal(getCString(b, 56, h.len).text, "golden.txt");
  }
  {
    const { v, b } = golden("fuse_write");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid], [abi.FUSE_WRITE, 2]);
    const w = readStruct(abi.fuse_write_in, v, 40);
    assert.deepEqual([w.offset, w.size, w.write_flags], [0, 13, 0]);
    assert.equal(new TextDecoder().decode(b.subarray(80, 80 + w.size)), "hello golden\n");
    assert.equal(h.len, 80 + w.size);
  }
  {
    const { v } = golden("fuse_read");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid], [abi.FUSE_READ, 2]);
    const r = readStruct(abi.fuse_read_in, v, 40);
    assert.deepEqual([r.offset, r.size, r.read_flags], [0, 4096, 0]);
  }
});

Deno.test("fuse golden: SETATTR, READDIRPLUS, RENAME2", () => {
  {
    const { v } = golden("fuse_setattr");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid, h.len], [abi.FUSE_SETATTR, 2, 128]);
    const s = readStruct(abi.fuse_setattr_in, v, 40);
    assert.equal(s.valid, abi.FATTR_SIZE | abi.FATTR_FH | abi.FATTR_LOCKOWNER);
    assert.equal(s.size, 5);
    assert.equal(s.mode, 0);
  }
  {
    const { v } = golden("fuse_readdirplus");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid], [abi.FUSE_READDIRPLUS, 1]);
    const r = readStruct(abi.fuse_read_in, v, 40);
    assert.deepEqual([r.offset, r.size], [0, 32768]);
  }
  {
    const { v, b } = golden("fuse_rename2");
    const h = decodeInHeader(v);
    assert.deepEqual([h.opcode, h.nodeid], [abi.FUSE_RENAME2, 1]);
    const r = readStruct(abi.fuse_rename2_in, v, 40);
    assert.deepEqual([r.newdir, r.flags], [1, abi.RENAME_NOREPLACE]);
    const from = getCString(b, 56, h.len);
    assert.equal(from.text, "golden.txt");
    assert.equal(getCString(b, from.next, h.len).text, "renamed.txt");
  }
});

Deno.test("fuse opcode table: fixed sizes match the arg structs; ENOSYS list", () => {
  const expect: [number, number][] = [
    [abi.FUSE_FORGET, abi.fuse_forget_in.size],
    [abi.FUSE_GETATTR, abi.fuse_getattr_in.size],
    [abi.FUSE_SETATTR, abi.fuse_setattr_in.size],
    [abi.FUSE_MKNOD, abi.fuse_mknod_in.size],
    [abi.FUSE_MKDIR, abi.fuse_mkdir_in.size],
    [abi.FUSE_RENAME, abi.fuse_rename_in.size],
    [abi.FUSE_LINK, abi.fuse_link_in.size],
    [abi.FUSE_OPEN, abi.fuse_open_in.size],
    [abi.FUSE_READ, abi.fuse_read_in.size],
    [abi.FUSE_WRITE, abi.fuse_write_in.size],
    [abi.FUSE_RELEASE, abi.fuse_release_in.size],
    [abi.FUSE_FSYNC, abi.fuse_fsync_in.size],
    [abi.FUSE_SETXATTR, abi.fuse_setxattr_in.size],
    [abi.FUSE_GETXATTR, abi.fuse_getxattr_in.size],
    [abi.FUSE_LISTXATTR, abi.fuse_getxattr_in.size],
    [abi.FUSE_FLUSH, abi.fuse_flush_in.size],
    [abi.FUSE_READDIR, abi.fuse_read_in.size],
    [abi.FUSE_ACCESS, abi.fuse_access_in.size],
    [abi.FUSE_CREATE, abi.fuse_create_in.size],
    [abi.FUSE_INTERRUPT, abi.fuse_interrupt_in.size],
    [abi.FUSE_BATCH_FORGET, abi.fuse_batch_forget_in.size],
    [abi.FUSE_FALLOCATE, abi.fuse_fallocate_in.size],
    [abi.FUSE_READDIRPLUS, abi.fuse_read_in.size],
    [abi.FUSE_RENAME2, abi.fuse_rename2_in.size],
    [abi.FUSE_LSEEK, abi.fuse_lseek_in.size],
  ];
  for (const [op, size] of expect) assert.equal(OPS.get(op)?.argSize, size, OPS.get(op)?.name);
  assert.deepEqual(enosysOpcodes(), [
    "FUSE_GETLK",
    "FUSE_SETLK",
    "FUSE_SETLKW",
    "FUSE_BMAP",
    "FUSE_IOCTL",
    "FUSE_POLL",
    "FUSE_NOTIFY_REPLY",
    "FUSE_COPY_FILE_RANGE",
    "FUSE_SETUPMAPPING",
    "FUSE_REMOVEMAPPING",
    "FUSE_SYNCFS",
    "FUSE_TMPFILE",
    "FUSE_STATX",
    "FUSE_COPY_FILE_RANGE_64",
    "CUSE_INIT",
  ]);
  for (const op of OPS.values()) {
    assert.equal((abi as unknown as Record<string, number>)[op.name], op.opcode, op.name);
  }
});

Deno.test("fuse errno map: every core errno name, unknown ones to EIO once", () => {
  for (const [name, n] of Object.entries(FUSE_ERRNO)) {
    assert.equal(errnoName(n), name === "ENOTSUP" ? "EOPNOTSUPP" : name, name);
  }
  const logs: string[] = [];
  const m = new ErrnoMapper((s) => logs.push(s));
  assert.equal(m.toErrno(new VibeError("ENOTEMPTY", "x"), "FUSE_RMDIR", 5), LINUX_ERRNO.ENOTEMPTY);
  assert.equal(
    m.toErrno(new VibeError("CONFLICT", "lost a race"), "FUSE_WRITE", 7),
    LINUX_ERRNO.EIO,
  );
  assert.equal(m.toErrno(new VibeError("CONFLICT", "again"), "FUSE_WRITE", 8), LINUX_ERRNO.EIO);
  assert.equal(m.toErrno(new TypeError("boom"), "FUSE_READ", 9), LINUX_ERRNO.EIO);
  assert.equal(logs.length, 2, logs.join("\n"));
  assert.match(logs[0]!, /FUSE_WRITE on inode 7 failed with CONFLICT/);
  assert.match(logs[1]!, /FUSE_READ on inode 9 failed with TypeError/);
});

Deno.test("fuse access check on mode bits", () => {
  const a: Attr = { ...ATTR, mode: 0o640, uid: 10, gid: 20 };
  assert.ok(accessAllowed(a, 10, 99, abi.R_OK | abi.W_OK));
  assert.ok(!accessAllowed(a, 10, 99, abi.X_OK));
  assert.ok(accessAllowed(a, 11, 20, abi.R_OK));
  assert.ok(!accessAllowed(a, 11, 20, abi.W_OK));
  assert.ok(!accessAllowed(a, 11, 21, abi.R_OK));
  assert.ok(accessAllowed(a, 11, 21, 0), "F_OK");
  assert.ok(accessAllowed(a, 0, 0, abi.R_OK | abi.W_OK), "root reads and writes");
  assert.ok(!accessAllowed(a, 0, 0, abi.X_OK), "root needs an x bit to execute");
  assert.ok(accessAllowed({ ...a, kind: "dir" }, 0, 0, abi.X_OK), "root searches any dir");
});

Deno.test("fuse mount helpers: options, mountinfo, dev numbers", () => {
  assert.equal(
    fuseMountData({ fd: 5, uid: 0, gid: 0, allowOther: true, maxRead: 1048576 }),
    "fd=5,rootmode=40000,user_id=0,group_id=0,default_permissions,max_read=1048576,allow_other",
  );
  assert.ok(
    !fuseMountData({ fd: 5, uid: 1, gid: 2, allowOther: false, maxRead: 4096 }).includes(
      "allow_other",
    ),
  );
  const info = parseMountInfo(
    "42 27 0:39 / /tmp/a\\040b rw,nosuid,nodev,relatime - fuse.vibe vibe:x rw,user_id=0\n" +
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
  );
  assert.deepEqual(info[0], {
    dev: "0:39",
    mountPoint: "/tmp/a b",
    fstype: "fuse.vibe",
    source: "vibe:x",
  });
  assert.equal(info[1]!.fstype, "ext4");
  assert.equal(devString(39), "0:39");
  assert.equal(devString(0x801), "8:1");
  // glibc makedev(0, 300): minor bits above 8 move up by 12.
  assert.equal(devString(44 + (256 << 12)), "0:300");
});
