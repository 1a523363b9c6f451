"""Atomic file writes for the `write_text` and `append_text` builtins (docs/language.md).

Consumes: a resolved, permitted `Path` (see `dana.runtime.permissions`) and text.
Produces: the file holding exactly the new text, or (after any failure, a crash or a
killed process included) exactly what it held before: the text goes to a temporary file
in the same folder, which is flushed to disk and then renamed over the target (`rename`
is atomic on one file system). Appends also hold an exclusive `flock` on the folder
while they read and replace, so concurrent appenders (parallel branches, worker
processes) each see the previous one's text and no line is lost. Raises `DanaRuntimeError` ("Error" for a missing folder
or a folder in the way, "TypeError" for text that is not a str).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dana.errors import runtime_error
from dana.messages import runtime as R
from dana.runtime.values import type_name

NEW_FILE_MODE = 0o644


def write_atomic(path: Path, text: Any) -> None:
    """Replace the file at `path` with `text` (UTF-8), atomically."""
    _replace(path, _text(text, "write_text"))


def append_atomic(path: Path, text: Any) -> None:
    """Add `text` at the end of the file at `path` (created if missing), atomically: the
    old content and the new text are written to a temporary file that replaces it."""
    added = _text(text, "append_text")
    with _folder_locked(path.parent):
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        _replace(path, old + added)


@contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `folder` (released when the block ends); a
    missing folder is left to `_replace` to report."""
    try:
        handle: int | None = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        handle = None
    try:
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        if handle is not None:
            os.close(handle)


def _text(text: Any, fn: str) -> str:
    if not isinstance(text, str):
        raise runtime_error(R.WRITES_TEXT, fn=fn, type=type_name(text))
    return text


def _replace(path: Path, text: str) -> None:
    if path.is_dir():
        raise runtime_error(R.WRITE_TO_FOLDER, path=path)
    if not path.parent.is_dir():
        raise runtime_error(R.WRITE_NO_FOLDER, path=path, folder=path.parent)
    mode = path.stat().st_mode & 0o7777 if path.exists() else NEW_FILE_MODE
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
