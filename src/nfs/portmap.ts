/**
 * A minimal portmapper (RFC 1833, PMAP version 2) answered on the NFS port,
 * for clients that ask it where NFS and MOUNT live: GETPORT names this very
 * port for NFS v3 and MOUNT v3 over TCP, 0 for anything else. SET and UNSET
 * are refused (false); DUMP lists our two programs; CALLIT is PROC_UNAVAIL.
 */
import type { ProcEntry, Reply, RpcProgram } from "./program.ts";
import { VOID_REPLY } from "./program.ts";
import { NFS_PROGRAM, NFS_V3 } from "./nfs3_xdr.ts";
import { MOUNT_PROGRAM, MOUNT_V3 } from "./mount3.ts";

export const PMAP_PROGRAM = 100000;
export const PMAP_V2 = 2;
export const IPPROTO_TCP = 6;

/** The portmapper program answering for `port()`. */
export function portmapProgram(port: () => number): RpcProgram {
  const served = (prog: number, vers: number): boolean =>
    (prog === NFS_PROGRAM && vers === NFS_V3) || (prog === MOUNT_PROGRAM && vers === MOUNT_V3) ||
    (prog === PMAP_PROGRAM && vers === PMAP_V2);
  const no: Reply = (w) => w.u32(0);
  const procs: ProcEntry[] = [
    { name: "NULL", run: () => VOID_REPLY },
    {
      name: "SET",
      run: ({ call }) => {
        call.args.skip(16);
        return no;
      },
    },
    {
      name: "UNSET",
      run: ({ call }) => {
        call.args.skip(16);
        return no;
      },
    },
    {
      name: "GETPORT",
      run: ({ call }) => {
        const r = call.args;
        const prog = r.u32();
        const vers = r.u32();
        const prot = r.u32();
        r.u32(); // port: ignored
        const p = prot === IPPROTO_TCP && served(prog, vers) ? port() : 0;
        return (w) => w.u32(p);
      },
    },
    {
      name: "DUMP",
      run: () => (w) => {
        for (const [prog, vers] of [[NFS_PROGRAM, NFS_V3], [MOUNT_PROGRAM, MOUNT_V3]] as const) {
          w.u32(1);
          w.u32(prog);
          w.u32(vers);
          w.u32(IPPROTO_TCP);
          w.u32(port());
        }
        w.u32(0);
      },
    },
  ];
  return { prog: PMAP_PROGRAM, name: "pmap", low: PMAP_V2, high: PMAP_V2, procs };
}
