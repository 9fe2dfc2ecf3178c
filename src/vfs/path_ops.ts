/**
 * Path-level helpers over any `Vfs` (demo, tests, tools): resolve a
 * "/"-separated path relative to the root and do whole-file operations.
 */
import { VibeError } from "../errors.ts";
import type { Ino } from "../types.ts";
import { type Caller, ROOT_INO, type Vfs } from "./vfs.ts";

const CHUNK = 128 * 1024;

function parts(path: string): string[] {
  return path.split("/").filter((p) => p.length > 0 && p !== ".");
}

/** Inode of `path` (following no symlinks). */
export async function resolvePath(vfs: Vfs, path: string): Promise<Ino> {
  let ino = ROOT_INO;
  for (const p of parts(path)) ino = (await vfs.lookup(ino, p)).ino;
  return ino;
}

async function parentOf(vfs: Vfs, path: string): Promise<{ dir: Ino; name: string }> {
  const ps = parts(path);
  const name = ps.pop();
  if (name === undefined) throw new VibeError("EINVAL", `Path "${path}" names the root`);
  let dir = ROOT_INO;
  for (const p of ps) dir = (await vfs.lookup(dir, p)).ino;
  return { dir, name };
}

export async function mkdirp(vfs: Vfs, path: string, caller: Caller): Promise<Ino> {
  let ino = ROOT_INO;
  for (const p of parts(path)) {
    try {
      ino = (await vfs.lookup(ino, p)).ino;
    } catch (e) {
      if (!(e instanceof VibeError) || e.code !== "ENOENT") throw e;
      ino = (await vfs.mkdir(ino, p, 0o755, caller)).ino;
    }
  }
  return ino;
}

/** Replaces (or creates) a file with `data`, like `open(O_CREAT|O_TRUNC)` + write. */
export async function writeFile(
  vfs: Vfs,
  path: string,
  data: Uint8Array | string,
  caller: Caller,
  mode = 0o644,
): Promise<Ino> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const { dir, name } = await parentOf(vfs, path);
  const attr = await vfs.create(dir, name, mode, caller, false);
  await vfs.setattr(attr.ino, { size: 0 });
  for (let off = 0; off < bytes.length; off += CHUNK) {
    await vfs.write(attr.ino, off, bytes.subarray(off, off + CHUNK));
  }
  return attr.ino;
}

export async function readFile(vfs: Vfs, path: string): Promise<Uint8Array> {
  const ino = await resolvePath(vfs, path);
  const size = (await vfs.getattr(ino)).size;
  const out = new Uint8Array(size);
  let off = 0;
  while (off < size) {
    const chunk = await vfs.read(ino, off, Math.min(CHUNK, size - off));
    if (chunk.length === 0) break;
    out.set(chunk, off);
    off += chunk.length;
  }
  return off === size ? out : out.subarray(0, off);
}

export async function readText(vfs: Vfs, path: string): Promise<string> {
  return new TextDecoder().decode(await readFile(vfs, path));
}

export async function removePath(vfs: Vfs, path: string): Promise<void> {
  const { dir, name } = await parentOf(vfs, path);
  const attr = await vfs.lookup(dir, name);
  if (attr.kind === "dir") await vfs.rmdir(dir, name);
  else await vfs.unlink(dir, name);
}

export async function renamePath(vfs: Vfs, from: string, to: string): Promise<void> {
  const a = await parentOf(vfs, from);
  const b = await parentOf(vfs, to);
  await vfs.rename(a.dir, a.name, b.dir, b.name);
}

/** All file paths below `path` (depth first, sorted per directory). */
export async function listTree(vfs: Vfs, path = ""): Promise<string[]> {
  const out: string[] = [];
  const walk = async (ino: Ino, prefix: string) => {
    let after = 0;
    const entries = [];
    for (;;) {
      const page = await vfs.readdir(ino, after, 1024);
      entries.push(...page);
      if (page.length < 1024) break;
      after = page[page.length - 1]!.cookie;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.kind === "dir") await walk(e.ino, p);
      else out.push(p);
    }
  };
  await walk(await resolvePath(vfs, path), path.replace(/^\/+|\/+$/g, ""));
  return out;
}
