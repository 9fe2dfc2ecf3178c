/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * View 2, the diff monitor: the selected vibe's changes as they are
 * written (newest first), and the unified diff of one file against the base.
 */
import { Box, Text } from "ink";
import type { ChangeEvent, VibeRow } from "../dash/types.ts";
import type { DiffLine } from "../dash/lines.ts";
import {
  colorProp,
  fit,
  fitTail,
  fmtBytes,
  fmtClock,
  fmtSigned,
  stateColor,
  windowStart,
} from "./format.ts";

/** A file diff being shown (lines null while it loads). */
export interface OpenDiff {
  vibe: string;
  path: string;
  lines: DiffLine[] | null;
  error: string | null;
  scroll: number;
}

export interface DiffMonitorProps {
  vibe: VibeRow | null;
  /** Newest first. */
  events: ChangeEvent[];
  selected: number;
  diff: OpenDiff | null;
  width: number;
  height: number;
}

const SWITCH_HINT = "  [ ] other vibe";

const LINE_COLOR: Record<DiffLine["kind"], string | undefined> = {
  header: "white",
  hunk: "cyan",
  add: "green",
  del: "red",
  context: undefined,
  note: "yellow",
};

function DiffBody({ d, width, height }: { d: OpenDiff; width: number; height: number }) {
  const rows = Math.max(1, height - 1);
  if (d.error) {
    return <Text color="red">Cannot diff {d.path}: {d.error}</Text>;
  }
  if (!d.lines) return <Text color="gray">Loading the diff of {d.path}…</Text>;
  const shown = d.lines.slice(d.scroll, d.scroll + rows);
  const end = Math.min(d.lines.length, d.scroll + rows);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate">
        {fitTail(`${d.vibe}: ${d.path}`, Math.max(10, width - 28))}
        <Text color="gray">
          {` lines ${d.lines.length ? d.scroll + 1 : 0}-${end} of ${d.lines.length}`}
        </Text>
      </Text>
      {shown.map((l, i) => (
        <Text
          key={d.scroll + i}
          {...colorProp(LINE_COLOR[l.kind])}
          bold={l.kind === "header"}
          wrap="truncate"
        >
          {l.text === "" ? " " : l.text}
        </Text>
      ))}
    </Box>
  );
}

export function DiffMonitorView(p: DiffMonitorProps) {
  if (!p.vibe) {
    return (
      <Box flexDirection="column" height={p.height}>
        <Text>No vibe selected.</Text>
        <Text color="gray">Pick one in the fleet (1) and press Enter, or use [ and ] here.</Text>
      </Box>
    );
  }
  const v = p.vibe;
  const title = (
    <Text wrap="truncate">
      <Text bold>{v.id}</Text> <Text color={stateColor(v.state)}>{v.state}</Text>
      {` ${v.drift.paths} changed path${v.drift.paths === 1 ? "" : "s"}, ${
        fmtBytes(v.drift.bytes)
      } delta`}
      <Text color="gray">{SWITCH_HINT}</Text>
    </Text>
  );
  if (p.diff) {
    return (
      <Box flexDirection="column" height={p.height}>
        {title}
        <DiffBody d={p.diff} width={p.width} height={p.height - 1} />
      </Box>
    );
  }
  if (p.events.length === 0) {
    return (
      <Box flexDirection="column" height={p.height}>
        {title}
        <Text color="gray">No changes yet: writes to {v.id} appear here as they happen.</Text>
      </Box>
    );
  }
  const rows = Math.max(1, p.height - 2);
  const start = windowStart(p.selected, p.events.length, rows);
  const pathW = Math.max(8, p.width - 2 - 8 - 1 - 8 - 1 - 8 - 1);
  return (
    <Box flexDirection="column" height={p.height}>
      {title}
      <Text color="gray" wrap="truncate">
        {`  ${fit("TIME", 8)} ${fit("CHANGE", 8)} ${fit("SIZE Δ", 8, true)} PATH`}
      </Text>
      {p.events.slice(start, start + rows).map((e, i) => {
        const sel = start + i === p.selected;
        const path = e.path2 && e.op === "rename" ? `${e.path} -> ${e.path2}` : e.path;
        const color = e.op === "unlink" || e.op === "rmdir"
          ? "red"
          : e.op === "create" || e.op === "mkdir"
          ? "green"
          : undefined;
        return (
          <Text key={e.seq} inverse={sel} wrap="truncate">
            {sel ? "> " : "  "}
            {fit(fmtClock(e.timeMs), 8)} <Text {...colorProp(color)}>{fit(e.op, 8)}</Text>{" "}
            {fit(fmtSigned(e.sizeDelta), 8, true)} {fitTail(path, pathW)}
          </Text>
        );
      })}
    </Box>
  );
}
