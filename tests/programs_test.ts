/**
 * Real programs inside a FUSE-mounted vibe: git, tar, cp -a, rsync, find, du,
 * make with a C compiler, node and deno scripts, sqlite3, npm install.
 * One vibe is mounted for the whole file; each program works in its own dir.
 */
import assert from "node:assert/strict";
import { makeRepo, SAMPLE_FILES } from "./helpers/repo.ts";
import { cleanupDaemon, fuseUnavailable, vibeOk } from "./helpers/vibe_cli.ts";

const skip = fuseUnavailable();
if (skip) console.warn(`programs_test: skipped: ${skip}`);

async function sh(cwd: string, script: string): Promise<string> {
  const o = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    cwd,
    env: {
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t.invalid",
      HOME: "/root",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  if (!o.success) {
    throw new Error(
      `script failed (${o.code}):\n${script}\n${d.decode(o.stderr)}${d.decode(o.stdout)}`,
    );
  }
  return d.decode(o.stdout);
}

function has(cmd: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).outputSync()
    .success;
}

Deno.test({
  name: "programs in a mounted vibe",
  ignore: skip !== null,
  async fn(t) {
    const repo = await makeRepo(SAMPLE_FILES);
    const mnt = await Deno.makeTempDir({ prefix: "vibe-prog-" });
    const root = `${mnt}/p`;
    try {
      await vibeOk(repo, "init");
      await vibeOk(repo, "spawn", "p", "--mount", root);

      await t.step("git init, add, commit, log, status in a subdirectory", async () => {
        const out = await sh(
          root,
          `mkdir g && cd g && git init -q -b main && echo hi > a.txt && mkdir d && echo x > d/b.txt
           git add -A && git commit -q -m first && echo more >> a.txt && git commit -qam second
           git log --format=%s && git status --porcelain && git fsck --strict 2>&1`,
        );
        assert.match(out, /^second\nfirst\n/);
      });

      await t.step("tar create and extract, cp -a, rsync, diff -r", async () => {
        await sh(
          root,
          `mkdir -p t/src/a/b && for i in $(seq 1 200); do echo "file $i" > t/src/a/b/f$i.txt; done
           ln -s a/b/f1.txt t/src/link && chmod 755 t/src/a/b/f2.txt
           tar -C t -cf t/src.tar src && mkdir t/x && tar -C t/x -xf t/src.tar && diff -r t/src t/x/src
           cp -a t/src t/copy && diff -r t/src t/copy
           ${has("rsync") ? "rsync -a t/src/ t/rsynced/ && diff -r t/src t/rsynced" : "true"}`,
        );
        assert.equal(await Deno.readLink(`${root}/t/copy/link`), "a/b/f1.txt");
        assert.equal((await Deno.stat(`${root}/t/x/src/a/b/f2.txt`)).mode! & 0o777, 0o755);
      });

      await t.step("find and du over the tree", async () => {
        const n = Number((await sh(root, "find . -type f | wc -l")).trim());
        assert.ok(n >= 600, `find sees ${n} files`);
        const du = await sh(root, "du -sk t/src | cut -f1");
        assert.ok(Number(du.trim()) > 0);
      });

      await t.step("make builds a C program and rebuilds only what changed", async () => {
        await Deno.mkdir(`${root}/c`);
        await Deno.writeTextFile(
          `${root}/c/main.c`,
          '#include <stdio.h>\nint main(void){puts("built");return 0;}\n',
        );
        await Deno.writeTextFile(
          `${root}/c/Makefile`,
          "app: main.o\n\tcc -o app main.o\nmain.o: main.c\n\tcc -c main.c\n",
        );
        assert.equal(await sh(`${root}/c`, "make -s && ./app"), "built\n");
        assert.match(await sh(`${root}/c`, "make"), /up to date/);
        await sh(`${root}/c`, "sleep 1 && touch main.c");
        assert.match(await sh(`${root}/c`, "make"), /cc -c main.c/);
      });

      await t.step("node and deno scripts read and write files", async () => {
        await Deno.mkdir(`${root}/js`);
        await sh(
          `${root}/js`,
          `node -e 'const fs=require("fs");fs.writeFileSync("n.json",JSON.stringify({a:1}));fs.appendFileSync("n.json","\\n");console.log(fs.readFileSync("n.json","utf8").trim())'`,
        );
        await sh(
          `${root}/js`,
          `${Deno.execPath()} eval 'Deno.writeTextFileSync("d.txt", Deno.readTextFileSync("n.json"))'`,
        );
        assert.equal(await Deno.readTextFile(`${root}/js/d.txt`), '{"a":1}\n');
      });

      await t.step("sqlite3 creates and updates a database (WAL)", async () => {
        await Deno.mkdir(`${root}/db`);
        const out = await sh(
          `${root}/db`,
          `sqlite3 t.db 'PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1),(2);'
           sqlite3 t.db 'UPDATE t SET x = x * 10; SELECT sum(x) FROM t; PRAGMA integrity_check;'`,
        );
        assert.match(out, /30\nok/);
      });

      await t.step("a unix socket can be bound and used in the vibe", async () => {
        await Deno.mkdir(`${root}/sock`);
        const out = await sh(
          `${root}/sock`,
          `python3 -c '
import os, socket, stat
s = socket.socket(socket.AF_UNIX); s.bind("app.sock"); s.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("app.sock"); a, _ = s.accept()
c.sendall(b"ping"); print(stat.S_ISSOCK(os.lstat("app.sock").st_mode), a.recv(4).decode())
'`,
        );
        assert.equal(out.trim(), "True ping");
      });

      await t.step("npm install of a small package", async () => {
        await Deno.mkdir(`${root}/npm`);
        await Deno.writeTextFile(
          `${root}/npm/package.json`,
          '{"name":"t","version":"1.0.0","private":true}\n',
        );
        await sh(`${root}/npm`, "npm install --no-audit --no-fund --silent is-number@7.0.0");
        const out = await sh(`${root}/npm`, `node -e 'console.log(require("is-number")(5))'`);
        assert.equal(out.trim(), "true");
      });
    } finally {
      await cleanupDaemon(repo, mnt);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});
