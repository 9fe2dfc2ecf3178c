/**
 * CLI actions of the agent boundary: exec, approve, undo, audit, policy,
 * quota. The work is in src/exec/; this file parses and prints.
 */
import { VibeError } from "../errors.ts";
import { Project } from "../project/project.ts";
import { loadConfig, parseSize } from "../project/config.ts";
import type { Change } from "../exec/changes.ts";
import type { Envelope, ExecOutcome, ExecRequest } from "../exec/run.ts";
import { formatAge, printJson, table } from "./output.ts";
import { runOp } from "../service/client.ts";
import { formatBytes } from "./snapshot_cmd.ts";
import { setExitCode } from "./output.ts";

export interface ExecFlags {
  ephemeral?: boolean;
  create?: boolean;
  keep?: boolean;
  json?: boolean;
  timeout?: string;
  cwd?: string;
  shell?: string;
  maxOutput?: string;
}

function positiveNumber(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    throw new VibeError("USAGE", `${flag} must be a positive number, not "${v}"`);
  }
  return n;
}

function summarize(changes: Change[]): string {
  if (changes.length === 0) return "no changes";
  const count = (k: string) => changes.filter((c) => c.kind === k).length;
  const parts = [
    ["added", "+"],
    ["modified", "~"],
    ["deleted", "-"],
    ["renamed", "→"],
  ].filter(([k]) => count(k!) > 0).map(([k, s]) => `${s}${count(k!)}`);
  return `${changes.length} change${changes.length === 1 ? "" : "s"} (${parts.join(" ")})`;
}

function report(o: ExecOutcome, json: boolean): void {
  const e: Envelope = o.envelope;
  setExitCode(o.exitCode);
  if (json) {
    console.log(JSON.stringify(e, null, 2));
    return;
  }
  const d = e.decision;
  if (d.action === "deny") {
    console.error(`vibe: denied in "${e.vibe}": ${d.reason} [${d.categories.join(", ")}]`);
    return;
  }
  if (d.action === "require_approval") {
    console.error(
      `vibe: needs approval in "${e.vibe}": ${d.reason} [${d.categories.join(", ")}]\n` +
        `vibe: to run it: vibe approve ${d.token}`,
    );
    return;
  }
  const how = e.timed_out
    ? "timed out"
    : e.signal
    ? `was killed by ${e.signal}`
    : `exited ${e.exit_code}`;
  const cp = e.checkpoint ? ` · checkpoint ${e.checkpoint} ("vibe undo ${e.vibe}" goes back)` : "";
  const kept = e.kept === false ? " · ephemeral vibe removed" : e.kept ? " · vibe kept" : "";
  console.error(`vibe: ${e.vibe}: ${how} · ${summarize(e.changed)}${cp}${kept}`);
  for (const c of e.changed.slice(0, 50)) {
    const from = c.from ? ` (from ${c.from})` : "";
    const x = c.execChanged ? " [exec bit]" : "";
    console.error(`  ${c.kind.padEnd(8)} ${c.path}${from}${x}`);
  }
  if (e.changed.length > 50) console.error(`  … and ${e.changed.length - 50} more`);
}

export async function runExec(
  cwd: string,
  id: string | undefined,
  argv: string[],
  opts: ExecFlags,
): Promise<void> {
  const { execCommand } = await import("../exec/run.ts");
  const req: ExecRequest = {
    ...(id !== undefined ? { id } : {}),
    ...(opts.ephemeral ? { ephemeral: true } : {}),
    ...(opts.create ? { create: true } : {}),
    ...(opts.keep ? { keep: true } : {}),
    ...(argv.length ? { argv } : {}),
    ...(opts.shell !== undefined ? { shell: opts.shell } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    capture: opts.json === true,
  };
  const t = positiveNumber(opts.timeout, "--timeout");
  if (t !== undefined) req.timeoutSec = t;
  const m = opts.maxOutput !== undefined ? parseSize(opts.maxOutput) : undefined;
  if (m === null) {
    throw new VibeError("USAGE", `--max-output must be a size, not "${opts.maxOutput}"`);
  }
  if (m !== undefined) req.maxOutput = m;
  const project = await Project.open(cwd);
  try {
    report(await execCommand(project, cwd, req), opts.json === true);
  } finally {
    project.close();
  }
}

export async function runApprove(cwd: string, token: string, opts: { json?: boolean }) {
  const { approveAndRun } = await import("../exec/run.ts");
  const project = await Project.open(cwd);
  try {
    report(await approveAndRun(project, cwd, token, { capture: opts.json === true }), !!opts.json);
  } finally {
    project.close();
  }
}

export async function runUndo(cwd: string, id: string, opts: { json?: boolean }) {
  const { undoLast } = await import("../exec/run.ts");
  const project = await Project.open(cwd);
  try {
    const r = await undoLast(project, cwd, id);
    if (opts.json) printJson(r);
    else {
      console.log(
        `Restored "${id}" to ${r.checkpoint} (${r.remaining} earlier checkpoint${
          r.remaining === 1 ? "" : "s"
        } left).`,
      );
    }
  } finally {
    project.close();
  }
}

/** "30m", "2h", "7d", or an ISO date → epoch ms. */
export function parseSince(v: string, nowMs = Date.now()): number {
  const m = v.match(/^(\d+)\s*(s|m|h|d)$/);
  if (m) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
    return nowMs - Number(m[1]) * unit;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) {
    throw new VibeError(
      "USAGE",
      `--since "${v}" is neither a duration (30m, 2h, 7d) nor a date (2026-11-22T10:00)`,
    );
  }
  return t;
}

export async function runAudit(
  cwd: string,
  opts: { vibe?: string; since?: string; limit?: string; json?: boolean },
) {
  const project = await Project.open(cwd);
  try {
    const limit = positiveNumber(opts.limit, "--limit");
    const rows = project.meta.readAudit({
      ...(opts.vibe !== undefined ? { vibe: opts.vibe } : {}),
      ...(opts.since !== undefined ? { sinceMs: parseSince(opts.since) } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    if (opts.json) {
      printJson(rows);
      return;
    }
    if (rows.length === 0) {
      console.log("No audit entries.");
      return;
    }
    const cmd = (c: { argv?: string[]; shell?: string }) =>
      c.shell ?? (c.argv ?? []).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)))
        .join(" ");
    console.log(table([
      ["SEQ", "AGE", "VIBE", "EVENT", "ACTION", "EXIT", "CHANGED", "COMMAND"],
      ...rows.map((r) => [
        String(r.seq),
        formatAge(Date.now() - r.timeMs),
        r.vibe ?? "-",
        r.event,
        r.action,
        r.exitCode === null ? (r.signal ?? "-") : String(r.exitCode),
        r.changed === null ? "-" : String(r.changed),
        r.event === "undo" ? r.reason : cmd(r.command).slice(0, 60),
      ]),
    ]));
  } finally {
    project.close();
  }
}

async function loadPolicy(cwd: string) {
  const { validatePolicyConfig } = await import("../exec/policy.ts");
  const { vibeDirOf } = await import("../service/client.ts");
  return validatePolicyConfig(loadConfig(await vibeDirOf(cwd)).policy, "policy");
}

export async function runPolicyShow(cwd: string, opts: { json?: boolean }) {
  const { describePolicy, policyToJson } = await import("../exec/policy.ts");
  const policy = await loadPolicy(cwd);
  if (opts.json) printJson(policyToJson(policy));
  else console.log(describePolicy(policy));
}

export async function runPolicyTest(
  cwd: string,
  argv: string[],
  opts: { shell?: string; cwd?: string; json?: boolean },
) {
  const { decide, explainDecision } = await import("../exec/policy.ts");
  const { normalizeCwd } = await import("../exec/run.ts");
  const policy = await loadPolicy(cwd);
  if (opts.shell === undefined && argv.length === 0) {
    throw new VibeError("USAGE", `Nothing to test: vibe policy test -- <argv…> or --shell "<cmd>"`);
  }
  const root = "/tmp/vibe/policy-test";
  const rel = normalizeCwd(opts.cwd);
  const d = decide(
    opts.shell !== undefined ? { shell: opts.shell } : { argv },
    { root, cwd: rel ? `${root}/${rel}` : root },
    policy,
  );
  if (opts.json) printJson(d);
  else console.log(explainDecision(d));
}

export async function runQuota(
  cwd: string,
  id: string,
  opts: { bytes?: string; files?: string; json?: boolean },
) {
  const params: Record<string, unknown> = { id };
  const parse = (v: string, what: "bytes" | "files") => {
    if (v === "default") return "default";
    if (v === "none" || v === "unlimited") return null;
    const n = what === "bytes" ? parseSize(v) : /^\d+$/.test(v) ? Number(v) : null;
    if (n === null) {
      throw new VibeError(
        "USAGE",
        `--${what} "${v}" is not ${
          what === "bytes" ? 'a size (e.g. "500MiB", "2G")' : "a count"
        }; use "none" for unlimited or "default" for the project's`,
      );
    }
    return n;
  };
  if (opts.bytes !== undefined) params["bytes"] = parse(opts.bytes, "bytes");
  if (opts.files !== undefined) params["files"] = parse(opts.files, "files");
  const r = await runOp(cwd, "quota", params) as {
    quota: { bytes: number | null; files: number | null };
    usage: { bytes: number; files: number };
  };
  if (opts.json) {
    printJson(r);
    return;
  }
  const lim = (n: number | null, f: (n: number) => string) => (n === null ? "unlimited" : f(n));
  console.log(
    `Vibe "${id}": ${formatBytes(r.usage.bytes)} of ${lim(r.quota.bytes, formatBytes)}, ` +
      `${r.usage.files} of ${lim(r.quota.files, String)} changed files.`,
  );
}
