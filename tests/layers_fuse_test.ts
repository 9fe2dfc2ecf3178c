/**
 * Untracked layers end to end through the real CLI, the daemon and FUSE
 * mounts: a real `node_modules` installed by npm and a `.env` in the project
 * root appear in five vibes at once, `node` resolves packages in each,
 * writes and `rm -rf` stay in their vibe, private build outputs are
 * separate, shared-readonly answers EROFS, and promote never carries any
 * of it. Every test stops its daemon and detaches its mounts in `finally`.
 */
import assert from "node:assert/strict";
import { git, makeRepo, SAMPLE_FILES, writeFiles } from "./helpers/repo.ts";
import { cleanupDaemon, fuseUnavailable, vibe, vibeOk } from "./helpers/vibe_cli.ts";

const skip = fuseUnavailable();
if (skip) console.warn(`layers_fuse_test: skipped: ${skip}`);

async function sh(cwd: string, script: string): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command("sh", {
    args: ["-c", script],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout) + d.decode(o.stderr) };
}

async function shOk(cwd: string, script: string): Promise<string> {
  const r = await sh(cwd, script);
  if (r.code !== 0) throw new Error(`${script} exited ${r.code}: ${r.out}`);
  return r.out;
}

const NODE_CHECK = `node -e 'console.log(require("is-number")(5), require("is-odd")(3), ` +
  `JSON.stringify(require("left-pad")("x", 3)))'`;

Deno.test({
  name:
    "layers (FUSE): npm's node_modules and .env in five vibes; writes, rm -rf and builds stay per vibe",
  ignore: skip !== null,
  async fn() {
    const repo = await makeRepo({
      ...SAMPLE_FILES,
      ".gitignore": "node_modules/\n.env\ndist/\npackage-lock.json\n",
      "package.json": '{"name":"app","version":"1.0.0","private":true}\n',
    });
    const mnt = await Deno.makeTempDir({ prefix: "vibe-mnt-" });
    try {
      // A real install: is-odd@3 pulls in is-number@6 nested below it.
      await shOk(
        repo,
        "npm install --no-save --no-audit --no-fund --silent is-number@7.0.0 is-odd@3.0.1 left-pad@1.3.0",
      );
      assert.match(await shOk(repo, NODE_CHECK), /^true true " {2}x"/);
      await writeFiles(repo, {
        ".env": "API_KEY=root\n",
        "tools/run.sh": "#!/bin/sh\necho tool\n",
      });
      await vibeOk(repo, "init");
      await Deno.writeTextFile(
        `${repo}/.vibe/config.json`,
        JSON.stringify({
          layers: [
            { path: "node_modules" },
            { path: ".env", mode: "copy-on-write" },
            { path: "dist", mode: "private" },
            { path: "tools", mode: "shared-readonly" },
          ],
        }),
      );
      const ids = ["l1", "l2", "l3", "l4", "l5"];
      for (const id of ids) await vibeOk(repo, "spawn", id, "--mount", `${mnt}/${id}`);
      for (const id of ids) {
        const root = `${mnt}/${id}`;
        assert.equal(await Deno.readTextFile(`${root}/.env`), "API_KEY=root\n");
        assert.match(await shOk(root, NODE_CHECK), /^true true " {2}x"/, id);
        assert.equal(
          (await Deno.readTextFile(
            `${root}/node_modules/is-odd/node_modules/is-number/package.json`,
          ))
            .includes('"version": "6.'),
          true,
        );
      }
      // A write to .env in one vibe: the root and the others keep theirs.
      await Deno.writeTextFile(`${mnt}/l1/.env`, "API_KEY=l1\n");
      assert.equal(await Deno.readTextFile(`${mnt}/l1/.env`), "API_KEY=l1\n");
      assert.equal(await Deno.readTextFile(`${repo}/.env`), "API_KEY=root\n");
      assert.equal(await Deno.readTextFile(`${mnt}/l2/.env`), "API_KEY=root\n");
      // rm -rf node_modules in one vibe leaves the others (and the root) intact.
      await shOk(`${mnt}/l3`, "rm -rf node_modules");
      assert.throws(() => Deno.statSync(`${mnt}/l3/node_modules`));
      assert.notEqual((await sh(`${mnt}/l3`, NODE_CHECK)).code, 0);
      for (const id of ["l2", "l4", "l5"]) {
        assert.match(await shOk(`${mnt}/${id}`, NODE_CHECK), /^true true " {2}x"/, id);
      }
      assert.match(await shOk(repo, NODE_CHECK), /^true true " {2}x"/);
      // Build outputs in a private layer are separate per vibe.
      await shOk(`${mnt}/l1`, "echo one > dist/out.js");
      await shOk(`${mnt}/l2`, "mkdir -p dist/sub && echo two > dist/sub/out.js");
      assert.deepEqual([...Deno.readDirSync(`${mnt}/l1/dist`)].map((e) => e.name), ["out.js"]);
      assert.deepEqual([...Deno.readDirSync(`${mnt}/l2/dist`)].map((e) => e.name), ["sub"]);
      assert.deepEqual([...Deno.readDirSync(`${mnt}/l4/dist`)], []);
      assert.throws(() => Deno.statSync(`${repo}/dist`));
      // Shared-readonly: readable, every change refused by the filesystem.
      assert.equal(await shOk(`${mnt}/l1`, "sh tools/run.sh"), "tool\n");
      assert.throws(
        () => Deno.writeTextFileSync(`${mnt}/l1/tools/run.sh`, "x", { append: true }),
        /Read-only file system/,
      );
      assert.match((await sh(`${mnt}/l1`, "touch tools/new")).out, /Read-only file system/);
      assert.match((await sh(`${mnt}/l1`, "rm tools/run.sh")).out, /Read-only file system/);
      // Status lists the layers; promote carries only real work.
      await Deno.writeTextFile(`${mnt}/l1/README.md`, "# changed in l1\n");
      const st = JSON.parse(await vibeOk(repo, "status", "l1", "--json"));
      assert.deepEqual(st.changes.map((c: { path: string }) => c.path), ["README.md"]);
      assert.deepEqual(
        st.layers.map((l: { path: string; mode: string; state: string }) =>
          `${l.path} ${l.mode} ${l.state}`
        ),
        [
          ".env copy-on-write changed",
          "dist private changed",
          "node_modules copy-on-write untouched",
          "tools shared-readonly untouched",
        ],
      );
      const text = await vibeOk(repo, "status", "l3");
      assert.match(text, /layer node_modules \(copy-on-write, from root\): removed/);
      const p = JSON.parse(await vibeOk(repo, "promote", "l1", "--json"));
      assert.deepEqual(p.changes.map((c: { path: string }) => c.path), ["README.md"]);
      const tree = await git(repo, "ls-tree", "-r", "--name-only", p.commit);
      for (const hidden of ["node_modules", ".env", "dist", "tools"]) {
        assert.ok(!tree.split("\n").some((l) => l.startsWith(hidden)), `${hidden} in ${tree}`);
      }
      const noChange = await vibe(repo, "promote", "l3");
      assert.notEqual(noChange.code, 0);
      assert.match(noChange.stderr, /Nothing to promote/);
    } finally {
      await cleanupDaemon(repo, mnt);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});
