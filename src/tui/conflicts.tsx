/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * View 3, the conflict matrix: vibes × vibes, each cell the number of paths
 * both changed — red (hot) when some of them overlap line-wise, yellow
 * (warm) when they only share files. The cursor cell's paths are listed.
 */
import { Box, Text } from "ink";
import type { ConflictCell } from "../dash/types.ts";
import { fit, fitTail, windowStart } from "./format.ts";
import { cellKey } from "./model.ts";

export interface ConflictProps {
  ids: string[];
  cells: Map<string, ConflictCell>;
  row: number;
  col: number;
  width: number;
  height: number;
}

const CELL_W = 3;

function Details(
  { cell, a, b, width, height }: {
    cell: ConflictCell | null;
    a: string;
    b: string;
    width: number;
    height: number;
  },
) {
  if (a === b) {
    return <Text color="gray" wrap="truncate">{a}: the diagonal (a vibe against itself).</Text>;
  }
  if (!cell) {
    return <Text color="gray" wrap="truncate">{a} × {b}: no path changed by both.</Text>;
  }
  const lines = Math.max(0, height - 1);
  const shown = cell.paths.slice(0, lines);
  return (
    <Box flexDirection="column" height={height}>
      <Text wrap="truncate">
        <Text bold>{a} × {b}</Text>
        {`: ${cell.shared} shared path${cell.shared === 1 ? "" : "s"}, `}
        <Text color={cell.heat === "hot" ? "red" : "yellow"}>
          {`${cell.overlapping} overlapping (${cell.heat})`}
        </Text>
      </Text>
      {shown.map((p) => (
        <Text key={p.path} wrap="truncate" color={p.overlap ? "red" : "yellow"}>
          {p.overlap ? " ! " : " ~ "}
          {fitTail(p.path, width - 3)}
        </Text>
      ))}
      {cell.paths.length > shown.length
        ? <Text color="gray">{` … ${cell.paths.length - shown.length} more`}</Text>
        : null}
    </Box>
  );
}

export function ConflictView(p: ConflictProps) {
  if (p.ids.length < 2) {
    return (
      <Box flexDirection="column" height={p.height}>
        <Text>The matrix needs two vibes or more.</Text>
        <Text color="gray">Cells show how many paths two vibes both changed.</Text>
      </Box>
    );
  }
  const side = p.width >= 110;
  const detailsW = side ? Math.min(50, Math.floor(p.width * 0.4)) : p.width;
  const detailsH = side ? p.height : Math.min(7, Math.max(3, Math.floor(p.height / 3)));
  const matrixW = side ? p.width - detailsW - 2 : p.width;
  const matrixH = side ? p.height - 1 : p.height - detailsH - 1;
  const labelW = Math.min(16, Math.max(...p.ids.map((s) => s.length))) + 5;
  const colsFit = Math.max(1, Math.floor((matrixW - labelW) / CELL_W));
  const rowsFit = Math.max(1, matrixH - 1);
  const c0 = windowStart(p.col, p.ids.length, colsFit);
  const r0 = windowStart(p.row, p.ids.length, rowsFit);
  const cols = p.ids.slice(c0, c0 + colsFit);
  const rows = p.ids.slice(r0, r0 + rowsFit);
  const a = p.ids[p.row] ?? "";
  const b = p.ids[p.col] ?? "";
  const cell = p.cells.get(cellKey(a, b)) ?? null;
  const hot = [...p.cells.values()].filter((c) => c.heat === "hot").length;
  const matrix = (
    <Box flexDirection="column" width={matrixW}>
      <Text color="gray" wrap="truncate">
        {fit(`${hot}/${p.cells.size} hot`, labelW)}
        {cols.map((_, i) => fit(String(c0 + i + 1), CELL_W, true)).join("")}
      </Text>
      {rows.map((rid, ri) => {
        const r = r0 + ri;
        return (
          <Text key={rid} wrap="truncate">
            <Text bold={r === p.row}>{fit(`${String(r + 1).padStart(3)} ${rid}`, labelW - 1)}</Text>
            {" "}
            {cols.map((cid, ci) => {
              const c = c0 + ci;
              const cur = r === p.row && c === p.col;
              if (r === c) {
                return <Text key={cid} inverse={cur} color="gray">{fit("╲", CELL_W, true)}</Text>;
              }
              const x = p.cells.get(cellKey(rid, cid));
              if (!x) {
                return <Text key={cid} inverse={cur} color="gray">{fit("·", CELL_W, true)}</Text>;
              }
              return (
                <Text
                  key={cid}
                  inverse={cur}
                  bold={x.heat === "hot"}
                  color={x.heat === "hot" ? "red" : "yellow"}
                >
                  {fit(x.shared > 99 ? "++" : String(x.shared), CELL_W, true)}
                </Text>
              );
            })}
          </Text>
        );
      })}
    </Box>
  );
  return (
    <Box flexDirection={side ? "row" : "column"} height={p.height}>
      {matrix}
      {side ? <Box width={2} /> : <Box height={1} />}
      <Box width={detailsW} flexDirection="column">
        <Details cell={cell} a={a} b={b} width={detailsW} height={detailsH} />
      </Box>
    </Box>
  );
}
