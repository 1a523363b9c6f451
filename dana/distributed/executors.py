"""Where parallel branches run: threads, a local process pool, or a Dask cluster.

Consumes: the user's choice (`--executor threads|processes[:N]|dask|dask://HOST:PORT`,
`--workers N`; the embedding API takes the same text) and, per parallel block, the
runner's `BranchTask`s.
Produces: `parse_executor(text, workers) -> ExecutorChoice`, `make_executor(choice) ->
RemoteExecutor | None` (None: threads, the runtime's own pool). A `RemoteExecutor` ships
each branch as bytes (`dana.distributed.wire`) to a worker process (`worker.run_job`),
at most `max_concurrency` at once, and turns each result back into the runner's
`Outcome` as it arrives (Dask results are fetched in batches); the branches' events reach
the run while they run (`dana.distributed.live`); only the coordinator commits
(docs/distributed.md).
"""

from __future__ import annotations

import collections
import importlib
import multiprocessing
import os
import queue
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Protocol

from dana.distributed import live, wire
from dana.errors import DanaRuntimeError, UsageError, runtime_error
from dana.messages import runtime as R, usage as U
from dana.workflow.parallel import BranchTask, Outcome

EXECUTORS = ("threads", "processes", "dask")
CONNECT_TIMEOUT_S = 10
WATCH_INTERVAL_S = 1.0


@dataclass(frozen=True)
class ExecutorChoice:
    """`kind` is "threads", "processes" or "dask"; `workers` the number of local worker
    processes (None: one per core); `address` the scheduler of an existing Dask cluster
    (`tcp://HOST:PORT`), None to start a local one."""

    kind: str = "threads"
    workers: int | None = None
    address: str | None = None


def parse_executor(text: str, workers: int | None = None) -> ExecutorChoice:
    """Read `--executor TEXT` (and `--workers N`). `processes:N` is N processes;
    `--workers` sets the count of `processes` and `dask` (a remote cluster has the
    workers it has). Raises UsageError (E0606)."""
    kind, colon, rest = text.partition(":")
    if workers is not None and workers < 1:
        raise UsageError.of(U.BAD_WORKER_COUNT, text=workers)
    if kind == "dask" and rest.startswith("//") and len(rest) > 2:
        return ExecutorChoice("dask", workers, f"tcp:{rest}")
    if kind == "processes" and colon:
        if not rest.isdigit() or int(rest) < 1:
            raise UsageError.of(U.BAD_WORKER_COUNT, text=rest)
        return ExecutorChoice("processes", int(rest))
    if kind not in EXECUTORS or colon:
        raise UsageError.of(U.BAD_EXECUTOR, text=text)
    return ExecutorChoice(kind, workers)


def make_executor(choice: ExecutorChoice) -> "RemoteExecutor | None":
    """The executor for `choice`; None for threads. Nothing starts until the first
    branch is shipped. Raises UsageError (E0608) when dask is chosen but not installed."""
    if choice.kind == "threads":
        return None
    if choice.kind == "processes":
        return RemoteExecutor(_ProcessBackend(choice.workers or os.cpu_count() or 1))
    try:
        importlib.import_module("distributed")  # only to fail early with a clear message
    except ImportError:
        raise UsageError.of(U.NO_DASK) from None
    return RemoteExecutor(_DaskBackend(choice.address, choice.workers or os.cpu_count() or 1))


class _Tracker(Protocol):
    """The jobs of one parallel block as they finish: `add` futures, `next()` gives the
    next one to finish with its result bytes, or the exception saying why it has none."""

    def add(self, futures: list[Any]) -> None: ...
    def next(self) -> tuple[Any, bytes | Exception]: ...


class _Backend(Protocol):
    """Where jobs run: `submit` returns one future per payload; `tracker()` follows them
    as they finish.
    `listen(deliver)` is called once, before any job: the backend passes each live event
    message of its workers to `deliver` (dana.distributed.live); `topic` is the Dask event
    topic its workers log them under ("" for a process pool)."""

    topic: str

    def listen(self, deliver: Callable[[list], None]) -> None: ...
    def submit(self, header: bytes, payloads: list[bytes]) -> list[Any]: ...
    def tracker(self) -> _Tracker: ...
    def cancel(self, futures: list[Any]) -> None: ...
    def close(self) -> None: ...


class RemoteExecutor:
    """Runs branches through a backend (a process pool or a Dask client). `close()` ends
    the pool or cluster it started; it is also a context manager. Events of the branches
    reach the run while they run (`live.Relay`)."""

    def __init__(self, backend: _Backend) -> None:
        self.backend = backend
        self.relay = live.Relay()
        backend.listen(self.relay.deliver)

    def __enter__(self) -> "RemoteExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()
        self.relay.close()

    def admit(self, rt: Any) -> None:
        """Refuse a run whose host functions workers could not import (UsageError E0607
        naming the function)."""
        for label, host in rt.host_functions.items():
            wire.host_reference(label, host)

    def run(self, rt: Any, tasks: list[BranchTask], workers: int) -> list[Outcome]:
        """Ship `tasks`, at most `workers` at once, in task order; once task k fails, the
        tasks after k that were not shipped yet are not run (as `run_concurrently`)."""
        outcomes = [Outcome() for _ in tasks]
        if not tasks:
            return outcomes
        header = wire.header(rt, tasks[0].node.span.source)
        finished = self.backend.tracker()
        pending: dict[Any, int] = {}
        jobs: dict[int, str] = {}
        end, following = len(tasks), 0
        try:
            while following < end or pending:
                batch: list[tuple[int, bytes]] = []
                while following < end and len(pending) + len(batch) < workers:
                    index, following = following, following + 1
                    jobs[index] = self.relay.expect(tasks[index].forward)
                    try:
                        batch.append((index, wire.payload(tasks[index], jobs[index],
                                                          self.backend.topic)))
                    except DanaRuntimeError as exc:
                        outcomes[index] = Outcome(error=tasks[index].failure("parallel", exc))
                        end = min(end, index + 1)
                batch = [(index, data) for index, data in batch if index < end]
                if batch:
                    try:
                        futures = self.backend.submit(header, [data for _, data in batch])
                    except DanaRuntimeError as exc:
                        first = batch[0][0]
                        outcomes[first] = Outcome(error=tasks[first].failure("parallel", exc))
                        end = min(end, first + 1)
                        continue
                    for (index, _), future in zip(batch, futures):
                        pending[future] = index
                    finished.add(futures)
                if pending:
                    future, result = finished.next()
                    index = pending.pop(future)
                    outcomes[index] = self._settle(rt, tasks[index], result, jobs[index])
                    if outcomes[index].error is not None:
                        end = min(end, index + 1)
        except BaseException:
            self.backend.cancel(list(pending))
            raise
        finally:
            for job in jobs.values():  # those that ended without a result
                self.relay.drop(job)
        return outcomes

    def _settle(self, rt: Any, task: BranchTask, result: bytes | Exception,
                job: str) -> Outcome:
        if isinstance(result, Exception):  # the worker died, or the cluster gave up
            self.relay.drop(job)
            exc = result
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            error = runtime_error(R.WORKER_LOST, task.node.span, path=task.path,
                                  reason=reason)
            task.completed(False)
            return Outcome(error=task.failure("parallel", error))
        return wire.decode_result(rt, task, result, partial(self.relay.settle, job))


def _worker_entry() -> Any:
    """`worker.run_job`, imported on first use: the worker side loads the embedding API,
    which imports this module."""
    from dana.distributed.worker import run_job
    return run_job


def _start_worker(pid: int, address: str | None, key: bytes | None) -> None:
    """A pool worker's initializer: watch the coordinator `pid`, and connect to its event
    inbox at `address` (None: the events come back with each branch's result only)."""
    _watch_coordinator(pid)
    if address is not None and key is not None:
        live.connect(address, key)


def _watch_coordinator(pid: int) -> None:
    """In a pool worker: end this process once the coordinator `pid` is gone (a killed
    `dana run` must not leave its workers behind)."""
    def watch() -> None:
        while _alive(pid):
            time.sleep(WATCH_INTERVAL_S)
        os._exit(1)
    threading.Thread(target=watch, name="dana-watch-coordinator", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # no /proc (not Linux): os.kill said it exists
        return True


class _ProcessBackend:
    """A local pool of `size` worker processes (forkserver: no copy of the coordinator's
    threads), started at the first branch and replaced if a worker dies. Its workers send
    their events through an `Inbox` socket."""

    topic = ""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pool: ProcessPoolExecutor | None = None
        self.inbox: live.Inbox | None = None
        self.deliver: Callable[[list], None] | None = None
        self.lock = threading.Lock()  # runs started from several threads share the pool

    def listen(self, deliver: Callable[[list], None]) -> None:
        self.deliver = deliver

    def submit(self, header: bytes, payloads: list[bytes]) -> list[Future]:
        with self.lock:
            if self.pool is None:
                if self.inbox is None and self.deliver is not None:
                    self.inbox = live.Inbox(self.deliver)
                inbox = (self.inbox.address, self.inbox.key) if self.inbox else (None, None)
                context = multiprocessing.get_context("forkserver")
                self.pool = ProcessPoolExecutor(self.size, mp_context=context,
                                                initializer=_start_worker,
                                                initargs=(os.getpid(), *inbox))
            return [self.pool.submit(_worker_entry(), header, p) for p in payloads]

    def tracker(self) -> "_PoolTracker":
        return _PoolTracker(self)

    def cancel(self, futures: list[Future]) -> None:
        for future in futures:
            future.cancel()

    def close(self) -> None:
        with self.lock:
            pool, self.pool = self.pool, None
            inbox, self.inbox = self.inbox, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if inbox is not None:
            inbox.close()


class _DaskBackend:
    """A `distributed.Client` of the scheduler at `address`, or of a `LocalCluster` of
    `size` single-threaded worker processes started at the first branch. Its workers log
    their events under a topic of their own (`Worker.log_event`), which the client
    subscribes to."""

    def __init__(self, address: str | None, size: int) -> None:
        self.address, self.size = address, size
        self.client: Any = None
        self.cluster: Any = None
        self.topic = f"dana-events-{uuid.uuid4().hex}"
        self.deliver: Callable[[list], None] | None = None
        self.lock = threading.Lock()

    def listen(self, deliver: Callable[[list], None]) -> None:
        self.deliver = deliver

    def connect(self) -> Any:
        with self.lock:
            return self._connected()

    def _connected(self) -> Any:
        if self.client is None:
            from distributed import Client, LocalCluster
            if self.address is None:
                self.cluster = LocalCluster(n_workers=self.size, threads_per_worker=1,
                                            processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                try:
                    self.client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError) as exc:
                    raise runtime_error(R.NO_SCHEDULER, address=self.address,
                                        reason=exc) from None
            if self.deliver is not None:
                deliver = self.deliver
                self.client.subscribe_topic(self.topic, lambda event: deliver(event[1]))
        return self.client

    def submit(self, header: bytes, payloads: list[bytes]) -> list[Any]:
        return self.connect().map(_worker_entry(), [header] * len(payloads), payloads,
                                  pure=False)

    def tracker(self) -> "_DaskTracker":
        return _DaskTracker(self)

    def cancel(self, futures: list[Any]) -> None:
        if self.client is not None and futures:
            self.client.cancel(futures)

    def close(self) -> None:
        if self.client is not None:
            if self.deliver is not None:
                self.client.unsubscribe_topic(self.topic)
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


class _PoolTracker:
    """Process-pool futures as they finish (their done callbacks feed a queue)."""

    def __init__(self, backend: _ProcessBackend) -> None:
        self.backend = backend
        self.done: queue.SimpleQueue = queue.SimpleQueue()

    def add(self, futures: list[Future]) -> None:
        for future in futures:
            future.add_done_callback(self.done.put)

    def next(self) -> tuple[Future, bytes | Exception]:
        while True:  # short waits, so Ctrl-C gets through
            try:
                future = self.done.get(timeout=0.2)
                break
            except queue.Empty:
                continue
        try:
            return future, future.result()
        except BrokenProcessPool as exc:
            self.backend.close()  # a dead worker breaks the whole pool: start a new one
            return future, exc
        except Exception as exc:  # noqa: BLE001 - why the job has no result
            return future, exc


class _DaskTracker:
    """Dask futures as they finish (`distributed.as_completed`), the results of those
    that finished together fetched in one `gather` (one round trip per batch instead of
    one per future)."""

    def __init__(self, backend: _DaskBackend) -> None:
        self.backend = backend
        self.client: Any = None
        self.finished: Any = None
        self.ready: collections.deque = collections.deque()

    def add(self, futures: list[Any]) -> None:
        if self.finished is None:  # the futures' client, connected by now
            from distributed import as_completed
            self.client = self.backend.connect()
            self.finished = as_completed(loop=self.client.loop)
        self.finished.update(futures)

    def next(self) -> tuple[Any, bytes | Exception]:
        if not self.ready:
            batch = self.finished.next_batch(block=True)  # waits in slices: Ctrl-C works
            good = [f for f in batch if f.status == "finished"]
            try:
                values = self.client.gather(good) if good else []
            except Exception:  # noqa: BLE001 - some result was lost meanwhile: one by one
                values = [_value(f) for f in good]
            got = dict(zip(map(id, good), values))
            self.ready.extend((f, got[id(f)] if id(f) in got else _failure(f)) for f in batch)
        return self.ready.popleft()


def _value(future: Any) -> bytes | Exception:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - why the job has no result
        return exc


def _failure(future: Any) -> Exception:
    """Why a Dask future that did not finish has no result."""
    if future.status == "cancelled":
        return RuntimeError("the task was cancelled")
    return future.exception() or RuntimeError(f"the task ended as {future.status}")
