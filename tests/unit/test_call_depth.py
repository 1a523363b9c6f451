"""The call depth limit (docs/language.md "Safety and limits": `Limits.max_depth` Dana calls
in progress) is exact whichever way a call is made: entered directly from another
function's body (which passes its depth on, dana/runtime/entries.py), from a closure, by a
builtin calling back (`map`), in a parallel branch on another thread."""

from __future__ import annotations

import io

import pytest

from dana import pipeline
from dana.errors import LimitError
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.source import SourceFile

LIMIT = 40

# Each program calls `top(k)`, which runs `k + 1` Dana calls deep.
PROGRAMS = {
    "direct": "def top(n: int) -> int:\n    if n == 0:\n        return 0\n"
              "    return top(n - 1) + 1\n",
    "untyped": "def top(n):\n    if n == 0:\n        return 0\n    return top(n - 1) + 1\n",
    "through map": "def top(n: int) -> int:\n    if n == 0:\n        return 0\n"
                   "    return sum(map(top, range(n - 1, n))) + 1\n",
    "through a loop": "def top(n: int) -> int:\n    t = 0\n    for i in range(1):\n"
                      "        if n > 0:\n            t = top(n - 1) + 1\n    return t\n",
    "alternating": "def top(n: int) -> int:\n    if n == 0:\n        return 0\n"
                   "    return other(n - 1) + 1\n"
                   "def other(n: int) -> int:\n    t = 0\n    for i in range(1):\n"
                   "        if n > 0:\n            t = sum(map(top, range(n - 1, n))) + 1\n"
                   "    return t\n",
    "lambda": "top = lambda n :: 0 if n == 0 else top(n - 1) + 1\n",
}


def _run(source: str, limit: int = LIMIT) -> str:
    out = io.StringIO()
    prepared = pipeline.prepare(SourceFile("<test>", source))
    run_module(Runtime(Limits(max_depth=limit), stdout=out), prepared.module,
               checked=prepared.result)
    return out.getvalue()


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_deepest_call_allowed_is_the_limit(name: str) -> None:
    program = PROGRAMS[name]
    assert _run(program + f"print(top({LIMIT - 1}))\n") == f"{LIMIT - 1}\n"
    with pytest.raises(LimitError, match=f"maximum call depth of {LIMIT} exceeded"):
        _run(program + f"print(top({LIMIT}))\n")


def test_the_depth_counts_from_the_caller_after_a_call_returns() -> None:
    """Calls that returned, directly or through a builtin, leave no depth behind."""
    program = PROGRAMS["through map"] + PROGRAMS["direct"].replace("top", "again")
    calls = f"top({LIMIT - 1})\nprint(again({LIMIT - 1}))\n"
    assert _run(program + calls * 3) == f"{LIMIT - 1}\n" * 3


BRANCHES = """
def down(n: int) -> int:
    if n == 0:
        return 0
    return down(n - 1) + 1

def left(state: WorkflowState) -> int:
    return down(DEPTH)

def right(state: WorkflowState) -> int:
    return down(DEPTH)

workflow w():
    steps:
        parallel:
            left
            right

workflow s():
    steps:
        left

print(run(WF).output)
"""


@pytest.mark.parametrize("workflow", ["w", "s"])
def test_a_parallel_branch_has_the_same_depth_limit_as_a_step(workflow: str) -> None:
    """A step runs one call below the top level: `down(k)` there is `k + 2` deep."""
    source = BRANCHES.replace("WF", workflow)
    ok = _run(source.replace("DEPTH", str(LIMIT - 2)))
    assert ok == ("[38, 38]\n" if workflow == "w" else "38\n")
    with pytest.raises(LimitError, match="maximum call depth"):
        _run(source.replace("DEPTH", str(LIMIT - 1)))
