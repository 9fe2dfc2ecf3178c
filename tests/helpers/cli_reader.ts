/**
 * Test-only `ObjectReader` over the real git CLI: objects through one
 * long-lived `git cat-file --batch`, refs and revisions through
 * `git rev-parse` / `git symbolic-ref`. Slow but obviously correct; it lets
 * writer and merge tests run without the native reader. Call `dispose()`
 * (awaitable) at the end of a test so no child process leaks.
 */
import { VibeError } from "../../src/errors.ts";
import type {
  Commit,
  HeadState,
  ObjectReader,
  ObjectType,
  RawObject,
  Signature,
  TreeEntry,
} from "../../src/git/object_store.ts";
import type { Oid } from "../../src/types.ts";

const dec = new TextDecoder();

export class CliReader implements ObjectReader {
  readonly #gitDir: string;
  #child: Deno.ChildProcess | null = null;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #stdout: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #buf = new Uint8Array(0);
  #queue: Promise<unknown> = Promise.resolve();
  /** Number of readTree calls, for O(changes) assertions. */
  treeReads = 0;
  blobReads = 0;

  constructor(gitDir: string) {
    this.#gitDir = gitDir;
  }

  #start(): void {
    if (this.#child) return;
    this.#child = new Deno.Command("git", {
      args: [`--git-dir=${this.#gitDir}`, "cat-file", "--batch"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stdout = this.#child.stdout.getReader();
  }

  async #fill(need: number): Promise<void> {
    while (this.#buf.length < need) {
      const { value, done } = await this.#stdout!.read();
      if (done) throw new Error("git cat-file --batch exited");
      const next = new Uint8Array(this.#buf.length + value.length);
      next.set(this.#buf);
      next.set(value, this.#buf.length);
      this.#buf = next;
    }
  }

  async #line(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        const line = dec.decode(this.#buf.subarray(0, nl));
        this.#buf = this.#buf.subarray(nl + 1);
        return line;
      }
      await this.#fill(this.#buf.length + 1);
    }
  }

  #batch(oid: Oid): Promise<RawObject | null> {
    const run = async () => {
      this.#start();
      await this.#stdin!.write(new TextEncoder().encode(`${oid}\n`));
      const header = await this.#line();
      if (header.endsWith(" missing") || header.endsWith(" ambiguous")) return null;
      const [, type, size] = header.split(" ");
      const n = Number(size);
      await this.#fill(n + 1);
      const data = this.#buf.slice(0, n);
      this.#buf = this.#buf.subarray(n + 1);
      return { type: type as ObjectType, data };
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => {});
    return p;
  }

  async readObject(oid: Oid): Promise<RawObject> {
    const obj = await this.#batch(oid);
    if (!obj) throw new VibeError("ENOENT", `Cannot read object "${oid}": not found`);
    return obj;
  }

  async readBlob(oid: Oid): Promise<Uint8Array> {
    this.blobReads++;
    const obj = await this.readObject(oid);
    if (obj.type !== "blob") throw new VibeError("EINVAL", `Object "${oid}" is not a blob`);
    return obj.data;
  }

  async blobSize(oid: Oid): Promise<number> {
    return (await this.readBlob(oid)).length;
  }

  async readTree(oid: Oid): Promise<TreeEntry[]> {
    this.treeReads++;
    const obj = await this.readObject(oid);
    if (obj.type !== "tree") throw new VibeError("EINVAL", `Object "${oid}" is not a tree`);
    const entries: TreeEntry[] = [];
    const d = obj.data;
    let pos = 0;
    while (pos < d.length) {
      const sp = d.indexOf(32, pos);
      const nul = d.indexOf(0, sp);
      const mode = parseInt(dec.decode(d.subarray(pos, sp)), 8);
      const name = dec.decode(d.subarray(sp + 1, nul));
      const oidHex = [...d.subarray(nul + 1, nul + 21)]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
      entries.push({ name, mode, oid: oidHex });
      pos = nul + 21;
    }
    return entries;
  }

  async readCommit(oid: Oid): Promise<Commit> {
    const obj = await this.readObject(oid);
    if (obj.type !== "commit") throw new VibeError("EINVAL", `Object "${oid}" is not a commit`);
    const text = dec.decode(obj.data);
    const split = text.indexOf("\n\n");
    const headers = text.slice(0, split).split("\n");
    const parents: Oid[] = [];
    let tree = "";
    let author: Signature | null = null;
    let committer: Signature | null = null;
    for (const h of headers) {
      const sp = h.indexOf(" ");
      const key = h.slice(0, sp);
      const value = h.slice(sp + 1);
      if (key === "tree") tree = value;
      else if (key === "parent") parents.push(value);
      else if (key === "author") author = parseSig(value);
      else if (key === "committer") committer = parseSig(value);
    }
    return {
      oid,
      tree,
      parents,
      author: author!,
      committer: committer!,
      message: text.slice(split + 2),
    };
  }

  async hasObject(oid: Oid): Promise<boolean> {
    return (await this.#batch(oid)) !== null;
  }

  async #git(...args: string[]): Promise<{ code: number; out: string }> {
    const o = await new Deno.Command("git", {
      args: [`--git-dir=${this.#gitDir}`, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    return { code: o.code, out: dec.decode(o.stdout).trim() };
  }

  async resolveRef(name: string): Promise<Oid | null> {
    const r = await this.#git("rev-parse", "--verify", "-q", name);
    return r.code === 0 ? r.out : null;
  }

  async readHead(): Promise<HeadState> {
    const sym = await this.#git("symbolic-ref", "-q", "HEAD");
    return { branch: sym.code === 0 ? sym.out : null, oid: await this.resolveRef("HEAD") };
  }

  async revParse(rev: string): Promise<Oid> {
    const r = await this.#git("rev-parse", "--verify", "-q", `${rev}^{commit}`);
    if (r.code !== 0) throw new VibeError("USAGE", `Cannot resolve "${rev}": unknown revision`);
    return r.out;
  }

  refresh(): void {}

  close(): void {
    void this.dispose();
  }

  /** Ends the cat-file process and waits for it. */
  async dispose(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    await this.#stdin!.close().catch(() => {});
    await this.#stdout!.cancel().catch(() => {});
    await child.status;
  }
}

function parseSig(value: string): Signature {
  const m = /^(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(value);
  if (!m) throw new VibeError("CORRUPT", `Bad signature "${value}"`);
  const minutes = Number(m[5]) * 60 + Number(m[6]);
  return {
    name: m[1]!,
    email: m[2]!,
    timestamp: Number(m[3]),
    tzOffsetMinutes: m[4] === "-" ? -minutes : minutes,
  };
}
