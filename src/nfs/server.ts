/**
 * The ONC RPC server: one TCP listener per export, serving NFS v3, MOUNT v3
 * and a portmapper GETPORT answer on the same port.
 *
 * Security model (README material)
 * --------------------------------
 * Who we defend against: other local users (and, if the listener is moved
 * off loopback, other hosts) who can open TCP connections to the port but do
 * not own the vibe. NFSv3 with AUTH_SYS has no real authentication — the
 * client states any uid it likes — so identity is not the access control.
 * The capability is an unguessable per-vibe secret (≥ 128 bits):
 * - The listener binds 127.0.0.1 by default; any other address must be
 *   asked for explicitly and logs a warning.
 * - The export path is "/vibe/<id>/<secret hex>". MNT of any other path
 *   answers MNT3ERR_ACCES — never MNT3ERR_NOENT — so probing reveals nothing
 *   about which vibes or paths exist; DUMP and EXPORT list nothing (the path
 *   is the secret).
 * - Every file handle carries an HMAC-SHA256 (truncated to 128 bits) over
 *   (version, epoch, inode) keyed with the secret; a handle with a bad MAC or
 *   a wrong length is NFS3ERR_BADHANDLE, so handles cannot be forged or
 *   guessed by someone who skips MNT. The secret is persisted by the daemon
 *   so handles stay valid across restarts; rotating it revokes them all.
 * - Optionally (`requirePrivilegedPort`), calls other than NULL must come
 *   from a source port below 1024 (only root can bind those), else
 *   AUTH_ERROR/AUTH_TOOWEAK. Off by default: unprivileged clients (nfs-vm's
 *   forwarder, libnfs tools, macOS mount_nfs with `resvport` off) need it so.
 * - Whoever holds the secret (the owner, who got it from the daemon's
 *   control socket in `.vibe/`) has full access: permissions are reported
 *   through ACCESS from mode bits and the AUTH_SYS credential so clients
 *   behave as on a local disk, but the server does not re-check them.
 * - Robustness: malformed input answers GARBAGE_ARGS / PROG_UNAVAIL /
 *   PROG_MISMATCH / PROC_UNAVAIL / RPC_MISMATCH / AUTH_BADCRED and never
 *   throws out of the server; a record above `maxRecordBytes` closes that
 *   connection only; each connection holds at most one partial record,
 *   `maxInFlight` requests and about 8 MiB of unsent replies (reading pauses
 *   beyond); connections beyond `maxConnections` are closed.
 * Not defended: an attacker who can read the daemon's memory or the secret
 * file, or sniff non-loopback traffic (NFSv3 is plaintext).
 *
 * Invariants:
 * - Requests on one connection are served concurrently (a slow READ does
 *   not hold up a GETATTR); replies carry the xid and are written whole, in
 *   completion order, one writer per connection.
 * - Reply encoding is synchronous into one scratch writer (see program.ts).
 * - Non-idempotent procedures go through a duplicate request cache keyed by
 *   (xid, record length, FNV-1a of the record), so a call retransmitted after
 *   a reconnect is answered, not executed twice; a duplicate of a call still
 *   running is dropped (the client retransmits again).
 */
import type { CallInfo, ProcEntry, Reply, RpcProgram } from "./program.ts";
import { RecordAssembler, RecordTooLargeError } from "./record.ts";
import {
  AUTH_TOOWEAK,
  GARBAGE_ARGS,
  parseCall,
  PROC_UNAVAIL,
  PROG_UNAVAIL,
  type RpcCall,
  SUCCESS,
  SYSTEM_ERR,
  writeAcceptedHeader,
  writeAuthError,
  writeProgMismatch,
  writeRpcMismatch,
} from "./rpc.ts";
import { XdrError, XdrWriter } from "./xdr.ts";

export interface RpcServerOptions {
  hostname: string;
  port: number;
  programs: RpcProgram[];
  requirePrivilegedPort: boolean;
  log: (msg: string) => void;
  /** Largest record accepted (sum of fragments); larger closes the connection. */
  maxRecordBytes: number;
  /** Requests served at once per connection; reading pauses beyond it. */
  maxInFlight: number;
  maxConnections: number;
  /** Called with a copy of every request record (golden-frame capture, debugging). */
  captureRecords?: (record: Uint8Array) => void;
}

export interface RpcServerStats {
  calls: number;
  byProc: Record<string, number>;
  connections: number;
}

const READ_CHUNK = 256 * 1024;
/** Fragment body bytes still to come above which we read straight into the record. */
const DIRECT_READ_MIN = 32 * 1024;
/** Replies coalesced into one socket write, at most. */
const WRITE_COALESCE = 256 * 1024;
/** Reply bytes queued on a connection above which reading pauses (a client that does not read). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
const DRC_MAX = 1024;
/** DRC entry for a call still running. */
const IN_PROGRESS = new Uint8Array(0);

/** A listening RPC server; see the module doc. */
export class RpcServer {
  readonly port: number;
  readonly hostname: string;
  private readonly listener: Deno.TcpListener;
  private readonly programs = new Map<number, RpcProgram>();
  private readonly writer = new XdrWriter();
  private readonly conns = new Set<Connection>();
  private readonly drc = new Map<string, Uint8Array>();
  private readonly loggedFaults = new Set<string>();
  private calls = 0;
  private readonly byProc: Record<string, number> = {};
  private closing = false;
  private readonly acceptDone: Promise<void>;

  private constructor(private readonly opts: RpcServerOptions, listener: Deno.TcpListener) {
    this.listener = listener;
    this.port = listener.addr.port;
    this.hostname = listener.addr.hostname;
    for (const p of opts.programs) this.programs.set(p.prog, p);
    this.acceptDone = this.acceptLoop();
  }

  /** Binds and starts serving. */
  static listen(opts: RpcServerOptions): RpcServer {
    const listener = Deno.listen({ hostname: opts.hostname, port: opts.port, transport: "tcp" });
    return new RpcServer(opts, listener);
  }

  stats(): RpcServerStats {
    return { calls: this.calls, byProc: { ...this.byProc }, connections: this.conns.size };
  }

  /** Stops listening, closes every connection and waits for running requests. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.acceptDone;
    const conns = [...this.conns];
    for (const c of conns) c.close();
    await Promise.all(conns.map((c) => c.done));
  }

  private async acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.listener.accept();
      } catch (e) {
        if (this.closing) return;
        this.opts.log(`nfs: accept failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.closing) {
        closeQuietly(conn);
        return;
      }
      if (this.conns.size >= this.opts.maxConnections) {
        this.logOnce(
          "conn-limit",
          `nfs: more than ${this.opts.maxConnections} connections, refusing`,
        );
        closeQuietly(conn);
        continue;
      }
      const c = new Connection(this, conn, this.opts);
      this.conns.add(c);
      c.done.then(() => this.conns.delete(c));
    }
  }

  /** Serves one record of connection `c` (never throws). */
  async handle(c: Connection, rec: Uint8Array): Promise<void> {
    if (this.opts.captureRecords) {
      try {
        this.opts.captureRecords(rec.slice());
      } catch { /* a debugging hook must not break serving */ }
    }
    const parsed = parseCall(rec);
    const w = this.writer;
    if ("kind" in parsed) {
      if (parsed.kind === "drop") {
        this.logOnce("drop", `nfs: dropped a record that is not an RPC call (${parsed.reason})`);
        return;
      }
      w.reset();
      w.u32(0);
      if (parsed.kind === "rpc_mismatch") writeRpcMismatch(w, parsed.xid);
      else if (parsed.kind === "auth") writeAuthError(w, parsed.xid, parsed.stat);
      else writeAcceptedHeader(w, parsed.xid, GARBAGE_ARGS);
      c.send(finishRecord(w));
      return;
    }
    const call: RpcCall = parsed;
    const prog = this.programs.get(call.prog);
    let entry: ProcEntry | undefined;
    w.reset();
    w.u32(0);
    if (!prog) writeAcceptedHeader(w, call.xid, PROG_UNAVAIL);
    else if (call.vers < prog.low || call.vers > prog.high) {
      writeProgMismatch(w, call.xid, prog.low, prog.high);
    } else if ((entry = prog.procs[call.proc]) === undefined) {
      writeAcceptedHeader(w, call.xid, PROC_UNAVAIL);
    } else if (this.opts.requirePrivilegedPort && call.proc !== 0 && c.remotePort >= 1024) {
      writeAuthError(w, call.xid, AUTH_TOOWEAK);
    }
    if (!prog || !entry || w.pos > 4) {
      c.send(finishRecord(w));
      return;
    }
    w.reset();
    this.calls++;
    const key = this.statKey(prog, entry);
    this.byProc[key] = (this.byProc[key] ?? 0) + 1;

    let drcKey: string | null = null;
    if (entry.nonIdempotent) {
      drcKey = `${call.xid}:${rec.length}:${fnv1a(rec)}`;
      const hit = this.drc.get(drcKey);
      if (hit === IN_PROGRESS) return;
      if (hit !== undefined) {
        c.send(hit);
        return;
      }
      this.drcPut(drcKey, IN_PROGRESS);
    }

    let reply: Reply | null = null;
    let stat = SUCCESS;
    try {
      reply = await entry.run({ call, remotePort: c.remotePort } satisfies CallInfo);
    } catch (e) {
      if (e instanceof XdrError) stat = GARBAGE_ARGS;
      else {
        stat = SYSTEM_ERR;
        this.logFault(key, e);
      }
    }
    let bytes: Uint8Array;
    let tail: ReturnType<XdrWriter["takeTail"]> = null;
    try {
      w.reset();
      w.u32(0);
      writeAcceptedHeader(w, call.xid, stat);
      if (reply) reply(w);
      bytes = finishRecord(w);
      tail = w.takeTail();
    } catch (e) {
      this.logFault(key, e);
      w.reset();
      w.u32(0);
      writeAcceptedHeader(w, call.xid, SYSTEM_ERR);
      bytes = finishRecord(w);
    }
    if (drcKey !== null) {
      if (tail) {
        bytes = concat(bytes, tail.bytes);
        tail.release?.();
        tail = null;
      }
      this.drcPut(drcKey, bytes);
    }
    c.send(bytes);
    if (tail) c.send(tail.bytes, tail.release);
  }

  private readonly statKeys = new Map<ProcEntry, string>();

  /** "<program>.<procedure>", built once per procedure. */
  private statKey(prog: RpcProgram, entry: ProcEntry): string {
    let key = this.statKeys.get(entry);
    if (key === undefined) {
      key = `${prog.name}.${entry.name}`;
      this.statKeys.set(entry, key);
    }
    return key;
  }

  private drcPut(key: string, value: Uint8Array): void {
    this.drc.delete(key);
    if (this.drc.size >= DRC_MAX) this.drc.delete(this.drc.keys().next().value!);
    this.drc.set(key, value);
  }

  private logFault(key: string, e: unknown): void {
    const name = e instanceof Error ? e.name : typeof e;
    this.logOnce(
      `fault:${key}:${name}`,
      `nfs: ${key} failed unexpectedly, answered SYSTEM_ERR: ${
        e instanceof Error ? e.stack ?? e.message : String(e)
      }`,
    );
  }

  logOnce(key: string, msg: string): void {
    if (this.loggedFaults.has(key)) return;
    if (this.loggedFaults.size < 1000) this.loggedFaults.add(key);
    this.opts.log(msg);
  }
}

/**
 * Sets the record mark of the message in `w` (which starts with a 4-byte
 * placeholder) and hands it out; a tail the writer holds is part of the record
 * and must be sent right after it.
 */
function finishRecord(w: XdrWriter): Uint8Array {
  w.patchU32(0, 0x80000000 | (w.pos - 4 + w.tailBytes));
  return w.finish();
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** FNV-1a over `b` (32 bits). */
function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** One client connection: a reader of records and a writer of replies. */
class Connection {
  readonly remotePort: number;
  readonly done: Promise<void>;
  private closed = false;
  private inFlight = 0;
  /** Records read but not yet dispatched (at most one read chunk's worth). */
  private readonly pending: Uint8Array[] = [];
  private readonly running = new Set<Promise<void>>();
  private wake: (() => void) | null = null;
  private readonly queue: Uint8Array[] = [];
  /** Called once the queue entry at the same index has been written (or copied out). */
  private readonly sent: ((() => void) | null)[] = [];
  private queuedBytes = 0;
  private writing = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: RpcServer,
    private readonly conn: Deno.TcpConn,
    private readonly opts: RpcServerOptions,
  ) {
    this.remotePort = conn.remoteAddr.port;
    try {
      conn.setNoDelay(true);
    } catch { /* not fatal */ }
    this.done = this.readLoop();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeQuietly(this.conn);
    this.wake?.();
  }

  private async readLoop(): Promise<void> {
    const asm = new RecordAssembler(this.opts.maxRecordBytes);
    const scratch = new Uint8Array(READ_CHUNK);
    const onRecord = (rec: Uint8Array) => this.dispatch(rec);
    let eof = false;
    try {
      while (!this.closed) {
        while (
          (this.pending.length > 0 || !this.hasRoom()) &&
          !this.closed
        ) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
        }
        if (this.closed) break;
        const direct = asm.directTarget(DIRECT_READ_MIN);
        const n = await this.conn.read(direct ?? scratch);
        if (n === null) {
          eof = true;
          break;
        }
        if (direct) asm.directFilled(n, onRecord);
        else asm.push(scratch.subarray(0, n), onRecord);
      }
    } catch (e) {
      if (e instanceof RecordTooLargeError) {
        this.server.logOnce("too-large", `nfs: closing a connection: ${e.message}`);
      } else if (!this.closed && !(e instanceof Deno.errors.BadResource)) {
        const name = (e as Error).name;
        if (name !== "ConnectionReset" && name !== "BrokenPipe" && name !== "Interrupted") {
          this.server.logOnce(
            `read:${name}`,
            `nfs: connection read failed: ${(e as Error).message}`,
          );
        }
      }
    } finally {
      // After a clean end of input, finish and send what was asked (a client may half-close).
      while (eof && !this.closed && (this.pending.length > 0 || this.running.size > 0)) {
        this.drain();
        await Promise.all([...this.running]);
      }
      if (eof) await this.flushing;
      this.close();
      await Promise.all([...this.running]);
    }
  }

  private hasRoom(): boolean {
    return this.inFlight < this.opts.maxInFlight && this.queuedBytes <= MAX_QUEUED_BYTES;
  }

  /** Serves `rec` now if there is room, else after earlier records (reading pauses meanwhile). */
  private dispatch(rec: Uint8Array): void {
    if (this.pending.length > 0 || !this.hasRoom()) this.pending.push(rec);
    else this.start(rec);
  }

  /** Starts pending records while there is room, then lets the reader go on. */
  private drain(): void {
    while (this.pending.length > 0 && this.hasRoom() && !this.closed) {
      this.start(this.pending.shift()!);
    }
    this.wake?.();
  }

  private start(rec: Uint8Array): void {
    this.inFlight++;
    const p = this.server.handle(this, rec).finally(() => {
      this.inFlight--;
      this.running.delete(p);
      this.drain();
    });
    this.running.add(p);
  }

  /** Queues a reply record (or the next part of one); written whole, in queue order. */
  send(bytes: Uint8Array, onSent: (() => void) | null = null): void {
    if (this.closed) return;
    this.queue.push(bytes);
    this.sent.push(onSent);
    this.queuedBytes += bytes.length;
    if (!this.writing) this.flushing = this.flush();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        let buf: Uint8Array;
        let done: (() => void) | null = null;
        if (this.queue.length === 1 || this.queue[0]!.length >= WRITE_COALESCE) {
          buf = this.queue.shift()!;
          done = this.sent.shift()!;
        } else {
          let total = 0;
          let n = 0;
          while (n < this.queue.length && total + this.queue[n]!.length <= WRITE_COALESCE) {
            total += this.queue[n]!.length;
            n++;
          }
          const parts = this.queue.splice(0, n);
          const callbacks = this.sent.splice(0, n);
          buf = new Uint8Array(total);
          let off = 0;
          for (const p of parts) {
            buf.set(p, off);
            off += p.length;
          }
          for (const cb of callbacks) cb?.();
        }
        let off = 0;
        while (off < buf.length) off += await this.conn.write(buf.subarray(off));
        done?.();
        this.queuedBytes -= buf.length;
        this.drain();
      }
    } catch (e) {
      const name = (e as Error).name;
      if (
        !this.closed && name !== "BrokenPipe" && name !== "ConnectionReset" &&
        name !== "BadResource"
      ) {
        this.server.logOnce(
          `write:${name}`,
          `nfs: connection write failed: ${(e as Error).message}`,
        );
      }
      this.close();
    } finally {
      this.writing = false;
    }
  }
}
