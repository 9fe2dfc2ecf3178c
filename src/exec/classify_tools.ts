/**
 * Classification rules for tools with subcommands: git and the JavaScript
 * package managers.
 */
import { literalWord, type Word } from "./shell_words.ts";
import { type Finding, normalize, outside } from "./classify_base.ts";

export function gitCommand(args: Word[], cwd: string, root: string, f: Finding): void {
  const a = args.map((w) => w.text);
  let i = 0;
  let dir = cwd;
  while (i < a.length && a[i]!.startsWith("-")) {
    const o = a[i]!;
    if (o === "-C" && args[i + 1]) {
      const out = outside(args[i + 1]!, cwd, root);
      if (out) f.add("host-escape-risk", `git -C ${out} works on a repository outside the vibe`);
      dir = normalize(`${cwd}/${a[i + 1]}`);
      i += 2;
    } else if (o === "-c" || o === "--git-dir" || o === "--work-tree" || o === "--namespace") {
      if (o !== "-c") {
        const out = args[i + 1] ? outside(args[i + 1]!, cwd, root) : null;
        if (out) f.add("host-escape-risk", `git ${o} ${out} is outside the vibe`);
      }
      i += 2;
    } else {
      if (o.startsWith("--git-dir=") || o.startsWith("--work-tree=")) {
        const w = literalWord(o.slice(o.indexOf("=") + 1));
        const out = outside(w, cwd, root);
        if (out) f.add("host-escape-risk", `git ${o.split("=")[0]} ${out} is outside the vibe`);
      }
      i++;
    }
  }
  void dir;
  const sub = a[i] ?? "";
  const rest = a.slice(i + 1);
  const has = (...xs: string[]) => rest.some((r) => xs.includes(r));
  const any = (re: RegExp) => rest.some((r) => re.test(r));
  const ro = (why: string) => f.add("read-only", `git ${sub} ${why}`.replace("  ", " "));
  switch (sub) {
    case "":
    case "--version":
    case "version":
    case "help":
      ro("only prints");
      return;
    case "status":
    case "log":
    case "diff":
    case "show":
    case "blame":
    case "rev-parse":
    case "ls-files":
    case "ls-tree":
    case "grep":
    case "describe":
    case "shortlog":
    case "cat-file":
    case "rev-list":
    case "show-ref":
    case "for-each-ref":
    case "count-objects":
    case "fsck":
    case "whatchanged":
    case "reflog":
    case "check-ignore":
    case "merge-base":
    case "name-rev":
      ro("only reads");
      return;
    case "branch":
      if (has("-D") || any(/^--delete$/) && has("--force")) {
        f.add("destructive", "git branch -D deletes a branch and its unmerged commits");
      } else if (rest.filter((r) => !r.startsWith("-")).length > 0 || has("-d", "-m", "-M", "-c")) {
        f.add("mutating", "git branch changes branches");
      } else ro("lists branches");
      return;
    case "tag":
      if (rest.length === 0 || has("-l", "--list")) ro("lists tags");
      else f.add("mutating", "git tag changes tags");
      return;
    case "remote":
      if (rest.length === 0 || has("-v", "show", "get-url")) ro("lists remotes");
      else if (rest[0] === "update") f.add("networked", "git remote update fetches");
      else f.add("mutating", "git remote changes the configuration");
      return;
    case "config":
      if (has("--get", "--list", "-l", "--get-all", "--get-regexp") || rest.length === 1) {
        ro("reads the configuration");
      } else f.add("mutating", "git config changes the configuration");
      return;
    case "stash":
      if (rest[0] === "list" || rest[0] === "show") ro("only reads");
      else if (rest[0] === "drop" || rest[0] === "clear") {
        f.add("destructive", `git stash ${rest[0]} discards stashed work`);
      } else f.add("mutating", "git stash changes the worktree");
      return;
    case "clone":
    case "fetch":
    case "pull":
    case "ls-remote":
      f.add("networked", `git ${sub} talks to a remote`);
      if (sub !== "ls-remote") f.add("mutating", `git ${sub} writes objects and files`);
      return;
    case "push":
      f.add("networked", "git push talks to a remote");
      if (has("--force", "-f", "--force-with-lease", "--delete", "--mirror") || any(/^\+/)) {
        f.add("destructive", "a forced push can drop commits on the remote");
      }
      return;
    case "submodule":
      if (rest[0] === "status" || rest.length === 0) ro("only reads");
      else {
        f.add("networked", "git submodule fetches");
        f.add("mutating", "git submodule writes files");
      }
      return;
    case "reset":
      if (has("--hard", "--merge", "--keep")) {
        f.add("destructive", "git reset --hard discards changes");
      } else f.add("mutating", "git reset moves HEAD or the index");
      return;
    case "clean":
      if (any(/^-[a-zA-Z]*[fxXd]/) || has("--force")) {
        f.add("destructive", "git clean deletes untracked files");
      } else ro("without -f only lists");
      return;
    case "checkout":
    case "restore":
      if (has("--", ".") || has("-f", "--force") || sub === "restore") {
        f.add("destructive", `git ${sub} overwrites changes in the worktree`);
      } else f.add("mutating", `git ${sub} changes the worktree`);
      return;
    case "rm":
      f.add("destructive", "git rm deletes files");
      return;
    case "commit":
      f.add("mutating", "git commit records changes");
      if (
        !rest.some((r) =>
          /^(-m|--message|-F|--file|--no-edit|-C|--reuse-message|--fixup|--squash)(=|$)/.test(r) ||
          /^-[a-zA-Z]*m/.test(r) || /^-[a-zA-Z]*F/.test(r)
        )
      ) f.add("interactive", "git commit without -m opens an editor");
      if (has("-p", "--patch", "--interactive")) {
        f.add("interactive", "git commit -p asks per hunk");
      }
      return;
    case "add":
      f.add("mutating", "git add stages changes");
      if (has("-p", "--patch", "-i", "--interactive", "-e", "--edit")) {
        f.add("interactive", `git add ${rest.find((r) => r.startsWith("-"))} asks a person`);
      }
      return;
    case "rebase":
      f.add("mutating", "git rebase rewrites commits");
      if (has("-i", "--interactive")) f.add("interactive", "git rebase -i opens an editor");
      return;
    case "merge":
      f.add("mutating", "git merge changes the branch");
      return;
    default:
      f.add("mutating", `git ${sub} may change the repository`);
  }
}

export function pkgCommand(name: string, a: string[], f: Finding): void {
  const sub = a.find((x) => !x.startsWith("-")) ?? (name === "yarn" ? "install" : "");
  if (a.length === 1 && /^(--version|-v|-V|--help)$/.test(a[0]!)) {
    f.add("read-only", `${name} ${a[0]} only prints`);
    return;
  }
  if (
    /^(install|i|ci|add|update|upgrade|up|remove|rm|uninstall|un|dedupe|prune|link|rebuild)$/.test(
      sub,
    ) || (name === "yarn" && a.length === 0)
  ) {
    f.add("networked", `${name} ${sub} downloads packages`);
    f.add("mutating", `${name} ${sub} changes node_modules`);
  } else if (
    /^(publish|unpublish|deprecate|login|logout|adduser|dist-tag|owner|access)$/.test(sub)
  ) {
    f.add("networked", `${name} ${sub} changes the registry`);
    f.add("mutating", `${name} ${sub} changes published state`);
  } else if (/^(view|info|show|outdated|search|audit|ping|whoami)$/.test(sub)) {
    f.add("networked", `${name} ${sub} asks the registry`);
    f.add("read-only", `${name} ${sub} only reads`);
  } else if (
    /^(ls|list|why|explain|config|get|root|bin|prefix|help)$/.test(sub) && !a.includes("set")
  ) {
    f.add("read-only", `${name} ${sub} only reads`);
  } else if (/^(exec|x|dlx|create|init)$/.test(sub)) {
    f.add("networked", `${name} ${sub} may download a package`);
    f.add("mutating", `${name} ${sub} runs a package`);
  } else {
    f.add("mutating", `${name} ${sub || "run"} runs project scripts`);
  }
}
