import assert from "node:assert/strict";
import { FileIoModes } from "./io_modes.ts";

function registry(results: (number | string)[]) {
  const calls: string[] = [];
  return {
    calls,
    reg: {
      open: (path: string) => {
        calls.push(`open ${path}`);
        return results.shift() ?? 99;
      },
      close: (id: number) => {
        calls.push(`close ${id}`);
      },
    },
  };
}

Deno.test("io modes: passthrough pins an inode, shares one backing id, closes it with the last", () => {
  const { calls, reg } = registry([7]);
  const io = new FileIoModes(reg, () => {});
  assert.deepEqual(io.open(1, 10, true, "/c/blob"), { mode: "passthrough", backingId: 7 });
  assert.equal(io.pinned(10), true);
  assert.deepEqual(io.open(2, 10, true, "/c/blob"), { mode: "passthrough", backingId: 7 });
  assert.deepEqual(io.open(3, 10, true, null), { mode: "passthrough", backingId: 7 }, "shared");
  assert.throws(() => io.open(4, 10, false, null), /pinned/);
  assert.deepEqual(io.counts(), { cache: 0, passthrough: 3 });
  io.release(1);
  io.release(2);
  assert.deepEqual(calls, ["open /c/blob"]);
  io.release(3);
  assert.deepEqual(calls, ["open /c/blob", "close 7"]);
  assert.equal(io.pinned(10), false);
  io.release(3); // a second RELEASE of the same fh changes nothing
  assert.deepEqual(io.open(5, 10, false, null), { mode: "cache", backingId: 0 });
});

Deno.test("io modes: page-cache opens keep passthrough away until they are released", () => {
  const { calls, reg } = registry([3]);
  const io = new FileIoModes(reg, () => {});
  assert.equal(io.open(1, 5, false, null).mode, "cache");
  assert.equal(io.open(2, 5, true, "/c/b").mode, "cache", "never mixed with page-cache opens");
  assert.deepEqual(calls, []);
  io.release(1);
  io.release(2);
  assert.equal(io.open(3, 5, true, "/c/b").mode, "passthrough");
  assert.equal(io.open(4, 6, true, null).mode, "cache", "no backing file: page cache");
});

Deno.test("io modes: a stacked cache filesystem (ELOOP) turns passthrough off", () => {
  const { calls, reg } = registry(["ELOOP"]);
  const io = new FileIoModes(reg, () => {});
  assert.equal(io.open(1, 1, true, "/overlay/c/x").mode, "cache");
  assert.equal(io.open(2, 2, true, "/overlay/c/y").mode, "cache");
  assert.deepEqual(calls, ["open /overlay/c/x"], "asked once");
});

Deno.test("io modes: a refusal that would repeat turns passthrough off, others do not", () => {
  const logs: string[] = [];
  const { reg } = registry(["ENOENT", "EPERM", 4]);
  const io = new FileIoModes(reg, (m) => logs.push(m));
  assert.equal(io.open(1, 1, true, "/gone").mode, "cache");
  assert.equal(io.passthroughOn, true, "a missing file is not fatal");
  assert.equal(io.open(2, 2, true, "/c/x").mode, "cache");
  assert.equal(io.passthroughOn, false);
  assert.match(logs.join("\n"), /passthrough off .*EPERM/);
  assert.equal(io.open(3, 3, true, "/c/y").mode, "cache", "not asked again");
});

Deno.test("io modes: a hold keeps an inode from being pinned while a change is under way", () => {
  const { calls, reg } = registry([5]);
  const io = new FileIoModes(reg, () => {});
  const release = io.hold(9);
  assert.equal(io.open(1, 9, true, "/c/b").mode, "cache", "no passthrough during the hold");
  io.release(1);
  assert.equal(io.open(2, 9, true, "/c/b").mode, "cache", "still held");
  release();
  release(); // once only
  io.release(2);
  assert.deepEqual(calls, []);
  assert.equal(io.open(3, 9, true, "/c/b").mode, "passthrough");
  assert.deepEqual(io.counts(), { cache: 0, passthrough: 1 });
});
