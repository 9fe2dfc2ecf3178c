/** The CLI as a user runs it: exit codes, messages, --json, --help, the demo. */
import assert from "node:assert/strict";
import { git, GIT_ENV, makeRepo, SAMPLE_FILES } from "./helpers/repo.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function vibe(cwd: string, ...args: string[]) {
  return vibeEnv({}, cwd, ...args);
}

async function vibeEnv(env: Record<string, string>, cwd: string, ...args: string[]) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    env: { ...GIT_ENV, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

Deno.test("cli: errors outside a repo, before init, on an empty repo", async () => {
  const empty = await Deno.makeTempDir({ prefix: "vibe-cli-" });
  try {
    let r = await vibe(empty, "init");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Not a git repository/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");

    await git(empty, "init", "-q", "-b", "main");
    r = await vibe(empty, "ls");
    assert.equal(r.code, 6);
    assert.match(r.stderr, /vibe init/);

    r = await vibe(empty, "init");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no commits yet/);
    r = await vibe(empty, "spawn", "a", "--no-mount");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no commits yet/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("cli: lifecycle with --json, exit codes and plain messages", async () => {
  const dir = await makeRepo(SAMPLE_FILES);
  try {
    let r = await vibe(dir, "init", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).index.files, 8);

    r = await vibe(dir, "spawn", "a1", "--no-mount", "--transport", "nfs");
    assert.equal(r.code, 0, "--transport is ignored without a mount");
    r = await vibe(dir, "destroy", "a1");
    assert.equal(r.code, 0, r.stderr);
    r = await vibe(dir, "spawn", "a1", "--transport", "carrier-pigeon");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown transport "carrier-pigeon"/);

    r = await vibe(dir, "spawn", "a1", "--no-mount", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).id, "a1");

    r = await vibe(dir, "spawn", "a1", "--no-mount");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exists \(use "vibe destroy a1" first\)/);

    r = await vibe(dir, "spawn", "bad/id", "--no-mount");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Invalid vibe id "bad\/id"/);

    r = await vibe(dir, "spawn", "b1", "--no-mount", "--from", "nope");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown revision "nope"/);

    r = await vibe(dir, "ls", "--json");
    assert.deepEqual(JSON.parse(r.stdout).map((v: { id: string }) => v.id), ["a1"]);
    r = await vibe(dir, "ls");
    assert.match(r.stdout, /a1\s+active/);

    r = await vibe(dir, "status", "a1", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).changes, []);

    r = await vibe(dir, "status", "zz");
    assert.equal(r.code, 3);
    assert.match(r.stderr, /Vibe "zz" does not exist/);

    r = await vibe(dir, "promote", "a1");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Nothing to promote/);

    r = await vibe(dir, "diff", "a1");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");

    r = await vibe(dir, "destroy", "a1", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).id, "a1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a corrupt metadata.db gives a clear error and is left in place", async () => {
  const dir = await makeRepo(SAMPLE_FILES);
  try {
    assert.equal((await vibe(dir, "init")).code, 0);
    await Deno.writeTextFile(
      `${dir}/.vibe/metadata.db`,
      "this is not a database, it is garbage text",
    );
    for (const f of ["metadata.db-wal", "metadata.db-shm"]) {
      await Deno.remove(`${dir}/.vibe/${f}`).catch(() => {});
    }
    const r = await vibe(dir, "ls");
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /Cannot open the vibe metadata/);
    assert.equal(
      await Deno.readTextFile(`${dir}/.vibe/metadata.db`),
      "this is not a database, it is garbage text",
      "nothing overwritten",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: --help for every command", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const cmd of ["init", "spawn", "ls", "status", "diff", "promote", "commit", "destroy", "demo"]
    ) {
      const r = await vibe(dir, cmd, "--help");
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage: vibe ${cmd}`));
    }
    const r = await vibe(dir, "frobnicate");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const mode of ["mounted where possible", "through the Vfs"]) {
  Deno.test(`cli: the demo runs end to end (${mode})`, async () => {
    const r = await vibeEnv(
      mode === "through the Vfs" ? { VIBE_DEMO_NO_MOUNT: "1" } : {},
      Deno.cwd(),
      "demo",
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    if (mode === "through the Vfs") assert.match(r.stdout, /mounting is not possible here/);
    assert.match(r.stdout, /alice x carol: README\.md/);
    assert.match(r.stdout, /fast-forward/);
    assert.match(r.stdout, /refused: .*README\.md/);
    assert.match(r.stdout, /Bump version; tidy docs/);
    assert.match(r.stdout, /git fsck --strict\n.*clean/s);
    assert.ok(
      !Deno.readTextFileSync("/proc/self/mountinfo").includes("vibe-demo-mnt"),
      "unmounted",
    );
  });
}
