"""Run the branches of a `parallel:` or `parallel for` block on a thread pool (docs/workflows.md).

Consumes: branch thunks (no arguments; each returns the branch's output or raises; the
runner's are `BranchTask`s) and a worker count. Produces: `run_concurrently(...) ->
list[Outcome]`, one per branch in branch order, and `BranchTask`, the description of a
branch that an executor running it in another process needs. The merge of the branches'
state writes is the runner's job, not this module's.
"""

from __future__ import annotations

from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol


@dataclass
class Outcome:
    """How one branch ended: `value` (its output), or `error` (what it raised, possibly a
    BaseException such as KeyboardInterrupt). A branch cancelled before it started
    (because an earlier one had already failed) has neither."""

    value: Any = None
    error: BaseException | None = None


@dataclass(eq=False)
class BranchTask:
    """One branch of a parallel block. Calling it runs the branch on the calling thread
    (its writes land in `layer`, a `BranchState`) and returns its output.

    An executor that runs the branch elsewhere (docs/distributed.md) uses the description
    instead: `node` (the `ParallelNode` or `ParallelForNode`; found again on a worker by
    its span), `index` (branch number), `scoped` (the branch's own state keys: the `parallel
    for` item), `value` (the block's input), `path` (the branch's step path), `run_id`,
    `workflow` (the top-level template's name) and `on_error` (the default policy). It then
    applies the branch's net writes to `layer`, passes the worker's events to `forward`,
    calls `completed(succeeded, output)` — which, in a durable run, records the finished
    branch so that a resume does not run it again, and raises the branch's failure when
    that record cannot be made — and raises a failure as `failure(step, error)`."""

    node: Any
    index: int
    scoped: dict[str, Any]
    value: Any
    path: str
    layer: Any
    run_id: str
    workflow: str
    on_error: str
    run_here: Callable[[], Any] = field(repr=False)
    forward: Callable[[dict[str, Any]], None] = field(repr=False)
    completed: Callable[..., None] = field(repr=False)
    failure: Callable[[str, Exception], BaseException] = field(repr=False)

    def __call__(self) -> Any:
        return self.run_here()


@dataclass(frozen=True)
class HostFunction:
    """A Python function registered through the embedding API: `fn`, `kind` ("function"
    or "step") and, for a step, its options (`retry`, `timeout`, ... as `register_step`
    takes them). An executor running branches in other processes imports `fn` there by
    its `module:qualname` (docs/distributed.md)."""

    fn: Callable[..., Any]
    kind: str = "function"
    options: dict[str, Any] = field(default_factory=dict)


class BranchExecutor(Protocol):
    """Runs the branches of parallel blocks somewhere other than this process's threads
    (dana.distributed). `rt` is the coordinator's runtime."""

    def run(self, rt: Any, tasks: list[BranchTask], workers: int) -> list[Outcome]:
        """Run `tasks`, at most `workers` at once; one Outcome per task in task order,
        with the semantics of `run_concurrently`."""

    def admit(self, rt: Any) -> None:
        """Raise a DanaError when a run of `rt` cannot use this executor (checked before
        the run starts: e.g. a host function that workers cannot import)."""


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
