/**
 * MOUNT version 3 (RFC 1813 appendix I), served on the NFS port.
 *
 * Invariants (security, see server.ts):
 * - MNT succeeds only for the exact export path (trailing slashes ignored);
 *   any other path — existing or not — answers MNT3ERR_ACCES, so the answer
 *   reveals nothing about what exists. MNT3ERR_NOENT is never used.
 * - DUMP and EXPORT answer empty lists: the export path contains the secret,
 *   so it is never listed to anyone.
 * - UMNT and UMNTALL keep no state to undo (mounts are not tracked).
 */
import type { CallInfo, ProcEntry, Reply, RpcProgram } from "./program.ts";
import { VOID_REPLY } from "./program.ts";
import { AUTH_SYS } from "./rpc.ts";

export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;

export const MNT3_OK = 0;
export const MNT3ERR_ACCES = 13;

/** MNTPATHLEN: the longest path a client may send. */
export const MNTPATHLEN = 1024;

export interface MountOptions {
  exportPath: string;
  /** The root directory's file handle. */
  rootHandle: () => Uint8Array;
  log: (msg: string) => void;
}

/** The MOUNT program (100005, version 3). */
export function mount3Program(opts: MountOptions): RpcProgram {
  const wanted = stripSlashes(opts.exportPath);
  let lastRefusalLogMs = -Infinity;

  const mnt = ({ call }: CallInfo): Reply => {
    const path = call.args.stringOrNull(MNTPATHLEN);
    if (path === null || stripSlashes(path) !== wanted) {
      // At most one line a minute: refusals can be provoked by anyone who can connect.
      if (Date.now() - lastRefusalLogMs > 60_000) {
        lastRefusalLogMs = Date.now();
        opts.log("nfs: MNT of a path other than the export path refused (MNT3ERR_ACCES)");
      }
      return (w) => w.u32(MNT3ERR_ACCES);
    }
    const fh = opts.rootHandle();
    return (w) => {
      w.u32(MNT3_OK);
      w.opaque(fh);
      w.u32(1); // auth_flavors<>
      w.u32(AUTH_SYS);
    };
  };
  const emptyList: Reply = (w) => w.u32(0);
  const procs: ProcEntry[] = [
    { name: "NULL", run: () => VOID_REPLY },
    { name: "MNT", run: mnt },
    { name: "DUMP", run: () => emptyList },
    {
      name: "UMNT",
      run: ({ call }) => {
        call.args.opaque(MNTPATHLEN);
        return VOID_REPLY;
      },
    },
    { name: "UMNTALL", run: () => VOID_REPLY },
    { name: "EXPORT", run: () => emptyList },
  ];
  return { prog: MOUNT_PROGRAM, name: "mount3", low: MOUNT_V3, high: MOUNT_V3, procs };
}

function stripSlashes(p: string): string {
  let end = p.length;
  while (end > 1 && p.charCodeAt(end - 1) === 0x2f) end--;
  return p.slice(0, end);
}
