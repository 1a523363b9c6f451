"""The last resort of `dana run --timeout`: a program stuck in one long operation.

Consumes: the thread running the program, the command's start (monotonic seconds) and
its timeout (seconds).
Produces: `Watchdog.overdue()` (checked by the waiting main thread), `Watchdog.on_stop(fn)`
and `Watchdog.stop()`, which prints the LimitError at the Dana node the program is
evaluating, gives it to each `fn` (the command records its durable runs as failed) and
ends the process at once (exit 1).

The running program checks the timeout itself at every few loop iterations and calls, and
stops with a LimitError at the line that crossed it. One Python-level operation that
runs long between two checks (a bound the guards of docs/language.md "Safety and limits"
missed) would keep it from checking: `GRACE` seconds after the deadline the main thread
gives up waiting. The node is found from the program thread's Python frames: the
innermost compiled closure that holds a `span` (every compiled operator, call and
statement does). The process ends with `os._exit`, since the program thread cannot be
stopped and threads it started could keep Python from exiting.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, NoReturn

from dana.diagnostics import render_error
from dana.errors import LimitError
from dana.runtime.interpreter import timeout_error
from dana.source import Span

GRACE = 0.5
"""Seconds past the deadline before the watchdog stops the program (the program's own
check normally fires first)."""


class Watchdog:
    """The deadline of one `dana run`: `started + seconds + GRACE`."""

    def __init__(self, started: float, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = started + seconds + GRACE
        self._on_stop: list[Callable[[LimitError], None]] = []

    def overdue(self) -> bool:
        return time.monotonic() > self.deadline

    def on_stop(self, fn: Callable[[LimitError], None]) -> None:
        """Call `fn(error)` after printing the error, before the process ends; what it
        raises is ignored (the process ends all the same)."""
        self._on_stop.append(fn)

    def stop(self, thread: threading.Thread, exit_code: int) -> NoReturn:
        """Print the timeout's LimitError at the node `thread` is evaluating, call the
        `on_stop` functions; exit."""
        error = timeout_error(self.seconds, running_span(thread))
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        os.write(2, (render_error(error) + "\n").encode("utf-8", "replace"))
        for fn in self._on_stop:
            try:
                fn(error)
            except Exception:  # noqa: BLE001 - the process must end whatever happens here
                pass
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(exit_code)


def running_span(thread: threading.Thread) -> Span | None:
    """The span of the innermost Dana node `thread` is evaluating, or None."""
    frame: Any = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        span = frame.f_locals.get("span")
        if isinstance(span, Span):
            return span
        frame = frame.f_back
    return None
