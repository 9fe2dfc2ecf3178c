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
