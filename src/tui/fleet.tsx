/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/** View 1, the fleet: one line per vibe; only the rows that fit are rendered. */
import { Box, Text } from "ink";
import type { VibeRow } from "../dash/types.ts";
import {
  fit,
  fitTail,
  fmtBytes,
  fmtDuration,
  sparkline,
  stateColor,
  windowStart,
} from "./format.ts";
import type { SortKey } from "./model.ts";

export interface FleetProps {
  rows: VibeRow[];
  total: number;
  selectedId: string | null;
  nowMs: number;
  width: number;
  height: number;
  sort: SortKey;
  reverse: boolean;
  filter: string;
}

/** Widths of the shown columns; 0 = hidden. */
interface Cols {
  id: number;
  up: number;
  write: number;
  mount: number;
  spark: number;
}

const STATE_W = 9;
const UP_W = 6;
const DRIFT_W = 12;
const LAST_W = 6;

/**
 * Column widths for a terminal width. Always: id, state, drift; then, as
 * room allows, last write, uptime, activity and the mount (which takes the
 * rest); wide terminals give id and activity more room.
 */
export function fleetColumns(width: number): Cols {
  let rest = width - (2 + STATE_W + 1 + DRIFT_W);
  const id = Math.max(8, Math.min(24, Math.floor(rest * 0.22)));
  rest -= id + 1;
  const take = (w: number) => {
    if (rest < w + 1) return 0;
    rest -= w + 1;
    return w;
  };
  const write = take(LAST_W);
  const up = take(UP_W);
  const spark = take(rest >= 30 ? Math.min(20, Math.floor(rest * 0.4)) : rest >= 20 ? 10 : 8);
  const mount = rest >= 9 ? take(rest - 1) : 0;
  return { id, up, write, mount, spark };
}

function header(c: Cols, sort: SortKey, reverse: boolean): string {
  const mark = (k: SortKey, label: string) => sort === k ? `${label}${reverse ? "▲" : "▼"}` : label;
  let s = `  ${fit(mark("id", "ID"), c.id)} ${fit(mark("state", "STATE"), STATE_W)}`;
  if (c.mount) s += ` ${fit("MOUNT", c.mount)}`;
  if (c.up) s += ` ${fit(mark("uptime", "UP"), c.up, true)}`;
  s += ` ${fit(mark("drift", "DRIFT"), DRIFT_W, true)}`;
  if (c.write) s += ` ${fit(mark("write", "WRITE"), c.write, true)}`;
  if (c.spark) s += ` ${fit("ACTIVITY", c.spark)}`;
  return s.trimEnd();
}

function Row(
  { v, c, selected, nowMs }: { v: VibeRow; c: Cols; selected: boolean; nowMs: number },
) {
  const mount = v.mountPath
    ? `${fit(v.transport ?? "?", 4)} ${fitTail(v.mountPath, c.mount - 5)}`
    : "-";
  const up = v.mountedMs !== null ? fmtDuration(nowMs - v.mountedMs) : "-";
  const drift = v.drift.paths === 0 && v.drift.bytes === 0
    ? "-"
    : `${v.drift.paths}p ${fmtBytes(v.drift.bytes)}`;
  const last = v.lastWriteMs !== null ? fmtDuration(nowMs - v.lastWriteMs) : "-";
  return (
    <Text inverse={selected} wrap="truncate">
      {selected ? "> " : "  "}
      <Text bold={selected}>{fit(v.id, c.id)}</Text>{" "}
      <Text color={stateColor(v.state)}>{fit(v.state, STATE_W)}</Text>
      {c.mount ? ` ${fit(mount, c.mount)}` : ""}
      {c.up ? ` ${fit(up, c.up, true)}` : ""}
      {` ${fit(drift, DRIFT_W, true)}`}
      {c.write ? ` ${fit(last, c.write, true)}` : ""}
      {c.spark ? <Text color="magenta">{` ${sparkline(v.activity, c.spark)}`}</Text> : ""}
    </Text>
  );
}

export function FleetView(p: FleetProps) {
  const c = fleetColumns(p.width);
  if (p.total === 0) {
    return (
      <Box flexDirection="column" height={p.height}>
        <Text>No vibes yet.</Text>
        <Text color="gray">Make one with "vibe spawn &lt;id&gt;"; it shows up here at once.</Text>
      </Box>
    );
  }
  const bodyRows = Math.max(1, p.height - 2);
  const sel = Math.max(0, p.rows.findIndex((r) => r.id === p.selectedId));
  const start = windowStart(sel, p.rows.length, bodyRows);
  const shown = p.rows.slice(start, start + bodyRows);
  const more = p.rows.length > bodyRows
    ? ` rows ${start + 1}-${start + shown.length} of ${p.rows.length}`
    : "";
  const filtered = p.filter ? ` filter "${p.filter}": ${p.rows.length} of ${p.total}` : "";
  return (
    <Box flexDirection="column" height={p.height}>
      <Text color="gray" wrap="truncate">{header(c, p.sort, p.reverse)}</Text>
      {shown.length === 0
        ? <Text color="yellow">No vibe matches "{p.filter}" (Esc clears the filter).</Text>
        : shown.map((v) => (
          <Row key={v.id} v={v} c={c} selected={v.id === p.selectedId} nowMs={p.nowMs} />
        ))}
      <Box flexGrow={1} />
      <Text color="gray" wrap="truncate">
        {`${p.rows.length} vibes:`}
        {` ${p.rows.filter((r) => r.mounted).length} mounted,`}
        {` ${p.rows.filter((r) => r.state === "promoted").length} promoted,`}
        {` ${p.rows.filter((r) => r.state === "conflict").length} conflict.`}
        {filtered}
        {more}
      </Text>
    </Box>
  );
}
