"""Compute benchmarks: each program in bench/programs/ written in Dana and in Python.

Consumes: the pairs `NAME.dana` / `NAME.py`; each sets a global `result` (the two must
agree). Both run in this process from the repository root (they read files under it), the
Dana one parsed and checked first, so only running is timed (start-up excluded).
Produces: `time_pairs() -> list[Row]`: per program the best of `rounds` Dana and Python
times (CPU seconds of this process, so that other work on a shared machine does not count;
run alternately) and their ratio.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dana import pipeline
from dana.runtime.interpreter import Runtime, run_module

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = Path(__file__).resolve().parent / "programs"
PAIRS = ("fib", "loops", "structs", "words", "comprehensions", "closures", "etl")


@dataclass
class Row:
    """One benchmark: best Dana and Python seconds, and Dana / Python."""

    name: str
    dana_s: float
    python_s: float

    @property
    def ratio(self) -> float:
        return self.dana_s / self.python_s


def _dana_runner(name: str) -> Callable[[], Any]:
    source = pipeline.read_source(PROGRAMS / f"{name}.dana")
    prepared = pipeline.prepare(source)

    def run() -> Any:
        rt = Runtime(allow_read=(ROOT,), stdout=io.StringIO())
        return run_module(rt, prepared.module, checked=prepared.result).namespace["result"]
    return run


def _python_runner(name: str) -> Callable[[], Any]:
    path = PROGRAMS / f"{name}.py"
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")

    def run() -> Any:
        namespace: dict[str, Any] = {"__name__": f"bench_{name}"}
        exec(code, namespace)
        return namespace["result"]
    return run


def _seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds and result of `fn()`, run on a fresh thread as `dana run` runs a
    program: how deep the caller's stack already is changes CPython 3.11's cost of deep
    recursion (its frame stack grows in 16 KiB chunks, and one freed and allocated again
    at each crossing of a chunk's edge), so both languages start from an empty stack."""
    out: list[Any] = []

    def timed() -> None:
        start = time.process_time()
        value = fn()
        out.extend((time.process_time() - start, value))
    worker = threading.Thread(target=timed)
    worker.start()
    worker.join()
    if not out:
        raise RuntimeError("the benchmark failed (see the traceback above)")
    return out[0], out[1]


def time_pair(name: str, rounds: int) -> Row:
    """Best-of-`rounds` times of one pair, Dana and Python alternately. Raises
    AssertionError when the two programs' results differ."""
    dana, python = _dana_runner(name), _python_runner(name)
    best_d = best_p = float("inf")
    for _ in range(rounds):
        d, dana_value = _seconds(dana)
        p, python_value = _seconds(python)
        assert _plain(dana_value) == _plain(python_value), (name, dana_value, python_value)
        best_d, best_p = min(best_d, d), min(best_p, p)
    return Row(name, best_d, best_p)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def time_pairs(rounds: int, only: tuple[str, ...] = ()) -> list[Row]:
    """Every pair (or those named in `only`)."""
    return [time_pair(name, rounds) for name in PAIRS if not only or name in only]
