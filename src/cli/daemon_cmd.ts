/** `vibe daemon run|start|status|stop|logs`. */
import { VibeError } from "../errors.ts";
import { connectDaemon, ensureDaemon, vibeDirOf } from "../service/client.ts";
import { formatAge, printJson } from "./output.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the daemon in the foreground until stopped (the CLI starts it this way in the background). */
export async function runDaemon(cwd: string): Promise<void> {
  const vibeDir = await vibeDirOf(cwd);
  Deno.mkdirSync(`${vibeDir}/logs`, { recursive: true });
  const logFile = Deno.openSync(`${vibeDir}/logs/daemon.log`, { append: true, create: true });
  const enc = new TextEncoder();
  const toStderr = Deno.stderr.isTerminal();
  const log = (msg: string) => {
    const line = `${new Date().toISOString()} ${msg}\n`;
    try {
      logFile.writeSync(enc.encode(line));
    } catch { /* disk full: keep serving */ }
    if (toStderr) console.error(line.trimEnd());
  };
  globalThis.addEventListener("unhandledrejection", (e) => {
    log(`unhandled rejection: ${(e.reason as Error)?.stack ?? e.reason}`);
    e.preventDefault();
  });
  const { Daemon } = await import("../service/daemon.ts");
  const daemon = await Daemon.start(cwd, log);
  // A closed terminal must not take the daemon (and every mount) down.
  try {
    Deno.addSignalListener("SIGHUP", () => log("ignoring SIGHUP"));
  } catch { /* not on this OS */ }
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      log(`${sig}: stopping`);
      daemon.stop();
    });
  }
  await daemon.done;
  log("stopped");
  logFile.close();
  Deno.exit(0);
}

export async function runDaemonStart(cwd: string, opts: { json?: boolean }): Promise<void> {
  const c = await ensureDaemon(cwd);
  try {
    const info = await c.call("info") as { pid: number; socket: string };
    if (opts.json) printJson(info);
    else console.log(`vibe daemon ${info.pid} is running (${info.socket})`);
  } finally {
    await c.close();
  }
}

interface Info {
  pid: number;
  uptimeMs: number;
  socket: string;
  rssBytes: number;
  mounts: { id: string; path: string; transport: string; stats: { requests: number } }[];
}

export async function runDaemonStatus(cwd: string, opts: { json?: boolean }): Promise<void> {
  const c = await connectDaemon(await vibeDirOf(cwd));
  if (!c) {
    if (opts.json) printJson({ running: false });
    else console.log("vibe daemon: not running");
    return;
  }
  try {
    const info = await c.call("info") as Info;
    if (opts.json) {
      printJson({ running: true, ...info });
      return;
    }
    console.log(
      `vibe daemon ${info.pid}: up ${formatAge(info.uptimeMs)}, ${
        (info.rssBytes / 1048576).toFixed(0)
      } MiB RSS, ${info.mounts.length} mounted vibe(s), socket ${info.socket}`,
    );
    for (const m of info.mounts) {
      console.log(`  ${m.id}  ${m.transport}  ${m.path}  (${m.stats.requests} requests)`);
    }
  } finally {
    await c.close();
  }
}

export async function runDaemonStop(cwd: string, opts: { json?: boolean }): Promise<void> {
  const vibeDir = await vibeDirOf(cwd);
  const c = await connectDaemon(vibeDir);
  if (!c) {
    if (opts.json) printJson({ running: false });
    else console.log("vibe daemon: not running");
    return;
  }
  const info = await c.call("info") as Info;
  await c.call("stop");
  await c.close();
  for (let i = 0; i < 300; i++) {
    if (!(await connectDaemon(vibeDir))) {
      if (opts.json) printJson({ stopped: true, pid: info.pid });
      else {console.log(
          `Stopped vibe daemon ${info.pid} (mounted vibes are remounted on next start).`,
        );}
      return;
    }
    await sleep(50);
  }
  throw new VibeError(
    "EBUSY",
    `The vibe daemon ${info.pid} did not stop within 15 s (kill it: kill ${info.pid})`,
  );
}

export async function runDaemonLogs(cwd: string, opts: { lines?: string }): Promise<void> {
  const vibeDir = await vibeDirOf(cwd);
  let text = "";
  try {
    text = await Deno.readTextFile(`${vibeDir}/logs/daemon.log`);
  } catch {
    console.log("(no daemon log yet)");
    return;
  }
  const n = Number(opts.lines ?? 50);
  console.log(text.trimEnd().split("\n").slice(-n).join("\n"));
}
