/**
 * The NFS channel: exports one vibe's `Vfs` over NFSv3 (with MOUNT v3 and a
 * portmapper GETPORT answer on the same port). The daemon runs one listener
 * per vibe. Protocol details: nfs3.ts; security model: server.ts; handle
 * format: handles.ts; error mapping: status_map.ts.
 *
 * Sizes announced to clients (FSINFO): rtmax = rtpref = wtmax = wtpref =
 * 1 MiB (the largest the Linux client uses; one READ/WRITE per MiB keeps the
 * RPC count low), dtpref 64 KiB; records up to 1 MiB + 8 KiB are accepted.
 */
import { VibeError } from "../errors.ts";
import { ROOT_INO, type Vfs } from "../vfs/vfs.ts";
import { HandleCodec } from "./handles.ts";
import { mount3Program } from "./mount3.ts";
import { MAX_IO_BYTES, nfs3Program, RefLedger } from "./nfs3.ts";
import { portmapProgram } from "./portmap.ts";
import { RpcServer } from "./server.ts";
import { StatusMapper } from "./status_map.ts";

export interface NfsExportOptions {
  vibeId: string;
  vfs: Vfs;
  /** ≥ 128-bit secret (bytes); part of the export path and of every file handle's MAC. Persisted by
   *  the caller so handles survive a daemon restart. */
  secret: Uint8Array;
  /** Stable per export (e.g. the vibe's creation time): goes into handles and the cookie verifier.
   *  A non-negative safe integer. */
  epoch: number;
  /** Default "127.0.0.1"; anything else logs a warning. */
  hostname?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default false: when true, calls other than NULL from source ports ≥ 1024 get AUTH_TOOWEAK. */
  requirePrivilegedPort?: boolean;
  /** Default: console.error. */
  log?: (msg: string) => void;
  /** Debug/test hook: receives a copy of every request record (golden-frame capture). */
  captureRecords?: (record: Uint8Array) => void;
}

export interface NfsServer {
  readonly port: number;
  readonly hostname: string;
  /** The path a client mounts: "/vibe/<id>/<secret hex>" (clients that do not know it get MNT3ERR_ACCES). */
  readonly exportPath: string;
  /** Stops listening, closes connections, waits for running requests. */
  close(): Promise<void>;
  stats(): { calls: number; byProc: Record<string, number>; connections: number };
}

/** Largest RPC record accepted: a 1 MiB WRITE plus headers. */
export const MAX_RECORD_BYTES = MAX_IO_BYTES + 8192;

/** Starts serving `opts.vfs`; see the module doc. Rejects with EBUSY when the port is taken. */
export function serveNfs(opts: NfsExportOptions): Promise<NfsServer> {
  try {
    return Promise.resolve(start(opts));
  } catch (e) {
    return Promise.reject(e);
  }
}

function start(opts: NfsExportOptions): NfsServer {
  const log = opts.log ?? ((msg: string) => console.error(msg));
  const hostname = opts.hostname ?? "127.0.0.1";
  if (hostname !== "127.0.0.1") {
    log(
      `nfs: warning: serving vibe "${opts.vibeId}" on ${hostname}, not loopback only: anyone ` +
        `who can reach that address and learns the export path can read and write the vibe`,
    );
  }
  if (opts.secret.length < 16) {
    throw new VibeError(
      "USAGE",
      `Cannot serve "${opts.vibeId}" over NFS: the secret is shorter than 16 bytes`,
    );
  }
  const handles = new HandleCodec(opts.secret, opts.epoch);
  const fsidBytes = handles.derive("fsid");
  const fsid = new DataView(fsidBytes.buffer).getUint32(0) * 65536 +
    new DataView(fsidBytes.buffer).getUint16(4);
  const writeVerf = new Uint8Array(8);
  crypto.getRandomValues(writeVerf);
  const exportPath = `/vibe/${opts.vibeId}/${toHex(opts.secret)}`;
  let port = 0;
  const programs = [
    nfs3Program({
      vfs: opts.vfs,
      handles,
      status: new StatusMapper(log),
      fsid,
      cookieVerf: handles.derive("cookieverf"),
      writeVerf,
      refs: new RefLedger(),
    }),
    mount3Program({ exportPath, rootHandle: () => handles.encode(ROOT_INO), log }),
    portmapProgram(() => port),
  ];
  let server: RpcServer;
  try {
    server = RpcServer.listen({
      hostname,
      port: opts.port ?? 0,
      programs,
      requirePrivilegedPort: opts.requirePrivilegedPort ?? false,
      log,
      maxRecordBytes: MAX_RECORD_BYTES,
      maxInFlight: 32,
      maxConnections: 256,
      ...(opts.captureRecords ? { captureRecords: opts.captureRecords } : {}),
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new VibeError(
        "EBUSY",
        `Cannot serve "${opts.vibeId}" over NFS: port ${opts.port} is in use (pick another port)`,
      );
    }
    throw e;
  }
  port = server.port;
  return {
    port: server.port,
    hostname: server.hostname,
    exportPath,
    close: () => server.close(),
    stats: () => server.stats(),
  };
}

function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}
