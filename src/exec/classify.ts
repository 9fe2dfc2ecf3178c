/**
 * Classifies one top-level command for `vibe exec`: what it may do, as a set
 * of categories, with a sentence per finding. Pure: no I/O, nothing runs.
 *
 * Invariants:
 * - Every simple command counts, including those inside `sh -c '…'`,
 *   `$(…)`, backticks, `find -exec`, `xargs`, `env`/`sudo`/`nohup` wrappers.
 * - Unknown commands are "mutating" (their effects cannot be known); a
 *   command name decided at run time (`$CMD`, `$(…)`) is unknown too.
 * - "read-only" is reported only when nothing else applies.
 * - Paths are judged against the vibe root after resolving `..` against the
 *   working directory (tracking `cd`); a write outside it, `~` or `$HOME`
 *   is a host-escape risk. /dev/null, /dev/stdout, /dev/stderr, /dev/fd/N
 *   and /dev/tty are not files anyone owns.
 */
import { literalWord, parseShell, type SimpleCommand, type Word } from "./shell_words.ts";
import {
  baseName,
  CATEGORIES,
  type Category,
  checkWrites,
  Finding,
  HARMLESS_DEVICES,
  isOpt,
  normalize,
  outside,
} from "./classify_base.ts";
import { gitCommand, pkgCommand } from "./classify_tools.ts";

export { CATEGORIES, type Category } from "./classify_base.ts";

export interface ClassifiedCommand {
  /** argv joined by spaces, after unwrapping (`sudo rm -rf x` → `rm -rf x`). */
  text: string;
  /** The command as written (wrappers included). */
  fullText: string;
  categories: Category[];
  reasons: string[];
  /** The first reason found for each category. */
  why: Partial<Record<Category, string>>;
}

export interface Classification {
  /** False when the shell string could not be parsed (`error` says why). */
  ok: boolean;
  error?: string;
  categories: Category[];
  commands: ClassifiedCommand[];
  reasons: string[];
}

export interface ClassifyContext {
  /** Absolute path of the vibe root (the command's world). */
  root: string;
  /** Absolute working directory inside it. */
  cwd: string;
}

// ------------------------------------------------------------------ tables

const READ_ONLY = new Set(
  ("ls cat head tail grep egrep fgrep rg ag ack wc stat file du df echo printf pwd which whereis " +
    "type diff cmp comm tree jq yq true false test [ date whoami id uname hostname printenv " +
    "basename dirname realpath readlink md5sum sha1sum sha256sum sha512sum cksum cut tr nl od " +
    "sort uniq " +
    "hexdump xxd column fold fmt paste join expand unexpand seq sleep rev tac strings nproc " +
    "free uptime ps pgrep lsof env export set unset : cd pushd popd alias hash shopt wait " +
    "getconf locale tput stty history lsblk findmnt mountpoint").split(" "),
);
const DESTRUCTIVE = new Set(
  "rm rmdir shred unlink srm wipefs fdisk sfdisk parted mkswap".split(" "),
);
const NETWORKED = new Set(
  ("curl wget ssh scp sftp nc ncat netcat telnet ftp ping dig nslookup host http https aria2c " +
    "socat").split(" "),
);
const ESCAPE = new Set(
  ("sudo su doas chroot nsenter unshare mount umount systemctl service crontab shutdown reboot " +
    "poweroff halt kill pkill killall launchctl iptables nft useradd userdel usermod passwd " +
    "visudo insmod rmmod modprobe sysctl setcap chattr").split(" "),
);
const INTERACTIVE = new Set(
  "vim vi nvim nano emacs pico less more most top htop btop man watch tmux screen".split(" "),
);
const MUTATING = new Set(
  ("touch mkdir cp mv ln chmod chown chgrp tee patch install make cmake ninja meson gcc cc " +
    "clang g++ c++ ld ar unzip gzip gunzip bzip2 xz zstd zip 7z sqlite3 rustc javac mvn gradle " +
    "bazel prettier black ruff gofmt rustfmt mkfifo mktemp split csplit").split(" "),
);
const INTERPRETERS = new Set(
  "python python3 python2 node deno bun ruby perl php lua irb ipython".split(" "),
);
const SHELLS = new Set("sh bash zsh dash ksh fish ash busybox".split(" "));
const PKG_MANAGERS = new Set("npm yarn pnpm bun".split(" "));
const SYSTEM_PKG = new Set("apt apt-get dpkg brew yum dnf apk pacman snap zypper port".split(" "));
/** Commands whose path operands they write (or delete). */
const PATH_WRITERS = new Set(
  ("rm rmdir mv touch mkdir chmod chown chgrp ln tee truncate shred install unlink srm " +
    "mkfifo").split(" "),
);
const WRITE_REDIRECTS = new Set([">", ">>", ">|", "&>", "&>>", "<>"]);

// ------------------------------------------------------------------ per command

interface Walker {
  ctx: ClassifyContext;
  out: ClassifiedCommand[];
  depth: number;
}

/** Classifies the words of one simple command (wrappers already stripped by the caller loop). */
function classifyWords(
  words: Word[],
  cwd: string,
  walker: Walker,
  pipeIn: boolean,
  stdinRedirected: boolean,
  f: Finding,
): { text: string } {
  const root = walker.ctx.root;
  let i = 0;
  // Wrappers: look through them to the command they run.
  for (let guard = 0; guard < 20 && i < words.length; guard++) {
    const w = words[i]!;
    const name = baseName(w.text);
    if (w.dynamic && (w.lead !== null || w.substitutions.length > 0)) break;
    if (name === "env") {
      i++;
      while (
        i < words.length && (isOpt(words[i]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!.text))
      ) {
        if (words[i]!.text === "-u" || words[i]!.text === "-C" || words[i]!.text === "-S") i++;
        i++;
      }
      continue;
    }
    if (name === "sudo" || name === "doas") {
      f.add("host-escape-risk", `${name} runs a command as another user`);
      i++;
      while (i < words.length && isOpt(words[i]!)) {
        if (/^-[ugpCDrtTh]$/.test(words[i]!.text)) i++;
        i++;
      }
      continue;
    }
    if (
      name === "nohup" || name === "time" || name === "command" || name === "builtin" ||
      name === "exec" || name === "stdbuf" || name === "ionice" || name === "chrt"
    ) {
      i++;
      while (i < words.length && isOpt(words[i]!)) i++;
      continue;
    }
    if (name === "nice") {
      i++;
      while (i < words.length && isOpt(words[i]!)) {
        if (words[i]!.text === "-n") i++;
        i++;
      }
      continue;
    }
    if (name === "timeout") {
      i++;
      while (i < words.length && isOpt(words[i]!)) {
        if (words[i]!.text === "-s" || words[i]!.text === "-k") i++;
        i++;
      }
      i++; // the duration
      continue;
    }
    break;
  }
  const rest = words.slice(i);
  const text = rest.map((w) => w.text).join(" ");
  if (rest.length === 0) {
    if (i > 0) f.add("read-only", "no command");
    return { text };
  }
  const head = rest[0]!;
  const args = rest.slice(1);
  const argText = args.map((a) => a.text);
  if (
    head.dynamic && (head.lead !== null || head.substitutions.length > 0 || head.text.includes("$"))
  ) {
    f.add("mutating", `the command name "${head.raw}" is decided at run time`);
    return { text };
  }
  const name = baseName(head.text);
  const hasFlag = (...flags: string[]) =>
    argText.some((a) =>
      flags.includes(a) ||
      flags.some((fl) =>
        fl.length === 2 && fl.startsWith("-") && /^-[A-Za-z]+$/.test(a) && a.includes(fl[1]!)
      )
    );
  const operands = args.filter((a) => !isOpt(a));

  if (head.text.includes("/") && !head.text.startsWith("/usr/") && !head.text.startsWith("/bin/")) {
    f.add("mutating", `${head.text} is a program or script whose effects cannot be known`);
    return { text };
  }

  if (SHELLS.has(name)) {
    const c = argText.indexOf("-c");
    if (c >= 0 && argText[c + 1] !== undefined) {
      nested(argText[c + 1]!, walker, cwd, f, `${name} -c`);
    } else if (operands.length > 0) {
      f.add(
        "mutating",
        `${name} runs the script ${operands[0]!.text}, whose effects cannot be known`,
      );
    } else if (pipeIn || stdinRedirected) {
      f.add("mutating", `${name} runs commands read from its input`);
    } else {
      f.add("interactive", `${name} without a script or -c waits for a person at a terminal`);
    }
    return { text };
  }
  if (name === "su") {
    f.add("host-escape-risk", "su runs commands as another user");
    const c = argText.indexOf("-c");
    if (c >= 0 && argText[c + 1] !== undefined) nested(argText[c + 1]!, walker, cwd, f, "su -c");
    else f.add("interactive", "su without -c opens a login shell");
    return { text };
  }
  if (name === "eval") {
    if (args.some((a) => a.dynamic)) {
      f.add("mutating", "eval runs text decided at run time");
    }
    nested(argText.join(" "), walker, cwd, f, "eval");
    return { text };
  }
  if (name === "xargs") {
    let j = 0;
    while (j < args.length && isOpt(args[j]!)) {
      if (/^-[ILnPsdE]$/.test(args[j]!.text)) j++;
      j++;
    }
    const sub = args.slice(j);
    if (sub.length === 0) f.add("read-only", "xargs echo");
    else classifyWords(sub, cwd, walker, false, false, f);
    return { text };
  }
  if (
    name === "npx" || name === "bunx" ||
    ((name === "pnpm" || name === "yarn") && argText[0] === "dlx")
  ) {
    f.add("networked", `${name} downloads and runs a package`);
    f.add("mutating", `${name} runs a package whose effects cannot be known`);
    return { text };
  }
  if (name === "git") {
    gitCommand(args, cwd, root, f);
    return { text };
  }
  if (PKG_MANAGERS.has(name)) {
    pkgCommand(name, argText, f);
    return { text };
  }
  if (name === "pip" || name === "pip3" || name === "uv" || name === "poetry" || name === "gem") {
    const sub = argText.find((a) => !a.startsWith("-")) ?? "";
    if (/^(install|add|sync|update|upgrade|download|lock|pip)$/.test(sub)) {
      f.add("networked", `${name} ${sub} downloads packages`);
      f.add("mutating", `${name} ${sub} installs packages`);
    } else if (/^(list|show|freeze|check|--version|help)$/.test(sub)) {
      f.add("read-only", `${name} ${sub} only reads`);
    } else f.add("mutating", `${name} ${sub} may change files`);
    return { text };
  }
  if (name === "cargo" || name === "go") {
    const sub = argText[0] ?? "";
    if (
      /^(install|fetch|get|publish|update|download)$/.test(sub) || (name === "go" && sub === "mod")
    ) {
      f.add("networked", `${name} ${sub} downloads code`);
    }
    if (/^(version|--version|env|help|doc|list|vet|metadata|tree)$/.test(sub)) {
      f.add("read-only", `${name} ${sub} only reads`);
    } else f.add("mutating", `${name} ${sub} builds or changes files`);
    return { text };
  }
  if (SYSTEM_PKG.has(name)) {
    const sub = argText.find((a) => !a.startsWith("-")) ?? "";
    if (/^(list|search|show|info|policy|-l|--version)$/.test(sub)) {
      f.add("read-only", `${name} ${sub} only reads`);
    } else {
      f.add("host-escape-risk", `${name} changes the host's system packages`);
      f.add("networked", `${name} downloads packages`);
    }
    return { text };
  }
  if (name === "docker" || name === "podman") {
    const sub = argText.find((a) => !a.startsWith("-")) ?? "";
    if (/^(run|exec|create|start|compose|cp)$/.test(sub)) {
      f.add("host-escape-risk", `${name} ${sub} runs outside the vibe with host access`);
    } else if (/^(pull|push|login|build)$/.test(sub)) {
      f.add("networked", `${name} ${sub} talks to a registry`);
      f.add("mutating", `${name} ${sub} changes images`);
    } else if (/^(ps|images|inspect|logs|version|info)$/.test(sub)) {
      f.add("read-only", `${name} ${sub} only reads`);
    } else f.add("host-escape-risk", `${name} ${sub} acts on the host's containers`);
    return { text };
  }
  if (name === "find") {
    findCommand(args, cwd, walker, f);
    return { text };
  }
  if (INTERPRETERS.has(name)) {
    if (args.length === 0 && !pipeIn && !stdinRedirected) {
      f.add("interactive", `${name} without a script opens an interactive prompt`);
    } else if (argText.length === 1 && /^(--version|-V|-v|--help|-h)$/.test(argText[0]!)) {
      f.add("read-only", `${name} ${argText[0]} only prints`);
    } else if (name === "perl" && hasFlag("-i")) {
      f.add("mutating", "perl -i edits files in place");
    } else {
      f.add("mutating", `${name} runs code whose effects cannot be known`);
    }
    return { text };
  }
  if (name === "sed" || name === "gsed") {
    if (argText.some((a) => a === "-i" || a.startsWith("-i") || a.startsWith("--in-place"))) {
      f.add("mutating", `${name} -i edits files in place`);
      checkWrites(f, operands.slice(1), cwd, root, name);
    } else f.add("read-only", `${name} without -i only prints`);
    return { text };
  }
  if (name === "awk" || name === "gawk") {
    if (argText.some((a) => a.includes("inplace"))) f.add("mutating", "awk -i inplace edits files");
    else if (argText.some((a) => /system\(|print[^|]*>/.test(a))) {
      f.add("mutating", "the awk program writes files or runs commands");
    } else f.add("read-only", "awk only prints");
    return { text };
  }
  if (name === "sort" && hasFlag("-o", "--output")) {
    f.add("mutating", "sort -o writes a file");
    const o = argText.indexOf("-o");
    if (o >= 0 && args[o + 1]) checkWrites(f, [args[o + 1]!], cwd, root, "sort -o");
    return { text };
  }
  if (name === "tar" || name === "bsdtar") {
    const modes = argText.find((a) => !a.startsWith("-") && /^[a-zA-Z]+$/.test(a)) ?? "";
    const all = argText.join(" ");
    if (
      /(^|\s)(-[a-zA-Z]*t|--list)|^t/.test(all) || (modes.includes("t") && !modes.includes("x"))
    ) {
      f.add("read-only", "tar t lists an archive");
    } else {
      f.add("mutating", "tar creates or extracts files");
      const c = argText.findIndex((a) => a === "-C" || a === "--directory");
      if (c >= 0 && args[c + 1]) checkWrites(f, [args[c + 1]!], cwd, root, "tar -C");
    }
    return { text };
  }
  if (name === "curl" || name === "wget") {
    f.add("networked", `${name} talks to the network`);
    const writes = name === "wget"
      ? !argText.some((a, k) => (a === "-O" || a === "-qO") && argText[k + 1] === "-") &&
        !argText.includes("-qO-") && !argText.includes("-O-")
      : argText.some((a) =>
        a === "-o" || a === "-O" || a.startsWith("--output") || /^-[a-zA-Z]*[oO]$/.test(a)
      );
    if (writes) f.add("mutating", `${name} saves what it downloads`);
    return { text };
  }
  if (name === "rsync") {
    if (argText.some((a) => /^[^/]*:|^rsync:\/\//.test(a) && !a.startsWith("-"))) {
      f.add("networked", "rsync to or from another host");
    }
    f.add("mutating", "rsync writes files");
    if (operands.length > 0) checkWrites(f, [operands[operands.length - 1]!], cwd, root, "rsync");
    if (hasFlag("--delete")) f.add("destructive", "rsync --delete removes files");
    return { text };
  }
  if (name === "dd") {
    f.add("destructive", "dd overwrites its output");
    const of = args.find((a) => a.text.startsWith("of="));
    if (of) {
      const w = { ...of, text: of.text.slice(3) };
      const o = outside(w, cwd, root);
      if (o) f.add("host-escape-risk", `dd writes ${o} outside the vibe`);
    }
    return { text };
  }
  if (name.startsWith("mkfs")) {
    f.add("destructive", `${name} formats a device`);
    f.add("host-escape-risk", `${name} acts on the host's devices`);
    return { text };
  }
  if (name === "truncate") {
    f.add("destructive", "truncate cuts files");
    checkWrites(
      f,
      operands.filter((_, k) => !/^-[sr]$/.test(argText[k - 1] ?? "")),
      cwd,
      root,
      name,
    );
    return { text };
  }
  if (name === "cp") {
    f.add("mutating", "cp writes files");
    if (operands.length > 0) checkWrites(f, [operands[operands.length - 1]!], cwd, root, "cp");
    return { text };
  }
  if (name === "ssh") {
    f.add("networked", "ssh connects to another host");
    const hostIdx = args.findIndex((a, k) =>
      !isOpt(a) && !/^-[bcDEeFIiJLlmOopQRSWw]$/.test(argText[k - 1] ?? "")
    );
    if (hostIdx < 0 || hostIdx === args.length - 1) {
      f.add("interactive", "ssh without a remote command opens a terminal session");
    } else f.add("host-escape-risk", "ssh runs a command on another host");
    return { text };
  }
  if (name === "cd" || name === "pushd") {
    const t = operands[0];
    if (t) {
      const o = outside(t, cwd, root);
      if (o) f.add("host-escape-risk", `cd ${o} leaves the vibe`);
    }
    f.add("read-only", "cd only changes the directory");
    return { text };
  }
  if (name === "source" || name === ".") {
    f.add("mutating", `${name} runs a script in the shell`);
    return { text };
  }
  if (name === "tsc") {
    if (hasFlag("--noEmit", "--version", "-v", "--help")) {
      f.add("read-only", "tsc --noEmit only checks");
    } else f.add("mutating", "tsc writes compiled output");
    return { text };
  }
  if (name === "eslint") {
    if (hasFlag("--fix")) f.add("mutating", "eslint --fix edits files");
    else f.add("read-only", "eslint only reports");
    return { text };
  }
  if (name === "prettier") {
    if (hasFlag("--write", "-w")) f.add("mutating", "prettier --write edits files");
    else f.add("read-only", "prettier without --write only prints");
    return { text };
  }
  if (name === "uniq" && operands.length >= 2) {
    f.add("mutating", "uniq writes its second operand");
    checkWrites(f, [operands[1]!], cwd, root, "uniq");
    return { text };
  }
  if (name === "emacs" && hasFlag("--batch")) {
    f.add("mutating", "emacs --batch runs code");
    return { text };
  }
  if (
    (name === "mysql" || name === "psql" || name === "sqlite3") &&
    !hasFlag("-c", "-e", "--command", "--execute") && args.length <= 1 && !pipeIn &&
    !stdinRedirected
  ) {
    f.add("interactive", `${name} without a command opens an interactive prompt`);
    return { text };
  }
  if (name === "watch") {
    f.add("interactive", "watch redraws a terminal until stopped");
    return { text };
  }
  if (INTERACTIVE.has(name)) {
    f.add("interactive", `${name} needs a person at a terminal`);
    return { text };
  }
  if (ESCAPE.has(name)) {
    f.add("host-escape-risk", `${name} acts on the host outside the vibe`);
    return { text };
  }
  if (DESTRUCTIVE.has(name)) {
    f.add(
      "destructive",
      name === "rm" && hasFlag("-r", "-R", "--recursive")
        ? "rm -r deletes files recursively"
        : `${name} deletes files`,
    );
    checkWrites(f, operands, cwd, root, name);
    if (name === "rm" && operands.some((o) => o.text === "/" || o.text === "/*")) {
      f.add("host-escape-risk", "rm of / deletes the host");
    }
    return { text };
  }
  if (NETWORKED.has(name)) {
    f.add("networked", `${name} talks to the network`);
    return { text };
  }
  if (READ_ONLY.has(name)) {
    f.add("read-only", `${name} only reads`);
    return { text };
  }
  if (MUTATING.has(name) || PATH_WRITERS.has(name)) {
    f.add("mutating", `${name} changes files`);
    if (PATH_WRITERS.has(name)) checkWrites(f, operands, cwd, root, name);
    return { text };
  }
  f.add("mutating", `${name} is not a known command: its effects cannot be known`);
  return { text };
}

function findCommand(args: Word[], cwd: string, walker: Walker, f: Finding): void {
  const a = args.map((w) => w.text);
  let acted = false;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]!;
    if (t === "-delete") {
      f.add("destructive", "find -delete deletes what it matches");
      acted = true;
    } else if (t === "-exec" || t === "-execdir" || t === "-ok" || t === "-okdir") {
      let j = i + 1;
      while (j < a.length && a[j] !== ";" && a[j] !== "+") j++;
      const sub = args.slice(i + 1, j).filter((w) => w.text !== "{}");
      if (sub.length > 0) classifyWords(sub, cwd, walker, false, false, f);
      if (t.startsWith("-ok")) f.add("interactive", `find ${t} asks before each command`);
      acted = true;
      i = j;
    } else if (/^-f(print|print0|printf|ls)$/.test(t)) {
      f.add("mutating", `find ${t} writes a file`);
      acted = true;
    }
  }
  if (!acted) f.add("read-only", "find only lists");
}

/** Classifies a shell string run by a command of the current one (sh -c, eval, su -c). */
function nested(src: string, walker: Walker, cwd: string, f: Finding, via: string): void {
  if (walker.depth > 8) {
    f.add("mutating", `${via} nests commands too deeply to follow`);
    return;
  }
  const r = parseShell(src);
  if (!r.ok) {
    f.add("mutating", `${via} runs a string that cannot be parsed (${r.error})`);
    f.reasons.push(`unparseable:${r.error}`);
    return;
  }
  const inner: Walker = { ...walker, depth: walker.depth + 1, out: [] };
  walkList(r.commands, inner, cwd);
  // The inner commands count on their own too (project rules see them).
  walker.out.push(...inner.out);
  for (const c of inner.out) {
    for (const cat of c.categories) {
      f.cats.add(cat);
      if (c.why[cat]) f.why[cat] ??= `${via}: ${c.why[cat]}`;
    }
    for (const why of c.reasons) if (!f.reasons.includes(why)) f.reasons.push(why);
  }
}

/** Every substitution command inside a command's words and redirects. */
function substitutionsOf(cmd: SimpleCommand): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  for (const w of [...cmd.words, ...cmd.assignmentWords]) out.push(...w.substitutions);
  for (const r of cmd.redirects) {
    out.push(...r.target.substitutions);
    if (r.heredoc) out.push(...r.heredoc.substitutions);
  }
  return out;
}

function walkList(commands: SimpleCommand[], walker: Walker, startCwd: string): void {
  const cwdByScope = new Map<string, string>([["", startCwd]]);
  const cwdOf = (scope: number[]) => {
    for (let n = scope.length; n >= 0; n--) {
      const v = cwdByScope.get(scope.slice(0, n).join("."));
      if (v !== undefined) return v;
    }
    return startCwd;
  };
  // Pipelines whose earlier stage downloads something.
  const downloading = new Set<number>();
  for (const cmd of commands) {
    const cwd = cwdOf(cmd.scope);
    const subs = substitutionsOf(cmd);
    if (subs.length > 0) walkList(subs, walker, cwd);
    const f = new Finding();
    const stdinRedirected = cmd.redirects.some((r) => r.op === "<" || r.op.startsWith("<<"));
    const pipeIn = cmd.pipe !== null && cmd.pipe.index > 0;
    for (const r of cmd.redirects) {
      if (!WRITE_REDIRECTS.has(r.op)) continue;
      if (r.op === ">&" || r.op === "<&") continue;
      const t = r.target;
      if (/^\d+$/.test(t.text) || t.text === "-") continue;
      const o = outside(t, cwd, walker.ctx.root);
      if (HARMLESS_DEVICES.test(t.text)) continue;
      f.add("mutating", `the redirection ${r.op} writes ${t.text}`);
      if (o) f.add("host-escape-risk", `the redirection ${r.op} writes ${o} outside the vibe`);
    }
    const words = cmd.words;
    const { text } = words.length > 0
      ? classifyWords(words, cwd, walker, pipeIn, stdinRedirected, f)
      : { text: "" };
    if (words.length === 0 && f.cats.size === 0) f.add("read-only", "no command");
    const name = words.length > 0 ? baseName(words[0]!.text) : "";
    if (cmd.pipe) {
      if (f.cats.has("networked") && (name === "curl" || name === "wget")) {
        downloading.add(cmd.pipe.id);
      }
      const shellLike = SHELLS.has(name) || INTERPRETERS.has(name) ||
        (name === "sudo" && words.some((w) => SHELLS.has(baseName(w.text))));
      if (pipeIn && shellLike && downloading.has(cmd.pipe.id)) {
        f.add("host-escape-risk", "a downloaded script is piped into an interpreter");
        f.add("networked", "the script comes from the network");
      }
    }
    if (name === "cd" || name === "pushd") {
      const t = words[1];
      const key = cmd.scope.join(".");
      if (!t || t.tilde) cwdByScope.set(key, "/~");
      else if (!t.dynamic) {
        cwdByScope.set(
          key,
          t.text.startsWith("/") ? normalize(t.text) : normalize(`${cwd}/${t.text}`),
        );
      }
    }
    walker.out.push({
      text: text || words.map((w) => w.text).join(" "),
      fullText: [...cmd.assignments, ...words.map((w) => w.text)].join(" "),
      categories: sortCats(f.cats),
      reasons: f.reasons.filter((r) => !r.startsWith("unparseable:")),
      why: f.why,
    });
    if (f.reasons.some((r) => r.startsWith("unparseable:"))) {
      walker.out[walker.out.length - 1]!.reasons.push(
        f.reasons.find((r) => r.startsWith("unparseable:"))!,
      );
    }
  }
}

function sortCats(cats: Set<Category>): Category[] {
  const list = CATEGORIES.filter((c) => cats.has(c));
  return list.length > 1 ? list.filter((c) => c !== "read-only") : list;
}

/** Classifies an argv (run without a shell) or a shell string. */
export function classify(
  input: { argv?: string[]; shell?: string },
  ctx: ClassifyContext,
): Classification {
  const walker: Walker = {
    ctx: { root: normalize(ctx.root), cwd: normalize(ctx.cwd) },
    out: [],
    depth: 0,
  };
  if (input.shell !== undefined) {
    const r = parseShell(input.shell);
    if (!r.ok) {
      return {
        ok: false,
        error: r.error,
        categories: [],
        commands: [],
        reasons: [`the command cannot be parsed: ${r.error}`],
      };
    }
    walkList(r.commands, walker, walker.ctx.cwd);
  } else {
    const argv = input.argv ?? [];
    const cmd: SimpleCommand = {
      argv,
      words: argv.map(literalWord),
      assignments: [],
      assignmentWords: [],
      redirects: [],
      background: false,
      pipe: null,
      scope: [],
    };
    walkList([cmd], walker, walker.ctx.cwd);
  }
  const all = new Set<Category>();
  const reasons: string[] = [];
  let unparseable: string | undefined;
  for (const c of walker.out) {
    for (const cat of c.categories) all.add(cat);
    for (const r of c.reasons) {
      if (r.startsWith("unparseable:")) unparseable = r.slice(12);
      else if (!reasons.includes(r)) reasons.push(r);
    }
    c.reasons = c.reasons.filter((r) => !r.startsWith("unparseable:"));
  }
  return {
    ok: unparseable === undefined,
    ...(unparseable !== undefined ? { error: unparseable } : {}),
    categories: sortCats(all),
    commands: walker.out,
    reasons,
  };
}
