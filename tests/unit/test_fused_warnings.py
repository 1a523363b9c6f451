"""Fused expressions (dana/runtime/fused.py) compile generated Python source: a Dana `is`
against a literal must not make Python print a SyntaxWarning on the host's stderr."""

from __future__ import annotations

import io
import warnings

import pytest

import dana

PROGRAMS = {
    "literal": ("def f(n: int) -> bool:\n"
                "    return n is 7031 or 'word' is not None\n"
                "print(f(3))\n", "True\n"),
    # `-1`, `()`, `(1, 2)` and `1 + 1` are literals to Python's compiler once folded
    "folded literal": ("def f(x: int) -> list[bool]:\n"
                       "    return [x is -1, x is (), x is not (1, 2), x is 1 + 1]\n"
                       "y = -1\n"
                       "print(f(-1), y is not 3 - 1)\n", "[True, False, True, False] True\n"),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_is_against_a_literal_prints_no_host_warning(name: str) -> None:
    source, expected = PROGRAMS[name]
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dana.Interpreter(stdout=out).exec(source)
    assert out.getvalue() == expected
    assert [str(w.message) for w in caught if w.category is SyntaxWarning] == []
