/** Text helpers for the dashboard views: pure, width-exact (the views are ASCII + box glyphs). */

/** `s` cut or padded to exactly `w` columns ("…" marks a cut). */
export function fit(s: string, w: number, right = false): string {
  if (w <= 0) return "";
  if (s.length > w) return w === 1 ? "…" : `${s.slice(0, w - 1)}…`;
  return right ? s.padStart(w) : s.padEnd(w);
}

/** Like `fit` but keeps the end of `s` (paths: the file name matters most). */
export function fitTail(s: string, w: number): string {
  if (w <= 0) return "";
  if (s.length > w) return w === 1 ? "…" : `…${s.slice(s.length - w + 1)}`;
  return s.padEnd(w);
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ["K", "M", "G", "T"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

export function fmtSigned(n: number | null): string {
  if (n === null) return "?";
  return n > 0 ? `+${fmtBytes(n)}` : n < 0 ? `-${fmtBytes(-n)}` : "0";
}

/** A duration in one short unit: 5s, 3m, 2h, 4d. */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Local wall-clock time hh:mm:ss. */
export function fmtClock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const BARS = "▁▂▃▄▅▆▇█";

/** A sparkline of the last `w` counts (blank where nothing happened). */
export function sparkline(counts: number[], w: number): string {
  const xs = counts.slice(-w);
  const max = Math.max(1, ...xs);
  let s = "";
  for (const x of xs) {
    s += x === 0 ? " " : BARS[Math.min(7, Math.floor((x / max) * 7.999))]!;
  }
  return s.padStart(w);
}

export const shortOid = (oid: string | null | undefined) => (oid ? oid.slice(0, 7) : "-");
export const branchName = (ref: string | null) => (ref ? ref.replace("refs/heads/", "") : "-");

/** Terminal colour of a vibe state. */
export function stateColor(state: string): string {
  switch (state) {
    case "mounted":
      return "green";
    case "promoted":
      return "cyan";
    case "conflict":
      return "red";
    default:
      return "gray";
  }
}

/** First index of the `size`-row window that keeps `selected` visible, scrolled like a list. */
export function windowStart(selected: number, count: number, size: number): number {
  if (count <= size || size <= 0) return 0;
  const half = Math.floor(size / 2);
  return Math.max(0, Math.min(count - size, selected - half));
}

/** Props for an optional colour (exactOptionalPropertyTypes: no `color={undefined}`). */
export const colorProp = (c: string | undefined): { color?: string } => (c ? { color: c } : {});
