"""The run store's SQLite schema and its forward migrations (docs/store.md "Schema").

Consumes: a path and a durability level. Produces: `connect(path, durability)`, an open
`sqlite3.Connection` in WAL mode with a busy timeout, its schema at `SCHEMA_VERSION`
(`PRAGMA user_version`), migrating an older database forward in one transaction. A
database newer than this Dana raises StoreError.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dana.store.settings import DURABILITY

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 30_000

MIGRATIONS: list[str] = [
    # 0 -> 1: runs, their committed versions, the keys each version changed, the commits of
    # unfinished parallel branches, and step outcomes that commit nothing.
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        version TEXT NOT NULL,
        source TEXT,
        entry TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        code BLOB NOT NULL,
        config BLOB NOT NULL,
        initial BLOB NOT NULL,
        encoding INTEGER NOT NULL,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        heartbeat_at REAL NOT NULL,
        pid INTEGER,
        last_version INTEGER NOT NULL DEFAULT 0,
        last_path TEXT NOT NULL DEFAULT '',
        stopped_at INTEGER,
        error BLOB,
        output BLOB,
        resumes BLOB
    );
    CREATE INDEX runs_by_start ON runs (started_at);
    CREATE TABLE versions (
        run_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        step TEXT NOT NULL,
        path TEXT NOT NULL,
        keys TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        time REAL NOT NULL,
        duration REAL NOT NULL,
        output BLOB,
        PRIMARY KEY (run_id, version)
    ) WITHOUT ROWID;
    CREATE TABLE changes (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        value BLOB,
        PRIMARY KEY (run_id, key, version)
    ) WITHOUT ROWID;
    CREATE TABLE branch_commits (
        run_id TEXT NOT NULL,
        branch TEXT NOT NULL,
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        path TEXT NOT NULL,
        writes BLOB NOT NULL,
        output BLOB,
        PRIMARY KEY (run_id, branch, seq)
    ) WITHOUT ROWID;
    CREATE TABLE outcomes (
        run_id TEXT NOT NULL,
        branch TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL,
        error BLOB NOT NULL,
        PRIMARY KEY (run_id, branch, ordinal, attempt)
    ) WITHOUT ROWID;
    """,
    # 1 -> 2: the step cache shared by every run using the store, and the lineage of each
    # committed version (which step made it, from what).
    """
    CREATE TABLE cache_entries (
        step TEXT NOT NULL,
        base TEXT NOT NULL,
        reads TEXT NOT NULL,
        code TEXT NOT NULL,
        input TEXT NOT NULL,
        workflow TEXT NOT NULL,
        run_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        output BLOB,
        writes BLOB NOT NULL,
        PRIMARY KEY (step, base, reads)
    ) WITHOUT ROWID;
    CREATE INDEX cache_by_step ON cache_entries (step, created_at);
    CREATE TABLE lineage (
        run_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        code TEXT NOT NULL,
        reads TEXT NOT NULL,
        origin TEXT NOT NULL,
        from_run TEXT,
        from_version INTEGER,
        reason TEXT NOT NULL,
        PRIMARY KEY (run_id, version)
    ) WITHOUT ROWID;
    """,
    # 2 -> 3: a version's lineage is part of its row (one insert per commit instead of
    # two), and a run's last version, its path and its last commit time are read from
    # its versions instead of being updated in `runs` by every commit.
    """
    ALTER TABLE versions ADD COLUMN code TEXT NOT NULL DEFAULT '';
    ALTER TABLE versions ADD COLUMN reads TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE versions ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE versions ADD COLUMN from_run TEXT;
    ALTER TABLE versions ADD COLUMN from_version INTEGER;
    ALTER TABLE versions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
    UPDATE versions SET (code, reads, origin, from_run, from_version, reason) = (
        SELECT l.code, l.reads, l.origin, l.from_run, l.from_version, l.reason
        FROM lineage l WHERE l.run_id = versions.run_id AND l.version = versions.version)
    WHERE EXISTS (SELECT 1 FROM lineage l WHERE l.run_id = versions.run_id
                  AND l.version = versions.version);
    DROP TABLE lineage;
    UPDATE runs SET heartbeat_at = max(heartbeat_at, coalesce(
        (SELECT max(time) FROM versions v WHERE v.run_id = runs.id), 0));
    ALTER TABLE runs DROP COLUMN last_version;
    ALTER TABLE runs DROP COLUMN last_path;
    """,
]


class StoreError(Exception):
    """The store cannot be used: unreadable, not a Dana store, or made by a newer Dana."""


def connect(path: str | Path, durability: str = "normal") -> sqlite3.Connection:
    """Open (creating it and its folder if needed) the store at `path`; ":memory:" for a
    private in-memory one. Raises StoreError, ValueError for an unknown durability."""
    if durability not in DURABILITY:
        raise ValueError(f"durability must be one of {', '.join(DURABILITY)}, "
                         f"not {durability!r}")
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
        _migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the run store {path}: {exc}") from None
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, each step in one transaction."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise StoreError(f"the run store has schema version {current}, newer than this "
                         f"Dana's {SCHEMA_VERSION}; upgrade Dana to read it")
    while current < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == current:
                for statement in _statements(MIGRATIONS[current]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = conn.execute("PRAGMA user_version").fetchone()[0]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
