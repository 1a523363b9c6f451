"""Live progress of workflow runs on stderr, drawn from the runner's events (docs/cli.md "Progress").

Consumes: run events, the typed records of dana.workflow.events (docs/workflows.md
"Events"); each kind has its handler in `_HANDLERS`, a table keyed by the record's class.
Produces: text on stderr, never stdout. On a terminal (`LiveProgress`): a `rich` progress
bar per active loop (description = loop path, done/total, elapsed, ETA, and the step
running inside it), with step outcomes and the run summary printed above the bars. Off a
terminal (`PlainProgress`: pipes, CI, tests): plain lines, no ANSI codes and no redraws.

What is shown, in both modes: a line per step outside any loop (succeeded), a line for
every retry, skip or final failure wherever it happens, the start and end of each
outermost loop (plain mode also prints up to nine 10% milestones of loops with at least
ten items; steps inside loops are summarised by their loop), sub-workflows and parallel
blocks outside loops, and one summary line per run. Listeners are thread-safe: parallel
branches emit events from pool threads.
"""

from __future__ import annotations

import os
import sys
import threading
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from dana.workflow import events as E
from dana.workflow.events import RunEvent

MILESTONE_MIN_TOTAL = 10


@dataclass
class _Loop:
    """One running loop, or `parallel for` block (`kind`): `key` is its path (`epochs`,
    `epochs[2]/batches`); `done` counts iterations begun, or branches finished."""

    key: str
    total: int | None
    started: float | None
    outer: bool
    kind: str = "loop"
    done: int = 0
    seen: int = 0
    decile: int = 0
    task: TaskID | None = None


class ProgressListener(ABC):
    """Turns events into progress lines; subclasses decide how they are shown.
    Call the listener with each event; call `close()` when the program ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: dict[str, _Loop] = {}
        self._counts: dict[str, Counter] = {}

    def __call__(self, event: RunEvent) -> None:
        handler = _HANDLERS[type(event)]
        with self._lock:
            handler(self, event)

    def close(self) -> None:
        """Stop any live display (a run that ended without its final event)."""

    # ------------------------------------------------------------ display hooks
    @abstractmethod
    def _line(self, text: str) -> None:
        """Show one line of progress (a step outcome, a loop's start or end, a summary)."""

    def _started(self) -> None:
        """A top-level run started."""

    def _finished(self) -> None:
        """A top-level run ended."""

    def _loop_opened(self, loop: _Loop) -> None:
        if loop.outer:
            size = f": {_count(loop.total, _noun(loop))}" if loop.total is not None else ""
            self._line(f"  {'⟳' if loop.kind == 'loop' else '⇉'} {loop.kind} {loop.key}{size}")

    def _loop_advanced(self, loop: _Loop) -> None:
        """`loop.done` changed."""

    def _loop_closed(self, loop: _Loop, event: RunEvent) -> None:
        if loop.outer:
            took = _elapsed(loop.started, event.time)
            self._line(f"  ✓ {loop.kind} {loop.key}: {_count(loop.done, _noun(loop))}{took}")

    def _step_running(self, loop: _Loop, rest: str) -> None:
        """Step `rest` started inside `loop` (its innermost loop)."""

    # ------------------------------------------------------------ workflows
    def _on_workflow_started(self, event: E.WorkflowStarted) -> None:
        if not event.path:
            self._counts[event.run_id] = Counter()
            self._started()
            self._line(f"▶ workflow {event.workflow} (run {event.run_id})")
        elif not self._in_loop(event.path):
            self._line(f"  ▶ sub-workflow {event.path}")

    def _on_workflow_completed(self, event: E.WorkflowCompleted) -> None:
        self._workflow_ended(event, "completed", "in")

    def _on_workflow_failed(self, event: E.WorkflowFailed) -> None:
        self._workflow_ended(event, "FAILED", "after", f": {_error(event)}")

    def _on_workflow_interrupted(self, event: E.WorkflowInterrupted) -> None:
        """Ctrl-C: the loops still open end as interrupted, then the run does."""
        for loop in self._loops.values():
            if loop.outer:
                of = f" of {loop.total}" if loop.total is not None else ""
                self._line(f"  ✗ loop {loop.key}: interrupted after {loop.done}{of} "
                           f"iteration{'s' * ((loop.total or loop.done) != 1)}")
        self._workflow_ended(event, "interrupted", "after")

    def _workflow_ended(self, event: E.WorkflowCompleted | E.WorkflowFailed
                        | E.WorkflowInterrupted, outcome: str, preposition: str,
                        error: str = "") -> None:
        ended = f"{outcome} {preposition} {_seconds(event.duration)}"
        if event.path:
            if not self._in_loop(event.path):
                self._line(f"  ■ sub-workflow {event.path} {ended}")
            return
        counts = self._counts.pop(event.run_id, Counter())
        if not self._counts:  # no other run (a step may start a nested `run(...)`)
            self._finished()
            self._loops.clear()
        self._line(f"■ workflow {event.workflow} {ended}{error} ({_summary(counts)})")

    def _on_run_resumed(self, event: E.RunResumed) -> None:
        """Nothing to show: the run's first line already names it."""

    # ------------------------------------------------------------ steps
    def _on_step_started(self, event: E.StepStarted) -> None:
        path = event.path
        inner = max((lp for lp in self._loops.values() if path.startswith(lp.key + "[")),
                    key=lambda lp: len(lp.key), default=None)
        if inner is not None:
            self._step_running(inner, path[len(inner.key):].partition("/")[2])

    def _on_step_succeeded(self, event: E.StepSucceeded) -> None:
        self._count(event, "succeeded")
        if not self._in_loop(event.path):
            detail = ", ".join(x for x in (_seconds(event.duration), _version(event.version))
                               if x)
            self._line(f"  ✓ {event.path} ({detail})")

    def _on_step_cached(self, event: E.StepCached) -> None:
        self._count(event, "cached")
        if not self._in_loop(event.path):
            version = _version(event.version)
            self._line(f"  ⚡ {event.path} (cached" + (f", {version})" if version else ")"))

    def _on_step_retried(self, event: E.StepRetried) -> None:
        self._count(event, "retried")
        self._line(f"  ↻ {event.path} attempt {event.attempt} failed: {_error(event)}; "
                   f"retrying in {event.delay:.2f} s")

    def _on_step_skipped(self, event: E.StepSkipped) -> None:
        self._count(event, "skipped")
        self._line(f"  ↷ {event.path} skipped after {_error(event)}")

    def _on_step_failed(self, event: E.StepFailed) -> None:
        self._count(event, "failed")
        self._line(f"  ✗ {event.path} failed (attempt {event.attempt}): {_error(event)}")

    def _count(self, event: E.StepEvent, outcome: str) -> None:
        self._counts.setdefault(event.run_id, Counter())[outcome] += 1

    # ------------------------------------------------------------ loops and parallel
    def _on_loop_started(self, event: E.LoopStarted) -> None:
        key = _loop_key(event)
        loop = _Loop(key, event.total, event.time, outer=not self._in_loop(key))
        self._loops[key] = loop
        self._loop_opened(loop)

    def _on_loop_iteration(self, event: E.LoopIteration) -> None:
        loop = self._loops.get(_loop_key(event))
        if loop is None:
            return
        loop.done = event.index
        loop.seen += 1
        self._loop_advanced(loop)

    def _on_loop_completed(self, event: E.LoopCompleted) -> None:
        loop = self._loops.pop(_loop_key(event), None)
        if loop is not None:
            loop.done = max(loop.seen, loop.done)
            self._loop_closed(loop, event)

    def _on_parallel_started(self, event: E.ParallelStarted) -> None:
        """A `parallel for` is shown like a loop whose bar counts finished branches."""
        if event.loop:
            key = _loop_key(event)
            loop = _Loop(key, event.branches, event.time, outer=not self._in_loop(key),
                         kind="parallel for")
            self._loops[key] = loop
            self._loop_opened(loop)
        elif not self._in_loop(event.path):
            where = f" {event.path}" if event.path else ""
            self._line(f"  ⇉ parallel{where}: {event.branches} branches, at most "
                       f"{event.max_concurrency} at once")

    def _on_branch_completed(self, event: E.BranchCompleted) -> None:
        loop = self._loops.get(_loop_key(event)) if event.loop else None
        if loop is not None:
            loop.done += 1
            self._loop_advanced(loop)

    def _on_parallel_completed(self, event: E.ParallelCompleted) -> None:
        loop = self._loops.pop(_loop_key(event), None) if event.loop else None
        if loop is not None:
            self._loop_closed(loop, event)

    def _in_loop(self, path: str) -> bool:
        return any(path.startswith(key + "[") for key in self._loops)


_HANDLERS: dict[type[RunEvent], Callable[[ProgressListener, Any], None]] = {
    E.WorkflowStarted: ProgressListener._on_workflow_started,
    E.WorkflowCompleted: ProgressListener._on_workflow_completed,
    E.WorkflowFailed: ProgressListener._on_workflow_failed,
    E.WorkflowInterrupted: ProgressListener._on_workflow_interrupted,
    E.RunResumed: ProgressListener._on_run_resumed,
    E.StepStarted: ProgressListener._on_step_started,
    E.StepSucceeded: ProgressListener._on_step_succeeded,
    E.StepCached: ProgressListener._on_step_cached,
    E.StepRetried: ProgressListener._on_step_retried,
    E.StepSkipped: ProgressListener._on_step_skipped,
    E.StepFailed: ProgressListener._on_step_failed,
    E.LoopStarted: ProgressListener._on_loop_started,
    E.LoopIteration: ProgressListener._on_loop_iteration,
    E.LoopCompleted: ProgressListener._on_loop_completed,
    E.ParallelStarted: ProgressListener._on_parallel_started,
    E.BranchCompleted: ProgressListener._on_branch_completed,
    E.ParallelCompleted: ProgressListener._on_parallel_completed,
}
"""Event class -> its handler: every kind has one (tests/unit/test_events.py)."""


class PlainProgress(ProgressListener):
    """Plain lines on `stream` (default: the current `sys.stderr`), flushed one by one."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream

    def _line(self, text: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(text + "\n")
        stream.flush()

    def _loop_advanced(self, loop: _Loop) -> None:
        if not loop.outer or loop.total is None or loop.total < MILESTONE_MIN_TOTAL:
            return
        decile = 10 * loop.done // loop.total
        if decile > loop.decile and loop.done < loop.total:
            loop.decile = decile
            percent = 100 * loop.done // loop.total
            self._line(f"  … {loop.kind} {loop.key}: {loop.done}/{loop.total} ({percent}%)")


class LiveProgress(ProgressListener):
    """A `rich` Progress on `console` (a terminal on stderr): one bar per active loop.
    Writes to `sys.stderr` while bars are shown print above them; so do writes to
    `sys.stdout` when `route_stdout` (stdout is the same terminal: the text reaches the
    same screen, and printed straight it would be glued to the bars)."""

    def __init__(self, console: Console, *, auto_refresh: bool = True,
                 route_stdout: bool = False) -> None:
        super().__init__()
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("[dim]{task.fields[current]}"),
            console=console, transient=True, auto_refresh=auto_refresh,
            redirect_stdout=route_stdout, redirect_stderr=True)
        self._live = False

    def close(self) -> None:
        with self._lock:
            self._finished()

    def _line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, emoji=False)

    def _started(self) -> None:
        if not self._live:
            self.progress.start()
            self._live = True

    def _finished(self) -> None:
        for task in list(self.progress.task_ids):
            self.progress.remove_task(task)
        if self._live:
            self.progress.stop()
            self._live = False

    def _loop_opened(self, loop: _Loop) -> None:
        loop.task = self.progress.add_task(loop.key, total=loop.total, current="")
        self.progress.refresh()

    def _loop_advanced(self, loop: _Loop) -> None:
        if loop.task is not None:
            self.progress.update(loop.task, completed=loop.done)

    def _loop_closed(self, loop: _Loop, event: dict) -> None:
        if loop.task is not None:
            self.progress.remove_task(loop.task)
            self.progress.refresh()
        super()._loop_closed(loop, event)

    def _step_running(self, loop: _Loop, rest: str) -> None:
        if loop.task is not None:
            self.progress.update(loop.task, current=rest)


def progress_listener(stream: TextIO | None = None, *,
                      live: bool | None = None) -> ProgressListener:
    """The listener `dana run` uses: on `stream` (default stderr), live bars when it is a
    terminal (or when `live` is true), plain lines otherwise. While bars are drawn,
    stderr writes (`log`) print above them, and so does program output when stdout is the
    same terminal; stdout redirected elsewhere is never touched."""
    console = Console(file=stream, stderr=stream is None)
    if live is None:
        live = console.is_terminal and not console.is_dumb_terminal
    if not live:
        return PlainProgress(stream)
    return LiveProgress(console, route_stdout=_same_terminal(sys.stdout, console.file))


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    """True when both streams write to one terminal device (an interactive shell's
    stdout and stderr)."""
    try:
        return a.isatty() and b.isatty() and os.path.samestat(os.fstat(a.fileno()),
                                                              os.fstat(b.fileno()))
    except (AttributeError, OSError, ValueError):  # a stream without a file descriptor
        return False


# ------------------------------------------------------------------ event fields
def _loop_key(event: E.LoopEvent | E.ParallelEvent) -> str:
    """`<enclosing block's path>/<loop label>`: loop events carry the path of the block
    the loop stands in, so two nested loops with one label get different keys."""
    label = event.loop or "loop"
    return f"{event.path}/{label}" if event.path else label


def _error(event: E.WorkflowFailed | E.StepFailed | E.StepRetried | E.StepSkipped) -> str:
    return ": ".join(x for x in (event.error, event.message) if x) or "an error"


def _seconds(value: float) -> str:
    return f"{value:.3f} s"


def _version(value: int | None) -> str:
    return f"state v{value}" if value is not None else ""


def _elapsed(start: float | None, end: float) -> str:
    return f" ({end - start:.3f} s)" if start is not None else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{('es' if noun.endswith('ch') else 's') * (n != 1)}"


def _noun(loop: _Loop) -> str:
    return "iteration" if loop.kind == "loop" else "branch"


def _summary(counts: Counter) -> str:
    parts = [f"{_count(counts['succeeded'], 'step')} succeeded"]
    parts += [f"{counts[k]} {k}" for k in ("cached", "retried", "skipped", "failed")
              if counts[k]]
    return ", ".join(parts)
