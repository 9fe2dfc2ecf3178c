/**
 * Author and committer identities, resolved the way `git commit` does:
 * `GIT_<ROLE>_NAME` / `GIT_<ROLE>_EMAIL` / `GIT_<ROLE>_DATE` first, then the
 * `<role>.name` / `<role>.email` and `user.name` / `user.email` config keys,
 * then `EMAIL` for the address. There is no guessing from the host name:
 * without a configured identity the caller gets a USAGE error saying how to
 * set one.
 *
 * Config is read by running `git config` once per resolution rather than by
 * parsing INI files ourselves: identities are commonly set through
 * `[include]` / `[includeIf "gitdir:…"]`, `$XDG_CONFIG_HOME/git/config`,
 * `GIT_CONFIG_GLOBAL` or `/etc/gitconfig`, and only git itself gets all of
 * those right. It costs one short process per commit, off the hot path.
 */
import { VibeError } from "../errors.ts";
import type { RepoPaths, Signature } from "./object_store.ts";

export type SignatureRole = "author" | "committer";

/** Name/email pairs found in git config; later (more specific) scopes win. */
export interface IdentityConfig {
  userName?: string;
  userEmail?: string;
  authorName?: string;
  authorEmail?: string;
  committerName?: string;
  committerEmail?: string;
}

const CONFIG_KEYS: Record<string, keyof IdentityConfig> = {
  "user.name": "userName",
  "user.email": "userEmail",
  "author.name": "authorName",
  "author.email": "authorEmail",
  "committer.name": "committerName",
  "committer.email": "committerEmail",
};

/**
 * Reads the identity keys of the repository's effective config (system,
 * global, local, worktree, includes) with one `git config` run.
 * Throws USAGE when git cannot be run.
 */
export async function readIdentityConfig(repo: RepoPaths): Promise<IdentityConfig> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("git", {
      args: [
        `--git-dir=${repo.gitDir}`,
        "config",
        "-z",
        "--get-regexp",
        "^(user|author|committer)\\.(name|email)$",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new VibeError(
      "USAGE",
      `Cannot read the git identity: running "git config" failed (${errorText(e)}); ` +
        "set GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL instead",
    );
  }
  // Exit status 1 means "no key matched".
  if (out.code === 1) return {};
  if (out.code !== 0) {
    const msg = new TextDecoder().decode(out.stderr).trim();
    throw new VibeError(
      "USAGE",
      `Cannot read the git identity: "git config" failed (${msg || `exit ${out.code}`})`,
    );
  }
  const config: IdentityConfig = {};
  for (const record of new TextDecoder().decode(out.stdout).split("\0")) {
    const nl = record.indexOf("\n");
    if (nl < 0) continue; // a key without "=value" (boolean form) carries no identity
    const field = CONFIG_KEYS[record.slice(0, nl).toLowerCase()];
    if (field) config[field] = record.slice(nl + 1);
  }
  return config;
}

/**
 * The identity for `role` with the current time (or `GIT_<ROLE>_DATE`) and the
 * local UTC offset at that time. Throws USAGE when no name or email is
 * configured, when they contain `<`, `>` or a newline, or when the date
 * variable cannot be parsed.
 */
export async function resolveSignature(
  repo: RepoPaths,
  role: SignatureRole,
  config?: IdentityConfig,
): Promise<Signature> {
  const env = envIdentity(role);
  const needConfig = env.name === undefined || env.email === undefined;
  const cfg = needConfig ? (config ?? await readIdentityConfig(repo)) : {};
  const name = env.name ??
    (role === "author" ? cfg.authorName : cfg.committerName) ?? cfg.userName;
  const email = env.email ??
    (role === "author" ? cfg.authorEmail : cfg.committerEmail) ?? cfg.userEmail ??
    Deno.env.get("EMAIL");
  return buildSignature(role, name, email, env.date);
}

/** Reads GIT_<ROLE>_NAME/EMAIL/DATE; undefined for each variable that is unset. */
export function envIdentity(
  role: SignatureRole,
): { name: string | undefined; email: string | undefined; date: string | undefined } {
  const prefix = role === "author" ? "GIT_AUTHOR_" : "GIT_COMMITTER_";
  return {
    name: Deno.env.get(`${prefix}NAME`),
    email: Deno.env.get(`${prefix}EMAIL`),
    date: Deno.env.get(`${prefix}DATE`),
  };
}

/** Validates the parts and stamps them with `date` (a git date string) or now. */
export function buildSignature(
  role: SignatureRole,
  rawName: string | undefined,
  rawEmail: string | undefined,
  date: string | undefined,
): Signature {
  const ROLE = role.toUpperCase();
  const howTo = `run "git config --global user.name 'Your Name'" and ` +
    `"git config --global user.email you@example.com", or set GIT_${ROLE}_NAME and GIT_${ROLE}_EMAIL`;
  const name = rawName?.trim();
  const email = rawEmail?.trim();
  if (!name) throw new VibeError("USAGE", `Cannot record the ${role}: no name is set (${howTo})`);
  if (!email) throw new VibeError("USAGE", `Cannot record the ${role}: no email is set (${howTo})`);
  for (const [what, value] of [["name", name], ["email", email]] as const) {
    if (/[<>\n\0]/.test(value)) {
      throw new VibeError(
        "USAGE",
        `Cannot record the ${role}: the ${what} "${value}" contains "<", ">" or a line break (${howTo})`,
      );
    }
  }
  const when = date === undefined || date.trim() === ""
    ? nowWithLocalOffset()
    : parseGitDate(date, `GIT_${ROLE}_DATE`);
  return { name, email, ...when };
}

/** Seconds since the epoch and the local offset (minutes east of UTC) at that instant. */
export function nowWithLocalOffset(
  now: Date = new Date(),
): { timestamp: number; tzOffsetMinutes: number } {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { timestamp, tzOffsetMinutes: localOffsetMinutes(timestamp) };
}

function localOffsetMinutes(timestamp: number): number {
  const off = -new Date(timestamp * 1000).getTimezoneOffset();
  return off === 0 ? 0 : off; // never -0: it would print as "-0000"
}

/** Git's "+hhmm" / "-hhmm" for an offset in minutes east of UTC. */
export function formatTzOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${sign}${hh}${mm}`;
}

/** `Name <email> 1700000000 +0100`, as in commit headers and reflog lines. */
export function formatSignature(sig: Signature): string {
  return `${sig.name} <${sig.email}> ${sig.timestamp} ${formatTzOffset(sig.tzOffsetMinutes)}`;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function parseTz(text: string): number {
  if (text === "Z" || text === "z") return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(text);
  if (!m) return NaN;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? (minutes === 0 ? 0 : -minutes) : minutes;
}

/**
 * Parses the date formats git documents for GIT_AUTHOR_DATE: the internal
 * `<seconds> <+hhmm>` (optionally with a leading `@`), RFC 2822
 * (`Thu, 07 Apr 2005 22:13:13 +0200`) and ISO 8601
 * (`2005-04-07T22:13:13[.frac][Z|+02:00]`, local time when no zone is given).
 * Throws USAGE naming `source` for anything else.
 */
export function parseGitDate(
  text: string,
  source: string,
): { timestamp: number; tzOffsetMinutes: number } {
  const s = text.trim();
  const bad = () =>
    new VibeError(
      "USAGE",
      `Cannot use ${source} "${text}": unrecognized date (use "@<seconds> +0000", RFC 2822 or ISO 8601)`,
    );
  let m = /^@?(\d+)(?:\s+([+-]\d\d:?\d\d))?$/.exec(s);
  if (m) {
    const timestamp = Number(m[1]);
    const tz = m[2] === undefined ? (s.startsWith("@") ? 0 : NaN) : parseTz(m[2]);
    if (!Number.isSafeInteger(timestamp) || Number.isNaN(tz)) throw bad();
    return { timestamp, tzOffsetMinutes: tz };
  }
  m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?\s*(Z|z|[+-]\d\d:?\d\d)?$/
    .exec(s);
  if (m) {
    return fromFields(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      m[7],
      bad,
    );
  }
  m =
    /^(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d\d):(\d\d)(?::(\d\d))?\s+([+-]\d{4})$/
      .exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    if (month === 0) throw bad();
    return fromFields(
      Number(m[3]),
      month,
      Number(m[1]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      m[7],
      bad,
    );
  }
  throw bad();
}

function fromFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  tzText: string | undefined,
  bad: () => VibeError,
): { timestamp: number; tzOffsetMinutes: number } {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw bad();
  }
  if (tzText === undefined) {
    const local = new Date(year, month - 1, day, hour, minute, second);
    const timestamp = Math.floor(local.getTime() / 1000);
    return { timestamp, tzOffsetMinutes: localOffsetMinutes(timestamp) };
  }
  const tz = parseTz(tzText);
  if (Number.isNaN(tz)) throw bad();
  const utcSeconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  return { timestamp: utcSeconds - tz * 60, tzOffsetMinutes: tz };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
