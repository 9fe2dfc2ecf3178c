/**
 * CLI output and the one mapping from core errors to exit codes and messages.
 */
import { type ErrorCode, VibeError } from "../errors.ts";

/** Exit codes (documented in README). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  LOCKED: 5,
  NOT_INITIALIZED: 6,
  CORRUPT: 7,
} as const;

const CODE_TO_EXIT: Partial<Record<ErrorCode, number>> = {
  USAGE: EXIT.USAGE,
  EINVAL: EXIT.USAGE,
  ENAMETOOLONG: EXIT.USAGE,
  ENOENT: EXIT.NOT_FOUND,
  EEXIST: EXIT.USAGE,
  CONFLICT: EXIT.CONFLICT,
  LOCKED: EXIT.LOCKED,
  EBUSY: EXIT.LOCKED,
  NOT_INITIALIZED: EXIT.NOT_INITIALIZED,
  CORRUPT: EXIT.CORRUPT,
};

let pendingExit: number = EXIT.OK;

/** An action that succeeded but must exit non-zero (e.g. `vibe exec` passing on its command's code). */
export function setExitCode(code: number): void {
  pendingExit = code;
}

/** The exit code set by the last action (and resets it). */
export function takeExitCode(): number {
  const c = pendingExit;
  pendingExit = EXIT.OK;
  return c;
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof VibeError) return CODE_TO_EXIT[e.code] ?? EXIT.FAILURE;
  return EXIT.FAILURE;
}

/** Prints an error for people (stderr) or as JSON (stdout) and returns the exit code. */
export function reportError(e: unknown, json: boolean): number {
  const code = exitCodeFor(e);
  if (e instanceof VibeError) {
    if (json) {
      console.log(JSON.stringify({ error: { code: e.code, message: e.message, ...e.details } }));
    } else {
      console.error(`vibe: ${e.message}`);
    }
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    if (json) console.log(JSON.stringify({ error: { code: "INTERNAL", message: msg } }));
    else {
      console.error(`vibe: internal error: ${msg}`);
      if (Deno.env.get("VIBE_DEBUG") && e instanceof Error) console.error(e.stack);
      else console.error(`(set VIBE_DEBUG=1 for a stack trace, and please report it)`);
    }
  }
  return code;
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export function shortOid(oid: string | null | undefined): string {
  return oid ? oid.slice(0, 12) : "-";
}

export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  return `${Math.floor(h / 24)}d`;
}

/** Left-aligned text table. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")
  )
    .join("\n");
}
