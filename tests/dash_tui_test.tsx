/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * The dashboard's Ink components, rendered with ink-testing-library against
 * fixed snapshots of data: every view, empty states, narrow terminals, 100
 * vibes, and the keys (views, selection, filter, sort, diff, confirmation).
 */
import assert from "node:assert/strict";
import type { DashHandlers } from "../src/tui/app.tsx";
import type {
  ChangeEvent,
  ConflictCell,
  DashSnapshot,
  QueueItem,
  VibeRow,
} from "../src/dash/types.ts";
import type { DiffLine } from "../src/dash/lines.ts";

// Ink's colours are decided when chalk loads: force them for this file only, then restore.
const hadForce = Deno.env.get("FORCE_COLOR");
Deno.env.set("FORCE_COLOR", "1");
const { render } = await import("ink-testing-library");
const { DashApp } = await import("../src/tui/app.tsx");
if (hadForce === undefined) Deno.env.delete("FORCE_COLOR");
else Deno.env.set("FORCE_COLOR", hadForce);

const T0 = 1_700_000_000_000;
const OID = (n: number) => n.toString(16).padStart(40, "0");

function vibeRow(i: number, over: Partial<VibeRow> = {}): VibeRow {
  const id = `agent-${String(i).padStart(2, "0")}`;
  return {
    id,
    state: i % 3 === 0 ? "unmounted" : "mounted",
    conflictReason: null,
    lifecycle: "active",
    mounted: i % 3 !== 0,
    transport: i % 3 === 0 ? null : "fuse",
    mountPath: i % 3 === 0 ? null : `/tmp/vibe/${id}`,
    baseCommit: OID(1),
    baseRef: "refs/heads/main",
    createdMs: T0 - 3_600_000,
    mountedMs: i % 3 === 0 ? null : T0 - 125_000,
    drift: { paths: i, added: 1, modified: Math.max(0, i - 1), deleted: 0, bytes: i * 1500 },
    lastWriteMs: T0 - i * 1000,
    lastSeq: i * 10,
    activity: Array.from({ length: 20 }, (_, k) => (k * i) % 5),
    promotedCommit: null,
    unpromoted: true,
    ...over,
  };
}

function event(vibe: string, seq: number, op: string, path: string, delta: number | null) {
  return {
    vibe,
    seq,
    timeMs: T0 - (100 - seq) * 1000,
    op,
    path,
    path2: null,
    size: 100,
    sizeDelta: delta,
  } satisfies ChangeEvent;
}

function queueItem(id: string, over: Partial<QueueItem> = {}): QueueItem {
  return {
    id,
    ref: `refs/vibes/${id}`,
    commit: OID(0xabc),
    parent: OID(1),
    subject: `Fix the parser (${id})`,
    message: `Fix the parser (${id})\n\nLonger explanation.\n`,
    author: "A <a@b>",
    files: [
      { path: "src/parser.ts", status: "M", added: 12, removed: 3 },
      { path: "assets/logo.png", status: "A", added: null, removed: null },
    ],
    added: 12,
    removed: 3,
    branch: "refs/heads/main",
    branchTip: OID(1),
    outcome: "fast-forward",
    conflicts: [],
    vibeExists: true,
    unpromoted: false,
    ...over,
  };
}

function snapshot(over: Partial<DashSnapshot> = {}): DashSnapshot {
  return {
    version: 1,
    takenMs: T0,
    project: { workTree: "/repo", headBranch: "refs/heads/main", headCommit: OID(1) },
    daemon: { running: true, pid: 4242, startedMs: T0 - 600_000 },
    activityBucketMs: 3000,
    vibes: [],
    changes: {},
    conflicts: [],
    queue: [],
    warnings: [],
    ...over,
  };
}

/** Three vibes: two overlap in one file, one is promoted and queued. */
function small(): DashSnapshot {
  const vibes = [
    vibeRow(1, { state: "conflict", conflictReason: "same lines as agent-02 in src/a.ts" }),
    vibeRow(2, { state: "conflict", conflictReason: "same lines as agent-01 in src/a.ts" }),
    vibeRow(3, { state: "promoted", promotedCommit: OID(0xabc), unpromoted: false }),
  ];
  const cells: ConflictCell[] = [
    {
      a: "agent-01",
      b: "agent-02",
      shared: 2,
      overlapping: 1,
      heat: "hot",
      paths: [{ path: "src/a.ts", overlap: true }, { path: "README.md", overlap: false }],
    },
    {
      a: "agent-01",
      b: "agent-03",
      shared: 1,
      overlapping: 0,
      heat: "warm",
      paths: [{ path: "README.md", overlap: false }],
    },
  ];
  return snapshot({
    vibes,
    conflicts: cells,
    changes: {
      "agent-01": [
        event("agent-01", 1, "create", "src/new.ts", 0),
        event("agent-01", 2, "write", "src/new.ts", 120),
        event("agent-01", 3, "write", "src/a.ts", -40),
      ],
    },
    queue: [queueItem("agent-03")],
  });
}

function hundred(): DashSnapshot {
  const vibes = Array.from({ length: 100 }, (_, i) => vibeRow(i + 1));
  const conflicts: ConflictCell[] = [];
  for (let i = 0; i < 100; i += 7) {
    const a = vibes[i]!.id;
    const b = vibes[(i + 3) % 100]!.id;
    conflicts.push({
      a: a < b ? a : b,
      b: a < b ? b : a,
      shared: i % 5 + 1,
      overlapping: i % 2,
      heat: i % 2 ? "hot" : "warm",
      paths: [{ path: `src/file${i}.ts`, overlap: i % 2 === 1 }],
    });
  }
  return snapshot({
    vibes,
    conflicts,
    queue: vibes.slice(0, 100).map((v, i) =>
      queueItem(v.id, { outcome: i % 4 === 0 ? "conflict" : "fast-forward" })
    ),
  });
}

interface Calls {
  actions: [string, string, string | null][];
  diffs: [string, string][];
  quit: number;
}

const DIFF: DiffLine[] = [
  { kind: "header", text: "--- a/src/a.ts" },
  { kind: "header", text: "+++ b/src/a.ts" },
  { kind: "hunk", text: "@@ -1,2 +1,2 @@" },
  { kind: "del", text: "-old line" },
  { kind: "add", text: "+new line" },
  { kind: "context", text: " same" },
];

function mount(s: DashSnapshot, columns = 80, rows = 24) {
  const calls: Calls = { actions: [], diffs: [], quit: 0 };
  const handlers: DashHandlers = {
    action(kind, id, commit) {
      calls.actions.push([kind, id, commit]);
      return Promise.resolve(`did ${kind} ${id}`);
    },
    fileDiff(id, path) {
      calls.diffs.push([id, path]);
      return Promise.resolve(DIFF);
    },
    quit() {
      calls.quit++;
    },
  };
  const r = render(<DashApp snapshot={s} handlers={handlers} size={{ columns, rows }} />);
  const frame = () => strip(r.lastFrame() ?? "");
  const raw = () => r.lastFrame() ?? "";
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      // A lone ESC is held 20 ms by Ink in case a sequence follows.
      await tick(k === "\x1b" ? 50 : 15);
    }
  };
  return { r, calls, frame, raw, press, handlers };
}

const ESC = "\x1b";
// deno-lint-ignore no-control-regex
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const tick = (ms = 15) => new Promise((res) => setTimeout(res, ms));
const KEY = { down: "\x1b[B", up: "\x1b[A", right: "\x1b[C", enter: "\r", esc: "\x1b", tab: "\t" };

function assertFits(frame: string, columns: number, rows: number): void {
  const lines = frame.split("\n");
  assert.ok(lines.length <= rows, `${lines.length} lines > ${rows}:\n${frame}`);
  for (const l of lines) {
    assert.ok([...l].length <= columns, `line wider than ${columns}: "${l}"`);
  }
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

test("dash tui: fleet view at 80x24 (fixed frame)", async () => {
  const { r, frame } = mount(small());
  await tick();
  const expected = [
    "vibe dash 1 Fleet  2 Diffs  3 Conflicts  4 Queue             main@0000000 daemon",
    "  ID▼          STATE     MOUNT                 UP        DRIFT  WRITE ACTIVITY",
    "> agent-01     conflict  fuse …be/agent-01     2m      1p 1.5K     1s  ▂▄▆█ ▂▄▆█",
    "  agent-02     conflict  fuse …be/agent-02     2m      2p 2.9K     2s  ▄█▂▆ ▄█▂▆",
    "  agent-03     promoted  -                      -      3p 4.4K     3s  ▆▂█▄ ▆▂█▄",
  ];
  const lines = frame().split("\n").map((l) => l.trimEnd());
  assert.deepEqual(lines.slice(0, 5), expected);
  assert.equal(lines[21], "3 vibes: 2 mounted, 1 promoted, 2 conflict.");
  assert.match(lines.at(-1)!, /^↑↓ select ⏎ diffs \/ filter s sort/);
  assertFits(frame(), 80, 24);
  r.unmount();
});

test("dash tui: every view renders its empty state", async () => {
  const { r, frame, press } = mount(snapshot());
  await tick();
  assert.match(frame(), /No vibes yet\./);
  await press("2");
  assert.match(frame(), /No vibe selected\./);
  await press("3");
  assert.match(frame(), /needs two vibes or more/);
  await press("4");
  assert.match(frame(), /Nothing waiting: no refs\/vibes\/\* yet\./);
  assertFits(frame(), 80, 24);
  r.unmount();
});

test("dash tui: diff monitor streams changes and opens a coloured, scrollable diff", async () => {
  const { r, frame, raw, press, calls } = mount(small());
  await press(KEY.enter); // fleet -> the selected vibe's changes
  let f = frame();
  assert.match(f, /agent-01 conflict 1 changed path, 1\.5K delta/);
  const rows = f.split("\n").filter((l) => /write|create/.test(l));
  assert.equal(rows.length, 3);
  assert.match(rows[0]!.trimEnd(), /^> .* write\s+-40B src\/a\.ts$/, "newest first, selected");
  assert.match(rows[1]!, /write\s+\+120B src\/new\.ts/);
  await press(KEY.enter);
  await tick();
  assert.deepEqual(calls.diffs, [["agent-01", "src/a.ts"]]);
  f = frame();
  assert.match(f, /agent-01: src\/a\.ts\s+lines 1-6 of 6/);
  assert.match(f, /^\+new line$/m);
  assert.ok(raw().includes(`${ESC}[32m+new line`), "additions are green");
  assert.ok(raw().includes(`${ESC}[31m-old line`), "deletions are red");
  await press(KEY.esc);
  assert.match(frame(), /TIME\s+CHANGE/);
  await press("]");
  assert.match(frame(), /No changes yet: writes to agent-02 appear here/);
  r.unmount();
});

test("dash tui: conflict matrix marks hot and warm cells and lists the cell's paths", async () => {
  const { r, frame, raw, press } = mount(small());
  await press("3");
  let f = frame();
  assert.match(f, /1\/2 hot\s+1 {2}2 {2}3/);
  assert.match(f, /1 agent-01\s+╲ {2}2 {2}1/);
  assert.match(f, /agent-01 × agent-02: 2 shared paths, 1 overlapping \(hot\)/);
  assert.match(f, / ! src\/a\.ts/);
  assert.match(f, / ~ README\.md/);
  assert.ok(raw().includes(`${ESC}[1m${ESC}[31m  2`), "hot cell in bold red");
  await press(KEY.right);
  f = frame();
  assert.match(f, /agent-01 × agent-03: 1 shared path, 0 overlapping \(warm\)/);
  await press(KEY.down, KEY.down);
  assert.match(frame(), /agent-03: the diagonal/);
  r.unmount();
});

test("dash tui: queue shows outcomes and commits after a y/n confirmation", async () => {
  const { r, frame, press, calls } = mount(small());
  await press("4");
  let f = frame();
  assert.match(f, /> agent-03 fast-fwd\s+2\s+\+12 -3\s+Fix the parser \(agent-03\)/);
  assert.match(f, /M \+12 -3\s+src\/parser\.ts/);
  assert.match(f, /A binary\s+assets\/logo\.png/);
  assert.match(f, /Longer explanation\./);
  await press("c");
  f = frame();
  assert.match(f, /Commit "agent-03" to main \(fast-forward\)\? The vibe is torn down/);
  assertFits(f, 80, 24);
  await press("n");
  assert.doesNotMatch(frame(), /\[y\/n\]/);
  assert.deepEqual(calls.actions, []);
  await press("c", "y");
  await tick();
  assert.deepEqual(calls.actions, [["commit", "agent-03", OID(0xabc)]]);
  assert.match(frame(), /did commit agent-03/);
  await press("d", "y");
  await tick();
  assert.deepEqual(calls.actions[1], ["drop", "agent-03", OID(0xabc)]);
  r.unmount();
});

test("dash tui: filter by typing, sort, help, tab and quit", async () => {
  const { r, frame, press, calls } = mount(small());
  await press("/", "0", "2");
  let f = frame();
  assert.match(f, /filter: 02/);
  assert.doesNotMatch(f, /agent-01/);
  assert.match(f, /agent-02/);
  await press(KEY.enter);
  assert.match(frame(), /filter "02": 1 of 3/);
  await press(KEY.esc);
  assert.match(frame(), /agent-01/);
  await press("s"); // sort by state: conflict first, then promoted
  f = frame();
  assert.match(f, /STATE▼/);
  await press("S");
  const ids = frame().split("\n").map((l) => l.match(/agent-0\d/)?.[0]).filter(Boolean);
  assert.deepEqual(ids, ["agent-03", "agent-02", "agent-01"], "reversed state order");
  await press("?");
  assert.match(frame(), /Keys/);
  assert.match(frame(), /switch view/);
  await press(KEY.esc, KEY.tab);
  assert.match(frame(), / 2 Diffs /);
  await press("q");
  assert.equal(calls.quit, 1);
  r.unmount();
});

test("dash tui: narrow terminals keep every line within the width", async () => {
  for (const [w, h] of [[40, 12], [60, 16], [80, 24], [132, 40]] as const) {
    const { r, frame, press } = mount(small(), w, h);
    await tick();
    for (const key of ["1", "2", KEY.enter, "3", "4", "c"]) {
      await press(key);
      assertFits(frame(), w, h);
    }
    r.unmount();
  }
  const { r, frame } = mount(small(), 40, 12);
  await tick();
  assert.match(frame(), /agent-01 conflict/);
  assert.doesNotMatch(frame(), /MOUNT/, "the mount column goes first");
  r.unmount();
});

test("dash tui: 100 vibes render a window that follows the selection", async () => {
  const s = hundred();
  const { r, frame, press } = mount(s);
  await tick();
  let f = frame();
  assertFits(f, 80, 24);
  assert.match(f, /rows 1-19 of 100/);
  await press("\x1b[F"); // End
  f = frame();
  assert.match(f, /> agent-100/);
  assert.match(f, /rows 82-100 of 100/);
  await press("3");
  f = frame();
  assertFits(f, 80, 24);
  assert.match(f, /7\/15 hot/);
  await press("4");
  f = frame();
  assertFits(f, 80, 24);
  assert.match(f, /agent-01\s+CONFLICT/);
  r.unmount();
  const wide = mount(s, 200, 60);
  await tick();
  assertFits(wide.frame(), 200, 60);
  await wide.press("3");
  assertFits(wide.frame(), 200, 60);
  assert.match(wide.frame(), /agent-01 × agent-02/, "details beside the matrix");
  wide.r.unmount();
});
