"""Run the branches of a `parallel:` block on a thread pool (DESIGN §3, issue 4).

Consumes: branch thunks (no arguments; each returns the branch's output or raises) and a
worker count. Produces: `run_concurrently(...) -> list[Outcome]`, one per branch in branch
order. The merge of the branches' state writes is the runner's job, not this module's.
"""

from __future__ import annotations

from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Outcome:
    """How one branch ended: `value` (its output), or `error` (what it raised, possibly a
    BaseException such as KeyboardInterrupt). A branch cancelled before it started
    (because an earlier one had already failed) has neither."""

    value: Any = None
    error: BaseException | None = None


def run_concurrently(tasks: list[Callable[[], Any]], max_workers: int, *,
                     stop: Callable[[], None] = lambda: None) -> list[Outcome]:
    """Run `tasks` on a `ThreadPoolExecutor(max_workers)` (at most that many at once,
    started in order) and wait for them. Once task k fails, the tasks after k that have not
    started are cancelled (whatever they did, the first failure in task order is k or an
    earlier one); the others run to the end, so which failure comes first in task order
    does not depend on timing. If the waiting thread itself is interrupted
    (KeyboardInterrupt), `stop()` is called to make the running tasks stop, they are waited
    for, and the interrupt is re-raised. Threads are created while the tasks are submitted
    (so a `threading.stack_size` set by the caller around this call applies to them)."""
    if not tasks:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(tasks))),
                            thread_name_prefix="dana-parallel") as pool:
        futures = [pool.submit(task) for task in tasks]
        try:
            _wait(futures)
        except BaseException:
            stop()
            for future in futures:
                future.cancel()
            raise
    return [_outcome(f) for f in futures]


def _wait(futures: list[Future]) -> None:
    index = {future: i for i, future in enumerate(futures)}
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_EXCEPTION)
        failed = [index[f] for f in done if not f.cancelled() and f.exception() is not None]
        if failed:
            first = min(failed)
            pending = {f for f in pending if not (index[f] > first and f.cancel())}


def _outcome(future: Future) -> Outcome:
    if future.cancelled():
        return Outcome()
    error = future.exception()
    return Outcome(error=error) if error is not None else Outcome(future.result())
