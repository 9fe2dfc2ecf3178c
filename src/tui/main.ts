/**
 * `vibe dash`: the entry the CLI imports lazily. `--json` / `--once` print a
 * snapshot without loading React; the live dashboard (Ink) loads only when
 * it runs in a terminal.
 */
import { VibeError } from "../errors.ts";

export interface DashFlags {
  once?: boolean;
  json?: boolean;
}

export async function runDash(cwd: string, opts: DashFlags): Promise<void> {
  if (opts.json || opts.once) {
    const { collectOnce } = await import("../dash/collector.ts");
    const s = await collectOnce(cwd);
    if (opts.json) {
      console.log(JSON.stringify(s, null, 2));
      return;
    }
    const { printOnce } = await import("./once.tsx");
    printOnce(s);
    return;
  }
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
    throw new VibeError(
      "USAGE",
      `Cannot start the dashboard: it needs a terminal (for scripts use "vibe dash --once --json")`,
    );
  }
  const { runLive } = await import("./live.tsx");
  await runLive(cwd);
}
