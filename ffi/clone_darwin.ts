/**
 * File cloning on macOS: `clonefile(2)` (APFS) makes a copy-on-write clone.
 * libSystem is opened lazily, on the first clone. Wrappers return an errno
 * name instead of throwing. (Not exercised by CI, which runs on Linux.)
 */

/** Do not follow a symlink at `src` (<sys/clonefile.h>). */
const CLONE_NOFOLLOW = 0x0001;

const SYMBOLS = {
  // int clonefile(const char *src, const char *dst, uint32_t flags);
  clonefile: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  // int *__error(void);
  __error: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

function libSystem(): Deno.DynamicLibrary<typeof SYMBOLS> {
  if (!lib) lib = Deno.dlopen("/usr/lib/libSystem.B.dylib", SYMBOLS);
  return lib;
}

/** Darwin errno numbers → names, for the values clonefile can yield. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  22: "EINVAL",
  28: "ENOSPC",
  30: "EROFS",
  45: "ENOTSUP",
  69: "EDQUOT",
};

const cstr = (s: string) => new TextEncoder().encode(s + "\0");

/**
 * Clones `src` to `dst`, which must not exist. Returns null on success, else
 * the errno name; "ENOTSUP" and "EXDEV" mean the filesystem cannot clone here.
 */
export function clonefile(src: string, dst: string): string | null {
  const sym = libSystem().symbols;
  if (sym.clonefile(cstr(src), cstr(dst), CLONE_NOFOLLOW) === 0) return null;
  const p = sym.__error();
  const n = p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0);
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}
