"""Loops compiled to one Python function (dana/runtime/loops.py) stay correct where the
generated code stops: bodies nested past Python's block limit and bodies longer than
`MAX_LINES` lines continue through the statements' closures."""

from __future__ import annotations

import io

from dana import pipeline
from dana.runtime import loops
from dana.runtime.interpreter import Runtime, run_module
from dana.source import SourceFile


def _output(text: str) -> str:
    out = io.StringIO()
    prepared = pipeline.prepare(SourceFile("t.dana", text))
    run_module(Runtime(stdout=out), prepared.module, checked=prepared.result)
    return out.getvalue()


def test_a_long_loop_body_runs_every_statement() -> None:
    count = loops.MAX_LINES  # several lines each: well past the limit
    body = "".join(f"        t += i * {k}\n        if t < 0:\n            break\n"
                   for k in range(count))
    text = f"def f(n: int) -> int:\n    t = 0\n    for i in range(n):\n{body}    return t\n" \
           "print(f(3))\n"
    assert _output(text) == f"{3 * sum(range(count))}\n"


def test_a_deeply_nested_loop_body_runs_every_statement() -> None:
    depth = loops.MAX_BLOCKS
    lines = ["def f() -> int:", "    t = 0"]
    for level in range(depth):
        lines.append("    " * (level + 1) + f"for a{level} in range(2):")
    lines.append("    " * (depth + 1) + "t += 1")
    lines += ["    return t", "print(f())"]
    assert _output("\n".join(lines) + "\n") == f"{2 ** depth}\n"
