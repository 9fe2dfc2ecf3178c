/**
 * The `vibe` command line. Command modules are imported lazily inside their
 * actions, so `vibe spawn` never loads what `vibe diff` or `vibe dash` needs.
 */
import { Command, CommanderError } from "commander";
import { EXIT, reportError } from "./output.ts";
import { VERSION } from "../version.ts";
import type { SpawnFlags } from "./commands.ts";

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
    .exitOverride();

  const cwdOf = (cmd: Command): string =>
    (cmd.optsWithGlobals().cwd as string | undefined) ?? Deno.cwd();

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
  const json = args.includes("--json");
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT.OK;
      if (e.code === "commander.help") return EXIT.OK;
      return EXIT.USAGE;
    }
    return reportError(e, json);
  }
}
