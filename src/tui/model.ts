/** The dashboard's view state and the pure functions that derive what to show from a snapshot. */
import type { DashSnapshot, VibeRow } from "../dash/types.ts";

export const VIEWS = ["fleet", "diff", "conflicts", "queue"] as const;
export type View = typeof VIEWS[number];
export const VIEW_TITLES: Record<View, string> = {
  fleet: "Fleet",
  diff: "Diffs",
  conflicts: "Conflicts",
  queue: "Queue",
};

export const SORT_KEYS = ["id", "state", "drift", "write", "uptime"] as const;
export type SortKey = typeof SORT_KEYS[number];

/** Ids in natural order: agent-2 before agent-10. */
export const byId = new Intl.Collator("en", { numeric: true }).compare;

const STATE_ORDER: Record<string, number> = { conflict: 0, promoted: 1, mounted: 2, unmounted: 3 };

/** Fleet rows: filtered by a case-insensitive substring of id, state or mount, then sorted. */
export function fleetRows(
  s: DashSnapshot,
  filter: string,
  sort: SortKey,
  reverse: boolean,
): VibeRow[] {
  const f = filter.toLowerCase();
  const rows = f
    ? s.vibes.filter((v) =>
      v.id.toLowerCase().includes(f) || v.state.includes(f) ||
      (v.mountPath ?? "").toLowerCase().includes(f)
    )
    : s.vibes.slice();
  const by = (v: VibeRow): number | string => {
    switch (sort) {
      case "id":
        return 0;
      case "state":
        return STATE_ORDER[v.state] ?? 9;
      case "drift":
        return -v.drift.paths * 1e12 - v.drift.bytes;
      case "write":
        return -(v.lastWriteMs ?? 0);
      case "uptime":
        return v.mountedMs ?? Number.MAX_SAFE_INTEGER;
    }
  };
  rows.sort((a, b) => {
    const x = by(a);
    const y = by(b);
    const c = x < y ? -1 : x > y ? 1 : byId(a.id, b.id);
    return reverse ? -c : c;
  });
  return rows;
}

/** Matrix cell lookup for an unordered pair. */
export function cellKey(a: string, b: string): string {
  return a < b ? `${a}\0${b}` : `${b}\0${a}`;
}
