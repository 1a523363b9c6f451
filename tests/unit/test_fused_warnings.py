"""Fused expressions (dana/runtime/fused.py) compile generated Python source: a Dana `is`
against a literal must not make Python print a SyntaxWarning on the host's stderr."""

from __future__ import annotations

import io
import warnings

import dana


def test_is_against_a_literal_prints_no_host_warning() -> None:
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dana.Interpreter(stdout=out).exec(
            "def f(n: int) -> bool:\n"
            "    return n is 7031 or 'word' is not None\n"
            "print(f(3))\n")
    assert out.getvalue() == "True\n"
    assert [str(w.message) for w in caught if w.category is SyntaxWarning] == []
