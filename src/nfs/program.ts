/**
 * The shape of an RPC program as the server dispatches it: one table of
 * procedures per program, so logging, statistics and "unsupported" replies
 * (PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL) come from one place.
 *
 * Invariants of a handler:
 * - It decodes all its arguments synchronously, before its first await; an
 *   `XdrError` thrown there becomes GARBAGE_ARGS.
 * - It resolves to a `Reply` that encodes the procedure's result
 *   synchronously (the server encodes into one scratch buffer, so a reply
 *   encoder must not await). Protocol-level failures are results too (a
 *   status in the result body); a rejection other than `XdrError` is a bug
 *   and becomes SYSTEM_ERR.
 */
import type { RpcCall } from "./rpc.ts";
import type { XdrWriter } from "./xdr.ts";

/** Encodes a procedure's result after the accepted reply header. */
export type Reply = (w: XdrWriter) => void;

/** What a handler knows about the request beyond the call itself. */
export interface CallInfo {
  call: RpcCall;
  /** Source port of the connection (privileged-port checks, logs). */
  remotePort: number;
}

export interface ProcEntry {
  /** Spelling of the RFC (e.g. "GETATTR"); stats key is `<program>.<name>`. */
  name: string;
  run(info: CallInfo): Promise<Reply> | Reply;
  /** Retransmissions must be answered from the duplicate request cache, not executed again. */
  nonIdempotent?: boolean;
}

export interface RpcProgram {
  prog: number;
  /** Short name for stats and logs ("nfs3", "mount3", "pmap"). */
  name: string;
  /** Supported version range (PROG_MISMATCH reports it). */
  low: number;
  high: number;
  /** Indexed by procedure number; a hole is PROC_UNAVAIL. */
  procs: ReadonlyArray<ProcEntry | undefined>;
}

/** A reply with an empty (void) result. */
export const VOID_REPLY: Reply = () => {};
