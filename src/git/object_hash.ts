/**
 * Git object encoding and hashing without writing anything: the oid a blob or
 * tree would get. Used to compare a vibe's state with its base without
 * touching the object database.
 */
import { createHash } from "node:crypto";
import type { Oid } from "../types.ts";
import { GIT_MODE } from "../types.ts";
import type { ObjectType, TreeEntry } from "./object_store.ts";

const encoder = new TextEncoder();

/** The oid git assigns to an object of `type` with `data` as content. */
export function hashObject(type: ObjectType, data: Uint8Array): Oid {
  const h = createHash("sha1");
  h.update(encoder.encode(`${type} ${data.length}\0`));
  h.update(data);
  return h.digest("hex");
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Sorts entries git's way: by name bytes, where a tree's name compares as if
 * it ended with "/" (so "a.b" < "a/" < "a0").
 */
export function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  const keyed = entries.map((e) => {
    const isTree = e.mode === GIT_MODE.TREE;
    return { e, key: encoder.encode(isTree ? `${e.name}/` : e.name) };
  });
  keyed.sort((x, y) => compareBytes(x.key, y.key));
  return keyed.map((k) => k.e);
}

/** Canonical tree object content for `entries` (any order). */
export function encodeTree(entries: TreeEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const e of sortTreeEntries(entries)) {
    const head = encoder.encode(`${e.mode.toString(8)} ${e.name}\0`);
    const oid = new Uint8Array(20);
    for (let i = 0; i < 20; i++) oid[i] = parseInt(e.oid.slice(i * 2, i * 2 + 2), 16);
    parts.push(head, oid);
    total += head.length + 20;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The oid of the empty tree. */
export const EMPTY_TREE_OID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
