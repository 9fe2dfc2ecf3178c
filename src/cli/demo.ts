/**
 * `vibe demo`: a scripted tour on a generated sample repository in a temp
 * dir. Three agents work in parallel vibes; two land, one conflicts.
 * Until a mount transport exists, the agents work through the Vfs directly
 * (the tour says so in one line).
 */
import { Project } from "../project/project.ts";
import { initProject } from "../project/init.ts";
import { spawnVibe, type VibeStatus } from "../project/lifecycle.ts";
import type { DiffResult } from "../project/diff.ts";
import type { PromoteResult } from "../project/promote.ts";
import type { CommitResult } from "../project/commit.ts";
import { readText, removePath, renamePath, writeFile } from "../vfs/path_ops.ts";
import type { Vfs } from "../vfs/vfs.ts";
import { VibeError } from "../errors.ts";
import { OPS } from "../service/ops.ts";
import { connectDaemon, ensureDaemon, runOp } from "../service/client.ts";
import { fuseUnavailableReason } from "../service/mounts.ts";

/** What an agent does to its vibe: through a mount (plain file I/O) or through the Vfs. */
interface Agent {
  read(path: string): Promise<string>;
  write(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

function mountAgent(root: string): Agent {
  return {
    read: (p) => Deno.readTextFile(`${root}/${p}`),
    write: (p, t) => Deno.writeTextFile(`${root}/${p}`, t),
    remove: (p) => Deno.remove(`${root}/${p}`),
    rename: (a, b) => Deno.rename(`${root}/${a}`, `${root}/${b}`),
  };
}

function vfsAgent(vfs: Vfs): Agent {
  const me = { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
  return {
    read: (p) => readText(vfs, p),
    write: async (p, t) => void await writeFile(vfs, p, t, me),
    remove: (p) => removePath(vfs, p),
    rename: (a, b) => renamePath(vfs, a, b),
  };
}

const enc = new TextEncoder();
const useColor = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[0m` : s);

function step(title: string): void {
  console.log(`\n${bold(`== ${title}`)}`);
}

async function git(cwd: string, args: string[]): Promise<string> {
  const o = await new Deno.Command("git", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: {
      GIT_AUTHOR_NAME: "Vibe Demo",
      GIT_AUTHOR_EMAIL: "demo@vibe.invalid",
      GIT_COMMITTER_NAME: "Vibe Demo",
      GIT_COMMITTER_EMAIL: "demo@vibe.invalid",
    },
  }).output();
  if (!o.success) {
    throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(o.stderr)}`);
  }
  return new TextDecoder().decode(o.stdout);
}

const SAMPLE: Record<string, string> = {
  "README.md": "# Sample service\n\nA tiny service used by the vibe demo.\n\nStatus: alpha\n",
  "src/server.ts":
    'import { greet } from "./util.ts";\n\nexport function handle(name: string): string {\n  return greet(name);\n}\n',
  "src/util.ts":
    'export function greet(name: string): string {\n  return "Hello, " + name;\n}\n\nexport const VERSION = "0.1.0";\n',
  "docs/old-notes.md": "These notes are obsolete.\n",
  "docs/guide.md": "# Guide\n\nRun the server.\n",
};

export async function runDemo(opts: { keep?: boolean }): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "vibe-demo-" });
  // The sample repo's commits are signed by a demo identity, whatever the user's config says.
  const identity: Record<string, string> = {
    GIT_AUTHOR_NAME: "Vibe Demo",
    GIT_AUTHOR_EMAIL: "demo@vibe.invalid",
    GIT_COMMITTER_NAME: "Vibe Demo",
    GIT_COMMITTER_EMAIL: "demo@vibe.invalid",
  };
  const saved = Object.keys(identity).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(identity)) Deno.env.set(k, v);
  let project: Project | null = null;
  let mountRoot: string | null = null;
  try {
    step(`A sample repository in ${root}`);
    await git(root, ["init", "-q", "-b", "main"]);
    for (const [path, text] of Object.entries(SAMPLE)) {
      await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/") || "."}`, {
        recursive: true,
      });
      await Deno.writeTextFile(`${root}/${path}`, text);
    }
    await git(root, ["add", "-A"]);
    await git(root, ["commit", "-q", "-m", "Initial sample service"]);
    console.log(dim((await git(root, ["log", "--oneline"])).trimEnd()));

    step("vibe init");
    const init = await initProject(root);
    console.log(
      `indexed ${init.index?.files} files (${init.index?.newTrees} trees) in ${
        Math.round(init.ms)
      } ms`,
    );

    step("vibe spawn alice, bob, carol");
    // VIBE_DEMO_NO_MOUNT=1 shows the Vfs path on a machine that could mount.
    const noMount = Deno.env.get("VIBE_DEMO_NO_MOUNT")
      ? "VIBE_DEMO_NO_MOUNT is set"
      : fuseUnavailableReason();
    let agents: Record<string, Agent>;
    if (noMount === null) {
      // Mounted: the daemon serves every vibe; agents use plain file I/O on the mounts.
      mountRoot = await Deno.makeTempDir({ prefix: "vibe-demo-mnt-" });
      const client = await ensureDaemon(root);
      try {
        agents = {};
        for (const id of ["alice", "bob", "carol"]) {
          const v = await runOp(root, "spawn", { id }) as { baseCommit: string };
          const m = await client.call("mount", { id, path: `${mountRoot}/${id}` }) as {
            path: string;
          };
          console.log(`spawned ${id} on ${v.baseCommit.slice(0, 12)}, mounted at ${m.path}`);
          agents[id] = mountAgent(m.path);
        }
      } finally {
        await client.close();
      }
    } else {
      console.log(dim(`mounting is not possible here (${noMount}); agents work through the Vfs`));
      project = await Project.open(root);
      agents = {};
      for (const id of ["alice", "bob", "carol"]) {
        const v = await spawnVibe(project, id);
        console.log(`spawned ${id} on ${v.baseCommit.slice(0, 12)}`);
        agents[id] = vfsAgent(project.workspace(id));
      }
    }

    step("Three agents change files in parallel");
    const alice = agents["alice"]!;
    const bob = agents["bob"]!;
    const carol = agents["carol"]!;
    await Promise.all([
      (async () => {
        await alice.write(
          "README.md",
          (await alice.read("README.md")).replace("Status: alpha", "Status: beta"),
        );
        await alice.write(
          "src/health.ts",
          'export function health(): string {\n  return "ok";\n}\n',
        );
      })(),
      (async () => {
        await bob.write(
          "src/util.ts",
          (await bob.read("src/util.ts")).replace('"0.1.0"', '"0.2.0"'),
        );
        await bob.remove("docs/old-notes.md");
        await bob.rename("docs/guide.md", "docs/GUIDE.md");
      })(),
      (async () => {
        await carol.write(
          "README.md",
          (await carol.read("README.md")).replace("Status: alpha", "Status: stable"),
        );
      })(),
    ]);
    console.log("alice: README.md (status line), new src/health.ts");
    console.log(
      "bob:   src/util.ts (version), rm docs/old-notes.md, mv docs/guide.md docs/GUIDE.md",
    );
    console.log("carol: README.md (the same status line as alice)");

    // Lifecycle operations: in this process with the Vfs, else through the daemon.
    const op = (name: string, params: Record<string, unknown>) =>
      project ? OPS[name]!(project, params, null) : runOp(root, name, params);

    step("vibe status");
    const changed = new Map<string, Set<string>>();
    for (const id of ["alice", "bob", "carol"]) {
      const [s] = await op("status", { id }) as VibeStatus[];
      changed.set(id, new Set(s!.changes.map((c) => c.path)));
      console.log(`${id}: ${s!.changes.map((c) => `${c.status} ${c.path}`).join(", ")}`);
    }

    step("Overlapping paths (who would conflict with whom)");
    const ids = [...changed.keys()];
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = changed.get(ids[i]!)!;
        const both = [...changed.get(ids[j]!)!].filter((p) => a.has(p));
        console.log(`${ids[i]} x ${ids[j]}: ${both.length ? both.join(", ") : "none"}`);
      }
    }

    step("vibe diff bob (exactly what git diff prints)");
    const d = await op("diff", { id: "bob" }) as DiffResult;
    await Deno.stdout.write(enc.encode(d.output));

    step("vibe promote + vibe commit alice (fast-forward)");
    let p = await op("promote", {
      id: "alice",
      message: "Mark beta; add health check",
    }) as PromoteResult;
    console.log(`refs/vibes/alice = ${p.commit.slice(0, 12)}`);
    let c = await op("commit", { id: "alice", branch: "main" }) as CommitResult;
    console.log(`main: ${c.oldTip.slice(0, 12)} -> ${c.newTip.slice(0, 12)} (${c.kind})`);

    step("vibe promote + vibe commit bob (main moved: clean 3-way merge)");
    p = await op("promote", { id: "bob", message: "Bump version; tidy docs" }) as PromoteResult;
    console.log(`refs/vibes/bob = ${p.commit.slice(0, 12)}`);
    c = await op("commit", { id: "bob", branch: "main" }) as CommitResult;
    console.log(`main: ${c.oldTip.slice(0, 12)} -> ${c.newTip.slice(0, 12)} (${c.kind})`);

    step("vibe promote + vibe commit carol (same lines as alice: refused, nothing lost)");
    await op("promote", { id: "carol", message: "Mark stable" });
    try {
      await op("commit", { id: "carol", branch: "main" });
      console.log("unexpected: carol landed");
    } catch (e) {
      if (!(e instanceof VibeError) || e.code !== "CONFLICT") throw e;
      console.log(`refused: ${e.message}`);
      console.log(`carol still has: ${(await carol.read("README.md")).split("\n")[4]}`);
    }

    step("git log --oneline --graph --all");
    console.log((await git(root, ["log", "--oneline", "--graph", "--all"])).trimEnd());
    step("git fsck --strict");
    await git(root, ["fsck", "--strict", "--no-progress"]);
    console.log("clean");
  } finally {
    project?.close();
    if (mountRoot) {
      const client = await connectDaemon(`${root}/.vibe`);
      if (client) {
        await client.call("stop").catch(() => {});
        await client.close();
        for (let i = 0; i < 100 && (await connectDaemon(`${root}/.vibe`)); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await Deno.remove(mountRoot, { recursive: true }).catch(() => {});
    }
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    if (opts.keep) console.log(`\nKept the sample repository: ${root}`);
    else await Deno.remove(root, { recursive: true });
  }
}
