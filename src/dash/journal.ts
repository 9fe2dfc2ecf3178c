/**
 * Following one vibe's change journal: the recent changes (with size
 * deltas) for the diff monitor, and write times for the activity sparkline.
 *
 * The journal is append-only with one global sequence, so a vibe's entries
 * after the last seen `seq` are exactly the new ones. The daemon journals a
 * run of writes to one file at most once a second (the first write always),
 * so the tail of a burst may arrive as one entry.
 */
import type { JournalEntry, MetaStore } from "../meta/meta_store.ts";
import type { ChangeEvent } from "./types.ts";

/** Recent changes kept per vibe. */
export const MAX_EVENTS = 100;
export const ACTIVITY_BUCKET_MS = 3000;
export const ACTIVITY_BUCKETS = 20;
const PAGE = 2000;

/** Size of `path` in the vibe's base (null when absent or unknown). */
export type BaseSize = (path: string) => Promise<number | null>;

export class JournalTrack {
  readonly vibe: string;
  lastSeq = 0;
  lastWriteMs: number | null = null;
  events: ChangeEvent[] = [];
  /** Entry times within the activity window, oldest first. */
  #times: number[] = [];
  #sizes = new Map<number, number>();

  constructor(vibe: string) {
    this.vibe = vibe;
  }

  /**
   * Reads the entries after the last seen one, up to `currentSeq` (the
   * vibe's last seq). On the first call only the last MAX_EVENTS are read.
   * Returns how many entries were new.
   */
  async pull(meta: MetaStore, currentSeq: number, baseSize: BaseSize): Promise<number> {
    if (currentSeq <= this.lastSeq) return 0;
    let entries: JournalEntry[];
    if (this.lastSeq === 0) {
      entries = meta.tailJournal(this.vibe, MAX_EVENTS);
    } else {
      entries = readAll(meta, this.vibe, this.lastSeq);
    }
    for (const e of entries) await this.#add(e, baseSize);
    if (entries.length > 0) this.lastSeq = entries[entries.length - 1]!.seq;
    if (this.events.length > MAX_EVENTS) this.events = this.events.slice(-MAX_EVENTS);
    return entries.length;
  }

  async #add(e: JournalEntry, baseSize: BaseSize): Promise<void> {
    let before: number | null = this.#sizes.get(e.ino) ?? null;
    if (before === null && (e.op === "write" || e.op === "truncate" || e.op === "unlink")) {
      before = await baseSize(e.path);
    }
    if (before === null && (e.op === "create" || e.op === "symlink")) before = 0;
    let after = e.size;
    if (e.op === "unlink" || e.op === "rmdir") {
      after = before === null ? null : 0;
      this.#sizes.delete(e.ino);
    } else if (after === null && before !== null && e.op !== "mkdir") {
      // rename, link, chmod, setattr: the size stays.
      after = before;
    } else if (after !== null) {
      this.#sizes.set(e.ino, after);
    }
    this.events.push({
      vibe: e.vibe,
      seq: e.seq,
      timeMs: e.timeMs,
      op: e.op,
      path: e.path,
      path2: e.path2,
      size: e.size,
      sizeDelta: before !== null && after !== null ? after - before : null,
    });
    this.#times.push(e.timeMs);
    this.lastWriteMs = Math.max(this.lastWriteMs ?? 0, e.timeMs);
  }

  /** Entries per bucket ending at `nowMs`, oldest first. */
  activity(nowMs: number): number[] {
    const start = nowMs - ACTIVITY_BUCKET_MS * ACTIVITY_BUCKETS;
    let drop = 0;
    while (drop < this.#times.length && this.#times[drop]! <= start) drop++;
    if (drop > 0) this.#times = this.#times.slice(drop);
    const buckets = new Array<number>(ACTIVITY_BUCKETS).fill(0);
    for (const t of this.#times) {
      const i = Math.min(ACTIVITY_BUCKETS - 1, Math.floor((t - start) / ACTIVITY_BUCKET_MS));
      if (i >= 0) buckets[i]!++;
    }
    return buckets;
  }
}

function readAll(meta: MetaStore, vibe: string, after: number): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (;;) {
    const page = meta.readJournal(vibe, after, PAGE);
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.seq;
  }
}
