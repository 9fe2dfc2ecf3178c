/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/** The frame around the views: tabs, footer with keys, help and confirmation boxes. */
import { Box, Text } from "ink";
import type { DashSnapshot } from "../dash/types.ts";
import { branchName, fit, shortOid } from "./format.ts";
import { type View, VIEW_TITLES, VIEWS } from "./model.ts";

export function Tabs({ view, s, width }: { view: View; s: DashSnapshot; width: number }) {
  const daemon = s.daemon.running
    ? (width >= 100 ? `daemon ${s.daemon.pid}` : "daemon")
    : "no daemon";
  const right = ` ${branchName(s.project.headBranch)}@${shortOid(s.project.headCommit)} ${daemon}`;
  const narrow = width < 64;
  return (
    <Box width={width}>
      <Box flexGrow={1}>
        <Text wrap="truncate">
          <Text bold color="magenta">vibe dash</Text>
          {VIEWS.map((v, i) => {
            const label = narrow ? `${i + 1}` : `${i + 1} ${VIEW_TITLES[v]}`;
            return v === view
              ? <Text key={v} inverse bold>{` ${label} `}</Text>
              : <Text key={v} color="gray">{` ${label} `}</Text>;
          })}
        </Text>
      </Box>
      <Text color={s.daemon.running ? "green" : "yellow"} wrap="truncate">
        {fit(right, Math.max(0, Math.min(right.length, width - (narrow ? 22 : 46))))}
      </Text>
    </Box>
  );
}

const KEYS: Record<View, string> = {
  fleet: "↑↓ select ⏎ diffs / filter s sort S rev p promote",
  diff: "↑↓ select ⏎ diff Esc back PgUp/PgDn [ ] vibe",
  conflicts: "←↑↓→ move cell  ⏎ row's diffs",
  queue: "↑↓ select  c commit  p promote  d drop",
};

const FILTER_PROMPT = "filter: ";
const CURSOR = " ";
const FILTER_KEYS = "  ⏎ keep  Esc clear";

export function Footer(
  { view, width, filtering, filter }: {
    view: View;
    width: number;
    filtering: boolean;
    filter: string;
  },
) {
  if (filtering) {
    return (
      <Text wrap="truncate">
        <Text color="yellow">{FILTER_PROMPT}</Text>
        {filter}
        <Text inverse>{CURSOR}</Text>
        <Text color="gray">{FILTER_KEYS}</Text>
      </Text>
    );
  }
  if (width < 60) return <Text color="gray" wrap="truncate">Tab view ? help q quit</Text>;
  const common = width >= 100 ? "  Tab/1-4 view  ? help  q quit" : " │ Tab ? q";
  return (
    <Text color="gray" wrap="truncate">
      {fit(KEYS[view] + common, width)}
    </Text>
  );
}

const HELP: [string, string][] = [
  ["Tab / Shift-Tab, 1-4", "switch view: fleet, diff monitor, conflicts, queue"],
  ["↑ ↓ PgUp PgDn Home End", "move the selection (k j also work)"],
  ["Enter", "fleet: the vibe's changes; diff monitor: the file's diff"],
  ["Esc", "close the diff, the filter or this help"],
  ["/", "fleet: filter by typing (id, state or mount)"],
  ["s / S", "fleet: sort by id, state, drift, last write, uptime / reverse"],
  ["[ ]", "diff monitor: previous / next vibe"],
  ["p", "promote the selected vibe (again), after y/n"],
  ["c", "queue: commit the selected vibe to its branch, after y/n"],
  ["d", "queue: drop refs/vibes/<id> (the vibe stays), after y/n"],
  ["q, Ctrl-C", "quit"],
];

export function Help({ width, height }: { width: number; height: number }) {
  const keyW = 24;
  return (
    <Box flexDirection="column" height={height} borderStyle="round" paddingX={1}>
      <Text bold>Keys</Text>
      {HELP.slice(0, Math.max(0, height - 5)).map(([k, d]) => (
        <Text key={k} wrap="truncate">
          <Text color="cyan">{fit(k, keyW)}</Text>
          {fit(d, Math.max(0, width - keyW - 4))}
        </Text>
      ))}
      <Text color="gray" wrap="truncate">
        States: mounted, unmounted, promoted (refs/vibes holds every change), conflict (the promoted
        commit conflicts with its branch, or same lines as another vibe). Press ? or Esc.
      </Text>
    </Box>
  );
}

/** Rows the confirmation box takes (two lines of text). */
export const CONFIRM_H = 4;

export function Confirm({ text, width }: { text: string; width: number }) {
  return (
    <Box
      borderStyle="round"
      borderColor="yellow"
      paddingX={1}
      width={Math.min(width, 78)}
      height={CONFIRM_H}
    >
      <Text wrap="wrap">
        {text} <Text bold color="yellow">[y/n]</Text>
      </Text>
    </Box>
  );
}
