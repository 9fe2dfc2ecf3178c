/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * The dashboard: four views over one `DashSnapshot`, keyboard-driven.
 * Pure: it renders its props and reports intents through `handlers`
 * (actions, file diffs, quit); it performs no I/O. A new snapshot arrives as
 * a re-render with new props; the view state (selection, filter, sort,
 * open diff) lives here and survives it, selections are kept by id.
 */
import { Box, Text, useInput, useWindowSize } from "ink";
// @ts-types="@types/react"
import { useEffect, useMemo, useState } from "react";
import type { DashSnapshot, VibeRow } from "../dash/types.ts";
import type { DiffLine } from "../dash/lines.ts";
import { FleetView } from "./fleet.tsx";
import { DiffMonitorView, type OpenDiff } from "./diff_monitor.tsx";
import { ConflictView } from "./conflicts.tsx";
import { QueueView } from "./queue_view.tsx";
import { Confirm, CONFIRM_H, Footer, Help, Tabs } from "./chrome.tsx";
import { cellKey, fleetRows, SORT_KEYS, type SortKey, type View, VIEWS } from "./model.ts";
import type { ConflictCell } from "../dash/types.ts";

export type ActionKind = "promote" | "commit" | "drop";

export interface DashHandlers {
  /** Runs a confirmed action; resolves to a line for the status bar, rejects with a VibeError. */
  action(kind: ActionKind, id: string, commit: string | null): Promise<string>;
  fileDiff(id: string, path: string): Promise<DiffLine[]>;
  quit(): void;
}

export interface DashAppProps {
  snapshot: DashSnapshot;
  handlers: DashHandlers;
  /** Fixed size (tests); default: the terminal's, following resizes. */
  size?: { columns: number; rows: number };
  initialView?: View;
}

interface Pending {
  kind: ActionKind;
  id: string;
  commit: string | null;
  text: string;
}

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

export function DashApp(props: DashAppProps) {
  const s = props.snapshot;
  const win = useWindowSize();
  const width = Math.max(20, props.size?.columns ?? win.columns);
  const height = Math.max(8, props.size?.rows ?? win.rows);
  const [view, setView] = useState<View>(props.initialView ?? "fleet");
  const [selectedId, setSelectedId] = useState<string | null>(s.vibes[0]?.id ?? null);
  const [sort, setSort] = useState<SortKey>("id");
  const [reverse, setReverse] = useState(false);
  const [filter, setFilter] = useState("");
  const [filtering, setFiltering] = useState(false);
  const [eventSeq, setEventSeq] = useState<number | null>(null);
  const [diff, setDiff] = useState<OpenDiff | null>(null);
  const [cell, setCell] = useState({ row: 0, col: 1 });
  const [queueSel, setQueueSel] = useState(0);
  const [help, setHelp] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);

  const rows = useMemo(() => fleetRows(s, filter, sort, reverse), [s, filter, sort, reverse]);
  const ids = useMemo(() => s.vibes.map((v) => v.id), [s]);
  const cells = useMemo(() => {
    const m = new Map<string, ConflictCell>();
    for (const c of s.conflicts) m.set(cellKey(c.a, c.b), c);
    return m;
  }, [s]);
  const vibe: VibeRow | null = s.vibes.find((v) => v.id === selectedId) ?? null;
  const events = useMemo(
    () => (selectedId ? (s.changes[selectedId] ?? []).slice().reverse() : []),
    [s, selectedId],
  );
  const eventIdx = eventSeq === null ? 0 : Math.max(0, events.findIndex((e) => e.seq === eventSeq));
  const queueIdx = clamp(queueSel, 0, Math.max(0, s.queue.length - 1));

  // Keep a selection when the selected vibe disappears.
  useEffect(() => {
    if (selectedId === null || !s.vibes.some((v) => v.id === selectedId)) {
      setSelectedId(rows[0]?.id ?? s.vibes[0]?.id ?? null);
    }
  }, [s, rows, selectedId]);

  // An open diff follows the vibe's writes: reload when its journal moves.
  const diffKey = diff ? `${diff.vibe}\0${diff.path}` : null;
  const diffSeq = diff ? (s.vibes.find((v) => v.id === diff.vibe)?.lastSeq ?? 0) : 0;
  useEffect(() => {
    if (!diff) return;
    let live = true;
    const { vibe: id, path } = diff;
    props.handlers.fileDiff(id, path).then(
      (lines) =>
        live && setDiff((d) => d && d.vibe === id && d.path === path ? { ...d, lines } : d),
      (e) =>
        live &&
        setDiff((d) =>
          d && d.vibe === id && d.path === path ? { ...d, error: (e as Error).message } : d
        ),
    );
    return () => {
      live = false;
    };
  }, [diffKey, diffSeq]);

  const bodyH = height - 3 - (pending ? CONFIRM_H : 0);

  const ask = (kind: ActionKind, id: string, commit: string | null, text: string) =>
    setPending({ kind, id, commit, text });

  const run = (p: Pending) => {
    setPending(null);
    setBusy(
      `${
        p.kind === "promote" ? "Promoting" : p.kind === "commit" ? "Committing" : "Dropping"
      } ${p.id}…`,
    );
    setStatus(null);
    props.handlers.action(p.kind, p.id, p.commit).then(
      (text) => setStatus({ text, error: false }),
      (e) => setStatus({ text: (e as Error).message, error: true }),
    ).finally(() => setBusy(null));
  };

  const askPromote = (id: string) => {
    const v = s.vibes.find((x) => x.id === id);
    ask(
      "promote",
      id,
      null,
      `Promote "${id}" (${v?.drift.paths ?? 0} changed paths) to refs/vibes/${id}?`,
    );
  };

  const moveFleet = (d: number) => {
    if (rows.length === 0) return;
    const i = Math.max(0, rows.findIndex((r) => r.id === selectedId));
    setSelectedId(rows[clamp(i + d, 0, rows.length - 1)]!.id);
  };

  const switchVibe = (d: number) => {
    if (ids.length === 0) return;
    const i = Math.max(0, ids.indexOf(selectedId ?? ""));
    setSelectedId(ids[(i + d + ids.length) % ids.length]!);
    setEventSeq(null);
    setDiff(null);
  };

  useInput((input, key) => {
    if (pending) {
      if (input === "y" || input === "Y" || key.return) run(pending);
      else if (input === "n" || input === "N" || key.escape) setPending(null);
      return;
    }
    if (filtering) {
      if (key.escape) {
        setFilter("");
        setFiltering(false);
      } else if (key.return) setFiltering(false);
      else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setFilter((f) => f + input);
      return;
    }
    if (help) {
      if (input === "?" || key.escape || input === "q") setHelp(false);
      return;
    }
    if (input === "q" || (key.ctrl && input === "c")) return props.handlers.quit();
    if (input === "?") return setHelp(true);
    if (key.tab) {
      const i = VIEWS.indexOf(view);
      return setView(VIEWS[(i + (key.shift ? VIEWS.length - 1 : 1)) % VIEWS.length]!);
    }
    if (input >= "1" && input <= "4") return setView(VIEWS[Number(input) - 1]!);
    const page = Math.max(1, bodyH - 3);
    const step = key.upArrow || input === "k"
      ? -1
      : key.downArrow || input === "j"
      ? 1
      : key.pageUp
      ? -page
      : key.pageDown
      ? page
      : key.home
      ? -1e9
      : key.end
      ? 1e9
      : 0;

    if (view === "fleet") {
      if (step) return moveFleet(step);
      if (input === "/") return setFiltering(true);
      if (key.escape) return setFilter("");
      if (input === "s") {
        return setSort(SORT_KEYS[(SORT_KEYS.indexOf(sort) + 1) % SORT_KEYS.length]!);
      }
      if (input === "S") return setReverse((r) => !r);
      if (key.return && selectedId) {
        setEventSeq(null);
        setDiff(null);
        return setView("diff");
      }
      if (input === "p" && selectedId) return askPromote(selectedId);
      return;
    }
    if (view === "diff") {
      if (input === "[") return switchVibe(-1);
      if (input === "]") return switchVibe(1);
      if (diff) {
        if (key.escape || key.backspace || key.leftArrow) return setDiff(null);
        if (step) {
          const max = Math.max(0, (diff.lines?.length ?? 0) - (bodyH - 2));
          return setDiff({ ...diff, scroll: clamp(diff.scroll + step, 0, max) });
        }
        return;
      }
      if (step && events.length > 0) {
        return setEventSeq(events[clamp(eventIdx + step, 0, events.length - 1)]!.seq);
      }
      if (key.return && vibe && events[eventIdx]) {
        const e = events[eventIdx]!;
        const path = e.op === "rename" && e.path2 ? e.path2 : e.path;
        return setDiff({ vibe: vibe.id, path, lines: null, error: null, scroll: 0 });
      }
      if (input === "p" && selectedId) return askPromote(selectedId);
      return;
    }
    if (view === "conflicts") {
      const n = ids.length;
      if (n === 0) return;
      const dr = key.upArrow || input === "k" ? -1 : key.downArrow || input === "j" ? 1 : 0;
      const dc = key.leftArrow || input === "h" ? -1 : key.rightArrow || input === "l" ? 1 : 0;
      if (dr || dc || key.pageUp || key.pageDown) {
        const pr = key.pageUp ? -page : key.pageDown ? page : dr;
        return setCell({
          row: clamp(cell.row + pr, 0, n - 1),
          col: clamp(cell.col + dc, 0, n - 1),
        });
      }
      if (key.return) {
        const id = ids[clamp(cell.row, 0, n - 1)];
        if (id) {
          setSelectedId(id);
          setEventSeq(null);
          setDiff(null);
          setView("diff");
        }
      }
      return;
    }
    if (view === "queue") {
      if (step) return setQueueSel(clamp(queueIdx + step, 0, Math.max(0, s.queue.length - 1)));
      const q = s.queue[queueIdx];
      if (!q) return;
      if (input === "c") {
        if (!q.vibeExists) {
          return setStatus({
            text: `Cannot commit "${q.id}": the vibe is gone (d drops the ref)`,
            error: true,
          });
        }
        const how = q.outcome === "conflict"
          ? "it CONFLICTS and will be refused"
          : q.outcome === "fast-forward"
          ? "fast-forward"
          : q.outcome;
        return ask(
          "commit",
          q.id,
          q.commit,
          `Commit "${q.id}" to ${
            q.branch?.replace("refs/heads/", "") ?? "?"
          } (${how})? The vibe is torn down afterwards.`,
        );
      }
      if (input === "p") {
        if (!q.vibeExists) {
          return setStatus({ text: `Cannot promote "${q.id}": the vibe is gone`, error: true });
        }
        return askPromote(q.id);
      }
      if (input === "d") {
        return ask(
          "drop",
          q.id,
          q.commit,
          `Drop ${q.ref} (${q.commit.slice(0, 7)})? The vibe and its files stay.`,
        );
      }
    }
  });

  let body;
  if (help) body = <Help width={width} height={bodyH} />;
  else if (view === "fleet") {
    body = (
      <FleetView
        rows={rows}
        total={s.vibes.length}
        selectedId={selectedId}
        nowMs={s.takenMs}
        width={width}
        height={bodyH}
        sort={sort}
        reverse={reverse}
        filter={filter}
      />
    );
  } else if (view === "diff") {
    body = (
      <DiffMonitorView
        vibe={vibe}
        events={events}
        selected={eventIdx}
        diff={diff}
        width={width}
        height={bodyH}
      />
    );
  } else if (view === "conflicts") {
    body = (
      <ConflictView
        ids={ids}
        cells={cells}
        row={clamp(cell.row, 0, Math.max(0, ids.length - 1))}
        col={clamp(cell.col, 0, Math.max(0, ids.length - 1))}
        width={width}
        height={bodyH}
      />
    );
  } else {
    body = <QueueView items={s.queue} selected={queueIdx} width={width} height={bodyH} />;
  }

  const line = busy
    ? <Text color="yellow" wrap="truncate">{busy}</Text>
    : status
    ? <Text color={status.error ? "red" : "green"} wrap="truncate">{status.text}</Text>
    : s.warnings[0]
    ? <Text color="yellow" wrap="truncate">{s.warnings[0]}</Text>
    : <Box height={1} />;

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Tabs view={view} s={s} width={width} />
      <Box height={bodyH} flexDirection="column" overflow="hidden">{body}</Box>
      {pending ? <Confirm text={pending.text} width={width} /> : null}
      {line}
      <Footer view={view} width={width} filtering={filtering} filter={filter} />
    </Box>
  );
}
