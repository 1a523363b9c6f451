"""A `%` format (`"%05d" % n`) whose width or precision is over the size limit is refused
before it builds anything, with the message of an f-string's or `str.format`'s format spec,
on every path that computes `%`: the generic operator closure, an augmented assignment, an
untyped function's fused expression, a typed function (`w: str`), a loop body; a `*` width
is read from the arguments (docs/language.md "Safety and limits"). Formats within the limit,
and `%` of numbers, work as in Python."""

from __future__ import annotations

from typing import Callable

import pytest

SETUP = 'w = "%0600000000d"\n'
REFUSED = {
    "literal": 'z = "%0600000000d" % 5\n',
    "variable": "z = w % 5\n",
    "precision": 'z = "%.600000000f" % 1.5\n',
    "star width": 'z = "%s %*d" % ("a", 600000000, 5)\n',
    "star precision": 'z = "%.*f" % (-600000000, 1.5)\n',
    "mapping key": 'z = "%(a)s %((b))0600000000d" % {"a": 1, "(b)": 2}\n',
    "augmented": "w %= 5\n",
    "untyped function": "def f(a):\n    return (a % 5) + 'x'\nz = f(w)\n",
    "typed function": "def f(a: str) -> str:\n    return a % 5\nz = f(w)\n",
    "loop body": ("def f(a: str) -> str:\n    t = ''\n    for i in range(2):\n"
                  "        t = a % i\n    return t\nz = f(w)\n"),
}



@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
@pytest.mark.parametrize("name", REFUSED)
def test_a_too_wide_percent_format_is_refused_at_its_line(name: str, check: bool,
                                                          run_limited: Callable) -> None:
    text = SETUP + REFUSED[name]
    shown = run_limited(text, check)
    line = text.count("\n", 0, text.index("%", len(SETUP))) + 1
    assert f"t.dana:{line}:" in shown, shown
    assert "error[E0513]: LimitError: format spec '%" in shown, shown
    assert "asks for 600000000 characters, over the limit of 10000000" in shown, shown


ALLOWED = ('print("%05d|%-4s|%.2f|%%|%*d" % (7, "ab", 2.5, 3, 4))\n'
           'print("%(k)s=%(v)03d" % {"k": "n", "v": 9}, 7 % 3, -7.5 % 2, "%d" % 10 ** 30)\n'
           "def f(a: str, n: int) -> str:\n    return a % n\n"
           'print(f("%8d", 42), len("%09999999d" % 1))\n')


@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
def test_a_percent_format_within_the_limit_works_as_in_python(check: bool,
                                                              run_limited: Callable) -> None:
    expected = ("00007|ab  |2.50|%|  4\n"
                f"n=009 1 0.5 {10 ** 30}\n"
                "      42 9999999\n")
    assert run_limited(ALLOWED, check) == expected


TOO_LONG = {
    "repeated mapping key": 'b = "x" * 4000000\nz = ("%(a)s" * 3) % {"a": b}\n',
    "repeated tuple item": 'b = "x" * 4000000\nz = "%s%s%s" % (b, b, b)\n',
    "many wide numbers": 'z = ("%09999999d" * 3) % (1, 2, 3)\n',
    "a list's text": 'b = ["x" * 4000000]\nz = "%s%s%s" % (b, b, b)\n',
    "format's repeated field": 'b = "x" * 4000000\nz = "{0}{0}{0}".format(b)\n',
}


@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
@pytest.mark.parametrize("name", TOO_LONG)
def test_a_format_repeating_values_past_the_limit_is_refused(name: str, check: bool,
                                                             run_limited: Callable) -> None:
    """Each value is small enough, but the text built from them is not: refused before
    the whole text is built, like any string over the limit."""
    shown = run_limited(TOO_LONG[name], check)
    assert f"t.dana:{TOO_LONG[name].count(chr(10))}:" in shown, shown
    assert "error[E0513]: LimitError: string of " in shown, shown
    assert "exceeds the limit of 10000000" in shown, shown


def test_a_format_truncating_long_values_stays_within_the_limit(run_limited: Callable) -> None:
    text = 'b = "x" * 9000000\nprint("%.3s|%.2s|%s" % (b, b, "ok"))\n'
    assert run_limited(text, True) == "xxx|xx|ok\n"
