/**
 * `vibe exec`: the agent-facing command boundary. One call picks or makes
 * the vibe, mounts it, decides by policy, checkpoints when the decision asks
 * for it, runs the command inside the mount, and reports exactly what the
 * run changed (from the change journal) in a versioned envelope. Every
 * decision and every run is appended to the audit log.
 *
 * Mutations of the vibe go through the daemon (it owns mounted vibes); this
 * process only reads the metadata (journal, inodes) and writes the audit.
 */
import { VibeError } from "../errors.ts";
import type { Project } from "../project/project.ts";
import { loadConfig } from "../project/config.ts";
import { validateVibeId } from "../project/ids.ts";
import type { SnapshotInfo } from "../project/snapshot.ts";
import { mountVibe, runOp } from "../service/client.ts";
import { type Change, foldJournal } from "./changes.ts";
import { decide, validatePolicyConfig } from "./policy.ts";
import { portBase, PORTS_PER_VIBE } from "./ports.ts";
import { killTree } from "./proc.ts";

export const ENVELOPE_SCHEMA = "vibe.exec/1";
/** Prefix of the snapshots `vibe exec` takes; `vibe undo` restores the newest. */
export const CHECKPOINT_PREFIX = "exec-";
/** Exec checkpoints kept per vibe (older ones are removed after a new one). */
export const CHECKPOINTS_KEPT = 20;
export const DEFAULT_MAX_OUTPUT = 1 << 20;
const APPROVAL_TTL_MS = 24 * 3600_000;
const KILL_GRACE_MS = 2000;

export type Action = "allow" | "allow_with_checkpoint" | "deny" | "require_approval";

export interface ExecRequest {
  /** The vibe; absent with `ephemeral`. */
  id?: string;
  ephemeral?: boolean;
  /** Make the vibe from HEAD when it does not exist. */
  create?: boolean;
  /** Ephemeral: keep the vibe when the run changed something. */
  keep?: boolean;
  argv?: string[];
  shell?: string;
  /** Working directory relative to the vibe root ("" or absent: the root). */
  cwd?: string;
  timeoutSec?: number;
  /** Capture output (for the JSON envelope) instead of streaming it. */
  capture: boolean;
  maxOutput?: number;
}

export interface Envelope {
  schema: typeof ENVELOPE_SCHEMA;
  vibe: string;
  ephemeral: boolean;
  command: { argv?: string[]; shell?: string };
  cwd: string;
  mount: string;
  decision: {
    action: Action;
    categories: string[];
    reason: string;
    token?: string;
    approved?: string;
  };
  checkpoint: string | null;
  ran: boolean;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  duration_ms: number;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  stdout_bytes: number;
  stderr_bytes: number;
  changed: Change[];
  /** False when the journal could not name every change (a restore ran meanwhile). */
  changed_exact: boolean;
  /** Ephemeral vibes: whether the vibe was kept. */
  kept?: boolean;
  audit_seq: number;
}

export interface ExecOutcome {
  envelope: Envelope;
  /** What `vibe exec` exits with: the command's code, 128+signal, 124 on timeout, 8 denied, 9 approval. */
  exitCode: number;
}

export const EXIT_DENIED = 8;
export const EXIT_APPROVAL = 9;
const EXIT_TIMEOUT = 124;

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Normalizes a relative working directory; refuses absolute paths and escapes. */
export function normalizeCwd(rel: string | undefined): string {
  if (!rel || rel === ".") return "";
  if (rel.startsWith("/")) {
    throw new VibeError(
      "USAGE",
      `Cannot use --cwd "${rel}": it must be relative to the vibe root (e.g. "src/app")`,
    );
  }
  const parts: string[] = [];
  for (const p of rel.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) {
        throw new VibeError("USAGE", `Cannot use --cwd "${rel}": it leaves the vibe`);
      }
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

function commandOf(req: ExecRequest): { argv?: string[]; shell?: string } {
  if (req.shell !== undefined) {
    if (req.argv && req.argv.length > 0) {
      throw new VibeError("USAGE", `Give either --shell "<cmd>" or -- <argv…>, not both`);
    }
    if (req.shell.trim() === "") throw new VibeError("USAGE", `--shell needs a command`);
    return { shell: req.shell };
  }
  if (!req.argv || req.argv.length === 0) {
    throw new VibeError(
      "USAGE",
      `Nothing to run: give the command after "--" (vibe exec <id> -- make test) or --shell "<cmd>"`,
    );
  }
  return { argv: req.argv };
}

const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");

/** Makes sure the vibe exists (creating it when asked); returns its id. */
async function ensureVibe(project: Project, cwd: string, req: ExecRequest): Promise<string> {
  if (req.ephemeral) {
    if (req.id !== undefined) {
      throw new VibeError("USAGE", `Give a vibe id or --ephemeral, not both`);
    }
    const id = `eph-${randomHex(4)}`;
    await runOp(cwd, "spawn", { id });
    return id;
  }
  if (req.id === undefined) {
    throw new VibeError("USAGE", `Which vibe? Give its id (vibe exec <id> -- …) or --ephemeral`);
  }
  validateVibeId(req.id);
  if (!project.meta.getVibe(req.id)) {
    if (!req.create) {
      throw new VibeError(
        "ENOENT",
        `Vibe "${req.id}" does not exist (add --create to make it from HEAD, or "vibe spawn ${req.id}")`,
      );
    }
    try {
      await runOp(cwd, "spawn", { id: req.id });
    } catch (e) {
      // Two execs creating the same vibe at once: the other one made it.
      if (!(e instanceof VibeError && e.code === "EEXIST")) throw e;
    }
  }
  return req.id;
}

/** Reads a stream into a capped buffer; counts every byte. */
async function capture(
  stream: ReadableStream<Uint8Array>,
  cap: number,
): Promise<{ bytes: Uint8Array; total: number }> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  for await (const c of stream) {
    total += c.length;
    if (kept < cap) {
      const part = c.subarray(0, cap - kept);
      chunks.push(part.slice());
      kept += part.length;
    }
  }
  const out = new Uint8Array(kept);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return { bytes: out, total };
}

interface RunResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: { bytes: Uint8Array; total: number };
  stderr: { bytes: Uint8Array; total: number };
  ms: number;
}

async function runChild(
  cmd: { argv?: string[]; shell?: string },
  dir: string,
  env: Record<string, string>,
  req: ExecRequest,
): Promise<RunResult> {
  const [program, ...args] = cmd.shell !== undefined ? ["sh", "-c", cmd.shell] : cmd.argv!;
  const start = performance.now();
  const empty = { bytes: new Uint8Array(0), total: 0 };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program!, {
      args,
      cwd: dir,
      env,
      stdin: req.capture ? "null" : "inherit",
      stdout: req.capture ? "piped" : "inherit",
      stderr: req.capture ? "piped" : "inherit",
    }).spawn();
  } catch (e) {
    // As a shell reports it: 127 not found, 126 not executable.
    const notFound = e instanceof Deno.errors.NotFound;
    const msg = notFound
      ? `vibe: ${program}: command not found\n`
      : `vibe: ${program}: ${(e as Error).message}\n`;
    if (!req.capture) Deno.stderr.writeSync(new TextEncoder().encode(msg));
    const bytes = new TextEncoder().encode(msg);
    return {
      code: notFound ? 127 : 126,
      signal: null,
      timedOut: false,
      stdout: empty,
      stderr: { bytes, total: bytes.length },
      ms: performance.now() - start,
    };
  }
  const cap = req.maxOutput ?? DEFAULT_MAX_OUTPUT;
  const out = req.capture ? capture(child.stdout, cap) : Promise.resolve(empty);
  const err = req.capture ? capture(child.stderr, cap) : Promise.resolve(empty);
  let timedOut = false;
  let killer: ReturnType<typeof setTimeout> | undefined;
  let hard: ReturnType<typeof setTimeout> | undefined;
  if (req.timeoutSec !== undefined && req.timeoutSec > 0) {
    killer = setTimeout(() => {
      timedOut = true;
      killTree(child.pid, "SIGTERM");
      hard = setTimeout(() => killTree(child.pid, "SIGKILL"), KILL_GRACE_MS);
    }, req.timeoutSec * 1000);
  }
  const status = await child.status;
  clearTimeout(killer);
  if (timedOut) killTree(child.pid, "SIGKILL"); // stragglers of the tree
  clearTimeout(hard);
  const [stdout, stderr] = await Promise.all([out, err]);
  return {
    code: status.signal ? null : status.code,
    signal: status.signal ?? null,
    timedOut,
    stdout,
    stderr,
    ms: performance.now() - start,
  };
}

/** Exec checkpoints of a vibe, oldest first. */
async function checkpoints(cwd: string, id: string): Promise<SnapshotInfo[]> {
  const all = await runOp(cwd, "snapshots", { id }) as SnapshotInfo[];
  return all.filter((s) => s.name.startsWith(CHECKPOINT_PREFIX));
}

async function takeCheckpoint(cwd: string, id: string): Promise<string> {
  const name = `${CHECKPOINT_PREFIX}${Date.now()}-${randomHex(2)}`;
  await runOp(cwd, "snapshot", { id, name });
  const list = await checkpoints(cwd, id);
  for (const old of list.slice(0, Math.max(0, list.length - CHECKPOINTS_KEPT))) {
    await runOp(cwd, "snapshot-rm", { id, name: old.name }).catch(() => {});
  }
  return name;
}

const decoder = new TextDecoder();

/**
 * Runs one exec request to the end. `approved` is the token of an approval
 * being redeemed (the policy's require_approval is then satisfied).
 */
export async function execCommand(
  project: Project,
  cwd: string,
  req: ExecRequest,
  approved?: string,
): Promise<ExecOutcome> {
  const command = commandOf(req);
  const rel = normalizeCwd(req.cwd);
  const policy = validatePolicyConfig(loadConfig(project.vibeDir).policy, "policy");
  const id = await ensureVibe(project, cwd, req);
  const ephemeral = req.ephemeral === true;
  let kept: boolean | undefined;
  try {
    const mount = (await mountVibe(cwd, id)).path;
    const dir = rel ? `${mount}/${rel}` : mount;
    try {
      if (!Deno.statSync(dir).isDirectory) throw new Deno.errors.NotFound();
    } catch {
      throw new VibeError("ENOENT", `Cannot run in "${rel}": no such directory in vibe "${id}"`);
    }
    const d = decide(command, { root: mount, cwd: dir }, policy);
    let action = d.action as Action;
    let reason = d.reason;
    if (approved !== undefined && (action === "require_approval" || action === "deny")) {
      action = "allow_with_checkpoint";
      reason = `approved with token ${approved.slice(0, 8)}…: ${d.reason}`;
    }
    const base: Omit<Envelope, "audit_seq"> = {
      schema: ENVELOPE_SCHEMA,
      vibe: id,
      ephemeral,
      command,
      cwd: rel,
      mount,
      decision: {
        action,
        categories: [...d.categories],
        reason,
        ...(approved !== undefined ? { approved } : {}),
      },
      checkpoint: null,
      ran: false,
      exit_code: null,
      signal: null,
      timed_out: false,
      duration_ms: 0,
      stdout: "",
      stderr: "",
      stdout_truncated: false,
      stderr_truncated: false,
      stdout_bytes: 0,
      stderr_bytes: 0,
      changed: [],
      changed_exact: true,
    };
    const audit = (
      e: Omit<Envelope, "audit_seq">,
      event: "exec" | "denied" | "approval-required",
    ) =>
      project.meta.appendAudit({
        timeMs: Date.now(),
        vibe: id,
        event,
        command,
        cwd: rel,
        action: e.decision.action,
        categories: e.decision.categories,
        reason: e.decision.reason,
        exitCode: e.exit_code,
        signal: e.signal,
        changed: e.ran ? e.changed.length : null,
        durationMs: e.ran ? Math.round(e.duration_ms) : null,
        checkpoint: e.checkpoint,
        token: e.decision.token ?? e.decision.approved ?? null,
      });

    if (action === "deny") {
      return { envelope: { ...base, audit_seq: audit(base, "denied") }, exitCode: EXIT_DENIED };
    }
    if (action === "require_approval") {
      const token = randomHex(16);
      const now = Date.now();
      project.meta.putApproval({
        token,
        createdMs: now,
        expiresMs: now + APPROVAL_TTL_MS,
        request: { ...req, id, ephemeral: false, create: false },
        usedMs: null,
      });
      const e = { ...base, decision: { ...base.decision, token } };
      return {
        envelope: { ...e, audit_seq: audit(e, "approval-required") },
        exitCode: EXIT_APPROVAL,
      };
    }

    const checkpoint = action === "allow_with_checkpoint" ? await takeCheckpoint(cwd, id) : null;
    const { seq } = await runOp(cwd, "exec-begin", { id }) as { seq: number };
    const ports = portBase(project.meta, id);
    const env = {
      ...Deno.env.toObject(),
      VIBE_ID: id,
      VIBE_ROOT: mount,
      VIBE_PORT_BASE: String(ports),
      VIBE_PORT_COUNT: String(PORTS_PER_VIBE),
      PORT: String(ports),
      PWD: dir,
    };
    const r = await runChild(command, dir, env, req);
    const entries = project.meta.readJournal(id, seq, 10_000_000);
    const folded = foldJournal(entries, (ino) => project.meta.getInode(id, ino));
    const cap = req.maxOutput ?? DEFAULT_MAX_OUTPUT;
    const done: Omit<Envelope, "audit_seq"> = {
      ...base,
      checkpoint,
      ran: true,
      exit_code: r.code,
      signal: r.signal,
      timed_out: r.timedOut,
      duration_ms: Math.round(r.ms),
      stdout: decoder.decode(r.stdout.bytes),
      stderr: decoder.decode(r.stderr.bytes),
      stdout_truncated: r.stdout.total > cap,
      stderr_truncated: r.stderr.total > cap,
      stdout_bytes: r.stdout.total,
      stderr_bytes: r.stderr.total,
      changed: folded.changes,
      changed_exact: folded.exact,
    };
    if (ephemeral) {
      kept = req.keep === true && folded.changes.length > 0;
      done.kept = kept;
    }
    const exitCode = r.timedOut
      ? EXIT_TIMEOUT
      : r.signal
      ? 128 + (SIGNALS[r.signal] ?? 0)
      : r.code ?? 1;
    return { envelope: { ...done, audit_seq: audit(done, "exec") }, exitCode };
  } finally {
    if (ephemeral && !kept) await runOp(cwd, "destroy", { id, purge: true }).catch(() => {});
  }
}

/** Redeems an approval token: runs the stored request once. */
export async function approveAndRun(
  project: Project,
  cwd: string,
  token: string,
  overrides: { capture: boolean },
): Promise<ExecOutcome> {
  const a = project.meta.getApproval(token);
  if (!a) {
    throw new VibeError(
      "ENOENT",
      `No approval request with token "${token}" (see "vibe audit" for pending ones)`,
    );
  }
  if (a.usedMs !== null) {
    throw new VibeError("USAGE", `Token "${token}" was used already (a token runs once)`);
  }
  if (Date.now() > a.expiresMs) {
    throw new VibeError(
      "USAGE",
      `Token "${token}" expired at ${
        new Date(a.expiresMs).toISOString()
      } (run the command again to get a new one)`,
    );
  }
  if (!project.meta.useApproval(token, Date.now())) {
    throw new VibeError("USAGE", `Token "${token}" was used already (a token runs once)`);
  }
  const req = { ...(a.request as unknown as ExecRequest), capture: overrides.capture };
  return await execCommand(project, cwd, req, token);
}

/** Returns a vibe to its newest exec checkpoint and drops that checkpoint. */
export async function undoLast(
  project: Project,
  cwd: string,
  id: string,
): Promise<{ vibe: string; checkpoint: string; remaining: number }> {
  project.vibe(id);
  const list = await checkpoints(cwd, id);
  const last = list[list.length - 1];
  if (!last) {
    throw new VibeError(
      "ENOENT",
      `Nothing to undo in "${id}": it has no exec checkpoint (they are taken before mutating commands)`,
    );
  }
  await runOp(cwd, "restore", { id, name: last.name });
  await runOp(cwd, "snapshot-rm", { id, name: last.name });
  project.meta.appendAudit({
    timeMs: Date.now(),
    vibe: id,
    event: "undo",
    command: {},
    cwd: null,
    action: "allow",
    categories: [],
    reason: `restored checkpoint ${last.name}`,
    exitCode: null,
    signal: null,
    changed: null,
    durationMs: null,
    checkpoint: last.name,
    token: null,
  });
  return { vibe: id, checkpoint: last.name, remaining: list.length - 1 };
}
