/**
 * One poll(2) for every /dev/fuse session of the process.
 *
 * Deno runs at most 32 blocking calls at once (measured: the 33rd
 * nonblocking FFI call waits for a free thread), so a blocking read per mount
 * would stop at 8 mounts with 4 readers each, and 100 vibes in one daemon
 * need one thread, not hundreds. Sessions therefore open /dev/fuse with
 * O_NONBLOCK; this reactor keeps a single poll(2) outstanding on the blocking
 * pool over all their fds plus an eventfd used to wake it when the set
 * changes, and calls each ready session on the event loop, which then reads
 * its requests synchronously until EAGAIN.
 */
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  eventFd,
  pollAsync,
  readSync,
  writeSync,
} from "../../ffi/libc_linux.ts";

/** Called on the event loop with the fd's poll revents. */
export type ReadyHandler = (revents: number) => void;

const POLLIN = 0x1;

class FuseReactor {
  #handlers = new Map<number, ReadyHandler>();
  #wake: number | null = null;
  #running = false;
  #wakeBuf = new Uint8Array(8);

  /** Starts watching `fd` (readable or error) until `remove`. */
  add(fd: number, onReady: ReadyHandler): void {
    if (this.#wake === null) {
      const w = eventFd(EFD_CLOEXEC | EFD_NONBLOCK);
      if (typeof w === "string") throw new Error(`cannot create an eventfd: ${w}`);
      this.#wake = w;
    }
    this.#handlers.set(fd, onReady);
    this.#poke();
    if (!this.#running) {
      this.#running = true;
      void this.#loop();
    }
  }

  remove(fd: number): void {
    if (this.#handlers.delete(fd)) this.#poke();
  }

  #poke(): void {
    if (this.#wake === null) return;
    const one = new Uint8Array(new BigUint64Array([1n]).buffer);
    writeSync(this.#wake, one);
  }

  async #loop(): Promise<void> {
    try {
      while (this.#handlers.size > 0) {
        const fds = [this.#wake!, ...this.#handlers.keys()];
        const pfds = new Uint8Array(fds.length * 8);
        const v = new DataView(pfds.buffer);
        fds.forEach((fd, i) => {
          v.setInt32(i * 8, fd, true);
          v.setInt16(i * 8 + 4, POLLIN, true);
        });
        const rc = await pollAsync(pfds, fds.length, -1);
        if (rc < 0) continue; // EINTR: poll again
        for (let i = 0; i < fds.length; i++) {
          const revents = v.getUint16(i * 8 + 6, true);
          if (revents === 0) continue;
          const fd = fds[i]!;
          if (fd === this.#wake) {
            readSync(this.#wake, this.#wakeBuf);
            continue;
          }
          const h = this.#handlers.get(fd);
          if (!h) continue;
          try {
            h(revents);
          } catch { /* a session's failure is its own business */ }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

/** The process-wide reactor. */
export const reactor = new FuseReactor();
