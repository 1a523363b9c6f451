"""Exact liveness of runs: the process executing a run holds an OS lock on a file named
after it (docs/store.md "Liveness").

Consumes: the store's lock folder and a run id. Produces: `RunLock` (held while a run
executes) and `is_held(folder, run_id)`. A run recorded as running whose lock is free has
no live process: it crashed. The lock is `flock`, released by the kernel when its process
dies however it dies, so there is no timeout to guess and no false positive.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_path(folder: Path, run_id: str) -> Path:
    return folder / f"{run_id}.lock"


class RunLock:
    """An exclusive lock on `folder/<run_id>.lock`. `acquire()` returns False when another
    process (or another open of the same file) holds it."""

    def __init__(self, folder: Path, run_id: str) -> None:
        self.path = lock_path(folder, run_id)
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, remove: bool = False) -> None:
        """Release the lock (removing its file when the run is over, if asked)."""
        if self._fd is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def is_held(folder: Path, run_id: str) -> bool:
    """True when a live process holds the run's lock."""
    path = lock_path(folder, run_id)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
