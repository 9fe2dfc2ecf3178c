/** `vibe doctor` and `vibe gc`. */
import { doctor, gc } from "../service/doctor.ts";
import { printJson } from "./output.ts";

export async function runDoctor(cwd: string, opts: { json?: boolean }): Promise<void> {
  const r = await doctor(cwd);
  if (opts.json) {
    printJson(r);
    return;
  }
  for (const c of r.checks) {
    console.log(
      `${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(13)} ${c.detail}${
        c.ok || !c.fix ? "" : `\n      fix: ${c.fix}`
      }`,
    );
  }
}

export async function runGc(cwd: string, opts: { json?: boolean }): Promise<void> {
  const r = await gc(cwd);
  if (opts.json) {
    printJson(r);
    return;
  }
  console.log(
    [
      `stale mounts detached: ${
        r.staleMountsCleared.length ? r.staleMountsCleared.join(", ") : "none"
      }`,
      `orphan session dirs removed: ${
        r.orphanSessions.length ? r.orphanSessions.join(", ") : "none"
      }`,
      `unreferenced delta files removed: ${r.deltaFilesRemoved}`,
      `half-made snapshot dirs removed: ${r.snapshotDirsRemoved}`,
      `scratch objects removed: ${r.scratchRemoved ? "yes" : "none"}`,
      `dead locks cleared: ${r.locksCleared}`,
      `unused cache entries removed: ${
        r.cacheEntriesRemoved.length ? r.cacheEntriesRemoved.join(", ") : "none"
      }`,
    ].join("\n"),
  );
}
