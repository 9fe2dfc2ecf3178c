/**
 * Numbered migrations of `.vibe/metadata.db`. Append only: a released
 * migration is never edited; `user_version` records how many ran.
 *
 * Model (see README, "Design"):
 * - `trees` caches git trees by oid (immutable, shared by every vibe and base
 *   commit) as git's own tree encoding plus the number of files below. Rows
 *   are inserted children first, so a cached tree's subtrees are cached too
 *   and indexing a new base commit visits only trees that are new.
 * - Each vibe has its own inode space. `inodes` holds a row per inode the vibe
 *   has handed out; `dirents` maps (parent, name) → inode with a per-directory
 *   cookie. A directory's entries come from its git tree until it is *loaded*;
 *   from then on its `dirents` rows are complete and authoritative (loading is
 *   one transaction), so deletions and renames need no whiteouts.
 * - `dirty` marks inodes that differ from the base, and every ancestor of a
 *   dirty inode is dirty too, so promote/status/diff visit O(changes).
 * - `journal` is an append-only log of changes per vibe for the dashboard and
 *   exec change reports.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE trees (oid TEXT NOT NULL UNIQUE, data BLOB NOT NULL, files INTEGER NOT NULL);
  CREATE TABLE indexed_commits (
    oid TEXT PRIMARY KEY, tree TEXT NOT NULL, indexed_ms INTEGER NOT NULL, files INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE vibes (
    id TEXT PRIMARY KEY,
    base_commit TEXT NOT NULL,
    base_tree TEXT NOT NULL,
    base_ref TEXT,
    created_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    next_ino INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    mount_path TEXT,
    transport TEXT,
    promoted_commit TEXT,
    promoted_ms INTEGER,
    promoted_seq INTEGER
  ) WITHOUT ROWID;
  CREATE TABLE inodes (
    vibe TEXT NOT NULL,
    ino INTEGER NOT NULL,
    kind TEXT NOT NULL,
    mode INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    nlink INTEGER NOT NULL,
    size INTEGER,
    atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
    mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    oid TEXT,
    git_mode INTEGER,
    materialized INTEGER NOT NULL,
    loaded INTEGER NOT NULL,
    dirty INTEGER NOT NULL,
    volatile INTEGER NOT NULL DEFAULT 0,
    target TEXT,
    parent INTEGER NOT NULL,
    next_cookie INTEGER NOT NULL,
    PRIMARY KEY (vibe, ino)
  ) WITHOUT ROWID;
  CREATE TABLE dirents (
    vibe TEXT NOT NULL,
    parent INTEGER NOT NULL,
    name TEXT NOT NULL,
    ino INTEGER NOT NULL,
    cookie INTEGER NOT NULL,
    PRIMARY KEY (vibe, parent, name)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX dirents_by_cookie ON dirents (vibe, parent, cookie);
  CREATE INDEX dirents_by_ino ON dirents (vibe, ino);
  CREATE TABLE journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    vibe TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    op TEXT NOT NULL,
    path TEXT NOT NULL,
    path2 TEXT,
    ino INTEGER NOT NULL,
    size INTEGER
  );
  CREATE INDEX journal_by_vibe ON journal (vibe, seq);
  CREATE TABLE xattrs (
    vibe TEXT NOT NULL,
    ino INTEGER NOT NULL,
    name TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (vibe, ino, name)
  ) WITHOUT ROWID;
  CREATE TABLE snapshots (
    vibe TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    info TEXT NOT NULL,
    PRIMARY KEY (vibe, name)
  ) WITHOUT ROWID;
  CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: snapshots. A snapshot holds the rows of the vibe's state that differ
  // from the base (dirty inodes, every entry of dirty directories with the
  // entry's inode — clean child directories stored unloaded — and their
  // xattrs) plus `next_ino`; the bytes of its materialized files are clones
  // in `.vibe/sessions/<vibe>/snapshots/<name>/<ino>`. The files are cloned
  // first, then every row and the `snapshots` row commit in one
  // transaction: a snapshot directory without a row is a crash leftover.
  // `snapshots.version` is the vibe's last journal seq when it was taken.
  `
  ALTER TABLE snapshots ADD COLUMN next_ino INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE snapshot_inodes (
    vibe TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    ino INTEGER NOT NULL,
    kind TEXT NOT NULL,
    mode INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    nlink INTEGER NOT NULL,
    size INTEGER,
    atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
    mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    oid TEXT,
    git_mode INTEGER,
    materialized INTEGER NOT NULL,
    loaded INTEGER NOT NULL,
    dirty INTEGER NOT NULL,
    volatile INTEGER NOT NULL DEFAULT 0,
    target TEXT,
    parent INTEGER NOT NULL,
    next_cookie INTEGER NOT NULL,
    PRIMARY KEY (vibe, snapshot, ino)
  ) WITHOUT ROWID;
  CREATE TABLE snapshot_dirents (
    vibe TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    parent INTEGER NOT NULL,
    name TEXT NOT NULL,
    ino INTEGER NOT NULL,
    cookie INTEGER NOT NULL,
    PRIMARY KEY (vibe, snapshot, parent, name)
  ) WITHOUT ROWID;
  CREATE TABLE snapshot_xattrs (
    vibe TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    ino INTEGER NOT NULL,
    name TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (vibe, snapshot, ino, name)
  ) WITHOUT ROWID;
  `,
  // 3: the agent boundary (`vibe exec`). Journal entries name the inode's
  // kind and, for chmod, the permission bits before and after, so a change
  // report needs no scan. `audit` is append-only and outlives its vibes.
  // `approvals` holds commands waiting for `vibe approve <token>`.
  `
  ALTER TABLE journal ADD COLUMN kind TEXT;
  ALTER TABLE journal ADD COLUMN mode INTEGER;
  ALTER TABLE journal ADD COLUMN prev_mode INTEGER;
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    vibe TEXT,
    event TEXT NOT NULL,
    command TEXT NOT NULL,
    cwd TEXT,
    action TEXT NOT NULL,
    categories TEXT NOT NULL,
    reason TEXT NOT NULL,
    exit_code INTEGER,
    signal TEXT,
    changed INTEGER,
    duration_ms INTEGER,
    checkpoint TEXT,
    token TEXT
  );
  CREATE INDEX audit_by_vibe ON audit (vibe, seq);
  CREATE INDEX audit_by_time ON audit (time_ms);
  CREATE TABLE approvals (
    token TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    request TEXT NOT NULL,
    used_ms INTEGER
  ) WITHOUT ROWID;
  `,
  // 4: untracked layers (`layers` in .vibe/config.json). A node inside a
  // layer records where its bytes or entries come from in `origin`
  // ("root:<path>" = the project root's copy, "cache:<digest>/<path>" = an
  // entry of .vibe/cache/store), `read_only` marks shared-readonly layers
  // (every mutation answers EROFS), and `volatile` (in the schema since 1)
  // keeps it out of status, diff, promote and the journal. `vibe_layers`
  // holds each vibe's layers as resolved at spawn (a cache name becomes its
  // digest then, so re-adding the name never changes an existing vibe).
  `
  ALTER TABLE inodes ADD COLUMN origin TEXT;
  ALTER TABLE inodes ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE snapshot_inodes ADD COLUMN origin TEXT;
  ALTER TABLE snapshot_inodes ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE vibe_layers (
    vibe TEXT NOT NULL,
    path TEXT NOT NULL,
    mode TEXT NOT NULL,
    source TEXT NOT NULL,
    origin TEXT,
    report INTEGER NOT NULL,
    PRIMARY KEY (vibe, path)
  ) WITHOUT ROWID;
  `,
];
