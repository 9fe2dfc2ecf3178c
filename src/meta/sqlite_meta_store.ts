/**
 * `MetaStore` on `node:sqlite` — the only module that imports it.
 *
 * WAL mode with synchronous=NORMAL: every commit is atomic and survives a
 * process crash; `syncDurable()` issues one synchronous=FULL commit, which
 * makes every earlier commit durable against power loss too (used by fsync).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { VibeError } from "../errors.ts";
import type { Ino, Oid, QuotaUsage } from "../types.ts";
import type { TreeEntry } from "../git/object_store.ts";
import { parseTree } from "../git/parse.ts";
import type { FileKind } from "../vfs/vfs.ts";
import type {
  ApprovalRecord,
  AuditRecord,
  DirentRecord,
  EntryWithNode,
  InodeRecord,
  JournalEntry,
  JournalOp,
  ListedDirent,
  MetaStore,
  SnapshotRecord,
  StateDirent,
  StateRows,
  StateXattr,
  TreeNodeRecord,
  VibeLayerRecord,
  VibeRecord,
  VibeState,
} from "./meta_store.ts";
import { MIGRATIONS } from "./schema.ts";

type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Columns of an inode row after (vibe[, snapshot]), in `inodeValues` order. */
const INODE_COLUMNS = `ino, kind, mode, uid, gid, nlink, size,
  atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, oid, git_mode,
  materialized, loaded, dirty, volatile, target, parent, next_cookie, origin, read_only`;
const INODE_PARAMS = new Array(24).fill("?").join(", ");

function inodeValues(n: InodeRecord): (string | number | null)[] {
  return [
    n.ino,
    n.kind,
    n.mode,
    n.uid,
    n.gid,
    n.nlink,
    n.size,
    n.atime.sec,
    n.atime.nsec,
    n.mtime.sec,
    n.mtime.nsec,
    n.ctime.sec,
    n.ctime.nsec,
    n.oid,
    n.gitMode,
    n.materialized ? 1 : 0,
    n.loaded ? 1 : 0,
    n.dirty ? 1 : 0,
    n.volatile ? 1 : 0,
    n.target,
    n.parent,
    n.nextCookie,
    n.origin,
    n.readOnly ? 1 : 0,
  ];
}

/** Tables holding rows of a vibe (column `vibe`), emptied when it is deleted. */
const VIBE_TABLES = [
  "vibe_layers",
  "inodes",
  "dirents",
  "xattrs",
  "journal",
  "snapshots",
  "snapshot_inodes",
  "snapshot_dirents",
  "snapshot_xattrs",
];

export interface OpenOptions {
  /** Create the file and run migrations when missing (init). Otherwise it must exist. */
  create?: boolean;
  /** Milliseconds to wait for another process's write lock. */
  busyTimeoutMs?: number;
}

export class SqliteMetaStore implements MetaStore {
  readonly path: string;
  #db: DatabaseSync;
  #depth = 0;
  #stmts = new Map<string, StatementSync>();

  constructor(path: string, opts: OpenOptions = {}) {
    this.path = path;
    let exists = true;
    try {
      Deno.statSync(path);
    } catch {
      exists = false;
    }
    if (!exists && !opts.create) {
      throw new VibeError(
        "NOT_INITIALIZED",
        `Cannot open the vibe metadata: "${path}" does not exist (run "vibe init")`,
      );
    }
    try {
      this.#db = new DatabaseSync(path);
      this.#db.exec(`PRAGMA busy_timeout = ${opts.busyTimeoutMs ?? 10000}`);
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec("PRAGMA foreign_keys = OFF");
      this.#migrate();
    } catch (e) {
      if (e instanceof VibeError) throw e;
      throw new VibeError(
        "CORRUPT",
        `Cannot open the vibe metadata "${path}": ${(e as Error).message} ` +
          `(move it aside and run "vibe init" again; vibe data in .vibe/sessions is kept)`,
      );
    }
  }

  #migrate(): void {
    const row = this.#db.prepare("PRAGMA user_version").get() as Row;
    const version = num(row["user_version"]);
    if (version > MIGRATIONS.length) {
      throw new VibeError(
        "CORRUPT",
        `Cannot open the vibe metadata "${this.path}": it was written by a newer vibe ` +
          `(schema ${version}, this vibe knows ${MIGRATIONS.length}; upgrade vibe)`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
        this.#db.exec("COMMIT");
      } catch (e) {
        this.#db.exec("ROLLBACK");
        throw e;
      }
    }
  }

  #st(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) {
      this.#depth++;
      try {
        return fn();
      } finally {
        this.#depth--;
      }
    }
    this.#st("BEGIN IMMEDIATE").run();
    this.#depth = 1;
    try {
      const out = fn();
      this.#st("COMMIT").run();
      return out;
    } catch (e) {
      try {
        this.#st("ROLLBACK").run();
      } catch { /* already rolled back */ }
      throw e;
    } finally {
      this.#depth = 0;
    }
  }

  /** Makes all committed changes durable against power loss (one FULL-sync commit). */
  syncDurable(): void {
    if (this.#depth > 0) return;
    this.#db.exec("PRAGMA synchronous = FULL");
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      this.#db.exec("INSERT OR REPLACE INTO settings VALUES ('last_sync_ms', " + Date.now() + ")");
      this.#db.exec("COMMIT");
    } finally {
      this.#db.exec("PRAGMA synchronous = NORMAL");
    }
  }

  /** SQLite's own consistency check; "ok" when the file is sound. */
  integrityCheck(): string {
    const rows = this.#db.prepare("PRAGMA integrity_check").all() as Row[];
    return rows.map((r) => str(r["integrity_check"])).join("\n");
  }

  close(): void {
    this.#stmts.clear();
    try {
      this.#db.close();
    } catch { /* closing twice is fine */ }
  }

  // ---- settings ----
  getSetting(key: string): string | null {
    const r = this.#st("SELECT value FROM settings WHERE key = ?").get(key) as Row | undefined;
    return r ? str(r["value"]) : null;
  }
  setSetting(key: string, value: string): void {
    this.#st("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)").run(key, value);
  }
  deleteSetting(key: string): boolean {
    return Number(this.#st("DELETE FROM settings WHERE key = ?").run(key).changes) > 0;
  }

  // ---- tree cache ----
  treeFiles(oid: Oid): number | null {
    const r = this.#st("SELECT files FROM trees WHERE oid = ?").get(oid) as Row | undefined;
    return r ? num(r["files"]) : null;
  }
  treeCount(): number {
    return num((this.#st("SELECT COUNT(*) AS n FROM trees").get() as Row)["n"]);
  }
  getTree(oid: Oid): TreeEntry[] | null {
    const r = this.#st("SELECT data FROM trees WHERE oid = ?").get(oid) as Row | undefined;
    if (!r) return null;
    return parseTree(r["data"] as Uint8Array, oid);
  }
  putTree(oid: Oid, data: Uint8Array, files: number): void {
    this.#st("INSERT OR IGNORE INTO trees (oid, data, files) VALUES (?, ?, ?)").run(
      oid,
      data,
      files,
    );
  }
  markCommitIndexed(oid: Oid, tree: Oid, files: number): void {
    this.#st("INSERT OR REPLACE INTO indexed_commits VALUES (?, ?, ?, ?)").run(
      oid,
      tree,
      Date.now(),
      files,
    );
  }
  indexedCommitTree(oid: Oid): Oid | null {
    const r = this.#st("SELECT tree FROM indexed_commits WHERE oid = ?").get(oid) as
      | Row
      | undefined;
    return r ? str(r["tree"]) : null;
  }

  // ---- vibes ----
  #vibe(r: Row): VibeRecord {
    return {
      id: str(r["id"]),
      baseCommit: str(r["base_commit"]),
      baseTree: str(r["base_tree"]),
      baseRef: strOrNull(r["base_ref"]),
      createdMs: num(r["created_ms"]),
      state: str(r["state"]) as VibeState,
      uid: num(r["uid"]),
      gid: num(r["gid"]),
      mountPath: strOrNull(r["mount_path"]),
      transport: strOrNull(r["transport"]),
      promotedCommit: strOrNull(r["promoted_commit"]),
      promotedMs: numOrNull(r["promoted_ms"]),
      promotedSeq: numOrNull(r["promoted_seq"]),
    };
  }
  getVibe(id: string): VibeRecord | null {
    const r = this.#st("SELECT * FROM vibes WHERE id = ?").get(id) as Row | undefined;
    return r ? this.#vibe(r) : null;
  }
  listVibes(): VibeRecord[] {
    return (this.#st("SELECT * FROM vibes ORDER BY created_ms, id").all() as Row[]).map((r) =>
      this.#vibe(r)
    );
  }
  insertVibe(v: VibeRecord, root: InodeRecord): void {
    this.transaction(() => {
      this.#st(
        `INSERT INTO vibes (id, base_commit, base_tree, base_ref, created_ms, state, next_ino,
          uid, gid, mount_path, transport, promoted_commit, promoted_ms, promoted_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        v.id,
        v.baseCommit,
        v.baseTree,
        v.baseRef,
        v.createdMs,
        v.state,
        root.ino + 1,
        v.uid,
        v.gid,
        v.mountPath,
        v.transport,
        v.promotedCommit,
        v.promotedMs,
        v.promotedSeq,
      );
      this.putInode(v.id, root);
    });
  }
  updateVibe(id: string, fields: Partial<Omit<VibeRecord, "id">>): void {
    const cols: Record<string, string> = {
      baseCommit: "base_commit",
      baseTree: "base_tree",
      baseRef: "base_ref",
      createdMs: "created_ms",
      state: "state",
      uid: "uid",
      gid: "gid",
      mountPath: "mount_path",
      transport: "transport",
      promotedCommit: "promoted_commit",
      promotedMs: "promoted_ms",
      promotedSeq: "promoted_seq",
    };
    const sets: string[] = [];
    const vals: (string | number | null)[] = [];
    for (const [k, v] of Object.entries(fields)) {
      const c = cols[k];
      if (!c) continue;
      sets.push(`${c} = ?`);
      vals.push(v as string | number | null);
    }
    if (sets.length === 0) return;
    this.#st(`UPDATE vibes SET ${sets.join(", ")} WHERE id = ?`).run(...vals, id);
  }
  deleteVibe(id: string): void {
    this.transaction(() => {
      for (const t of VIBE_TABLES) {
        this.#st(`DELETE FROM ${t} WHERE vibe = ?`).run(id);
      }
      this.#st("DELETE FROM vibes WHERE id = ?").run(id);
    });
  }
  allocInos(vibe: string, count: number): Ino {
    return this.transaction(() => {
      const r = this.#st("SELECT next_ino FROM vibes WHERE id = ?").get(vibe) as Row | undefined;
      if (!r) throw new VibeError("ENOENT", `Vibe "${vibe}" does not exist`);
      const first = num(r["next_ino"]);
      this.#st("UPDATE vibes SET next_ino = ? WHERE id = ?").run(first + count, vibe);
      return first;
    });
  }

  // ---- inodes ----
  #inode(r: Row): InodeRecord {
    return {
      ino: num(r["ino"]),
      kind: str(r["kind"]) as FileKind,
      mode: num(r["mode"]),
      uid: num(r["uid"]),
      gid: num(r["gid"]),
      nlink: num(r["nlink"]),
      size: numOrNull(r["size"]),
      atime: { sec: num(r["atime_s"]), nsec: num(r["atime_ns"]) },
      mtime: { sec: num(r["mtime_s"]), nsec: num(r["mtime_ns"]) },
      ctime: { sec: num(r["ctime_s"]), nsec: num(r["ctime_ns"]) },
      oid: strOrNull(r["oid"]),
      gitMode: numOrNull(r["git_mode"]),
      materialized: num(r["materialized"]) !== 0,
      loaded: num(r["loaded"]) !== 0,
      dirty: num(r["dirty"]) !== 0,
      volatile: num(r["volatile"]) !== 0,
      target: strOrNull(r["target"]),
      parent: num(r["parent"]),
      nextCookie: num(r["next_cookie"]),
      origin: strOrNull(r["origin"]),
      readOnly: num(r["read_only"] ?? 0) !== 0,
    };
  }
  getInode(vibe: string, ino: Ino): InodeRecord | null {
    const r = this.#st("SELECT * FROM inodes WHERE vibe = ? AND ino = ?").get(vibe, ino) as
      | Row
      | undefined;
    return r ? this.#inode(r) : null;
  }
  putInode(vibe: string, n: InodeRecord): void {
    this.#st(
      `INSERT OR REPLACE INTO inodes (vibe, ${INODE_COLUMNS})
       VALUES (?, ${INODE_PARAMS})`,
    ).run(vibe, ...inodeValues(n));
  }
  deleteInode(vibe: string, ino: Ino): void {
    this.#st("DELETE FROM inodes WHERE vibe = ? AND ino = ?").run(vibe, ino);
    this.#st("DELETE FROM xattrs WHERE vibe = ? AND ino = ?").run(vibe, ino);
  }
  orphanInodes(vibe: string): Ino[] {
    return (this.#st("SELECT ino FROM inodes WHERE vibe = ? AND nlink = 0").all(vibe) as Row[])
      .map((r) => num(r["ino"]));
  }
  materializedInos(vibe: string): Ino[] {
    return (this.#st("SELECT ino FROM inodes WHERE vibe = ? AND materialized = 1").all(
      vibe,
    ) as Row[]).map((r) => num(r["ino"]));
  }

  // ---- dirents ----
  getDirent(vibe: string, parent: Ino, name: string): DirentRecord | null {
    const r = this.#st(
      "SELECT ino, cookie FROM dirents WHERE vibe = ? AND parent = ? AND name = ?",
    ).get(vibe, parent, name) as Row | undefined;
    return r ? { name, ino: num(r["ino"]), cookie: num(r["cookie"]) } : null;
  }
  putDirent(vibe: string, parent: Ino, d: DirentRecord): void {
    this.#st(
      "INSERT OR REPLACE INTO dirents (vibe, parent, name, ino, cookie) VALUES (?, ?, ?, ?, ?)",
    ).run(vibe, parent, d.name, d.ino, d.cookie);
  }
  deleteDirent(vibe: string, parent: Ino, name: string): void {
    this.#st("DELETE FROM dirents WHERE vibe = ? AND parent = ? AND name = ?").run(
      vibe,
      parent,
      name,
    );
  }
  listDirents(vibe: string, parent: Ino, afterCookie: number, limit: number): ListedDirent[] {
    return (this.#st(
      `SELECT d.name AS name, d.ino AS ino, d.cookie AS cookie, i.kind AS kind
       FROM dirents d JOIN inodes i ON i.vibe = d.vibe AND i.ino = d.ino
       WHERE d.vibe = ? AND d.parent = ? AND d.cookie > ?
       ORDER BY d.cookie LIMIT ?`,
    ).all(vibe, parent, afterCookie, limit) as Row[]).map((r) => ({
      name: str(r["name"]),
      ino: num(r["ino"]),
      cookie: num(r["cookie"]),
      kind: str(r["kind"]) as FileKind,
    }));
  }
  listTreeChildren(vibe: string, parent: Ino): { name: string; node: TreeNodeRecord }[] {
    return (this.#st(
      `SELECT d.name, i.ino, i.kind, i.mode, i.oid, i.git_mode, i.materialized, i.dirty, i.target,
         i.volatile, i.origin
       FROM dirents d JOIN inodes i ON i.vibe = d.vibe AND i.ino = d.ino
       WHERE d.vibe = ? AND d.parent = ? ORDER BY d.cookie`,
    ).all(vibe, parent) as Row[]).map((r) => ({
      name: str(r["name"]),
      node: {
        ino: num(r["ino"]),
        kind: str(r["kind"]) as FileKind,
        mode: num(r["mode"]),
        oid: strOrNull(r["oid"]),
        gitMode: numOrNull(r["git_mode"]),
        materialized: num(r["materialized"]) !== 0,
        dirty: num(r["dirty"]) !== 0,
        target: strOrNull(r["target"]),
        volatile: num(r["volatile"]) !== 0,
        origin: strOrNull(r["origin"]),
      },
    }));
  }
  countDirents(vibe: string, parent: Ino): number {
    const r = this.#st("SELECT COUNT(*) AS n FROM dirents WHERE vibe = ? AND parent = ?").get(
      vibe,
      parent,
    ) as Row;
    return num(r["n"]);
  }
  putVibeLayers(vibe: string, layers: VibeLayerRecord[]): void {
    this.transaction(() => {
      this.#st("DELETE FROM vibe_layers WHERE vibe = ?").run(vibe);
      const ins = this.#st(
        "INSERT INTO vibe_layers (vibe, path, mode, source, origin, report) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const l of layers) {
        ins.run(vibe, l.path, l.mode, l.source, l.origin, l.report ? 1 : 0);
      }
    });
  }
  vibeLayers(vibe: string): VibeLayerRecord[] {
    return (this.#st("SELECT * FROM vibe_layers WHERE vibe = ? ORDER BY path").all(vibe) as Row[])
      .map((r) => ({
        path: str(r["path"]),
        mode: str(r["mode"]) as VibeLayerRecord["mode"],
        source: str(r["source"]),
        origin: strOrNull(r["origin"]),
        report: num(r["report"]) !== 0,
      }));
  }
  vibesUsingOrigin(prefix: string): string[] {
    return (this.#st(
      "SELECT DISTINCT vibe FROM vibe_layers WHERE substr(origin, 1, ?) = ? ORDER BY vibe",
    ).all(prefix.length, prefix) as Row[]).map((r) => str(r["vibe"]));
  }
  linksOf(vibe: string, ino: Ino): { parent: Ino; name: string }[] {
    return (this.#st("SELECT parent, name FROM dirents WHERE vibe = ? AND ino = ?").all(
      vibe,
      ino,
    ) as Row[]).map((r) => ({ parent: num(r["parent"]), name: str(r["name"]) }));
  }

  // ---- xattrs ----
  getXattr(vibe: string, ino: Ino, name: string): Uint8Array | null {
    const r = this.#st("SELECT value FROM xattrs WHERE vibe = ? AND ino = ? AND name = ?").get(
      vibe,
      ino,
      name,
    ) as Row | undefined;
    return r ? new Uint8Array(r["value"] as Uint8Array) : null;
  }
  setXattr(vibe: string, ino: Ino, name: string, value: Uint8Array): void {
    this.#st("INSERT OR REPLACE INTO xattrs (vibe, ino, name, value) VALUES (?, ?, ?, ?)").run(
      vibe,
      ino,
      name,
      value,
    );
  }
  removeXattr(vibe: string, ino: Ino, name: string): boolean {
    const r = this.#st("DELETE FROM xattrs WHERE vibe = ? AND ino = ? AND name = ?").run(
      vibe,
      ino,
      name,
    );
    return Number(r.changes) > 0;
  }
  listXattrs(vibe: string, ino: Ino): string[] {
    return (this.#st("SELECT name FROM xattrs WHERE vibe = ? AND ino = ? ORDER BY name").all(
      vibe,
      ino,
    ) as Row[]).map((r) => str(r["name"]));
  }

  // ---- state rows (snapshots, forks, restores) ----
  #entry(r: Row): EntryWithNode {
    return {
      dirent: {
        parent: num(r["d_parent"]),
        name: str(r["d_name"]),
        ino: num(r["ino"]),
        cookie: num(r["d_cookie"]),
      },
      node: this.#inode(r),
    };
  }
  #xattr(r: Row): StateXattr {
    return {
      ino: num(r["ino"]),
      name: str(r["name"]),
      value: new Uint8Array(r["value"] as Uint8Array),
    };
  }
  #dirent(r: Row): StateDirent {
    return {
      parent: num(r["parent"]),
      name: str(r["name"]),
      ino: num(r["ino"]),
      cookie: num(r["cookie"]),
    };
  }
  nextIno(vibe: string): Ino {
    const r = this.#st("SELECT next_ino FROM vibes WHERE id = ?").get(vibe) as Row | undefined;
    if (!r) throw new VibeError("ENOENT", `Vibe "${vibe}" does not exist`);
    return num(r["next_ino"]);
  }
  dirtyInodes(vibe: string): InodeRecord[] {
    return (this.#st("SELECT * FROM inodes WHERE vibe = ? AND dirty = 1").all(vibe) as Row[])
      .map((r) => this.#inode(r));
  }
  dirtyDirEntries(vibe: string): EntryWithNode[] {
    return (this.#st(
      `SELECT d.parent AS d_parent, d.name AS d_name, d.cookie AS d_cookie, i.*
       FROM dirents d JOIN inodes i ON i.vibe = d.vibe AND i.ino = d.ino
       WHERE d.vibe = ? AND d.parent IN (
         SELECT ino FROM inodes WHERE vibe = ? AND dirty = 1 AND kind = 'dir' AND loaded = 1)`,
    ).all(vibe, vibe) as Row[]).map((r) => this.#entry(r));
  }
  dirEntries(vibe: string, parent: Ino): EntryWithNode[] {
    return (this.#st(
      `SELECT d.parent AS d_parent, d.name AS d_name, d.cookie AS d_cookie, i.*
       FROM dirents d JOIN inodes i ON i.vibe = d.vibe AND i.ino = d.ino
       WHERE d.vibe = ? AND d.parent = ?`,
    ).all(vibe, parent) as Row[]).map((r) => this.#entry(r));
  }
  allXattrs(vibe: string): StateXattr[] {
    return (this.#st("SELECT ino, name, value FROM xattrs WHERE vibe = ?").all(vibe) as Row[])
      .map((r) => this.#xattr(r));
  }
  stateRows(vibe: string): StateRows {
    return {
      inodes: (this.#st("SELECT * FROM inodes WHERE vibe = ?").all(vibe) as Row[]).map((r) =>
        this.#inode(r)
      ),
      dirents: (this.#st("SELECT parent, name, ino, cookie FROM dirents WHERE vibe = ?").all(
        vibe,
      ) as Row[]).map((r) => this.#dirent(r)),
      xattrs: this.allXattrs(vibe),
    };
  }
  replaceState(vibe: string, rows: StateRows, nextIno: Ino): void {
    this.transaction(() => {
      for (const t of ["inodes", "dirents", "xattrs"]) {
        this.#st(`DELETE FROM ${t} WHERE vibe = ?`).run(vibe);
      }
      const ins = this.#st(
        `INSERT INTO inodes (vibe, ${INODE_COLUMNS}) VALUES (?, ${INODE_PARAMS})`,
      );
      for (const n of rows.inodes) ins.run(vibe, ...inodeValues(n));
      const dir = this.#st(
        "INSERT INTO dirents (vibe, parent, name, ino, cookie) VALUES (?, ?, ?, ?, ?)",
      );
      for (const d of rows.dirents) dir.run(vibe, d.parent, d.name, d.ino, d.cookie);
      const xa = this.#st("INSERT INTO xattrs (vibe, ino, name, value) VALUES (?, ?, ?, ?)");
      for (const x of rows.xattrs) xa.run(vibe, x.ino, x.name, x.value);
      this.#st("UPDATE vibes SET next_ino = MAX(next_ino, ?) WHERE id = ?").run(nextIno, vibe);
    });
  }

  // ---- snapshots ----
  #snapshot(r: Row): SnapshotRecord {
    let info: Record<string, unknown> = {};
    try {
      info = JSON.parse(str(r["info"])) as Record<string, unknown>;
    } catch { /* unreadable info: figures unknown, the rows still restore */ }
    return {
      vibe: str(r["vibe"]),
      name: str(r["name"]),
      createdMs: num(r["created_ms"]),
      version: num(r["version"]),
      nextIno: num(r["next_ino"]),
      info,
    };
  }
  insertSnapshot(snap: SnapshotRecord, rows: StateRows): void {
    const { vibe, name } = snap;
    this.transaction(() => {
      this.#st(
        `INSERT INTO snapshots (vibe, name, created_ms, version, info, next_ino)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(vibe, name, snap.createdMs, snap.version, JSON.stringify(snap.info), snap.nextIno);
      const ins = this.#st(
        `INSERT INTO snapshot_inodes (vibe, snapshot, ${INODE_COLUMNS})
         VALUES (?, ?, ${INODE_PARAMS})`,
      );
      for (const n of rows.inodes) ins.run(vibe, name, ...inodeValues(n));
      const dir = this.#st(
        `INSERT INTO snapshot_dirents (vibe, snapshot, parent, name, ino, cookie)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const d of rows.dirents) dir.run(vibe, name, d.parent, d.name, d.ino, d.cookie);
      const xa = this.#st(
        "INSERT INTO snapshot_xattrs (vibe, snapshot, ino, name, value) VALUES (?, ?, ?, ?, ?)",
      );
      for (const x of rows.xattrs) xa.run(vibe, name, x.ino, x.name, x.value);
    });
  }
  getSnapshot(vibe: string, name: string): SnapshotRecord | null {
    const r = this.#st("SELECT * FROM snapshots WHERE vibe = ? AND name = ?").get(vibe, name) as
      | Row
      | undefined;
    return r ? this.#snapshot(r) : null;
  }
  listSnapshots(vibe: string): SnapshotRecord[] {
    return (this.#st("SELECT * FROM snapshots WHERE vibe = ? ORDER BY created_ms, name").all(
      vibe,
    ) as Row[]).map((r) => this.#snapshot(r));
  }
  snapshotRows(vibe: string, name: string): StateRows {
    return {
      inodes: (this.#st("SELECT * FROM snapshot_inodes WHERE vibe = ? AND snapshot = ?").all(
        vibe,
        name,
      ) as Row[]).map((r) => this.#inode(r)),
      dirents: (this.#st(
        "SELECT parent, name, ino, cookie FROM snapshot_dirents WHERE vibe = ? AND snapshot = ?",
      ).all(vibe, name) as Row[]).map((r) => this.#dirent(r)),
      xattrs: (this.#st(
        "SELECT ino, name, value FROM snapshot_xattrs WHERE vibe = ? AND snapshot = ?",
      ).all(vibe, name) as Row[]).map((r) => this.#xattr(r)),
    };
  }
  deleteSnapshot(vibe: string, name: string): boolean {
    return this.transaction(() => {
      for (const t of ["snapshot_inodes", "snapshot_dirents", "snapshot_xattrs"]) {
        this.#st(`DELETE FROM ${t} WHERE vibe = ? AND snapshot = ?`).run(vibe, name);
      }
      const r = this.#st("DELETE FROM snapshots WHERE vibe = ? AND name = ?").run(vibe, name);
      return Number(r.changes) > 0;
    });
  }

  // ---- journal ----
  appendJournal(e: Omit<JournalEntry, "seq">): void {
    this.#st(
      `INSERT INTO journal (vibe, time_ms, op, path, path2, ino, size, kind, mode, prev_mode)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.vibe,
      e.timeMs,
      e.op,
      e.path,
      e.path2,
      e.ino,
      e.size,
      e.kind ?? null,
      e.mode ?? null,
      e.prevMode ?? null,
    );
  }
  quotaUsage(vibe: string): QuotaUsage {
    const r = this.#st(
      `SELECT
         COALESCE(SUM(CASE WHEN materialized = 1 AND kind = 'file' THEN size ELSE 0 END), 0) AS b,
         COALESCE(SUM(CASE WHEN dirty = 1 AND kind != 'dir' AND nlink > 0 THEN 1 ELSE 0 END), 0) AS f
       FROM inodes WHERE vibe = ?`,
    ).get(vibe) as Row;
    return { bytes: num(r["b"]), files: num(r["f"]) };
  }
  appendAudit(a: Omit<AuditRecord, "seq">): number {
    const r = this.#st(
      `INSERT INTO audit (time_ms, vibe, event, command, cwd, action, categories, reason,
         exit_code, signal, changed, duration_ms, checkpoint, token)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      a.timeMs,
      a.vibe,
      a.event,
      JSON.stringify(a.command),
      a.cwd,
      a.action,
      JSON.stringify(a.categories),
      a.reason,
      a.exitCode,
      a.signal,
      a.changed,
      a.durationMs,
      a.checkpoint,
      a.token,
    );
    return Number(r.lastInsertRowid);
  }
  readAudit(opts: { vibe?: string; sinceMs?: number; limit?: number }): AuditRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.vibe !== undefined) {
      where.push("vibe = ?");
      args.push(opts.vibe);
    }
    if (opts.sinceMs !== undefined) {
      where.push("time_ms >= ?");
      args.push(opts.sinceMs);
    }
    const sql = `SELECT * FROM (SELECT * FROM audit ${
      where.length ? `WHERE ${where.join(" AND ")}` : ""
    } ORDER BY seq DESC LIMIT ?) ORDER BY seq`;
    args.push(opts.limit ?? 1_000_000);
    return (this.#db.prepare(sql).all(...args) as Row[]).map((r) => ({
      seq: num(r["seq"]),
      timeMs: num(r["time_ms"]),
      vibe: strOrNull(r["vibe"]),
      event: str(r["event"]) as AuditRecord["event"],
      command: JSON.parse(str(r["command"])),
      cwd: strOrNull(r["cwd"]),
      action: str(r["action"]),
      categories: JSON.parse(str(r["categories"])),
      reason: str(r["reason"]),
      exitCode: numOrNull(r["exit_code"]),
      signal: strOrNull(r["signal"]),
      changed: numOrNull(r["changed"]),
      durationMs: numOrNull(r["duration_ms"]),
      checkpoint: strOrNull(r["checkpoint"]),
      token: strOrNull(r["token"]),
    }));
  }
  putApproval(a: ApprovalRecord): void {
    this.#st(
      "INSERT INTO approvals (token, created_ms, expires_ms, request, used_ms) VALUES (?, ?, ?, ?, ?)",
    ).run(a.token, a.createdMs, a.expiresMs, JSON.stringify(a.request), a.usedMs);
  }
  getApproval(token: string): ApprovalRecord | null {
    const r = this.#st("SELECT * FROM approvals WHERE token = ?").get(token) as Row | undefined;
    if (!r) return null;
    return {
      token: str(r["token"]),
      createdMs: num(r["created_ms"]),
      expiresMs: num(r["expires_ms"]),
      request: JSON.parse(str(r["request"])),
      usedMs: numOrNull(r["used_ms"]),
    };
  }
  useApproval(token: string, nowMs: number): boolean {
    const r = this.#st("UPDATE approvals SET used_ms = ? WHERE token = ? AND used_ms IS NULL")
      .run(nowMs, token);
    return Number(r.changes) === 1;
  }
  listSettings(prefix: string): { key: string; value: string }[] {
    return (this.#st("SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?").all(
      prefix.length,
      prefix,
    ) as Row[]).map((r) => ({ key: str(r["key"]), value: str(r["value"]) }));
  }
  lastJournalSeqs(): Map<string, number> {
    const out = new Map<string, number>();
    for (
      const r of this.#st("SELECT vibe, MAX(seq) AS s FROM journal GROUP BY vibe").all() as Row[]
    ) {
      out.set(str(r["vibe"]), num(r["s"]));
    }
    return out;
  }
  tailJournal(vibe: string, n: number): JournalEntry[] {
    return (this.#st(
      "SELECT * FROM (SELECT * FROM journal WHERE vibe = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
    ).all(vibe, n) as Row[]).map((r) => this.#journalEntry(r));
  }
  readJournal(vibe: string, afterSeq: number, limit: number): JournalEntry[] {
    return (this.#st(
      "SELECT * FROM journal WHERE vibe = ? AND seq > ? ORDER BY seq LIMIT ?",
    ).all(vibe, afterSeq, limit) as Row[]).map((r) => this.#journalEntry(r));
  }
  #journalEntry(r: Row): JournalEntry {
    return ({
      seq: num(r["seq"]),
      vibe: str(r["vibe"]),
      timeMs: num(r["time_ms"]),
      op: str(r["op"]) as JournalOp,
      path: str(r["path"]),
      path2: strOrNull(r["path2"]),
      ino: num(r["ino"]),
      size: numOrNull(r["size"]),
      kind: strOrNull(r["kind"]) as FileKind | null,
      mode: numOrNull(r["mode"]),
      prevMode: numOrNull(r["prev_mode"]),
    });
  }
  lastJournalSeq(vibe: string): number {
    const r = this.#st("SELECT MAX(seq) AS s FROM journal WHERE vibe = ?").get(vibe) as Row;
    return numOrNull(r["s"]) ?? 0;
  }

  // ---- locks ----
  tryLock(name: string, owner: string): boolean {
    return this.transaction(() => {
      const r = this.#st("SELECT owner, pid FROM locks WHERE name = ?").get(name) as
        | Row
        | undefined;
      if (r && processAlive(num(r["pid"])) && str(r["owner"]) !== owner) return false;
      this.#st("INSERT OR REPLACE INTO locks (name, owner, pid, acquired_ms) VALUES (?, ?, ?, ?)")
        .run(name, owner, Deno.pid, Date.now());
      return true;
    });
  }
  unlock(name: string, owner: string): void {
    this.#st("DELETE FROM locks WHERE name = ? AND owner = ?").run(name, owner);
  }
  clearDeadLocks(): number {
    return this.transaction(() => {
      let n = 0;
      for (const r of this.#st("SELECT name, pid FROM locks").all() as Row[]) {
        if (processAlive(num(r["pid"]))) continue;
        this.#st("DELETE FROM locks WHERE name = ?").run(str(r["name"]));
        n++;
      }
      return n;
    });
  }
}

/**
 * True when a process with this pid is running (/proc on Linux; assumed alive
 * elsewhere). A zombie counts as gone: it holds nothing, and its parent may
 * take a while to reap it.
 */
function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    try {
      Deno.statSync("/proc/self");
      return false; // /proc works, so the pid is really gone
    } catch {
      return true;
    }
  }
}
