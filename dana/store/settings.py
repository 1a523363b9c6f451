"""The run store's names and choices, importable without loading sqlite3 (a plain `dana
run` of a script that starts no workflow never opens the store).

Produces: DEFAULT_PATH, ENV_VAR, DURABILITY (level -> `PRAGMA synchronous`), `RunStatus`
and RESUMABLE (docs/store.md).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

DEFAULT_PATH = Path(".dana") / "dana.db"
ENV_VAR = "DANA_STORE"
DURABILITY = {"normal": "NORMAL", "full": "FULL"}
"""Durability level -> `PRAGMA synchronous` (docs/store.md "Durability")."""


class RunStatus(str, Enum):
    """A run's status: running, succeeded, failed, interrupted; crashed is never written,
    it is what a running run whose process died reads as."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CRASHED = "crashed"


RESUMABLE = (RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.CRASHED)
