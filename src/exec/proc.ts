/**
 * Process-tree helpers for `vibe exec`: a timeout must stop the command and
 * everything it started (a shell's children, a dev server's workers), not
 * only the direct child.
 */

/** Children of every process, from /proc (Linux) or `ps` (elsewhere). */
function childMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  const add = (pid: number, ppid: number) => {
    const l = map.get(ppid);
    if (l) l.push(pid);
    else map.set(ppid, [pid]);
  };
  if (Deno.build.os === "linux") {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
        // pid (comm) state ppid …; comm may hold spaces and parentheses.
        const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        add(Number(e.name), Number(rest[1]));
      } catch { /* exited meanwhile */ }
    }
    return map;
  }
  try {
    const out = new Deno.Command("ps", { args: ["-A", "-o", "pid=,ppid="], stderr: "null" })
      .outputSync();
    for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined) add(pid, ppid);
    }
  } catch { /* no ps: only the direct child is signalled */ }
  return map;
}

/** `pid` and all its descendants, parents first. */
export function processTree(pid: number): number[] {
  const kids = childMap();
  const out: number[] = [];
  const stack = [pid];
  for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
    const p = stack.pop()!;
    out.push(p);
    for (const c of kids.get(p) ?? []) stack.push(c);
  }
  return out;
}

/** Signals `pid` and its descendants (those that already exited are skipped). */
export function killTree(pid: number, signal: Deno.Signal): void {
  for (const p of processTree(pid)) {
    try {
      Deno.kill(p, signal);
    } catch { /* gone */ }
  }
}
