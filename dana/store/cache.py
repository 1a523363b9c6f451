"""The run store's step cache table (docs/store.md "Step cache").

Consumes: a `RunStore` (its connection and write lock) and rows made by the workflow
layer: hashes (sha256 hex of encoded values and of code) and encoded values.
Produces: `CacheTable` — `put`, `candidates` (entries whose step, code, input and
workflow match), `recent` (a step's newest entries, to say why another missed),
`entries`, `clear`. Every write is one short transaction.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from dana.store.runs import RunStore


@dataclass(frozen=True)
class CacheRow:
    """One cached execution of a step. `base` hashes what must be equal for a hit before
    any state is compared (step code, input, workflow name and version, value encoding);
    `reads` maps each state key (`config.<name>` for a config parameter) the step read to
    the hash of its value then (None: absent); `code` maps each definition the step
    reaches to its hash; `input` is the input's hash ("" for a step that takes none).
    `run_id`/`version` name the commit that produced it; times are seconds since the
    epoch; `output` and `writes` ({key: encoded value or None}) are encoded."""

    step: str
    base: str
    reads: dict[str, str | None]
    code: dict[str, str]
    input: str
    workflow: str
    run_id: str
    version: int
    created_at: float
    expires_at: float | None
    output: bytes | None
    writes: bytes


_CACHE_COLUMNS = "step, base, reads, code, input, workflow, run_id, version, created_at, " \
                 "expires_at, output, writes"


def _cache_row(row: tuple) -> CacheRow:
    step, base, reads, code, input_, workflow, *rest = row
    return CacheRow(step, base, json.loads(reads), json.loads(code), input_, workflow, *rest)


class CacheTable:
    """The step cache of one store, shared by every run and process using it."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def put(self, row: CacheRow) -> None:
        """Add (or replace: `--refresh-cache`) the entry for these step, base and reads."""
        with self.store.transaction() as db:
            db.execute(f"INSERT OR REPLACE INTO cache_entries ({_CACHE_COLUMNS}) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       (row.step, row.base, json.dumps(row.reads, sort_keys=True),
                        json.dumps(row.code, sort_keys=True), row.input, row.workflow,
                        row.run_id, row.version, row.created_at, row.expires_at, row.output,
                        row.writes))

    def candidates(self, step: str, base: str) -> list[CacheRow]:
        """The entries of `step` with this base, newest first (expired ones included)."""
        return [_cache_row(r) for r in self.store.query(
            f"SELECT {_CACHE_COLUMNS} FROM cache_entries WHERE step = ? AND base = ? "
            "ORDER BY created_at DESC", (step, base))]

    def recent(self, step: str, workflow: str, limit: int = 20) -> list[CacheRow]:
        """The newest `limit` entries of `step` in `workflow`, whatever their base, newest
        first."""
        return [_cache_row(r) for r in self.store.query(
            f"SELECT {_CACHE_COLUMNS} FROM cache_entries WHERE step = ? AND workflow = ? "
            "ORDER BY created_at DESC LIMIT ?", (step, workflow, limit))]

    def entries(self, step: str | None = None) -> list[CacheRow]:
        """Every entry (of `step`), newest first."""
        where, args = (" WHERE step = ?", (step,)) if step is not None else ("", ())
        return [_cache_row(r) for r in self.store.query(
            f"SELECT {_CACHE_COLUMNS} FROM cache_entries{where} ORDER BY created_at DESC",
            args)]

    def clear(self, step: str | None = None, older_than: float | None = None) -> int:
        """Delete the entries of `step` (all steps when None) made more than `older_than`
        seconds ago (any age when None); return how many."""
        clauses, args = [], []
        if step is not None:
            clauses.append("step = ?")
            args.append(step)
        if older_than is not None:
            clauses.append("created_at < ?")
            args.append(time.time() - older_than)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.store.transaction() as db:
            return db.execute(f"DELETE FROM cache_entries{where}", args).rowcount
