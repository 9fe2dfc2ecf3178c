/**
 * `vibe dash` figures (never asserted in tests):
 * - render time of the dashboard with 100 vibes, per view, from Ink's own
 *   render metrics, re-rendering with a changed snapshot each time;
 * - one collector refresh with 100 vibes (nothing changed / all changed);
 * - CPU of the real `vibe dash` process in a real terminal (tmux) watching
 *   100 vibes: idle, and while the vibes are written constantly.
 *
 *   deno run -A bench/dash_bench.ts [--quick]
 */
import { EventEmitter } from "node:events";
import { Project } from "../src/project/project.ts";
import { initProject } from "../src/project/init.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";
import { mkdirp, writeFile } from "../src/vfs/path_ops.ts";
import { DashCollector } from "../src/dash/collector.ts";
import type { DashSnapshot } from "../src/dash/types.ts";

export interface DashBenchResult {
  vibes: number;
  renderMs: Record<string, { median: number; p95: number; max: number }>;
  refreshMs: { idle: number; allChanged: number };
  cpu: { idlePct: number; writingPct: number; writesPerSec: number; seconds: number } | {
    skipped: string;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};
const round = (n: number) => Math.round(n * 100) / 100;

async function git(cwd: string, ...args: string[]): Promise<void> {
  const o = await new Deno.Command("git", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!o.success) throw new Error(`git ${args[0]}: ${new TextDecoder().decode(o.stderr)}`);
}

/** A repo with 200 small files and `n` vibes, each with a few changes (some shared). */
async function makeProject(n: number): Promise<{ dir: string; project: Project }> {
  const dir = await Deno.makeTempDir({ prefix: "vibe-dash-bench-" });
  await git(dir, "init", "-q", "-b", "main");
  for (let i = 0; i < 200; i++) {
    await Deno.mkdir(`${dir}/src/m${i % 10}`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/src/m${i % 10}/f${i}.ts`,
      Array.from({ length: 40 }, (_, l) => `export const v${l} = ${l};\n`).join(""),
    );
  }
  await git(dir, "add", "-A");
  await git(dir, "-c", "user.name=B", "-c", "user.email=b@b", "commit", "-q", "-m", "init");
  await initProject(dir);
  const project = await Project.open(dir);
  const me = { uid: 0, gid: 0 };
  for (let i = 0; i < n; i++) {
    const id = `agent-${i}`;
    await spawnVibe(project, id);
    const ws = project.workspace(id);
    for (let k = 0; k < 3; k++) {
      const f = (i * 7 + k * 13) % 200;
      const body = Array.from(
        { length: 40 },
        (_, l) => `export const v${l} = ${l === i % 40 ? i : l};\n`,
      );
      await writeFile(ws, `src/m${f % 10}/f${f}.ts`, body.join(""), me);
    }
    await mkdirp(ws, "notes", me);
    await writeFile(ws, `notes/${id}.md`, `notes of ${id}\n`, me);
  }
  return { dir, project };
}

class FakeStdout extends EventEmitter {
  isTTY = true;
  columns: number;
  rows: number;
  constructor(columns: number, rows: number) {
    super();
    this.columns = columns;
    this.rows = rows;
  }
  write(_s: string, cb?: () => void): boolean {
    if (typeof cb === "function") queueMicrotask(cb);
    return true;
  }
}

async function renderTimes(s0: DashSnapshot, rounds: number) {
  const { render } = await import("ink");
  const React = await import("react");
  const { DashApp } = await import("../src/tui/app.tsx");
  const out: DashBenchResult["renderMs"] = {};
  for (
    const [view, size] of [
      ["fleet", [80, 24]],
      ["fleet", [200, 60]],
      ["diff", [80, 24]],
      ["conflicts", [80, 24]],
      ["conflicts", [200, 60]],
      ["queue", [80, 24]],
    ] as const
  ) {
    const times: number[] = [];
    const stdout = new FakeStdout(size[0], size[1]);
    const stdin = Object.assign(new EventEmitter(), {
      isTTY: true,
      setRawMode() {},
      setEncoding() {},
      ref() {},
      unref() {},
      resume() {},
      pause() {},
      read: () => null,
    });
    const handlers = {
      action: () => Promise.resolve(""),
      fileDiff: () => Promise.resolve([]),
      quit: () => {},
    };
    const el = (s: DashSnapshot) =>
      React.createElement(DashApp, {
        snapshot: s,
        handlers,
        size: { columns: size[0], rows: size[1] },
        initialView: view,
      });
    const inst = render(el(s0), {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      patchConsole: false,
      exitOnCtrlC: false,
      maxFps: 1000,
      onRender: (m) => times.push(m.renderTime),
    });
    for (let r = 0; r < rounds; r++) {
      // A new snapshot object with moved clocks and one vibe's drift changed.
      const s = { ...s0, takenMs: s0.takenMs + r * 250, vibes: s0.vibes.slice() };
      const i = r % s.vibes.length;
      s.vibes[i] = { ...s.vibes[i]!, drift: { ...s.vibes[i]!.drift, paths: r } };
      inst.rerender(el(s));
      await sleep(2);
    }
    inst.unmount();
    const t = times.slice(1);
    out[`${view} ${size[0]}x${size[1]}`] = {
      median: round(quantile(t, 0.5)),
      p95: round(quantile(t, 0.95)),
      max: round(Math.max(...t)),
    };
  }
  return out;
}

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const o = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  return new TextDecoder().decode(o.stdout);
}

async function cpuOfDash(dir: string, project: Project, seconds: number) {
  try {
    new Deno.Command("tmux", { args: ["-V"], stdout: "null" }).outputSync();
  } catch {
    return { skipped: "tmux is not installed" };
  }
  const socket = `vibe-dash-bench-${Deno.pid}`;
  const main = new URL("../main.ts", import.meta.url).pathname;
  await tmux(
    socket,
    "-f",
    "/dev/null",
    "new-session",
    "-d",
    "-s",
    "b",
    "-x",
    "120",
    "-y",
    "40",
    "-c",
    dir,
    "--",
    Deno.execPath(),
    "run",
    "-A",
    main,
    "dash",
  );
  try {
    const pid = Number(
      (await tmux(socket, "display-message", "-p", "-t", "b", "#{pane_pid}")).trim(),
    );
    await sleep(4000); // start-up and the first full collection
    const hz = 100; // USER_HZ on Linux
    const measure = async (during: () => Promise<number>) => {
      const t0 = cpuTicks(pid);
      const w0 = performance.now();
      const writes = await during();
      const secs = (performance.now() - w0) / 1000;
      return { pct: round(((cpuTicks(pid) - t0) / hz) / secs * 100), writes: writes / secs };
    };
    const idle = await measure(async () => {
      await sleep(seconds * 1000);
      return 0;
    });
    // Constant writes: every vibe rewrites one of its files, round robin, ~100 writes/s.
    const me = { uid: 0, gid: 0 };
    const writing = await measure(async () => {
      const end = Date.now() + seconds * 1000;
      let n = 0;
      while (Date.now() < end) {
        const id = `agent-${n % 100}`;
        await writeFile(project.workspace(id), `notes/${id}.md`, `write ${n}\n`, me);
        n++;
        await sleep(10);
      }
      return n;
    });
    return {
      idlePct: idle.pct,
      writingPct: writing.pct,
      writesPerSec: round(writing.writes),
      seconds,
    };
  } finally {
    await tmux(socket, "kill-server");
  }
}

export async function runDashBench(opts: { quick?: boolean } = {}): Promise<DashBenchResult> {
  const n = 100;
  const { dir, project } = await makeProject(n);
  try {
    const c = await DashCollector.open(dir);
    let t = performance.now();
    await c.refresh(true);
    const allChanged = performance.now() - t;
    await c.refresh(true);
    t = performance.now();
    for (let i = 0; i < 10; i++) await c.refresh();
    const idle = (performance.now() - t) / 10;
    const snap = c.snapshot();
    await c.close();
    const renderMs = await renderTimes(snap, opts.quick ? 20 : 60);
    const cpu = await cpuOfDash(dir, project, opts.quick ? 5 : 15);
    return {
      vibes: n,
      renderMs,
      refreshMs: { idle: round(idle), allChanged: round(allChanged) },
      cpu,
    };
  } finally {
    project.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export function formatDashBench(r: DashBenchResult): string {
  const lines = [
    `vibe dash with ${r.vibes} vibes`,
    "",
    "| view | render median | p95 | max |",
    "| --- | --- | --- | --- |",
  ];
  for (const [k, v] of Object.entries(r.renderMs)) {
    lines.push(`| ${k} | ${v.median} ms | ${v.p95} ms | ${v.max} ms |`);
  }
  lines.push("");
  lines.push(
    `collector refresh: ${r.refreshMs.idle} ms when nothing changed, ${r.refreshMs.allChanged} ms for a full collection`,
  );
  if ("skipped" in r.cpu) lines.push(`dash CPU: skipped (${r.cpu.skipped})`);
  else {
    lines.push(
      `dash CPU (one core = 100%): ${r.cpu.idlePct}% idle-watching, ${r.cpu.writingPct}% while ` +
        `${r.cpu.writesPerSec} writes/s land in the vibes (${r.cpu.seconds} s each)`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const r = await runDashBench({ quick: Deno.args.includes("--quick") });
  console.log(formatDashBench(r));
}
