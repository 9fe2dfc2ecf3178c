/**
 * `vibe exec` end to end through the real CLI, in vibes mounted by the real
 * daemon (FUSE): policy decisions, checkpoints and undo, the exact change
 * report, quotas seen by programs as "Disk quota exceeded", the audit log,
 * approvals, ephemeral vibes, timeouts, per-vibe environment, and 20
 * concurrent execs. Every test stops its daemon and detaches its mounts.
 */
import assert from "node:assert/strict";
import { git, SAMPLE_FILES } from "./helpers/repo.ts";
import { fuseUnavailable, mountPoints, vibe, vibeOk, withCliProject } from "./helpers/vibe_cli.ts";

const skip = fuseUnavailable();
const ignore = skip !== null;
if (skip) console.warn(`exec_test: skipped: ${skip}`);

const withProject = (fn: (repo: string, mnt: string) => Promise<void>) =>
  withCliProject("vibe-exec-mnt-", fn);

interface Env {
  schema: string;
  vibe: string;
  decision: { action: string; categories: string[]; reason: string; token?: string };
  checkpoint: string | null;
  ran: boolean;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stdout_bytes: number;
  changed: {
    path: string;
    kind: string;
    bytes: number;
    from?: string;
    type: string;
    execChanged?: boolean;
  }[];
  changed_exact: boolean;
  kept?: boolean;
  audit_seq: number;
  mount: string;
}

async function execJson(repo: string, ...args: string[]): Promise<{ code: number; env: Env }> {
  const r = await vibe(repo, "exec", ...args);
  let env: Env;
  try {
    env = JSON.parse(r.stdout);
  } catch {
    throw new Error(
      `vibe exec ${args.join(" ")} printed no envelope (exit ${r.code}):\n${r.stderr}${r.stdout}`,
    );
  }
  return { code: r.code, env };
}

const brief = (cs: Env["changed"]) =>
  cs.map((c) => `${c.kind} ${c.path}${c.from ? ` <- ${c.from}` : ""}`);

Deno.test({
  name: "exec: change report, checkpoint and undo, envelope schema",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "e1", "--mount", `${mnt}/e1`);
      // Read-only: allowed, no checkpoint, nothing changed.
      const ro = await execJson(repo, "e1", "--json", "--", "cat", "README.md");
      assert.equal(ro.code, 0);
      assert.equal(ro.env.schema, "vibe.exec/1");
      assert.equal(ro.env.vibe, "e1");
      assert.equal(ro.env.mount, `${mnt}/e1`);
      assert.equal(ro.env.decision.action, "allow");
      assert.deepEqual(ro.env.decision.categories, ["read-only"]);
      assert.equal(ro.env.checkpoint, null);
      assert.equal(ro.env.stdout, SAMPLE_FILES["README.md"]);
      assert.deepEqual(ro.env.changed, []);

      // A mutating shell command: adds, edits, renames, deletes and chmods.
      const script = [
        "echo new > added.txt",
        "echo edited >> README.md",
        "mv src/main.ts src/app.ts",
        "rm docs/guide.md",
        "chmod +x src/lib/util.ts",
        "ln -s README.md link2",
        "mkdir -p build && echo tmp > build/t && rm -r build",
      ].join(" && ");
      const mu = await execJson(repo, "e1", "--json", "--shell", script);
      assert.equal(mu.code, 0, mu.env.stderr);
      assert.equal(mu.env.decision.action, "allow_with_checkpoint");
      assert.ok(mu.env.checkpoint?.startsWith("exec-"));
      assert.equal(mu.env.changed_exact, true);
      assert.deepEqual(brief(mu.env.changed), [
        "modified README.md",
        "added added.txt",
        "deleted docs/guide.md",
        "added link2",
        "renamed src/app.ts <- src/main.ts",
        "modified src/lib/util.ts",
      ]);
      const by = new Map(mu.env.changed.map((c) => [c.path, c]));
      assert.equal(by.get("added.txt")!.bytes, 4);
      assert.equal(by.get("README.md")!.bytes, SAMPLE_FILES["README.md"]!.toString().length + 7);
      assert.equal(by.get("src/lib/util.ts")!.execChanged, true);
      assert.equal(by.get("link2")!.type, "symlink");
      // The report agrees with git's view of the vibe.
      const st = JSON.parse(await vibeOk(repo, "status", "e1", "--json"));
      assert.deepEqual(
        st.changes.map((c: { status: string; path: string }) => `${c.status} ${c.path}`),
        [
          "M README.md",
          "A added.txt",
          "D docs/guide.md",
          "A link2",
          "A src/app.ts",
          "M src/lib/util.ts",
          "D src/main.ts",
        ],
      );

      // Undo returns to the checkpoint, through the mount.
      const u = JSON.parse(await vibeOk(repo, "undo", "e1", "--json"));
      assert.equal(u.checkpoint, mu.env.checkpoint);
      assert.equal(await Deno.readTextFile(`${mnt}/e1/README.md`), SAMPLE_FILES["README.md"]);
      assert.equal(await Deno.readTextFile(`${mnt}/e1/docs/guide.md`), "guide\n");
      await assert.rejects(Deno.stat(`${mnt}/e1/added.txt`), Deno.errors.NotFound);
      assert.equal((await Deno.stat(`${mnt}/e1/src/lib/util.ts`)).mode! & 0o111, 0);
      const after = JSON.parse(await vibeOk(repo, "status", "e1", "--json"));
      assert.deepEqual(after.changes, []);
      // Nothing more to undo.
      const none = await vibe(repo, "undo", "e1");
      assert.equal(none.code, 3);
      assert.match(none.stderr, /Nothing to undo in "e1"/);

      // The command's exit code passes through; output is captured with caps.
      const fail = await execJson(
        repo,
        "e1",
        "--json",
        "--max-output",
        "10",
        "--shell",
        "printf 0123456789ABCDEF; exit 3",
      );
      assert.equal(fail.code, 3);
      assert.equal(fail.env.exit_code, 3);
      assert.equal(fail.env.stdout, "0123456789");
      assert.equal(fail.env.stdout_truncated, true);
      assert.equal(fail.env.stdout_bytes, 16);
    });
  },
});

Deno.test({
  name:
    "exec: denied and approval-required commands do not run; approve runs once; audit holds all",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "e2", "--mount", `${mnt}/e2`);
      Deno.writeTextFileSync(
        `${repo}/.vibe/config.json`,
        JSON.stringify({
          policy: {
            rules: [{
              match: "git push*",
              action: "require_approval",
              reason: "pushing needs a person",
            }],
          },
        }),
      );
      const marker = `${mnt}/e2/should-not-exist`;
      const denied = await execJson(repo, "e2", "--json", "--shell", `sudo touch should-not-exist`);
      assert.equal(denied.code, 8);
      assert.equal(denied.env.decision.action, "deny");
      assert.ok(denied.env.decision.categories.includes("host-escape-risk"));
      assert.equal(denied.env.ran, false);
      await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
      // Human form says why.
      const human = await vibe(repo, "exec", "e2", "--", "vim", "README.md");
      assert.equal(human.code, 8);
      assert.match(human.stderr, /denied in "e2"/);

      const held = await execJson(repo, "e2", "--json", "--", "git", "push", "origin", "main");
      assert.equal(held.code, 9);
      assert.equal(held.env.decision.action, "require_approval");
      assert.match(held.env.decision.reason, /pushing needs a person/);
      const token = held.env.decision.token!;
      assert.match(token, /^[0-9a-f]{32}$/);
      // A held command can be approved: here one that writes a file.
      const held2 = await execJson(
        repo,
        "e2",
        "--json",
        "--shell",
        "git push 2>/dev/null; echo approved > ok.txt",
      );
      assert.equal(held2.code, 9);
      const ran = JSON.parse(
        (await vibe(repo, "approve", held2.env.decision.token!, "--json")).stdout,
      ) as Env;
      assert.equal(ran.ran, true);
      assert.deepEqual(brief(ran.changed), ["added ok.txt"]);
      assert.equal(await Deno.readTextFile(`${mnt}/e2/ok.txt`), "approved\n");
      const again = await vibe(repo, "approve", held2.env.decision.token!);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /used already/);
      const bogus = await vibe(repo, "approve", "0".repeat(32));
      assert.equal(bogus.code, 3);

      const audit = JSON.parse(await vibeOk(repo, "audit", "--vibe", "e2", "--json")) as {
        event: string;
        action: string;
        exitCode: number | null;
        changed: number | null;
        token: string | null;
      }[];
      assert.deepEqual(audit.map((a) => a.event), [
        "denied",
        "denied",
        "approval-required",
        "approval-required",
        "exec",
      ]);
      assert.equal(audit[4]!.changed, 1);
      assert.equal(audit[4]!.token, held2.env.decision.token);
      const text = await vibeOk(repo, "audit");
      assert.match(text, /sudo touch should-not-exist/);
      // policy show / test explain the configured rule.
      assert.match(await vibeOk(repo, "policy", "show"), /git push\*/);
      const t = JSON.parse(await vibeOk(repo, "policy", "test", "--json", "--", "git", "push"));
      assert.equal(t.action, "require_approval");
      assert.equal(token.length, 32);
    });
  },
});

Deno.test({
  name: "exec: quota stops a runaway writer with EDQUOT; status shows usage",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "e3", "--mount", `${mnt}/e3`);
      await vibeOk(repo, "quota", "e3", "--bytes", "1MiB", "--files", "50");
      const r = await execJson(
        repo,
        "e3",
        "--json",
        "--shell",
        "echo keep > keep.txt && head -c 5000000 /dev/zero > big.bin",
      );
      assert.notEqual(r.code, 0);
      assert.match(r.env.stderr, /Disk quota exceeded/);
      assert.equal(await Deno.readTextFile(`${mnt}/e3/keep.txt`), "keep\n");
      assert.equal(await Deno.readTextFile(`${mnt}/e3/README.md`), SAMPLE_FILES["README.md"]);
      const size = (await Deno.stat(`${mnt}/e3/big.bin`)).size;
      assert.ok(size <= 1 << 20, `big.bin stopped at the quota: ${size}`);
      const st = JSON.parse(await vibeOk(repo, "status", "e3", "--json"));
      assert.equal(st.quota.limit.bytes, 1 << 20);
      assert.equal(st.quota.limit.files, 50);
      assert.equal(st.quota.usage.files, 2);
      assert.match(
        await vibeOk(repo, "status", "e3"),
        /quota: \d+ of 1048576 bytes, 2 of 50 changed files/,
      );
      // Raising the quota lets the writer finish.
      await vibeOk(repo, "quota", "e3", "--bytes", "none");
      const ok = await execJson(
        repo,
        "e3",
        "--json",
        "--shell",
        "head -c 5000000 /dev/zero > big.bin",
      );
      assert.equal(ok.code, 0, ok.env.stderr);
      assert.equal((await Deno.stat(`${mnt}/e3/big.bin`)).size, 5_000_000);
    });
  },
});

Deno.test({
  name: "exec: ephemeral vibes, --create, --cwd, timeouts, per-vibe environment",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      await vibeOk(repo, "spawn", "e4", "--mount", `${mnt}/e4`);
      // Environment: the vibe's id, root and a port range of its own.
      const env1 = await execJson(
        repo,
        "e4",
        "--json",
        "--cwd",
        "src/lib",
        "--shell",
        'echo "$VIBE_ID $VIBE_ROOT $PORT $(pwd)"',
      );
      const [id1, root1, port1, pwd1] = env1.env.stdout.trim().split(" ");
      assert.equal(id1, "e4");
      assert.equal(root1, `${mnt}/e4`);
      assert.equal(pwd1, `${mnt}/e4/src/lib`);
      await vibeOk(repo, "spawn", "e5", "--mount", `${mnt}/e5`);
      const env2 = await execJson(repo, "e5", "--json", "--shell", 'echo "$PORT"');
      assert.notEqual(env2.env.stdout.trim(), port1, "parallel vibes get distinct ports");
      const esc = await vibe(repo, "exec", "e4", "--cwd", "../..", "--", "ls");
      assert.equal(esc.code, 2);
      assert.match(esc.stderr, /leaves the vibe/);

      // Timeout: the command and its children are stopped.
      const t0 = Date.now();
      const slow = await execJson(
        repo,
        "e4",
        "--json",
        "--timeout",
        "1",
        "--shell",
        "sleep 30 & sleep 30; wait",
      );
      assert.equal(slow.code, 124);
      assert.equal(slow.env.timed_out, true);
      assert.ok(Date.now() - t0 < 20_000);

      // A missing vibe needs --create.
      const missing = await vibe(repo, "exec", "e6", "--", "true");
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /add --create/);

      // Ephemeral: removed after the run unless it changed something and --keep.
      const eph = await execJson(repo, "--ephemeral", "--json", "--shell", "echo x > f.txt");
      assert.equal(eph.code, 0, eph.env.stderr);
      assert.match(eph.env.vibe, /^eph-[0-9a-f]{8}$/);
      assert.equal(eph.env.kept, false);
      assert.deepEqual(brief(eph.env.changed), ["added f.txt"]);
      const ls = JSON.parse(await vibeOk(repo, "ls", "--json")) as { id: string }[];
      assert.ok(!ls.some((v) => v.id === eph.env.vibe), "the ephemeral vibe is gone");
      assert.ok(!mountPoints().includes(eph.env.mount), "and unmounted");
      await assert.rejects(Deno.stat(eph.env.mount), Deno.errors.NotFound, "its mount point too");
      const kept = await execJson(
        repo,
        "--ephemeral",
        "--keep",
        "--json",
        "--shell",
        "echo y > g.txt",
      );
      assert.equal(kept.env.kept, true);
      await vibeOk(repo, "promote", kept.env.vibe, "-m", "from an ephemeral vibe");
      assert.equal(await git(repo, "show", `refs/vibes/${kept.env.vibe}:g.txt`), "y\n");
      await vibeOk(repo, "destroy", kept.env.vibe);
    });
  },
});

Deno.test({
  name: "exec: 20 concurrent execs on 20 vibes, every envelope correct and attributable",
  ignore,
  async fn() {
    await withProject(async (repo, mnt) => {
      const ids = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, "0")}`);
      for (const id of ids) await vibeOk(repo, "spawn", id, "--mount", `${mnt}/${id}`);
      const runs = await Promise.all(
        ids.map((id) =>
          execJson(
            repo,
            id,
            "--json",
            "--shell",
            'echo "$VIBE_ID" > "own-$VIBE_ID.txt" && echo "$PORT"',
          )
        ),
      );
      const ports = new Set<string>();
      for (const [i, r] of runs.entries()) {
        const id = ids[i]!;
        assert.equal(r.code, 0, r.env.stderr);
        assert.equal(r.env.vibe, id);
        assert.deepEqual(brief(r.env.changed), [`added own-${id}.txt`]);
        assert.equal(await Deno.readTextFile(`${mnt}/${id}/own-${id}.txt`), `${id}\n`);
        ports.add(r.env.stdout.trim());
      }
      assert.equal(ports.size, 20);
      const audit = JSON.parse(await vibeOk(repo, "audit", "--json")) as {
        vibe: string;
        event: string;
      }[];
      assert.deepEqual(
        audit.filter((a) => a.event === "exec").map((a) => a.vibe).sort(),
        ids,
      );
    });
  },
});
