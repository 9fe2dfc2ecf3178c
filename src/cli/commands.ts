/**
 * Actions of the CLI commands: they run operations (through the daemon when
 * one serves the project, in-process otherwise) and print the results.
 */
import { formatAge, printJson, shortOid, table } from "./output.ts";
import { VibeError } from "../errors.ts";
import { ensureDaemon, mountVibe, runOp } from "../service/client.ts";
import type { VibeRecord } from "../meta/meta_store.ts";
import type { VibeStatus } from "../project/lifecycle.ts";
import type { DiffResult } from "../project/diff.ts";
import type { PromoteResult } from "../project/promote.ts";
import type { CommitResult } from "../project/commit.ts";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const branchName = (ref: string | null) => (ref ? ref.replace("refs/heads/", "") : "");

export async function runInit(cwd: string, opts: { json?: boolean }): Promise<void> {
  const { initProject } = await import("../project/init.ts");
  const tty = !opts.json && Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const progress = tty
    ? (trees: number, files: number) =>
      Deno.stderr.writeSync(enc.encode(`\rIndexing HEAD: ${trees} trees, ${files} files`))
    : undefined;
  const r = await initProject(cwd, progress);
  if (tty) Deno.stderr.writeSync(enc.encode("\r\x1b[K"));
  if (opts.json) {
    printJson(r);
    return;
  }
  if (!r.index) {
    console.log(
      `Initialized vibe in ${r.vibeDir}. HEAD has no commits yet: commit something, then spawn vibes.`,
    );
    return;
  }
  console.log(
    `Initialized vibe in ${r.vibeDir}: indexed ${r.index.files} files ` +
      `of ${shortOid(r.index.commit)}${r.branch ? ` (${branchName(r.branch)})` : ""} ` +
      `in ${Math.round(r.ms)} ms (${r.index.newTrees} trees decoded).`,
  );
}

export interface SpawnFlags {
  from?: string;
  mount?: string | boolean;
  transport?: string;
  json?: boolean;
}

function checkTransport(transport: string | undefined): void {
  const t = transport ?? "auto";
  if (t !== "fuse" && t !== "nfs" && t !== "auto") {
    throw new VibeError("USAGE", `Unknown transport "${t}" (use fuse, nfs or auto)`);
  }
}

export async function runSpawn(cwd: string, id: string, opts: SpawnFlags): Promise<void> {
  const noMount = opts.mount === false;
  if (!noMount) checkTransport(opts.transport);
  const v = await runOp(cwd, "spawn", {
    id,
    ...(opts.from !== undefined ? { from: opts.from } : {}),
  }) as VibeRecord;
  let mounted: { path: string; transport: string } | null = null;
  if (!noMount) {
    try {
      mounted = await mountVibe(cwd, id, {
        ...(typeof opts.mount === "string" ? { path: opts.mount } : {}),
        ...(opts.transport !== undefined ? { transport: opts.transport } : {}),
      });
    } catch (e) {
      // A vibe that cannot be mounted is not left half-made: undo the registration.
      await runOp(cwd, "destroy", { id }).catch(() => {});
      throw e;
    }
  }
  if (opts.json) {
    printJson({ ...v, mounted: mounted !== null, mountPath: mounted?.path ?? null });
    return;
  }
  const base = `${shortOid(v.baseCommit)}${v.baseRef ? ` (${branchName(v.baseRef)})` : ""}`;
  console.log(
    mounted
      ? `Spawned vibe "${v.id}" on ${base}, mounted at ${mounted.path}`
      : `Spawned vibe "${v.id}" on ${base}, not mounted.`,
  );
}

export async function runMount(
  cwd: string,
  id: string,
  opts: { mount?: string; transport?: string; json?: boolean },
): Promise<void> {
  checkTransport(opts.transport);
  const m = await mountVibe(cwd, id, {
    ...(opts.mount !== undefined ? { path: opts.mount } : {}),
    ...(opts.transport !== undefined ? { transport: opts.transport } : {}),
  });
  if (opts.json) printJson({ id, ...m });
  else console.log(`Mounted vibe "${id}" at ${m.path}`);
}

export async function runUnmount(cwd: string, id: string, opts: { json?: boolean }): Promise<void> {
  const { connectDaemon, vibeDirOf } = await import("../service/client.ts");
  const client = await connectDaemon(await vibeDirOf(cwd));
  if (!client) {
    throw new VibeError(
      "USAGE",
      `Cannot unmount "${id}": no vibe daemon runs, so nothing is mounted`,
    );
  }
  try {
    await client.call("unmount", { id });
  } finally {
    await client.close();
  }
  if (opts.json) printJson({ id, mounted: false });
  else console.log(`Unmounted vibe "${id}".`);
}

interface LsRow {
  id: string;
  state: string;
  base: string;
  branch: string | null;
  ageMs: number;
  drift: number;
  deltaBytes: number;
  promoted: string | null;
  mountPath: string | null;
  transport: string | null;
}

export async function runLs(cwd: string, opts: { json?: boolean }): Promise<void> {
  const rows = await runOp(cwd, "ls", {}) as LsRow[];
  if (opts.json) {
    printJson(rows);
    return;
  }
  if (rows.length === 0) {
    console.log(`No vibes. Make one with "vibe spawn <id>".`);
    return;
  }
  console.log(table([
    ["ID", "STATE", "BASE", "AGE", "DRIFT", "MOUNT", "PROMOTED"],
    ...rows.map((r) => [
      r.id,
      r.state,
      `${shortOid(r.base)}${r.branch ? ` ${branchName(r.branch)}` : ""}`,
      formatAge(r.ageMs),
      plural(r.drift, "path"),
      r.mountPath ?? "-",
      shortOid(r.promoted),
    ]),
  ]));
}

export async function runStatus(
  cwd: string,
  id: string | undefined,
  opts: { json?: boolean },
): Promise<void> {
  const all = await runOp(cwd, "status", id !== undefined ? { id } : {}) as VibeStatus[];
  if (opts.json) {
    printJson(id !== undefined ? all[0] : all);
    return;
  }
  if (all.length === 0) console.log(`No vibes.`);
  for (const s of all) {
    console.log(
      `vibe ${s.id} (${s.state}) on ${shortOid(s.baseCommit)}${
        s.baseRef ? ` ${branchName(s.baseRef)}` : ""
      }, ${formatAge(s.ageMs)} old, ${plural(s.changes.length, "changed path")}${
        s.promotedCommit ? `, promoted ${shortOid(s.promotedCommit)}` : ""
      }${s.promotedCommit && s.unpromoted ? " (changed since)" : ""}`,
    );
    const q = s.quota;
    if (q.limit.bytes !== null || q.limit.files !== null) {
      const lim = (n: number | null) => (n === null ? "unlimited" : String(n));
      console.log(
        `  quota: ${q.usage.bytes} of ${lim(q.limit.bytes)} bytes, ` +
          `${q.usage.files} of ${lim(q.limit.files)} changed files`,
      );
    }
    for (const c of s.changes) console.log(`  ${c.status} ${c.path}`);
    for (const l of s.layers ?? []) {
      const from = l.mode === "private" ? "empty per vibe" : `from ${l.source}`;
      console.log(
        `  layer ${l.path} (${l.mode}, ${from}${l.report ? ", reported" : ""}): ${l.state}`,
      );
    }
  }
}

export async function runDiff(
  cwd: string,
  id: string,
  opts: { stat?: boolean; nameStatus?: boolean; json?: boolean },
): Promise<void> {
  const format = opts.json
    ? "name-status"
    : opts.stat
    ? "stat"
    : opts.nameStatus
    ? "name-status"
    : "patch";
  const r = await runOp(cwd, "diff", { id, format }) as DiffResult;
  if (opts.json) {
    printJson({ id, base: r.base, tree: r.tree, changes: r.changes });
    return;
  }
  const data = new TextEncoder().encode(r.output);
  let off = 0;
  while (off < data.length) off += await Deno.stdout.write(data.subarray(off));
}

export async function runPromote(
  cwd: string,
  id: string,
  opts: { message?: string; json?: boolean },
): Promise<void> {
  const r = await runOp(cwd, "promote", {
    id,
    ...(opts.message !== undefined ? { message: opts.message } : {}),
  }) as PromoteResult;
  if (opts.json) {
    printJson(r);
    return;
  }
  console.log(
    `Promoted "${id}" to ${r.ref} = ${shortOid(r.commit)} (${
      plural(r.changes.length, "changed path")
    } on ${shortOid(r.baseCommit)}).`,
  );
  if (r.skipped.length > 0) {
    console.log(`Left out (git cannot store them): ${r.skipped.join(", ")}`);
  }
}

export async function runCommit(
  cwd: string,
  id: string,
  opts: { branch?: string; sync?: boolean; keep?: boolean; json?: boolean },
): Promise<void> {
  const r = await runOp(cwd, "commit", {
    id,
    ...(opts.branch !== undefined ? { branch: opts.branch } : {}),
    sync: opts.sync === true,
    keep: opts.keep === true,
  }) as CommitResult;
  if (opts.json) {
    printJson(r);
    return;
  }
  const b = branchName(r.branch);
  const how = r.kind === "fast-forward"
    ? "fast-forward"
    : r.kind === "merged"
    ? "merged onto the moved branch"
    : "already contained";
  console.log(
    `Committed "${id}" to ${b}: ${shortOid(r.oldTip)} -> ${shortOid(r.newTip)} (${how}).`,
  );
  if (r.sync) {
    console.log(`Synced the worktree: ${plural(r.sync.updated.length, "path")} updated.`);
    if (r.sync.skipped.length > 0) {
      console.log(`Left alone (uncommitted changes in the worktree): ${r.sync.skipped.join(", ")}`);
    }
  }
  if (r.worktreeBehind) {
    console.log(
      `Note: the root worktree is on ${b}, which moved; run "git read-tree -m -u ${
        shortOid(r.oldTip)
      } ${shortOid(r.newTip)}" to update it, or use --sync next time.`,
    );
  }
  console.log(r.torndown ? `Vibe "${id}" was torn down.` : `Vibe "${id}" is kept.`);
}

export async function runDestroy(
  cwd: string,
  id: string,
  opts: { purge?: boolean; json?: boolean },
): Promise<void> {
  const r = await runOp(cwd, "destroy", { id, purge: opts.purge === true }) as {
    id: string;
    purged: boolean;
  };
  if (opts.json) {
    printJson(r);
    return;
  }
  console.log(
    `Destroyed vibe "${id}"${
      r.purged ? ` and deleted refs/vibes/${id}` : ` (refs/vibes/${id} kept)`
    }.`,
  );
}

export async function runServe(
  cwd: string,
  id: string,
  opts: { nfs?: boolean; port?: string; hostname?: string; stop?: boolean; json?: boolean },
): Promise<void> {
  if (!opts.nfs) {
    throw new VibeError("USAGE", `Cannot serve "${id}": name a protocol (vibe serve ${id} --nfs)`);
  }
  const port = opts.port === undefined ? 0 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new VibeError("USAGE", `Invalid port "${opts.port}": use 0-65535 (0 picks a free one)`);
  }
  const hostname = opts.hostname ?? "127.0.0.1";
  if (hostname !== "127.0.0.1" && hostname !== "::1" && hostname !== "localhost" && !opts.json) {
    console.error(
      `warning: serving "${id}" on ${hostname}, not loopback: anyone who learns the export path ` +
        `can read and write the vibe`,
    );
  }
  const client = await ensureDaemon(cwd);
  try {
    if (opts.stop) {
      await client.call("unserve-nfs", { id });
      if (opts.json) printJson({ id, serving: false });
      else console.log(`Stopped serving "${id}" over NFS.`);
      return;
    }
    const r = await client.call("serve-nfs", { id, port, hostname }) as {
      hostname: string;
      port: number;
      exportPath: string;
      linuxMount: string;
      macosMount: string;
    };
    if (opts.json) {
      printJson({ id, ...r });
      return;
    }
    console.log(`Serving vibe "${id}" over NFSv3 on ${r.hostname}:${r.port} (NFS and MOUNT)`);
    console.log(`export path (keep it secret): ${r.exportPath}`);
    console.log(`Linux: ${r.linuxMount}`);
    console.log(`macOS: ${r.macosMount}`);
  } finally {
    await client.close();
  }
}
