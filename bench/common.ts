/** What the benchmarks share: the CLI entry, a git identity, running commands, medians. */

/** `main.ts`, for running the real CLI as `deno run -A MAIN …`. */
export const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A git identity for the commits benchmarks make. */
export const BENCH_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@vibe.invalid",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@vibe.invalid",
};

/** Runs `cmd` in `cwd` with BENCH_ENV; throws with its stderr on failure; returns stdout. */
export async function run(cwd: string, cmd: string, ...args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    env: BENCH_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!o.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  }
  return new TextDecoder().decode(o.stdout);
}

/** The middle value (the upper one of the two middles for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
