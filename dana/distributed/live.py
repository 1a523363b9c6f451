"""Events of branches running in other processes, delivered to the coordinator while the
branch runs (docs/distributed.md "Events").

Consumes: on a worker, each event of the branch it runs; on the coordinator, the messages
`[job, sender, seq, event]` these become (job: the branch as the coordinator shipped it,
sender: the worker process, seq: the event's index in the branch's events), from a
process pool's socket (`Inbox`) or a Dask event topic; and, when a branch ends, the whole
list of its events from its result.
Produces: `Relay`, the coordinator's side (each event of a branch reaches the run once and
in order: live when it can, from the result for whatever did not arrive live), `Inbox`
(a Unix socket the worker processes of a local pool connect to, one connection each), and
for workers `connect` (a pool worker's connection) and `sender_for(job, topic)`.
"""

from __future__ import annotations

import itertools
import os
import queue
import secrets
import socket
import threading
from dataclasses import dataclass
from multiprocessing.connection import Client, Listener
from typing import Any, Callable

Message = list  # [job, sender, seq, event]


def sender() -> str:
    """This worker process: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


# ------------------------------------------------------------------ coordinator
@dataclass
class _Job:
    forward: Callable[[dict], None]
    sender: str | None = None   # the worker whose live events are taken
    count: int = 0              # how many of its events were forwarded


class Relay:
    """Routes live events to the branch they belong to (`expect` gives each shipped branch
    its job id). `deliver` may be called from any thread; the events are forwarded on the
    relay's own thread, so a socket reader or Dask's event loop never waits for the run's
    listeners. `close()` ends that thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, _Job] = {}
        self.ids = itertools.count()
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    def expect(self, forward: Callable[[dict], None]) -> str:
        """A new job id; its events go to `forward`."""
        job = str(next(self.ids))
        with self.lock:
            self.jobs[job] = _Job(forward)
            if self.thread is None:
                self.thread = threading.Thread(target=self._pump, name="dana-events",
                                               daemon=True)
                self.thread.start()
        return job

    def deliver(self, message: Message) -> None:
        """A live event (any thread)."""
        self.inbox.put(message)

    def _pump(self) -> None:
        while (message := self.inbox.get()) is not None:
            self.receive(message)

    def receive(self, message: Message) -> None:
        """Forward a live event now if it is the next one of its branch, from the worker
        whose events are taken (the first that sent one); drop it otherwise (the result
        will carry it)."""
        try:
            job, who, seq, event = message
        except (TypeError, ValueError):
            return  # not one of ours
        with self.lock:
            entry = self.jobs.get(job)
            if entry is None:
                return  # the branch already ended (its result carried the event)
            if entry.sender is None:
                entry.sender = who
            if who == entry.sender and seq == entry.count:
                entry.count += 1
                entry.forward(event)

    def settle(self, job: str, who: str | None, events: list[dict]) -> None:
        """Branch `job` ended on worker `who` with `events`: forward those not forwarded
        live (all of them when the live ones came from an attempt that was lost)."""
        with self.lock:
            entry = self.jobs.pop(job, None)
            if entry is None:
                return
            start = entry.count if who == entry.sender else 0
            for event in events[start:]:
                entry.forward(event)

    def drop(self, job: str) -> None:
        """Branch `job` ended without a result (its worker was lost, or it was cancelled)."""
        with self.lock:
            self.jobs.pop(job, None)

    def close(self) -> None:
        with self.lock:
            thread, self.thread = self.thread, None
        if thread is not None:
            self.inbox.put(None)


class Inbox:
    """A Unix socket (in a private temporary folder, with a random key) that each worker
    process of a local pool connects to; every message received goes to `deliver`."""

    def __init__(self, deliver: Callable[[Message], None]) -> None:
        self.key = secrets.token_bytes(32)
        self.listener = Listener(family="AF_UNIX", authkey=self.key)
        self.address = self.listener.address
        self.deliver = deliver
        self.closed = False
        threading.Thread(target=self._accept, name="dana-events-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn = self.listener.accept()
            except OSError:
                return  # the listener was closed
            except Exception:  # noqa: BLE001 - a client that failed the handshake
                continue
            threading.Thread(target=self._read, args=(conn,), name="dana-events-read",
                             daemon=True).start()

    def _read(self, conn: Any) -> None:
        with conn:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return  # the worker process ended
                self.deliver(message)

    def close(self) -> None:
        """Stop accepting (the connections end with their worker processes)."""
        self.closed = True
        try:
            Client(self.address, authkey=self.key).close()  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()


# ------------------------------------------------------------------ worker
_OUTBOX: Any = None
_OUTBOX_LOCK = threading.Lock()


def connect(address: str, key: bytes) -> None:
    """In a pool worker (its initializer): connect to the coordinator's `Inbox`. Without a
    connection the branch's events come back with its result only."""
    global _OUTBOX
    try:
        _OUTBOX = Client(address, authkey=key)
    except OSError:
        _OUTBOX = None


def sender_for(job: str, topic: str) -> Callable[[dict], None] | None:
    """A function sending each event of branch `job`, numbered in order, to the
    coordinator as it happens: through this pool worker's connection, or as an event of
    Dask topic `topic` ("": not on Dask). None when neither is available. A send that
    fails is skipped: the result carries every event."""
    me, numbers = sender(), itertools.count()
    if _OUTBOX is not None:
        def send(event: dict) -> None:
            global _OUTBOX
            message = [job, me, next(numbers), event]
            with _OUTBOX_LOCK:
                if _OUTBOX is None:
                    return
                try:
                    _OUTBOX.send(message)
                except (OSError, ValueError):  # the coordinator is gone
                    _OUTBOX = None
        return send
    if not topic:
        return None
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return None

    def log(event: dict) -> None:
        message = [job, me, next(numbers), event]
        try:
            worker.log_event(topic, message)
        except TypeError:  # a field msgpack cannot carry: it comes with the result
            pass
    return log
