/**
 * Parsers for git's tree, commit and tag object bodies (without the loose
 * "type size\0" header). Pure functions over bytes; reused by writers and tests.
 *
 * Names and text: git stores tree entry names and commit/tag text as raw
 * bytes. They are decoded as UTF-8 with replacement characters (non-fatal),
 * so a name that is not valid UTF-8 cannot be round-tripped byte for byte —
 * a known limitation of the `TreeEntry.name: string` vocabulary. Commit
 * `encoding` headers are ignored (UTF-8 is assumed).
 */
import { VibeError } from "../errors.ts";
import type { Oid } from "../types.ts";
import type { Commit, ObjectType, Signature, TreeEntry } from "./object_store.ts";
import { oidHexAt } from "./oid_hex.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** An annotated tag object. */
export interface Tag {
  oid: Oid;
  /** The tagged object. */
  object: Oid;
  /** Type of the tagged object. */
  type: ObjectType;
  /** Tag name as written in the object. */
  tag: string;
  /** Null for old tags written without a tagger. */
  tagger: Signature | null;
  message: string;
}

function corrupt(kind: string, oid: string, why: string): VibeError {
  return new VibeError("CORRUPT", `Cannot parse ${kind} "${oid}": ${why} (run "git fsck")`);
}

/**
 * Canonical git mode for a raw tree mode, as git normalizes it: any regular
 * file becomes 0o100644 or 0o100755 (by the owner execute bit). -1 if unknown.
 */
function canonicalMode(mode: number): number {
  switch (mode & 0o170000) {
    case 0o100000:
      return (mode & 0o100) !== 0 ? 0o100755 : 0o100644;
    case 0o040000:
      return 0o040000;
    case 0o120000:
      return 0o120000;
    case 0o160000:
      return 0o160000;
    default:
      return -1;
  }
}

/**
 * Entries of a tree object in stored (git) order. Each entry is
 * "<octal mode> <name>\0<20-byte oid>". Modes are canonicalized; names are
 * decoded as described in the module comment. `oid` only names errors.
 */
export function parseTree(data: Uint8Array, oid: Oid = "?"): TreeEntry[] {
  const out: TreeEntry[] = [];
  const n = data.length;
  let p = 0;
  while (p < n) {
    let mode = 0;
    let c = data[p]!;
    const modeStart = p;
    while (c !== 0x20) {
      if (c < 0x30 || c > 0x37 || p - modeStart > 7) throw corrupt("tree", oid, "bad entry mode");
      mode = (mode << 3) | (c - 0x30);
      if (++p >= n) throw corrupt("tree", oid, "entry is truncated");
      c = data[p]!;
    }
    if (p === modeStart) throw corrupt("tree", oid, "entry has no mode");
    const nameStart = ++p;
    let ascii = true;
    while (p < n && (c = data[p]!) !== 0) {
      if (c >= 0x80) ascii = false;
      p++;
    }
    if (p + 21 > n) throw corrupt("tree", oid, "entry is truncated");
    if (p === nameStart) throw corrupt("tree", oid, "entry has an empty name");
    let name: string;
    if (ascii && p - nameStart < 13) {
      // V8 copies concatenations shorter than 13 chars into a flat string (no rope).
      name = "";
      for (let i = nameStart; i < p; i++) name += String.fromCharCode(data[i]!);
    } else {
      name = utf8.decode(data.subarray(nameStart, p));
    }
    const m = canonicalMode(mode);
    if (m < 0) throw corrupt("tree", oid, `entry "${name}" has unknown mode ${mode.toString(8)}`);
    out.push({ name, mode: m, oid: oidHexAt(data, p + 1) });
    p += 21;
  }
  return out;
}

/** Splits the header block (up to the first blank line) from the message. */
function splitHeaders(text: string): { headers: string[]; message: string } {
  const blank = text.indexOf("\n\n");
  const head = blank < 0 ? text : text.slice(0, blank);
  const message = blank < 0 ? "" : text.slice(blank + 2);
  const headers: string[] = [];
  for (const line of head.split("\n")) {
    // Continuation lines (gpgsig, mergetag) start with a space: skipped with their header.
    if (line.startsWith(" ")) continue;
    headers.push(line);
  }
  return { headers, message };
}

/**
 * Parses "Name <email> 1700000000 +0130". Tolerates a missing or malformed
 * date (timestamp 0, offset 0) as git does for old broken objects.
 */
export function parseSignature(s: string): Signature {
  const gt = s.lastIndexOf(">");
  const lt = gt < 0 ? -1 : s.lastIndexOf("<", gt);
  if (lt < 0) return { name: s.trim(), email: "", timestamp: 0, tzOffsetMinutes: 0 };
  const name = s.slice(0, lt).trim();
  const email = s.slice(lt + 1, gt);
  const rest = s.slice(gt + 1).trim().split(/\s+/);
  const ts = Number(rest[0]);
  const tz = rest[1] ?? "";
  let tzOffsetMinutes = 0;
  const m = /^([+-])(\d\d)(\d\d)$/.exec(tz);
  if (m !== null) {
    const mins = Number(m[2]) * 60 + Number(m[3]);
    tzOffsetMinutes = m[1] === "-" ? -mins : mins;
  }
  return { name, email, timestamp: Number.isFinite(ts) ? ts : 0, tzOffsetMinutes };
}

const HEX40 = /^[0-9a-f]{40}$/;

/** Parses a commit body. Extra headers (gpgsig, mergetag, encoding, …) are ignored. */
export function parseCommit(data: Uint8Array, oid: Oid = "?"): Commit {
  const { headers, message } = splitHeaders(utf8.decode(data));
  let tree: string | null = null;
  const parents: string[] = [];
  let author: Signature | null = null;
  let committer: Signature | null = null;
  for (const h of headers) {
    const sp = h.indexOf(" ");
    const key = sp < 0 ? h : h.slice(0, sp);
    const value = sp < 0 ? "" : h.slice(sp + 1);
    if (key === "tree" && tree === null) {
      if (!HEX40.test(value)) throw corrupt("commit", oid, "bad tree id");
      tree = value;
    } else if (key === "parent") {
      if (!HEX40.test(value)) throw corrupt("commit", oid, "bad parent id");
      parents.push(value);
    } else if (key === "author" && author === null) {
      author = parseSignature(value);
    } else if (key === "committer" && committer === null) {
      committer = parseSignature(value);
    }
  }
  if (tree === null) throw corrupt("commit", oid, "no tree header");
  const fallback: Signature = { name: "", email: "", timestamp: 0, tzOffsetMinutes: 0 };
  return {
    oid,
    tree,
    parents,
    author: author ?? committer ?? fallback,
    committer: committer ?? author ?? fallback,
    message,
  };
}

const OBJECT_TYPES = new Set(["blob", "tree", "commit", "tag"]);

/** Parses an annotated tag body. */
export function parseTag(data: Uint8Array, oid: Oid = "?"): Tag {
  const { headers, message } = splitHeaders(utf8.decode(data));
  let object: string | null = null;
  let type: ObjectType | null = null;
  let tag = "";
  let tagger: Signature | null = null;
  for (const h of headers) {
    const sp = h.indexOf(" ");
    const key = sp < 0 ? h : h.slice(0, sp);
    const value = sp < 0 ? "" : h.slice(sp + 1);
    if (key === "object" && object === null) {
      if (!HEX40.test(value)) throw corrupt("tag", oid, "bad object id");
      object = value;
    } else if (key === "type" && type === null) {
      if (!OBJECT_TYPES.has(value)) throw corrupt("tag", oid, `unknown object type "${value}"`);
      type = value as ObjectType;
    } else if (key === "tag") {
      tag = value;
    } else if (key === "tagger") {
      tagger = parseSignature(value);
    }
  }
  if (object === null || type === null) throw corrupt("tag", oid, "no object or type header");
  return { oid, object, type, tag, tagger, message };
}
