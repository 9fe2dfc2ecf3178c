/** Running the real vibe CLI in tests, and cleaning up its daemon and mounts. */
import { GIT_ENV, makeRepo, SAMPLE_FILES } from "./repo.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vibe <args>` in `cwd` as a child process. */
export async function vibe(cwd: string, ...args: string[]): Promise<CliResult> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    env: { ...GIT_ENV, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

/** Like `vibe` but throws with the output when the exit code is not 0. */
export async function vibeOk(cwd: string, ...args: string[]): Promise<string> {
  const r = await vibe(cwd, ...args);
  if (r.code !== 0) {
    throw new Error(`vibe ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** Mount points currently in this process's mount namespace. */
export function mountPoints(): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter(Boolean).map((l) =>
    l.split(" ")[4]!.replace(/\\040/g, " ")
  );
}

/** Why FUSE tests cannot run here, or null when they can. */
export function fuseUnavailable(): string | null {
  if (Deno.build.os !== "linux") return "FUSE tests need Linux";
  try {
    Deno.statSync("/dev/fuse");
  } catch {
    return "FUSE tests need /dev/fuse (modprobe fuse, or --device /dev/fuse in a container)";
  }
  if (Deno.uid() !== 0) return "FUSE tests need root (mount(2) on /dev/fuse)";
  return null;
}

/**
 * Stops the project's daemon and detaches anything still mounted below
 * `mountRoot` (even when the test failed half-way), so no test leaves a
 * mount or a process behind.
 */
export async function cleanupDaemon(repo: string, mountRoot: string): Promise<void> {
  await vibe(repo, "daemon", "stop").catch(() => {});
  try {
    const pid = JSON.parse(Deno.readTextFileSync(`${repo}/.vibe/daemon.json`)).pid as number;
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone already */ }
  for (const m of mountPoints()) {
    if (m.startsWith(mountRoot)) {
      await new Deno.Command("umount", { args: ["-l", m], stderr: "null" }).output().catch(
        () => {},
      );
    }
  }
}

/**
 * A sample repository with `vibe init` done and a temp directory for mount
 * points; afterwards its daemon is stopped, its mounts detached and both
 * directories removed, even when `fn` failed.
 */
export async function withCliProject(
  mntPrefix: string,
  fn: (repo: string, mnt: string) => Promise<void>,
): Promise<void> {
  const repo = await makeRepo(SAMPLE_FILES);
  const mnt = await Deno.makeTempDir({ prefix: mntPrefix });
  try {
    await vibeOk(repo, "init");
    await fn(repo, mnt);
  } finally {
    await cleanupDaemon(repo, mnt);
    await Deno.remove(repo, { recursive: true }).catch(() => {});
    await Deno.remove(mnt, { recursive: true }).catch(() => {});
  }
}
