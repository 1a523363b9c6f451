"""Interpreter speed as a ratio to CPython running the same programs in the same process.

Run: python bench/interpreter.py   (prints one line per program: Dana seconds, CPython
seconds, ratio). Not a test: nothing asserts on time.
"""

from __future__ import annotations

import io
import time

from dana.runtime.interpreter import Runtime, run_module
from dana.source import SourceFile
from dana.syntax.builder import parse

PROGRAMS = {
    "fib(22)": ("def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n"
                "result = fib(22)\n"),
    "loop 300k": ("total = 0\nfor i in range(300000):\n    if i % 3 == 0:\n        total += i\n"
                  "result = total\n"),
    "comprehension 200k": ("xs = [i * i for i in range(200000) if i % 2 == 0]\n"
                           "result = sum(xs)\n"),
}


def _time(fn) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    print(f"{'program':<22}{'dana s':>10}{'python s':>10}{'ratio':>8}")
    for name, text in PROGRAMS.items():
        module = parse(SourceFile(name, text))
        dana_ns: dict = {}
        py_ns: dict = {}
        dana_s = _time(lambda: run_module(Runtime(stdout=io.StringIO()), module, globals_=dana_ns))
        py_s = _time(lambda: exec(compile(text, name, "exec"), py_ns))
        assert dana_ns["result"] == py_ns["result"], name
        print(f"{name:<22}{dana_s:>10.3f}{py_s:>10.3f}{dana_s / py_s:>8.1f}x")


if __name__ == "__main__":
    main()
