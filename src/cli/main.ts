/**
 * The `vibe` command line. Command modules are imported lazily inside their
 * actions, so `vibe spawn` never loads what `vibe diff` or `vibe dash` needs.
 */
import { Command, CommanderError } from "commander";
import { EXIT, reportError, takeExitCode } from "./output.ts";
import { VERSION } from "../version.ts";
import type { SpawnFlags } from "./commands.ts";

/** Arguments after "--" of `exec` and `policy test`: the command, never parsed as vibe's. */
let passthrough: string[] = [];

function build(): Command {
  const program = new Command();
  program
    .name("vibe")
    .description(
      "Parallel, isolated, copy-on-write workspaces (vibes) over one git repository.",
    )
    .version(VERSION, "-V, --version")
    .option("-C, --cwd <dir>", "run as if started in <dir>")
    .showHelpAfterError("(run with --help for usage)")
    // -C goes before the command: after it, "--cwd" is exec's own option.
    .enablePositionalOptions()
    .exitOverride();

  // The program's -C only (exec has an option of the same name).
  const cwdOf = (_cmd: Command): string => (program.opts().cwd as string | undefined) ?? Deno.cwd();

  program.command("init")
    .description("index HEAD into .vibe/metadata.db (idempotent; copies no file)")
    .option("--json", "print the result as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runInit } = await import("./commands.ts");
      await runInit(cwdOf(cmd), opts);
    });

  program.command("spawn <id>")
    .description("create a vibe (a workspace) on a base commit and mount it")
    .option("--from <rev>", "base revision (default: HEAD)")
    .option("--mount <path>", "mount point (default: /tmp/vibe/<id>)")
    .option("--no-mount", "register the vibe without mounting it")
    .option("--transport <t>", "fuse, nfs or auto (default: auto = FUSE where it works)")
    .option("--json", "print the result as JSON")
    .action(async (id: string, opts: SpawnFlags, cmd: Command) => {
      const { runSpawn } = await import("./commands.ts");
      await runSpawn(cwdOf(cmd), id, opts);
    });

  program.command("mount <id>")
    .description("mount (reattach) a vibe's view")
    .option("--mount <path>", "mount point (default: /tmp/vibe/<id>)")
    .option("--transport <t>", "fuse, nfs or auto")
    .option("--json", "print the result as JSON")
    .action(
      async (
        id: string,
        opts: { mount?: string; transport?: string; json?: boolean },
        cmd: Command,
      ) => {
        const { runMount } = await import("./commands.ts");
        await runMount(cwdOf(cmd), id, opts);
      },
    );

  program.command("unmount <id>")
    .description("detach a vibe's view (its data stays)")
    .option("--json", "print the result as JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { runUnmount } = await import("./commands.ts");
      await runUnmount(cwdOf(cmd), id, opts);
    });

  program.command("serve <id>")
    .description("export a vibe without mounting it locally (for VMs, containers, tests)")
    .option("--nfs", "over NFSv3 (NFS and MOUNT on one port)")
    .option("--port <port>", "port to listen on (default: a free one)")
    .option("--hostname <host>", "address to listen on (default 127.0.0.1; others get a warning)")
    .option("--stop", "stop serving it")
    .option("--json", "print the result as JSON")
    .action(
      async (
        id: string,
        opts: { nfs?: boolean; port?: string; hostname?: string; stop?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const { runServe } = await import("./commands.ts");
        await runServe(cwdOf(cmd), id, opts);
      },
    );

  const daemon = program.command("daemon")
    .description("the per-project daemon that serves mounted vibes");
  daemon.command("run").description("run the daemon in the foreground")
    .action(async (_opts: unknown, cmd: Command) => {
      const { runDaemon } = await import("./daemon_cmd.ts");
      await runDaemon(cwdOf(cmd));
    });
  daemon.command("start").description("start the daemon in the background")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runDaemonStart } = await import("./daemon_cmd.ts");
      await runDaemonStart(cwdOf(cmd), opts);
    });
  daemon.command("status").description("whether it runs and what it serves")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runDaemonStatus } = await import("./daemon_cmd.ts");
      await runDaemonStatus(cwdOf(cmd), opts);
    });
  daemon.command("stop").description("unmount every vibe and stop (they remount on next start)")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runDaemonStop } = await import("./daemon_cmd.ts");
      await runDaemonStop(cwdOf(cmd), opts);
    });
  daemon.command("logs").description("print the end of the daemon log")
    .option("-n, --lines <n>", "how many lines", "50")
    .action(async (opts: { lines?: string }, cmd: Command) => {
      const { runDaemonLogs } = await import("./daemon_cmd.ts");
      await runDaemonLogs(cwdOf(cmd), opts);
    });

  program.command("ls")
    .description("list vibes with base commit, age and drift")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runLs } = await import("./commands.ts");
      await runLs(cwdOf(cmd), opts);
    });

  program.command("status [id]")
    .description("changed paths of one vibe (or every vibe)")
    .option("--json", "print as JSON")
    .action(async (id: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const { runStatus } = await import("./commands.ts");
      await runStatus(cwdOf(cmd), id, opts);
    });

  program.command("diff <id>")
    .description("what changed in a vibe, exactly as git diff prints it")
    .option("--stat", "diffstat")
    .option("--name-status", "paths with A/M/D/T")
    .option("--json", "print the changed paths as JSON")
    .action(
      async (
        id: string,
        opts: { stat?: boolean; nameStatus?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const { runDiff } = await import("./commands.ts");
        await runDiff(cwdOf(cmd), id, opts);
      },
    );

  program.command("promote <id>")
    .description("turn a vibe's changes into a commit at refs/vibes/<id>")
    .option("-m, --message <msg>", "commit message")
    .option("--json", "print the result as JSON")
    .action(async (id: string, opts: { message?: string; json?: boolean }, cmd: Command) => {
      const { runPromote } = await import("./commands.ts");
      await runPromote(cwdOf(cmd), id, opts);
    });

  program.command("commit <id>")
    .description("land refs/vibes/<id> on a branch (fast-forward or clean merge), then tear down")
    .option("--branch <branch>", "target branch (default: the branch the vibe came from)")
    .option("--sync", "update the root worktree where it has no uncommitted changes")
    .option("--keep", "keep the vibe afterwards")
    .option("--json", "print the result as JSON")
    .action(
      async (
        id: string,
        opts: { branch?: string; sync?: boolean; keep?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const { runCommit } = await import("./commands.ts");
        await runCommit(cwdOf(cmd), id, opts);
      },
    );

  program.command("destroy <id>")
    .description("remove a vibe and its delta (refs/vibes/<id> stays unless --purge)")
    .option("--purge", "also delete refs/vibes/<id>")
    .option("--json", "print the result as JSON")
    .action(async (id: string, opts: { purge?: boolean; json?: boolean }, cmd: Command) => {
      const { runDestroy } = await import("./commands.ts");
      await runDestroy(cwdOf(cmd), id, opts);
    });

  program.command("snapshot <id> [name]")
    .description("take a recovery point of a vibe (default name: snap-<UTC time>)")
    .option("--json", "print the result as JSON")
    .action(
      async (id: string, name: string | undefined, opts: { json?: boolean }, cmd: Command) => {
        const { runSnapshot } = await import("./snapshot_cmd.ts");
        await runSnapshot(cwdOf(cmd), id, name, opts);
      },
    );

  program.command("snapshots <id>")
    .description("list a vibe's snapshots: name, age, changed paths, bytes, how stored")
    .option("--json", "print as JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { runSnapshots } = await import("./snapshot_cmd.ts");
      await runSnapshots(cwdOf(cmd), id, opts);
    });

  program.command("snapshot-rm <id> <name>")
    .description("delete a snapshot of a vibe")
    .option("--json", "print the result as JSON")
    .action(async (id: string, name: string, opts: { json?: boolean }, cmd: Command) => {
      const { runSnapshotRm } = await import("./snapshot_cmd.ts");
      await runSnapshotRm(cwdOf(cmd), id, name, opts);
    });

  program.command("restore <id> <name>")
    .description("return a vibe exactly to a snapshot (also while mounted)")
    .option("--json", "print the result as JSON")
    .action(async (id: string, name: string, opts: { json?: boolean }, cmd: Command) => {
      const { runRestore } = await import("./snapshot_cmd.ts");
      await runRestore(cwdOf(cmd), id, name, opts);
    });

  program.command("fork <src> <new>")
    .description("a new vibe whose starting state is <src>'s current state")
    .option("--json", "print the result as JSON")
    .action(async (src: string, dst: string, opts: { json?: boolean }, cmd: Command) => {
      const { runFork } = await import("./snapshot_cmd.ts");
      await runFork(cwdOf(cmd), src, dst, opts);
    });

  program.command("doctor")
    .description(
      "diagnose this machine and project (FUSE, NFS, privileges, reflinks, stale mounts)",
    )
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runDoctor } = await import("./doctor_cmd.ts");
      await runDoctor(cwdOf(cmd), opts);
    });

  program.command("gc")
    .description("clean up after crashes: stale mounts, orphan deltas, scratch objects, dead locks")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runGc } = await import("./doctor_cmd.ts");
      await runGc(cwdOf(cmd), opts);
    });

  program.command("dash")
    .description("live dashboard: fleet, diff monitor, conflict matrix, promotion queue")
    .option("--once", "print one snapshot and exit (no terminal UI)")
    .option("--json", "with --once: the snapshot as JSON, for scripts (read-only)")
    .action(async (opts: { once?: boolean; json?: boolean }, cmd: Command) => {
      const { runDash } = await import("../tui/main.ts");
      await runDash(cwdOf(cmd), opts);
    });

  program.command("exec [id]")
    .description(
      "run one command inside a vibe: policy, checkpoint, exact change report, audit",
    )
    .usage('[<id> | --ephemeral] [options] (-- <argv…> | --shell "<cmd>")')
    .option("--ephemeral", "use a throwaway vibe, removed after the run")
    .option("--keep", "with --ephemeral: keep the vibe when the run changed something")
    .option("--create", "make the vibe from HEAD when it does not exist")
    .option("--shell <cmd>", "run a shell command line (sh -c)")
    .option("--cwd <rel>", "working directory, relative to the vibe root")
    .option("--timeout <s>", "stop the command (and its children) after <s> seconds")
    .option("--max-output <size>", "cap of captured stdout/stderr each (default 1MiB)")
    .option("--json", "capture output and print the vibe.exec/1 envelope")
    .action(async (id: string | undefined, opts: Record<string, unknown>, cmd: Command) => {
      const { runExec } = await import("./exec_cmd.ts");
      await runExec(cwdOf(cmd), id, passthrough, opts);
    });

  program.command("approve <token>")
    .description("run a command that the policy held for approval (once)")
    .option("--json", "capture output and print the vibe.exec/1 envelope")
    .action(async (token: string, opts: { json?: boolean }, cmd: Command) => {
      const { runApprove } = await import("./exec_cmd.ts");
      await runApprove(cwdOf(cmd), token, opts);
    });

  program.command("undo <id>")
    .description("return a vibe to the checkpoint taken before its last mutating exec")
    .option("--json", "print as JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { runUndo } = await import("./exec_cmd.ts");
      await runUndo(cwdOf(cmd), id, opts);
    });

  program.command("audit")
    .description("list every exec and policy decision")
    .option("--vibe <id>", "only this vibe")
    .option("--since <when>", "from a duration ago (30m, 2h, 7d) or a date")
    .option("--limit <n>", "the newest <n> entries")
    .option("--json", "print as JSON")
    .action(async (opts: Record<string, string | boolean>, cmd: Command) => {
      const { runAudit } = await import("./exec_cmd.ts");
      await runAudit(cwdOf(cmd), opts);
    });

  const policy = program.command("policy").description("the exec policy of this project");
  policy.command("show").description("defaults and project rules (.vibe/config.json)")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runPolicyShow } = await import("./exec_cmd.ts");
      await runPolicyShow(cwdOf(cmd), opts);
    });
  policy.command("test").description("explain the decision for a command, without running it")
    .usage('[options] (-- <argv…> | --shell "<cmd>")')
    .option("--shell <cmd>", "a shell command line")
    .option("--cwd <rel>", "working directory, relative to the vibe root")
    .option("--json", "print as JSON")
    .action(async (opts: { shell?: string; cwd?: string; json?: boolean }, cmd: Command) => {
      const { runPolicyTest } = await import("./exec_cmd.ts");
      await runPolicyTest(cwdOf(cmd), passthrough, opts);
    });

  program.command("quota <id>")
    .description("show or set a vibe's quota (bytes of changed files, changed files)")
    .option("--bytes <size>", 'limit, e.g. "2GiB"; "none" unlimited; "default" the project\'s')
    .option("--files <n>", 'limit; "none" unlimited; "default" the project\'s')
    .option("--json", "print as JSON")
    .action(async (id: string, opts: Record<string, string | boolean>, cmd: Command) => {
      const { runQuota } = await import("./exec_cmd.ts");
      await runQuota(cwdOf(cmd), id, opts);
    });

  const cache = program.command("cache")
    .description("sources for untracked layers (.vibe/cache/store, content-addressed)");
  cache.command("add <path>")
    .description("copy a directory into the cache (reflink per file where possible)")
    .option(
      "--name <name>",
      'name to use in layers\' "source": "cache:<name>" (default: its base name)',
    )
    .option("--json", "print the result as JSON")
    .action(async (path: string, opts: { name?: string; json?: boolean }, cmd: Command) => {
      const { runCacheAdd } = await import("./cache_cmd.ts");
      await runCacheAdd(cwdOf(cmd), path, opts);
    });
  cache.command("ls")
    .description("list cache entries: name, digest, files, size, vibes using them")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runCacheLs } = await import("./cache_cmd.ts");
      await runCacheLs(cwdOf(cmd), opts);
    });
  cache.command("rm <name>")
    .description("forget a name (its content goes when no other name or vibe uses it)")
    .option("--json", "print the result as JSON")
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const { runCacheRm } = await import("./cache_cmd.ts");
      await runCacheRm(cwdOf(cmd), name, opts);
    });

  program.command("demo")
    .description("a scripted tour on a generated sample repository in a temp dir")
    .option("--keep", "keep the sample repository")
    .action(async (opts: { keep?: boolean }) => {
      const { runDemo } = await import("./demo.ts");
      await runDemo(opts);
    });

  return program;
}

/** Runs the CLI with `args` (without the program name); returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const program = build();
  // `exec` and `policy test` take a command after "--": it is theirs alone,
  // so commander never sees it (its own "--json" is not ours).
  const dd = args.indexOf("--");
  let first = 0; // skip the global -C/--cwd <dir>
  while (args[first] === "-C" || args[first] === "--cwd") first += 2;
  const takesCommand = args[first] === "exec" ||
    (args[first] === "policy" && args[first + 1] === "test");
  const split = takesCommand && dd >= 0;
  const ownArgs = split ? args.slice(0, dd) : args;
  passthrough = split ? args.slice(dd + 1) : [];
  const json = ownArgs.includes("--json");
  try {
    await program.parseAsync(ownArgs, { from: "user" });
    return takeExitCode();
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT.OK;
      if (e.code === "commander.help") return EXIT.OK;
      return EXIT.USAGE;
    }
    return reportError(e, json);
  }
}
