/** Free-space figures of the filesystem holding a path, per OS. */
import { statvfs } from "./libc_linux.ts";

export interface FsSpace {
  blockSize: number;
  totalBlocks: number;
  freeBlocks: number;
  availBlocks: number;
  totalFiles: number;
  freeFiles: number;
  nameMax: number;
}

/** Space of the filesystem at `path`; null where the OS is not supported or the call fails. */
export function fsSpace(path: string): FsSpace | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const s = statvfs(path);
    if (typeof s === "number") return null;
    return {
      blockSize: s.frsize || s.bsize,
      totalBlocks: s.blocks,
      freeBlocks: s.bfree,
      availBlocks: s.bavail,
      totalFiles: s.files,
      freeFiles: s.ffree,
      nameMax: s.namemax,
    };
  } catch {
    return null;
  }
}
