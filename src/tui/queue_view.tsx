/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * View 4, the promotion queue: refs/vibes/* waiting to be committed, what
 * `vibe commit` would do with each now, and the selected one in detail.
 */
import { Box, Text } from "ink";
import type { QueueItem, QueueOutcome } from "../dash/types.ts";
import { branchName, colorProp, fit, fitTail, shortOid, windowStart } from "./format.ts";

export interface QueueProps {
  items: QueueItem[];
  selected: number;
  width: number;
  height: number;
}

const OUTCOME: Record<QueueOutcome, { label: string; color: string }> = {
  "fast-forward": { label: "fast-fwd", color: "green" },
  merge: { label: "merges", color: "green" },
  "already-applied": { label: "landed", color: "gray" },
  conflict: { label: "CONFLICT", color: "red" },
  stale: { label: "stale", color: "yellow" },
  "no-branch": { label: "no branch", color: "yellow" },
};

function Detail({ q, width, height }: { q: QueueItem; width: number; height: number }) {
  const o = OUTCOME[q.outcome];
  // The default message lists the files again ("M\tpath"): they are shown below already.
  const msgLines = q.message.trimEnd().split("\n").slice(1)
    .filter((l) => l.trim() !== "" && !/^[AMDT]\t/.test(l) && !l.startsWith("… and "));
  const lines: { text: string; color?: string }[] = [];
  if (q.conflicts.length > 0) {
    lines.push({ text: `conflicts: ${q.conflicts.join(", ")}`, color: "red" });
  }
  if (q.unpromoted) {
    lines.push({ text: "the vibe changed since this promote (p promotes again)", color: "yellow" });
  }
  for (const f of q.files) {
    const n = f.added === null ? "binary" : `+${f.added} -${f.removed}`;
    lines.push({ text: `${f.status} ${fit(n, 12)} ${f.path}` });
  }
  for (const l of msgLines) lines.push({ text: `  ${l}`, color: "gray" });
  const room = Math.max(0, height - 2);
  return (
    <Box flexDirection="column" height={height}>
      <Text wrap="truncate">
        <Text bold>{q.id}</Text> {shortOid(q.commit)} on {shortOid(q.parent)} →{" "}
        {branchName(q.branch)} @ {shortOid(q.branchTip)} <Text color={o.color}>{o.label}</Text>
      </Text>
      <Text wrap="truncate">{fitTail(q.subject, width)}</Text>
      {lines.slice(0, room).map((l, i) => (
        <Text key={i} {...colorProp(l.color)} wrap="truncate">{l.text}</Text>
      ))}
    </Box>
  );
}

export function QueueView(p: QueueProps) {
  if (p.items.length === 0) {
    return (
      <Box flexDirection="column" height={p.height}>
        <Text>Nothing waiting: no refs/vibes/* yet.</Text>
        <Text color="gray">Promote a vibe (p in the fleet, or "vibe promote &lt;id&gt;").</Text>
      </Box>
    );
  }
  const listH = Math.max(2, Math.min(p.items.length + 1, Math.floor(p.height / 2)));
  const detailH = p.height - listH - 1;
  const rows = listH - 1;
  const start = windowStart(p.selected, p.items.length, rows);
  const idW = Math.min(20, Math.max(4, ...p.items.map((q) => q.id.length)));
  const subjW = Math.max(8, p.width - 2 - idW - 1 - 9 - 1 - 5 - 1 - 13 - 1);
  const sel = p.items[p.selected] ?? null;
  return (
    <Box flexDirection="column" height={p.height}>
      <Text color="gray" wrap="truncate">
        {`  ${fit("VIBE", idW)} ${fit("LANDS", 9)} ${fit("FILES", 5, true)} ${
          fit("+/-", 13, true)
        } MESSAGE`}
      </Text>
      {p.items.slice(start, start + rows).map((q, i) => {
        const s = start + i === p.selected;
        const o = OUTCOME[q.outcome];
        return (
          <Text key={q.ref} inverse={s} wrap="truncate">
            {s ? "> " : "  "}
            <Text bold={s}>{fit(q.id, idW)}</Text> <Text color={o.color}>{fit(o.label, 9)}</Text>
            {" "}
            {fit(String(q.files.length), 5, true)}{" "}
            <Text color="green">{fit(`+${q.added}`, 6, true)}</Text>{" "}
            <Text color="red">{fit(`-${q.removed}`, 6)}</Text> {fit(q.subject, subjW)}
          </Text>
        );
      })}
      <Box height={1} />
      {sel && detailH > 0 ? <Detail q={sel} width={p.width} height={detailH} /> : null}
    </Box>
  );
}
