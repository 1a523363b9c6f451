"""The run store: runs, their committed versions and the keys each version changed, in
one SQLite database (docs/store.md).

Consumes: already-encoded values (bytes from `dana.store.codec`) from the workflow runner's
journal. Produces: `RunStore` — writes (`begin_run`, `commit_version`, `commit_branch`,
`record_outcome`, `finish`, `prepare_resume`, `abandon`) each one short transaction, and reads
(`runs`, `get`, `find`, `versions`, `provenance` (each version's lineage), `changes`,
`state_at`, `branch_commits`, `outcomes`, `gc`). Statuses are `RunStatus`; a run recorded
as running whose process holds no lock reads as "crashed" (`dana.store.liveness`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from dana.store.codec import ENCODING_VERSION
from dana.store.liveness import RunLock, is_held
from dana.store.schema import StoreError, connect
from dana.store.settings import RESUMABLE, RunStatus

__all__ = ["RunStore", "RunRow", "RunSummary", "RunStart", "VersionRow", "Provenance",
           "BranchReads", "OUTPUT", "RunStatus", "RESUMABLE", "StoreError"]



@dataclass(frozen=True)
class _RunOrigin:
    """What a run records at its start besides version 0: identity, where it came from
    (`entry`: "workflow" or "toplevel"), the hashes of its code (`code`: encoded
    {name: sha256}) and its encoded config and initial state."""

    id: str
    workflow: str
    version: str
    source: str | None
    entry: str
    template_hash: str
    code: bytes
    config: bytes
    initial: bytes


@dataclass(frozen=True)
class RunRow(_RunOrigin):
    """One run as stored: its origin, then `error` ({type, message, step, time,
    diagnostic}), `output` and `resumes` encoded; times are seconds since the epoch;
    `stopped_at` is the version a resume continues from (None while running)."""

    encoding: int
    status: str
    started_at: float
    ended_at: float | None
    heartbeat_at: float
    pid: int | None
    last_version: int
    last_path: str
    stopped_at: int | None
    error: bytes | None
    output: bytes | None
    resumes: bytes | None


_LAST = "(SELECT {} FROM versions v WHERE v.run_id = runs.id ORDER BY v.version DESC LIMIT 1)"
_DERIVED = {"last_version": _LAST.format("version"), "last_path": _LAST.format("path"),
            "heartbeat_at": f"max(heartbeat_at, coalesce({_LAST.format('time')}, 0))"}
"""Columns read from a run's versions (its last commit), not kept in `runs`."""


def _select(row_type: type) -> str:
    """The column list of a SELECT giving `row_type`'s fields in order."""
    return ", ".join(_DERIVED.get(f.name, f.name) for f in fields(row_type))


_RUN_COLUMNS = _select(RunRow)


@dataclass(frozen=True)
class RunSummary:
    """A run as `dana runs` lists it (no stored values)."""

    id: str
    workflow: str
    version: str
    status: str
    started_at: float
    ended_at: float | None
    heartbeat_at: float
    last_version: int
    last_path: str


_SUMMARY_COLUMNS = _select(RunSummary)


@dataclass(frozen=True)
class VersionRow:
    """One committed version: its number, the step (name as in `state.history()`), the
    step's path, the keys it changed, attempt, commit time, duration (s), encoded output."""

    version: int
    step: str
    path: str
    keys: tuple[str, ...]
    attempt: int
    time: float
    duration: float
    output: bytes | None


OUTPUT = "<output>"
"""The key of a step's output in lineage: `<output>@V` is what version V's step returned,
read by the next step when it takes it as its input."""


@dataclass(frozen=True)
class BranchReads:
    """One branch's share of a parallel block's merged version: its path (`parallel[1]`,
    `shards[3]`), the steps it committed, what they read ("key@version") and the keys
    they wrote."""

    branch: str
    steps: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def adding(self, step: str, reads: list[str], keys: tuple[str, ...]) -> "BranchReads":
        steps = self.steps if step in self.steps else (*self.steps, step)
        return BranchReads(self.branch, steps, tuple(sorted({*self.reads, *reads})),
                           tuple(sorted({*self.keys, *keys})))


@dataclass(frozen=True)
class Provenance:
    """Where a committed version came from (docs/store.md "Lineage"): `origin` is "step"
    (the step ran), "cache" (a cache hit: `from_run`@`from_version` produced it),
    "control" (the runner's own commit: a loop variable, a merge) or "" (not recorded);
    `code` is the hash of the code that produced it; `reads` lists its inputs as
    "key@version" (`config.<name>@0` for config parameters, `<output>@V` for the output
    of version V taken as input); `reason` says why a cached step ran ("first run",
    "code of `f` changed", ...; "" otherwise); a parallel block's merge has its
    `branches`' reads instead. In the `reads` column, branches follow the reads as
    objects {"branch", "reads", "keys"}."""

    code: str = ""
    reads: tuple[str, ...] = ()
    origin: str = ""
    from_run: str | None = None
    from_version: int | None = None
    reason: str = ""
    branches: tuple[BranchReads, ...] = ()

    def reads_json(self) -> str:
        return json.dumps([*self.reads, *(b.__dict__ for b in self.branches)])

    @classmethod
    def from_row(cls, code: str, reads: str, *rest: Any) -> "Provenance":
        items = json.loads(reads)
        return cls(code, tuple(r for r in items if isinstance(r, str)), *rest,
                   tuple(BranchReads(r["branch"], tuple(r["steps"]), tuple(r["reads"]),
                                     tuple(r["keys"])) for r in items if isinstance(r, dict)))


@dataclass(frozen=True)
class RunStart(_RunOrigin):
    """What `begin_run` records: the run's origin and version 0's values, key by key."""

    values: dict[str, bytes]


class RunStore:
    """A store at `path` (":memory:" for a private one) with `durability` "normal" or
    "full". Thread-safe: one connection, writes serialised by a lock. Raises StoreError."""

    def __init__(self, path: str | Path, durability: str = "normal") -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        self.durability = durability
        self._conn = connect(path, durability)
        self._lock = threading.Lock()
        self._locks: dict[str, RunLock] = {}
        self.lock_folder = (Path(tempfile.mkdtemp(prefix="dana-locks-"))
                            if str(path) == ":memory:" else Path(f"{path}.locks"))

    def close(self) -> None:
        for lock in list(self._locks.values()):
            lock.release()
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE, so a busy store waits, not deadlocks)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------ writes
    def begin_run(self, start: RunStart) -> None:
        """Record a new run (status running, version 0) and take its liveness lock."""
        self._hold(start.id)
        now = time.time()
        with self._tx() as db:
            db.execute("INSERT INTO runs (id, workflow, version, source, entry, template_hash,"
                       " code, config, initial, encoding, status, started_at, heartbeat_at, pid)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (start.id, start.workflow, start.version, start.source, start.entry,
                        start.template_hash, start.code, start.config, start.initial,
                        ENCODING_VERSION, RunStatus.RUNNING.value, now, now, os.getpid()))
            db.executemany("INSERT INTO changes VALUES (?,?,0,?)",
                           [(start.id, k, v) for k, v in start.values.items()])
            db.execute("INSERT INTO versions (run_id, version, step, path, keys, attempt, "
                       "time, duration, origin) VALUES (?,0,'<initial>','',?,0,?,0,'initial')",
                       (start.id, json.dumps(sorted(start.values)), now))

    def commit_version(self, run_id: str, row: VersionRow, changes: dict[str, bytes | None],
                       provenance: Provenance = Provenance()) -> None:
        """Record one committed version, in one transaction of two statements: its row
        with its `provenance`, and the new value of each changed key (None: removed)."""
        p = provenance
        with self._tx() as db:
            db.execute("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (run_id, row.version, row.step, row.path, json.dumps(list(row.keys)),
                        row.attempt, row.time, row.duration, row.output, p.code,
                        p.reads_json(), p.origin, p.from_run, p.from_version, p.reason))
            db.executemany("INSERT INTO changes VALUES (?,?,?,?)",
                           [(run_id, k, row.version, v) for k, v in changes.items()])

    def commit_branch(self, run_id: str, branch: str, seq: int, step: str, path: str,
                      writes: bytes, output: bytes | None) -> None:
        """Record commit `seq` of a parallel branch (`writes`: encoded {key: value}) so a
        resume does not run it again."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO branch_commits VALUES (?,?,?,?,?,?,?)",
                       (run_id, branch, seq, step, path, writes, output))

    def record_outcome(self, run_id: str, branch: str, ordinal: int, attempt: int,
                       kind: str, error: bytes) -> None:
        """Record that step number `ordinal` of `branch` ("" for the run's main line) did
        not commit at `attempt`: kind "retried", "failed" or "skipped"."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO outcomes VALUES (?,?,?,?,?,?)",
                       (run_id, branch, ordinal, attempt, kind, error))

    def finish(self, run_id: str, status: RunStatus, stopped_at: int | None,
               error: bytes | None = None, output: bytes | None = None) -> None:
        """Record how the run ended and release its lock."""
        now = time.time()
        with self._tx() as db:
            db.execute("UPDATE runs SET status = ?, ended_at = ?, heartbeat_at = ?, "
                       "stopped_at = ?, error = ?, output = ? WHERE id = ?",
                       (status.value, now, now, stopped_at, error, output, run_id))
        lock = self._locks.pop(run_id, None)
        if lock is not None:
            lock.release(remove=True)

    def abandon(self, error: bytes, wait: float = 1.0) -> list[str]:
        """Record every run this store is executing (those whose locks it holds) as failed
        with `error`, stopped at its last committed version, as the process must end at
        once (the CLI's watchdog, dana/cli/watchdog.py); return their ids. Waits at most
        `wait` seconds for a write in progress, then records nothing (the runs read as
        crashed). Keeps the store's lock: nothing this process does after can contradict
        the record before it ends (docs/store.md "What is recorded")."""
        if not self._locks or not self._lock.acquire(timeout=wait):
            return []
        ids, now = list(self._locks), time.time()
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                f"UPDATE runs SET status = ?, ended_at = ?, heartbeat_at = ?, stopped_at = "
                f"{_LAST.format('version')}, error = ? WHERE id = ? AND status = ?",
                [(RunStatus.FAILED.value, now, now, error, run_id, RunStatus.RUNNING.value)
                 for run_id in ids])
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            return []
        return ids

    def prepare_resume(self, run_id: str, resumes: bytes) -> int:
        """Take the run's lock and mark it running again, dropping what was recorded after
        the version it continues from (the unwinding of a failure or an interrupt: loop
        variables put back, the error record); return that version. Raises StoreError when
        the run is live elsewhere."""
        self._hold(run_id)
        row = self.get(run_id)
        keep = row.stopped_at if row.stopped_at is not None else row.last_version
        with self._tx() as db:
            db.execute("DELETE FROM versions WHERE run_id = ? AND version > ?", (run_id, keep))
            db.execute("DELETE FROM changes WHERE run_id = ? AND version > ?", (run_id, keep))
            db.execute("UPDATE runs SET status = 'running', ended_at = NULL, pid = ?, "
                       "heartbeat_at = ?, stopped_at = NULL, error = NULL, output = NULL, "
                       "resumes = ? WHERE id = ?",
                       (os.getpid(), time.time(), resumes, run_id))
        return keep

    def transaction(self) -> Any:
        """A write transaction on the store's connection (a context manager yielding the
        connection), for the modules that own the store's other tables (dana.store.cache)."""
        return self._tx()

    def query(self, sql: str, args: Any = ()) -> list[Any]:
        """All rows of one read query."""
        return self._query(sql, args)

    def _query(self, sql: str, args: Any = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _hold(self, run_id: str) -> None:
        lock = RunLock(self.lock_folder, run_id)
        if not lock.acquire():
            raise StoreError(f"run {run_id} is running in another process")
        self._locks[run_id] = lock

    # ------------------------------------------------------------ reads
    def status_of(self, row: RunRow | RunSummary) -> RunStatus:
        """The run's status, "crashed" for a running run whose process holds no lock."""
        status = RunStatus(row.status)
        if status is RunStatus.RUNNING and not self.is_live(row.id):
            return RunStatus.CRASHED
        return status

    def summary(self, row: RunRow | RunSummary) -> dict[str, Any]:
        """A run as `dana runs --format json` and `Interpreter.runs()` give it: id,
        workflow, version, status, started_at, ended_at (seconds since the epoch or None),
        duration (seconds; a crashed run's up to its last heartbeat), versions (the last
        version), last_path (the path of the last committed step)."""
        status = self.status_of(row)
        end = row.ended_at or (row.heartbeat_at if status is RunStatus.CRASHED else time.time())
        return {"id": row.id, "workflow": row.workflow, "version": row.version,
                "status": status.value, "started_at": row.started_at, "ended_at": row.ended_at,
                "duration": end - row.started_at, "versions": row.last_version,
                "last_path": row.last_path}

    def is_live(self, run_id: str) -> bool:
        return run_id in self._locks or is_held(self.lock_folder, run_id)

    def runs(self, workflow: str | None = None, status: str | None = None,
             limit: int | None = None) -> list[RunSummary]:
        """Runs, newest first, filtered by workflow name and status (crashed included);
        at most `limit`."""
        query = f"SELECT {_SUMMARY_COLUMNS} FROM runs"
        args: list[Any] = []
        if workflow is not None:
            query += " WHERE workflow = ?"
            args.append(workflow)
        query += " ORDER BY started_at DESC, id"
        rows = (RunSummary(*r) for r in self._query(query, args))
        if status is not None:
            rows = (r for r in rows if self.status_of(r).value == status)
        return list(islice(rows, limit))

    def get(self, run_id: str) -> RunRow:
        """The run `run_id`; StoreError when there is none."""
        row = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?",
                                 (run_id,))
        if not row:
            raise StoreError(f"no run {run_id} in {self.path}")
        return RunRow(*row[0])

    def find(self, prefix: str) -> str:
        """The id of the one run whose id starts with `prefix` (like git); StoreError when
        none or several do."""
        ids = [r[0] for r in self._query(
            "SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
            (prefix, prefix + "\U0010ffff"))]
        if not ids:
            raise StoreError(f"no run with id {prefix} in {self.path}")
        if len(ids) > 1:
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise StoreError(f"run id {prefix} is ambiguous: it starts {shown}")
        return ids[0]

    def versions(self, run_id: str, upto: int | None = None) -> list[VersionRow]:
        """The run's versions, oldest first (up to `upto` when given)."""
        rows = self._query(
            "SELECT version, step, path, keys, attempt, time, duration, output FROM versions "
            "WHERE run_id = ? AND version <= ? ORDER BY version",
            (run_id, upto if upto is not None else 2 ** 62))
        return [VersionRow(v, s, p, tuple(json.loads(k)), a, t, d, o)
                for v, s, p, k, a, t, d, o in rows]

    def provenance(self, run_id: str) -> dict[int, Provenance]:
        """version -> where it came from, for every version of the run."""
        return {v: Provenance.from_row(*rest) for v, *rest in self._query(
                    "SELECT version, code, reads, origin, from_run, from_version, reason "
                    "FROM versions WHERE run_id = ?", (run_id,))}

    def changes(self, run_id: str, first: int, last: int) -> dict[int, dict[str, bytes | None]]:
        """version -> {key: encoded value (None: removed)} for versions first..last."""
        out: dict[int, dict[str, bytes | None]] = {}
        for key, version, value in self._query(
                "SELECT key, version, value FROM changes WHERE run_id = ? AND version "
                "BETWEEN ? AND ?", (run_id, first, last)):
            out.setdefault(version, {})[key] = value
        return out

    def state_at(self, run_id: str, version: int) -> dict[str, bytes]:
        """{key: encoded value} of the state at `version` (keys in first-written order)."""
        rows = self._query(
            "SELECT c.key, c.value, (SELECT min(version) FROM changes f WHERE "
            "f.run_id = c.run_id AND f.key = c.key) AS born FROM changes c "
            "WHERE c.run_id = ? AND c.version = (SELECT max(version) FROM changes m "
            "WHERE m.run_id = c.run_id AND m.key = c.key AND m.version <= ?) "
            "ORDER BY born, c.key", (run_id, version))
        return {k: v for k, v, _ in rows if v is not None}

    def branch_commits(self, run_id: str, branch: str) -> list[tuple[int, str, str, bytes,
                                                                     bytes | None]]:
        """(seq, step, path, writes, output) of a branch's recorded commits, in order."""
        return list(self._query(
            "SELECT seq, step, path, writes, output FROM branch_commits WHERE run_id = ? "
            "AND branch = ? ORDER BY seq", (run_id, branch)))

    def outcomes(self, run_id: str) -> dict[tuple[str, int], list[tuple[int, str, bytes]]]:
        """(branch, ordinal) -> [(attempt, kind, error), ...] in attempt order."""
        out: dict[tuple[str, int], list[tuple[int, str, bytes]]] = {}
        for branch, ordinal, attempt, kind, error in self._query(
                "SELECT branch, ordinal, attempt, kind, error FROM outcomes WHERE run_id = ? "
                "ORDER BY branch, ordinal, attempt", (run_id,)):
            out.setdefault((branch, ordinal), []).append((attempt, kind, error))
        return out

    def count_steps(self, run_id: str) -> int:
        """Committed versions other than the initial one."""
        return self._query("SELECT count(*) FROM versions WHERE run_id = ? AND "
                                  "version > 0", (run_id,))[0][0]

    def gc(self, older_than: float, dry_run: bool = False) -> list[str]:
        """Delete finished runs (any status but running and crashed) that ended more than
        `older_than` seconds ago; return their ids."""
        cutoff = time.time() - older_than
        ids = [r[0] for r in self._query(
            "SELECT id FROM runs WHERE status != 'running' AND ended_at < ?", (cutoff,))]
        if ids and not dry_run:
            with self._tx() as db:
                for table, column in (("runs", "id"), ("versions", "run_id"),
                                      ("changes", "run_id"), ("branch_commits", "run_id"),
                                      ("outcomes", "run_id")):
                    db.executemany(f"DELETE FROM {table} WHERE {column} = ?",
                                   [(i,) for i in ids])
        return ids

    def integrity(self) -> str:
        """`PRAGMA integrity_check`: "ok" for a sound database."""
        return self._query("PRAGMA integrity_check")[0][0]
