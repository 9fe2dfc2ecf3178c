/**
 * What the dashboard can do to a vibe, each after the user confirmed it:
 * promote and commit run the same operations as `vibe promote` / `vibe
 * commit` (through the daemon when it runs); drop deletes refs/vibes/<id>
 * with git's ref-lock protocol, compare-and-swap on the value the user saw
 * (`dropPromotion`).
 * Each returns one line for the status bar; failures throw VibeError.
 */
import { runOp } from "../service/client.ts";
import type { CommitResult } from "../project/commit.ts";
import type { PromoteResult } from "../project/promote.ts";

const short = (oid: string) => oid.slice(0, 12);

export async function promoteAction(cwd: string, id: string): Promise<string> {
  const r = await runOp(cwd, "promote", { id }) as PromoteResult;
  return `Promoted "${id}" to ${r.ref} = ${short(r.commit)} (${r.changes.length} changed paths).`;
}

export async function commitAction(cwd: string, id: string): Promise<string> {
  const r = await runOp(cwd, "commit", { id, sync: false, keep: false }) as CommitResult;
  return `Committed "${id}" to ${r.branch.replace("refs/heads/", "")}: ${short(r.oldTip)} -> ${
    short(r.newTip)
  } (${r.kind})${r.torndown ? "; the vibe was torn down" : ""}.`;
}

/**
 * Deletes refs/vibes/<id> if it still holds `expected` (the value the user
 * saw), through the same operation as the other actions.
 */
export async function dropAction(cwd: string, id: string, expected: string): Promise<string> {
  const r = await runOp(cwd, "drop", { id, expected }) as { ref: string };
  return `Dropped ${r.ref} (was ${short(expected)}).`;
}
