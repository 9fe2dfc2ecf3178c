/**
 * The daemon's control protocol: newline-delimited JSON over a Unix socket
 * (owner-only permissions) under `.vibe/`.
 *
 *   request  {"id": 1, "method": "mount", "params": {...}}
 *   response {"id": 1, "result": ...} | {"id": 1, "error": {"code", "message", "details"}}
 *
 * Errors keep the core's code, so a CLI talking to the daemon exits exactly
 * as it would running the operation itself.
 */
import { type ErrorCode, VibeError } from "../errors.ts";

export interface DaemonInfo {
  pid: number;
  socket: string;
  startedMs: number;
  version: string;
}

export const INFO_FILE = "daemon.json";
const SOCKET_NAME = "daemon.sock";
/** sun_path is 108 bytes on Linux (104 on macOS). */
const SUN_PATH_MAX = 100;

/** Where the daemon of the project at `vibeDir` listens. */
export function socketPathFor(vibeDir: string): string {
  const local = `${vibeDir}/${SOCKET_NAME}`;
  if (new TextEncoder().encode(local).length <= SUN_PATH_MAX) return local;
  // Too long for a Unix socket address: a short per-user path keyed by the project.
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(vibeDir)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return `/tmp/vibe-${Deno.uid() ?? 0}-${h.toString(16)}.sock`;
}

export function readDaemonInfo(vibeDir: string): DaemonInfo | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${vibeDir}/${INFO_FILE}`)) as DaemonInfo;
  } catch {
    return null;
  }
}

interface Wire {
  id: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Splits a byte stream into JSON lines. */
async function* lines(conn: Deno.Conn): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  const chunk = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) return;
    buf += dec.decode(chunk.subarray(0, n), { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
    if (buf.length > 64 * 1024 * 1024) throw new Error("control message too large");
  }
}

async function writeLine(conn: Deno.Conn, value: unknown): Promise<void> {
  const data = new TextEncoder().encode(JSON.stringify(value) + "\n");
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

export type Handler = (method: string, params: Record<string, unknown>) => Promise<unknown>;

/** Serves requests on one connection; requests on it are handled concurrently. */
export async function serveConnection(conn: Deno.Conn, handle: Handler): Promise<void> {
  const pending = new Set<Promise<void>>();
  try {
    for await (const line of lines(conn)) {
      if (!line.trim()) continue;
      let req: Wire;
      try {
        req = JSON.parse(line) as Wire;
      } catch {
        await writeLine(conn, {
          id: 0,
          error: { code: "USAGE", message: "Malformed control request" },
        });
        continue;
      }
      const p = (async () => {
        try {
          const result = await handle(String(req.method), req.params ?? {});
          await writeLine(conn, { id: req.id, result: result ?? null });
        } catch (e) {
          const err = e instanceof VibeError
            ? { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) }
            : { code: "EIO" as ErrorCode, message: `Daemon error: ${(e as Error).message}` };
          await writeLine(conn, { id: req.id, error: err }).catch(() => {});
        }
      })();
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
  } catch { /* peer went away */ }
  await Promise.allSettled([...pending]);
  try {
    conn.close();
  } catch { /* closed */ }
}

/** A client connection to a running daemon. */
export class ControlClient {
  #conn: Deno.Conn;
  #next = 1;
  #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #reader: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#reader = this.#readLoop();
  }

  static async connect(socket: string): Promise<ControlClient> {
    const conn = await Deno.connect({ transport: "unix", path: socket });
    return new ControlClient(conn);
  }

  async #readLoop(): Promise<void> {
    try {
      for await (const line of lines(this.#conn)) {
        const msg = JSON.parse(line) as Wire;
        const w = this.#waiting.get(msg.id);
        if (!w) continue;
        this.#waiting.delete(msg.id);
        if (msg.error) {
          w.reject(new VibeError(msg.error.code, msg.error.message, msg.error.details));
        } else {
          w.resolve(msg.result);
        }
      }
    } catch { /* connection closed */ }
    for (const w of this.#waiting.values()) {
      w.reject(
        new VibeError("EIO", 'The vibe daemon closed the connection (see "vibe daemon logs")'),
      );
    }
    this.#waiting.clear();
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      writeLine(this.#conn, { id, method, params }).catch((e) => {
        this.#waiting.delete(id);
        reject(new VibeError("EIO", `Cannot reach the vibe daemon: ${(e as Error).message}`));
      });
    });
  }

  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* closed */ }
    await this.#reader;
  }
}
