/**
 * A real terminal for end-to-end tests: a tmux server on its own socket
 * (so tests never touch a user's sessions), keys sent with send-keys, the
 * screen read with capture-pane. `close` kills the whole server.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why tmux tests cannot run here, or null when they can. */
export function tmuxUnavailable(): string | null {
  try {
    new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync();
    return null;
  } catch {
    return "tmux is not installed (apt-get install -y tmux)";
  }
}

export class Tmux {
  readonly socket: string;
  readonly session = "dash";

  private constructor(socket: string) {
    this.socket = socket;
  }

  async #tmux(...args: string[]): Promise<string> {
    const o = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!o.success) {
      throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(o.stderr)}`);
    }
    return new TextDecoder().decode(o.stdout);
  }

  /** Starts `argv` in a new detached terminal of `columns` x `rows` in `cwd`. */
  static async start(
    argv: string[],
    opts: { cwd: string; columns: number; rows: number; env?: Record<string, string> },
  ): Promise<Tmux> {
    const t = new Tmux(`vibe-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    await t.#tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      t.session,
      "-x",
      String(opts.columns),
      "-y",
      String(opts.rows),
      "-c",
      opts.cwd,
      ...env,
      "--",
      ...argv,
    );
    // Keep the pane (and its last screen) when the program exits, for diagnosis.
    await t.#tmux("set-option", "-t", t.session, "remain-on-exit", "on").catch(() => {});
    return t;
  }

  /** The visible screen as text (no colours). */
  async screen(): Promise<string> {
    return await this.#tmux("capture-pane", "-p", "-t", this.session);
  }

  /** Sends keys as tmux names them ("Enter", "Tab", "Escape", "Down") or literal text. */
  async send(...keys: string[]): Promise<void> {
    for (const k of keys) await this.#tmux("send-keys", "-t", this.session, k);
  }

  /** Polls the screen until `re` matches; throws with the last screen after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      last = await this.screen();
      if (re.test(last)) return last;
      await sleep(100);
    }
    throw new Error(`screen never matched ${re} within ${timeoutMs} ms; last screen:\n${last}`);
  }

  /** Waits until the program in the pane has exited (throws after `timeoutMs`). */
  async waitExit(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const dead = (await this.#tmux("display-message", "-p", "-t", this.session, "#{pane_dead}"))
        .trim();
      if (dead === "1") return;
      await sleep(100);
    }
    throw new Error(`the program did not exit within ${timeoutMs} ms:\n${await this.screen()}`);
  }

  /** Kills the server and everything in it (idempotent). */
  async close(): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
  }
}
