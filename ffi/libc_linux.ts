/**
 * libc symbols for Linux (glibc, x86_64/aarch64 LP64 layouts), opened lazily.
 * Wrappers return an errno name instead of throwing raw errors.
 */

// int statvfs(const char *path, struct statvfs *buf);
const SYMBOLS = {
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS> {
  if (!lib) lib = Deno.dlopen("libc.so.6", SYMBOLS);
  return lib;
}

/** Reads the C errno after a failed call, as a symbolic name. */
export function lastErrno(): number {
  const p = libc().symbols.__errno_location();
  if (p === null) return 0;
  return new Deno.UnsafePointerView(p).getInt32(0);
}

/** The fields of `struct statvfs` vibe uses. */
export interface StatVfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

/** statvfs(3). struct statvfs on LP64 glibc: 11 unsigned longs then int[6] (112 bytes). */
export function statvfs(path: string): StatVfs | number {
  const buf = new BigUint64Array(14);
  const cpath = new TextEncoder().encode(path + "\0");
  const rc = libc().symbols.statvfs(cpath, buf);
  if (rc !== 0) return lastErrno();
  const n = (i: number) => Number(buf[i]!);
  return {
    bsize: n(0),
    frsize: n(1),
    blocks: n(2),
    bfree: n(3),
    bavail: n(4),
    files: n(5),
    ffree: n(6),
    favail: n(7),
    namemax: n(10),
  };
}
