/**
 * How the CLI reaches a project's daemon: find it, start it when asked, and
 * run operations either through it or in-process when none runs.
 */
import { VibeError } from "../errors.ts";
import { Project } from "../project/project.ts";
import { ControlClient, readDaemonInfo, socketPathFor } from "./control.ts";
import { OPS, type Params } from "./ops.ts";
import { findRepo } from "../git/repo_paths.ts";
import { VIBE_DIR } from "../project/project.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the last daemon of this project recorded about itself (it may be gone). */
export function readDaemonInfoFor(vibeDir: string) {
  return readDaemonInfo(vibeDir);
}

/** The `.vibe` dir of the project containing `cwd`. */
export async function vibeDirOf(cwd: string): Promise<string> {
  return `${(await findRepo(cwd)).workTree}/${VIBE_DIR}`;
}

/** A connection to the running daemon, or null when none answers. */
export async function connectDaemon(vibeDir: string): Promise<ControlClient | null> {
  const info = readDaemonInfo(vibeDir);
  const socket = info?.socket ?? socketPathFor(vibeDir);
  try {
    const c = await ControlClient.connect(socket);
    await c.call("ping");
    return c;
  } catch {
    return null;
  }
}

/** Arguments that start this same program as `vibe daemon run`. */
function selfArgs(): { cmd: string; args: string[] } {
  const exe = Deno.execPath();
  const base = exe.split("/").pop() ?? "";
  if (base === "deno" || base.startsWith("deno")) {
    const main = new URL("../../main.ts", import.meta.url);
    return { cmd: exe, args: ["run", "-A", main.pathname, "daemon", "run"] };
  }
  return { cmd: exe, args: ["daemon", "run"] };
}

/**
 * Starts the project's daemon in the background unless one runs, and waits
 * until it answers (bounded). Returns a connection to it.
 */
export async function ensureDaemon(cwd: string, timeoutMs = 15_000): Promise<ControlClient> {
  const vibeDir = await vibeDirOf(cwd);
  const running = await connectDaemon(vibeDir);
  if (running) return running;
  Deno.mkdirSync(`${vibeDir}/logs`, { recursive: true });
  const { cmd, args } = selfArgs();
  const child = new Deno.Command(cmd, {
    args,
    cwd: vibeDir.slice(0, -VIBE_DIR.length - 1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  const deadline = Date.now() + timeoutMs;
  let exited: Deno.CommandStatus | null = null;
  child.status.then((s) => (exited = s)).catch(() => {});
  while (Date.now() < deadline) {
    const c = await connectDaemon(vibeDir);
    if (c) return c;
    if (exited) break;
    await sleep(25);
  }
  throw new VibeError(
    "EIO",
    `Cannot start the vibe daemon: it did not answer within ${timeoutMs / 1000} s ` +
      `(see "${vibeDir}/logs/daemon.log" or run "vibe daemon run" to see why)`,
  );
}

/**
 * Runs an operation: through the daemon when one serves this project (it owns
 * mounted vibes), otherwise in this process.
 */
export async function runOp(cwd: string, name: string, params: Params): Promise<unknown> {
  const vibeDir = await vibeDirOf(cwd);
  const client = await connectDaemon(vibeDir);
  if (client) {
    try {
      return await client.call(name, params);
    } finally {
      await client.close();
    }
  }
  const op = OPS[name];
  if (!op) throw new VibeError("USAGE", `Unknown operation "${name}"`);
  const project = await Project.open(cwd);
  try {
    return await op(project, params, null);
  } finally {
    project.close();
  }
}

/**
 * Mounts a vibe through the project's daemon (started when none runs);
 * resolves once the mount answers. Idempotent: an already mounted vibe
 * returns where it is.
 */
export async function mountVibe(
  cwd: string,
  id: string,
  opts: { path?: string; transport?: string } = {},
): Promise<{ path: string; transport: string }> {
  const client = await ensureDaemon(cwd);
  try {
    return await client.call("mount", {
      id,
      ...(opts.path ? { path: opts.path } : {}),
      ...(opts.transport ? { transport: opts.transport } : {}),
    }) as { path: string; transport: string };
  } finally {
    await client.close();
  }
}
