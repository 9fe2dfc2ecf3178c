/**
 * Loose objects: `objects/ab/cdef…`, a zlib stream of "<type> <size>\0" + body.
 * A missing file is not an error here (the caller also looks in packs and
 * alternates); a damaged one is CORRUPT naming the file.
 */
import { VibeError } from "../errors.ts";
import type { ObjectType } from "./object_store.ts";
import { type HeaderInfo, inflateHead, inflateWithHeader } from "./inflate.ts";

/** Decoded "<type> <size>\0" header. */
export interface ObjectHeader {
  type: ObjectType;
  size: number;
  /** Bytes up to and including the NUL. */
  headerLength: number;
}

const TYPE_BY_NAME: Record<string, ObjectType> = {
  blob: "blob",
  tree: "tree",
  commit: "commit",
  tag: "tag",
};

/**
 * Parses "<type> <size>\0" at the start of `head`. Returns null when `head`
 * does not yet hold the whole header; throws a plain Error when malformed.
 */
export function parseObjectHeader(head: Uint8Array): ObjectHeader | null {
  let sp = -1;
  for (let i = 0; i < head.length && i < 8; i++) {
    if (head[i] === 0x20) {
      sp = i;
      break;
    }
  }
  if (sp < 0) {
    if (head.length < 8) return null;
    throw new Error("object header has no type");
  }
  let typeName = "";
  for (let i = 0; i < sp; i++) typeName += String.fromCharCode(head[i]!);
  const type = TYPE_BY_NAME[typeName];
  if (type === undefined) throw new Error(`unknown object type "${typeName}"`);
  let size = 0;
  let i = sp + 1;
  for (; i < head.length; i++) {
    const c = head[i]!;
    if (c === 0) {
      if (i === sp + 1) throw new Error("object header has no size");
      return { type, size, headerLength: i + 1 };
    }
    if (c < 0x30 || c > 0x39 || i - sp > 16) throw new Error("object header has a bad size");
    size = size * 10 + (c - 0x30);
  }
  return null;
}

/** Path of the loose object `oid` under the objects directory. */
export function loosePath(objectsDir: string, oid: string): string {
  return `${objectsDir}/${oid.slice(0, 2)}/${oid.slice(2)}`;
}

function corrupt(path: string, why: string): VibeError {
  return new VibeError(
    "CORRUPT",
    `Cannot read loose object "${path}": ${why} (run "git fsck")`,
  );
}

function readOrNull(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** Reads and inflates the loose object `oid`; null when there is no such file. */
export function readLoose(
  objectsDir: string,
  oid: string,
): { type: ObjectType; data: Uint8Array } | null {
  const path = loosePath(objectsDir, oid);
  const z = readOrNull(path);
  if (z === null) return null;
  let type: ObjectType = "blob";
  try {
    const data = inflateWithHeader(z, (head): HeaderInfo => {
      const h = parseObjectHeader(head);
      if (h === null) throw new Error("object header is truncated");
      type = h.type;
      return { headerLength: h.headerLength, bodySize: h.size };
    });
    return { type, data };
  } catch (e) {
    if (e instanceof VibeError) throw e;
    throw corrupt(path, e instanceof Error ? e.message : String(e));
  }
}

const headOut = new Uint8Array(32);

/**
 * Type and size of the loose object `oid` from its header alone: reads the
 * first KiB of the file (more only if the header needs it) and inflates only
 * the header bytes. Null when there is no such file.
 */
export function readLooseHeader(objectsDir: string, oid: string): ObjectHeader | null {
  const path = loosePath(objectsDir, oid);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
  try {
    for (let want = 1024;; want *= 8) {
      const buf = new Uint8Array(want);
      file.seekSync(0, Deno.SeekMode.Start);
      let n = 0;
      while (n < want) {
        const r = file.readSync(buf.subarray(n));
        if (r === null || r === 0) break;
        n += r;
      }
      let h: ObjectHeader | null;
      try {
        const produced = inflateHead(buf.subarray(0, n), headOut);
        h = parseObjectHeader(headOut.subarray(0, produced));
      } catch (e) {
        throw corrupt(path, e instanceof Error ? e.message : String(e));
      }
      if (h !== null) return h;
      if (n < want) throw corrupt(path, "object header is truncated");
    }
  } finally {
    file.close();
  }
}

/** True when a loose file for `oid` exists (not verified). */
export function looseExists(objectsDir: string, oid: string): boolean {
  try {
    return Deno.statSync(loosePath(objectsDir, oid)).isFile;
  } catch {
    return false;
  }
}

/**
 * Adds to `out` loose oids starting with `prefix` (lowercase hex, ≥ 2
 * digits), stopping once `out` holds `limit` entries.
 */
export function findLoosePrefix(
  objectsDir: string,
  prefix: string,
  out: Set<string>,
  limit: number,
): void {
  const dir = `${objectsDir}/${prefix.slice(0, 2)}`;
  const rest = prefix.slice(2);
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (out.size >= limit) return;
    if (e.name.length === 38 && e.name.startsWith(rest) && /^[0-9a-f]{38}$/.test(e.name)) {
      out.add(prefix.slice(0, 2) + e.name);
    }
  }
}
