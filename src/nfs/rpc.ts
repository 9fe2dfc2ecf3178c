/**
 * ONC RPC v2 messages (RFC 5531): call header parsing with AUTH_NONE and
 * AUTH_SYS credentials, and reply headers for every accept/reject state.
 *
 * Invariants:
 * - `parseCall` never throws: undecodable input yields a `CallProblem` that
 *   says how to answer (or that the record is to be dropped because not even
 *   a call's xid can be trusted).
 * - Replies always carry an AUTH_NONE verifier (we never issue short-hand
 *   credentials).
 */
import { XdrError, XdrReader, type XdrWriter } from "./xdr.ts";

export const RPC_VERSION = 2;
export const RPC_CALL = 0;
export const RPC_REPLY = 1;
export const MSG_ACCEPTED = 0;
export const MSG_DENIED = 1;

/** accept_stat */
export const SUCCESS = 0;
export const PROG_UNAVAIL = 1;
export const PROG_MISMATCH = 2;
export const PROC_UNAVAIL = 3;
export const GARBAGE_ARGS = 4;
export const SYSTEM_ERR = 5;

/** reject_stat */
export const RPC_MISMATCH = 0;
export const AUTH_ERROR = 1;

/** auth_stat */
export const AUTH_OK = 0;
export const AUTH_BADCRED = 1;
export const AUTH_REJECTEDCRED = 2;
export const AUTH_BADVERF = 3;
export const AUTH_REJECTEDVERF = 4;
export const AUTH_TOOWEAK = 5;

/** auth_flavor */
export const AUTH_NONE = 0;
export const AUTH_SYS = 1;

/** Largest credential or verifier body (RFC 5531 opaque_auth). */
export const MAX_AUTH_BYTES = 400;
/** The uid/gid an AUTH_NONE caller acts as (nobody). */
export const NOBODY = 65534;

/** Who the caller claims to be. AUTH_SYS identities are asserted by the client, not proven. */
export interface Credential {
  flavor: number;
  uid: number;
  gid: number;
  /** Supplementary groups (at most 16). */
  gids: number[];
}

export interface RpcCall {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  cred: Credential;
  /** Positioned at the procedure's arguments. */
  args: XdrReader;
}

/** Why a record is not a call we can serve, and how to answer. */
export type CallProblem =
  | { kind: "drop"; reason: string }
  | { kind: "rpc_mismatch"; xid: number }
  | { kind: "auth"; xid: number; stat: number }
  | { kind: "garbage"; xid: number };

const NONE_CRED: Credential = Object.freeze({
  flavor: AUTH_NONE,
  uid: NOBODY,
  gid: NOBODY,
  gids: [] as number[],
}) as Credential;

/** Parses a record as an RPC call (see the module doc). */
export function parseCall(rec: Uint8Array): RpcCall | CallProblem {
  if (rec.length < 8) return { kind: "drop", reason: `record of ${rec.length} bytes` };
  const r = new XdrReader(rec);
  const xid = r.u32();
  const type = r.u32();
  if (type !== RPC_CALL) return { kind: "drop", reason: `message type ${type} is not a call` };
  try {
    const rpcvers = r.u32();
    if (rpcvers !== RPC_VERSION) return { kind: "rpc_mismatch", xid };
    const prog = r.u32();
    const vers = r.u32();
    const proc = r.u32();
    const flavor = r.u32();
    const bodyLen = r.u32();
    if (bodyLen > MAX_AUTH_BYTES) return { kind: "auth", xid, stat: AUTH_BADCRED };
    const bodyStart = r.pos;
    r.skip(bodyLen + ((4 - (bodyLen & 3)) & 3));
    r.u32(); // verifier flavor: ignored (AUTH_NONE and AUTH_SYS carry no verifier we check)
    r.opaque(MAX_AUTH_BYTES);
    let cred: Credential | null = null;
    if (flavor === AUTH_NONE) cred = NONE_CRED;
    else if (flavor === AUTH_SYS) cred = readAuthSys(r, bodyStart, bodyStart + bodyLen);
    if (cred === null) return { kind: "auth", xid, stat: AUTH_BADCRED };
    return { xid, prog, vers, proc, cred, args: r };
  } catch (e) {
    if (e instanceof XdrError) return { kind: "garbage", xid };
    throw e;
  }
}

/**
 * authsys_parms (stamp, machinename<255>, uid, gid, gids<16>) read in place
 * from bytes `start`..`end` of the message; null when malformed or when it
 * overruns the credential body. Leaves `r.pos` where it was.
 */
function readAuthSys(r: XdrReader, start: number, end: number): Credential | null {
  const saved = r.pos;
  r.pos = start;
  try {
    r.u32(); // stamp
    r.opaque(255); // machine name: not used for any decision
    const uid = r.u32();
    const gid = r.u32();
    const n = r.u32();
    if (n > 16) return null;
    const gids: number[] = [];
    for (let i = 0; i < n; i++) gids.push(r.u32());
    return r.pos <= end ? { flavor: AUTH_SYS, uid, gid, gids } : null;
  } catch {
    return null;
  } finally {
    r.pos = saved;
  }
}

/** authsys_parms from a credential body; null when malformed. */
export function parseAuthSys(body: Uint8Array): Credential | null {
  return readAuthSys(new XdrReader(body), 0, body.length);
}

/** Reply header up to and including accept_stat (the procedure's result follows on SUCCESS). */
export function writeAcceptedHeader(w: XdrWriter, xid: number, acceptStat: number): void {
  w.u32(xid);
  w.u32(RPC_REPLY);
  w.u32(MSG_ACCEPTED);
  w.u32(AUTH_NONE);
  w.u32(0);
  w.u32(acceptStat);
}

/** PROG_MISMATCH with the supported version range. */
export function writeProgMismatch(w: XdrWriter, xid: number, low: number, high: number): void {
  writeAcceptedHeader(w, xid, PROG_MISMATCH);
  w.u32(low);
  w.u32(high);
}

/** MSG_DENIED / RPC_MISMATCH (we speak RPC version 2 only). */
export function writeRpcMismatch(w: XdrWriter, xid: number): void {
  w.u32(xid);
  w.u32(RPC_REPLY);
  w.u32(MSG_DENIED);
  w.u32(RPC_MISMATCH);
  w.u32(RPC_VERSION);
  w.u32(RPC_VERSION);
}

/** MSG_DENIED / AUTH_ERROR with an auth_stat. */
export function writeAuthError(w: XdrWriter, xid: number, stat: number): void {
  w.u32(xid);
  w.u32(RPC_REPLY);
  w.u32(MSG_DENIED);
  w.u32(AUTH_ERROR);
  w.u32(stat);
}

/** Writes a call header (for the test client and tools): AUTH_SYS when `cred` is given. */
export function writeCallHeader(
  w: XdrWriter,
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  cred?: { uid: number; gid: number; gids?: number[]; machine?: string },
): void {
  w.u32(xid);
  w.u32(RPC_CALL);
  w.u32(RPC_VERSION);
  w.u32(prog);
  w.u32(vers);
  w.u32(proc);
  if (cred) {
    const machine = cred.machine ?? "localhost";
    const gids = cred.gids ?? [];
    const bodyLen = 4 + 4 + machine.length + ((4 - (machine.length & 3)) & 3) + 4 + 4 + 4 +
      4 * gids.length;
    w.u32(AUTH_SYS);
    w.u32(bodyLen);
    w.u32(0);
    w.string(machine);
    w.u32(cred.uid);
    w.u32(cred.gid);
    w.u32(gids.length);
    for (const g of gids) w.u32(g);
  } else {
    w.u32(AUTH_NONE);
    w.u32(0);
  }
  w.u32(AUTH_NONE);
  w.u32(0);
}
