"""The operation counter (docs/language.md "Safety and limits": one operation per loop
pass and per Dana call) stays exact where loops count in their own Python locals
(dana/runtime/loops.py): around calls, returns, errors caught, comprehensions."""

from __future__ import annotations

import io

import pytest

from dana import pipeline
from dana.errors import LimitError
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.source import SourceFile

CASES = {
    "calls in a loop": ("def f(x):\n    return x\ndef g():\n    for i in range(10):\n"
                        "        f(i)\ng()\n", 21),
    "comprehension": ("def g():\n    return [x for x in range(5) if x > 1]\ng()\n", 6),
    "while": ("n = 0\nwhile n < 7:\n    n += 1\n", 7),
    "nested loops": ("for i in range(3):\n    for j in range(4):\n        pass\n", 15),
    "return from a loop": ("def h():\n    for i in range(100):\n        if i == 5:\n"
                           "            return i\n    return -1\nh()\n", 7),
    "error caught in a loop": (
        "def k():\n    for i in range(10):\n        try:\n            if i == 3:\n"
        "                raise ValueError('x')\n        except ValueError:\n"
        "            pass\nk()\n", 11),
    "calls in a comprehension": (
        "def sq(x):\n    return x * x\nys = [sq(x) for x in range(4) for y in range(2)]\n", 20),
}


def _run(text: str, limits: Limits | None = None) -> Runtime:
    rt = Runtime(stdout=io.StringIO(), limits=limits or Limits())
    prepared = pipeline.prepare(SourceFile("t.dana", text))
    run_module(rt, prepared.module, checked=prepared.result)
    return rt


@pytest.mark.parametrize("name", CASES)
def test_every_pass_and_call_counts_once(name: str) -> None:
    text, expected = CASES[name]
    assert _run(text).operations == expected


@pytest.mark.parametrize("name", CASES)
def test_the_limit_stops_at_the_operation_that_crosses_it(name: str) -> None:
    text, expected = CASES[name]
    _run(text, Limits(max_operations=expected))
    with pytest.raises(LimitError):
        _run(text, Limits(max_operations=expected - 1))
