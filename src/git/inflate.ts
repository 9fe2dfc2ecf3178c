/**
 * zlib inflate for git objects, tuned for many small streams.
 *
 * `zlib.inflateSync` builds a new zlib stream per call (~10 µs of fixed cost,
 * more than inflating a 4 KiB blob). When the runtime exposes the Node-style
 * binding handle (`_handle.writeSync` + `_writeState`, as Deno 2 and Node do),
 * one handle is reused and `reset()` between streams; otherwise every call
 * falls back to the public `inflateSync`. The fast path self-tests at load.
 *
 * Invariant: all functions are synchronous and non-reentrant (one shared
 * handle); a handle that reported an error is discarded, never reused.
 * Errors are thrown as `InflateError`; callers wrap them with the file name.
 */
import zlib from "node:zlib";

/** A zlib stream did not decode to what its header promised. */
export class InflateError extends Error {
  override name = "InflateError";
}

const { Z_FINISH, Z_SYNC_FLUSH } = zlib.constants;

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

/** The reusable binding handle and its [availOut, availIn] state words. */
interface Engine {
  handle: ZlibHandle;
  state: Uint32Array;
  error: string | null;
}

let engine: Engine | null = null;
let fastAvailable = true;

function newEngine(): Engine | null {
  try {
    const stream = zlib.createInflate() as unknown as {
      _handle?: ZlibHandle;
      _writeState?: unknown;
    };
    const handle = stream._handle;
    const state = stream._writeState;
    if (
      handle === undefined || typeof handle.writeSync !== "function" ||
      typeof handle.reset !== "function" || !(state instanceof Uint32Array)
    ) return null;
    const e: Engine = { handle, state, error: null };
    handle.onerror = (message: string) => {
      e.error = message;
    };
    return e;
  } catch {
    return null;
  }
}

function getEngine(): Engine | null {
  if (!fastAvailable) return null;
  if (engine === null) {
    engine = newEngine();
    if (engine === null) fastAvailable = false;
  }
  return engine;
}

function dropEngine(e: Engine): void {
  try {
    e.handle.close();
  } catch {
    // Already closed or errored: nothing to release.
  }
  if (engine === e) engine = null;
}

/**
 * Inflates the complete zlib stream `src` whose output is exactly `size`
 * bytes into a fresh array. Throws InflateError when the stream is damaged,
 * truncated or decodes to a different length.
 */
export function inflateExact(src: Uint8Array, size: number): Uint8Array {
  return inflateExactInto(src, size, new Uint8Array(size + 1));
}

/**
 * Like `inflateExact` but into `out` (which must hold at least `size + 1`
 * bytes: the spare byte detects overlong streams); returns the `size`-byte
 * view of `out`.
 */
export function inflateExactInto(src: Uint8Array, size: number, out: Uint8Array): Uint8Array {
  if (out.length < size + 1) throw new RangeError("inflate target is too small");
  const e = getEngine();
  if (e === null) {
    const data = inflateExactSlow(src, size);
    out.set(data);
    return out.subarray(0, size);
  }
  e.handle.writeSync(Z_FINISH, src, 0, src.length, out, 0, size + 1);
  if (e.error !== null) {
    const msg = e.error;
    dropEngine(e);
    throw new InflateError(msg);
  }
  const availOut = e.state[0]!;
  e.handle.reset();
  if (availOut !== 1) {
    throw new InflateError(
      availOut === 0
        ? `inflates to more than ${size} bytes`
        : `inflates to ${size + 1 - availOut} bytes, expected ${size}`,
    );
  }
  return out.subarray(0, size);
}

function inflateExactSlow(src: Uint8Array, size: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = zlib.inflateSync(src, { chunkSize: Math.max(64, size + 1) });
  } catch (err) {
    throw new InflateError(err instanceof Error ? err.message : String(err));
  }
  if (out.length !== size) {
    throw new InflateError(`inflates to ${out.length} bytes, expected ${size}`);
  }
  return out;
}

/**
 * Inflates only the first `out.length` bytes of the stream `src` (which may be
 * truncated) into `out`; returns how many bytes were produced. Used to read
 * object headers and delta size varints without inflating whole objects.
 */
export function inflateHead(src: Uint8Array, out: Uint8Array): number {
  const e = getEngine();
  if (e === null) {
    try {
      const head = zlib.inflateSync(src, { finishFlush: Z_SYNC_FLUSH });
      const n = Math.min(head.length, out.length);
      out.set(head.subarray(0, n));
      return n;
    } catch (err) {
      throw new InflateError(err instanceof Error ? err.message : String(err));
    }
  }
  e.handle.writeSync(Z_SYNC_FLUSH, src, 0, src.length, out, 0, out.length);
  if (e.error !== null) {
    const msg = e.error;
    dropEngine(e);
    throw new InflateError(msg);
  }
  const produced = out.length - e.state[0]!;
  e.handle.reset();
  return produced;
}

/** Decoded header of a stream inflated with `inflateWithHeader`. */
export interface HeaderInfo {
  /** Bytes of header before the body. */
  headerLength: number;
  /** Exact body length in bytes. */
  bodySize: number;
}

const headScratch = new Uint8Array(64);

/**
 * Inflates a stream that starts with a header announcing the body length (a
 * loose object's "type size\0"): `parseHeader` sees the first bytes and
 * returns the header length and body size; the body is returned as a fresh
 * array of exactly that size. One pass over the input.
 */
export function inflateWithHeader(
  src: Uint8Array,
  parseHeader: (head: Uint8Array) => HeaderInfo,
): Uint8Array {
  const e = getEngine();
  if (e === null) {
    let all: Uint8Array;
    try {
      all = zlib.inflateSync(src);
    } catch (err) {
      throw new InflateError(err instanceof Error ? err.message : String(err));
    }
    const info = parseHeader(all.subarray(0, 64));
    if (all.length - info.headerLength !== info.bodySize) {
      throw new InflateError(
        `body is ${all.length - info.headerLength} bytes, header says ${info.bodySize}`,
      );
    }
    return all.subarray(info.headerLength);
  }
  e.handle.writeSync(Z_SYNC_FLUSH, src, 0, src.length, headScratch, 0, headScratch.length);
  if (e.error !== null) {
    const msg = e.error;
    dropEngine(e);
    throw new InflateError(msg);
  }
  const produced = headScratch.length - e.state[0]!;
  const availIn = e.state[1]!;
  let info: HeaderInfo;
  try {
    info = parseHeader(headScratch.subarray(0, produced));
  } catch (err) {
    e.handle.reset();
    throw err;
  }
  const already = produced - info.headerLength;
  if (already > info.bodySize) {
    e.handle.reset();
    throw new InflateError(`body is longer than the ${info.bodySize} bytes its header says`);
  }
  const out = new Uint8Array(info.bodySize + 1);
  out.set(headScratch.subarray(info.headerLength, produced));
  if (produced < headScratch.length) {
    // The whole stream fit in the head buffer: it has ended already.
    e.handle.reset();
    if (already !== info.bodySize) {
      throw new InflateError(`body is ${already} bytes, header says ${info.bodySize}`);
    }
    return out.subarray(0, info.bodySize);
  }
  e.handle.writeSync(
    Z_FINISH,
    src,
    src.length - availIn,
    availIn,
    out,
    already,
    out.length - already,
  );
  if (e.error !== null) {
    const msg = e.error;
    dropEngine(e);
    throw new InflateError(msg);
  }
  const availOut = e.state[0]!;
  e.handle.reset();
  if (availOut !== 1) {
    throw new InflateError(
      availOut === 0
        ? `body is longer than the ${info.bodySize} bytes its header says`
        : `body is ${info.bodySize + 1 - availOut} bytes, header says ${info.bodySize}`,
    );
  }
  return out.subarray(0, info.bodySize);
}

/** Self-test of the fast path; disables it when the handle misbehaves. */
function selfTest(): void {
  try {
    const text = new TextEncoder().encode("blob 11\0hello world".repeat(3));
    const comp = zlib.deflateSync(text);
    const a = inflateExact(comp, text.length);
    const head = new Uint8Array(4);
    const n = inflateHead(comp, head);
    const b = inflateExact(comp, text.length);
    if (
      a.length !== text.length || b.length !== text.length || n !== 4 ||
      a.some((v, i) => v !== text[i]) || b.some((v, i) => v !== text[i]) ||
      head[0] !== text[0]
    ) {
      fastAvailable = false;
    }
  } catch {
    fastAvailable = false;
  }
  if (!fastAvailable && engine !== null) dropEngine(engine);
}
selfTest();

/** True when the reusable-handle fast path is active (for benchmarks and reports). */
export function fastInflateActive(): boolean {
  return fastAvailable;
}
