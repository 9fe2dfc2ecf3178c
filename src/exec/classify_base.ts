/**
 * What the classifier's rules share: categories, the finding a command's
 * rules add to, and path judgement against the vibe root.
 */
import type { Word } from "./shell_words.ts";

export const CATEGORIES = [
  "read-only",
  "mutating",
  "destructive",
  "networked",
  "host-escape-risk",
  "interactive",
] as const;
export type Category = typeof CATEGORIES[number];

/** Writes to these are no one's files. */
export const HARMLESS_DEVICES = /^\/dev\/(null|stdout|stderr|stdin|tty|zero|fd\/\d+)$/;

// ------------------------------------------------------------------ paths

export function normalize(path: string): string {
  const out: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return `/${out.join("/")}`;
}

export const baseName = (s: string) => s.slice(s.lastIndexOf("/") + 1);

/** Categories and reasons found for one simple command. */
export class Finding {
  cats = new Set<Category>();
  reasons: string[] = [];
  why: Partial<Record<Category, string>> = {};
  add(c: Category, reason: string): void {
    this.cats.add(c);
    this.why[c] ??= reason;
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
  }
  merge(o: Finding): void {
    for (const c of o.cats) this.cats.add(c);
    for (const r of o.reasons) if (!this.reasons.includes(r)) this.reasons.push(r);
  }
}

/** Where a path operand points, or null when it cannot be known before run time. */
export function resolvePath(w: Word, cwd: string): { path: string; home: boolean } | null {
  if (w.tilde || w.lead === "$HOME" || w.lead === "${HOME}") return { path: "~", home: true };
  if (w.dynamic && !w.text.startsWith("/")) return null;
  const t = w.text;
  return { path: t.startsWith("/") ? normalize(t) : normalize(`${cwd}/${t}`), home: false };
}

export function outside(w: Word, cwd: string, root: string): string | null {
  const r = resolvePath(w, cwd);
  if (!r) return null;
  if (r.home) return w.text;
  if (HARMLESS_DEVICES.test(r.path)) return null;
  if (r.path === root || r.path.startsWith(`${root}/`)) return null;
  return r.path;
}

export const isOpt = (w: Word) => w.text.startsWith("-") && w.text.length > 1 && !w.quoted;

export function checkWrites(
  f: Finding,
  words: Word[],
  cwd: string,
  root: string,
  what: string,
): void {
  for (const w of words) {
    const o = outside(w, cwd, root);
    if (o) f.add("host-escape-risk", `${what} writes ${o} outside the vibe`);
  }
}
