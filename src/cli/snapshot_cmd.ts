/**
 * `vibe snapshot`, `vibe snapshots`, `vibe snapshot-rm`, `vibe restore` and
 * `vibe fork`: they run through the daemon when one serves the project (it
 * owns mounted vibes and invalidates kernel caches after a restore), in
 * this process otherwise.
 */
import { formatAge, printJson, table } from "./output.ts";
import { runOp } from "../service/client.ts";
import type {
  ForkResult,
  RestoreResult,
  SnapshotInfo,
  SnapshotResult,
} from "../project/snapshot.ts";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Bytes for people: "0 B", "12.3 KiB", "4.0 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function howStored(r: { method: string; files: number; bytesCopied: number }): string {
  if (r.files === 0) return "(no file bytes to keep)";
  return r.method === "reflink"
    ? "shared with the vibe, no data copied (hard links; a file is reflinked before it is next written)"
    : `copied ${formatBytes(r.bytesCopied)} (this filesystem cannot reflink)`;
}

export async function runSnapshot(
  cwd: string,
  id: string,
  name: string | undefined,
  opts: { json?: boolean },
): Promise<void> {
  const r = await runOp(cwd, "snapshot", {
    id,
    ...(name !== undefined ? { name } : {}),
  }) as SnapshotResult;
  if (opts.json) {
    printJson({
      name: r.name,
      method: r.method,
      files: r.files,
      bytesCopied: r.bytesCopied,
      ms: r.ms,
      bytes: r.bytes,
      changedPaths: r.changedPaths,
      createdMs: r.createdMs,
    });
    return;
  }
  console.log(
    `Snapshot "${r.name}" of "${id}": ${plural(r.changedPaths, "changed path")}, ` +
      `${plural(r.files, "file")} (${formatBytes(r.bytes)}) ${howStored(r)}, ` +
      `in ${Math.round(r.ms)} ms.`,
  );
}

export async function runSnapshots(
  cwd: string,
  id: string,
  opts: { json?: boolean },
): Promise<void> {
  const rows = await runOp(cwd, "snapshots", { id }) as SnapshotInfo[];
  if (opts.json) {
    printJson(rows);
    return;
  }
  if (rows.length === 0) {
    console.log(`No snapshots of "${id}". Take one with "vibe snapshot ${id}".`);
    return;
  }
  const now = Date.now();
  console.log(table([
    ["NAME", "AGE", "CHANGED", "FILES", "BYTES", "STORED"],
    ...rows.map((r) => [
      r.name,
      formatAge(now - r.createdMs),
      plural(r.changedPaths, "path"),
      String(r.files),
      formatBytes(r.bytes),
      r.method === "reflink"
        ? "shared (copy-on-write)"
        : `own copy (${formatBytes(r.bytesCopied)})`,
    ]),
  ]));
}

export async function runSnapshotRm(
  cwd: string,
  id: string,
  name: string,
  opts: { json?: boolean },
): Promise<void> {
  await runOp(cwd, "snapshot-rm", { id, name });
  if (opts.json) printJson({ id, name, removed: true });
  else console.log(`Removed snapshot "${name}" of "${id}".`);
}

export async function runRestore(
  cwd: string,
  id: string,
  name: string,
  opts: { json?: boolean },
): Promise<void> {
  const r = await runOp(cwd, "restore", { id, name }) as RestoreResult;
  if (opts.json) {
    printJson({
      id,
      name: r.name,
      method: r.method,
      files: r.files,
      bytesCopied: r.bytesCopied,
      renumbered: r.renumbered,
      unchanged: r.unchanged,
      changedInodes: r.inos.length,
      changedEntries: r.entries.length,
      ms: r.ms,
    });
    return;
  }
  console.log(
    `Restored "${id}" to snapshot "${name}": ${plural(r.files, "file")} ${howStored(r)}` +
      (r.unchanged > 0 ? ` (${r.unchanged} unchanged since the snapshot)` : "") +
      `, ${plural(r.inos.length, "inode")} changed, in ${Math.round(r.ms)} ms.`,
  );
}

export async function runFork(
  cwd: string,
  src: string,
  dst: string,
  opts: { json?: boolean },
): Promise<void> {
  const r = await runOp(cwd, "fork", { src, dst }) as ForkResult;
  if (opts.json) {
    printJson({
      id: r.vibe.id,
      from: r.from,
      base: r.vibe.baseCommit,
      method: r.method,
      files: r.files,
      bytesCopied: r.bytesCopied,
      ms: r.ms,
    });
    return;
  }
  console.log(
    `Forked "${src}" as "${dst}" on ${r.vibe.baseCommit.slice(0, 12)}: ` +
      `${plural(r.files, "file")} ${howStored(r)}, in ${Math.round(r.ms)} ms. ` +
      `It is not mounted (run "vibe mount ${dst}").`,
  );
}
