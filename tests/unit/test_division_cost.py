"""`//` and `%` of two big ints are refused before they run when their cost (the quotient's
bits times the divisor's bits: CPython divides digit by digit) is over the budget the size
limit gives, on every path that computes them: the generic operator closure, an augmented
assignment, an untyped function's fused expression, a typed function's numeric text and
a loop body (docs/language.md "Safety and limits"). Dividing by a small int, or a small
int by anything, is never refused, and `%` still formats text."""

from __future__ import annotations

from typing import Callable

import pytest

# Under max_size=10**7 an int may have 1,250,000 bits, and a division may cost
# 1,250,000 * 65,536 bit-steps: 600,001 quotient bits by a 600,001-bit divisor is over.
SETUP = "x = 2 ** 1200000 - 1\ny = 2 ** 600000 + 1\n"
REFUSED = {
    "floor division": "z = x // y\n",
    "modulo": "z = x % y\n",
    "negative dividend": "z = -x // y\n",
    "augmented": "x //= y\n",
    "augmented modulo": "x %= y\n",
    "untyped function": "def f(a, b):\n    return a // b - 1\nz = f(x, y)\n",
    "untyped modulo": "def f(a, b):\n    return (a % b) - 1\nz = f(x, y)\n",
    "typed function": "def f(a: int, b: int) -> int:\n    return a // b - 1\nz = f(x, y)\n",
    "typed modulo": "def f(a: int, b: int) -> int:\n    return a % b + 1\nz = f(x, y)\n",
    "loop body": ("def f(a: int, b: int) -> int:\n    t = 0\n    for i in range(2):\n"
                  "        t = a % b\n    return t\nz = f(x, y)\n"),
    "augmented in a loop": ("def f(a, b):\n    for i in range(2):\n        a //= b\n"
                            "    return a\nz = f(x, y)\n"),
}



@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
@pytest.mark.parametrize("name", REFUSED)
def test_a_costly_division_is_refused_at_its_line(name: str, check: bool,
                                                  run_limited: Callable) -> None:
    text = SETUP + REFUSED[name]
    shown = run_limited(text, check)
    line = text.count("\n", 0, text.index("//" if "//" in REFUSED[name] else "%")) + 1
    assert f"t.dana:{line}:" in shown and "error[E0513]: LimitError" in shown, shown
    assert "about 360000600000 bit-steps (600000 quotient bits times 600001 divisor bits), " \
           "over the limit of 81920000000" in shown


CHEAP = ("print(x // 7 % 1000, x % 7, 7 // x, 7 % x, y // x, (x // (y * y)), -x // 3 < 0)\n"
         "print('%d items' % 3)\n"
         "def f(a: int, b: int) -> int:\n    return a // b % 10 + a % 1000\n"
         "print(f(x, 12345), f(7, 2))\n")


@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
def test_dividing_by_a_small_int_or_a_small_int_is_not_refused(check: bool,
                                                               run_limited: Callable) -> None:
    x, y = 2 ** 1200000 - 1, 2 ** 600000 + 1
    expected = (f"{x // 7 % 1000} {x % 7} 0 7 0 {x // (y * y)} True\n3 items\n"
                f"{x // 12345 % 10 + x % 1000} {7 // 2 % 10 + 7 % 1000}\n")
    assert run_limited(SETUP + CHEAP, check) == expected


def test_rounding_an_int_to_tens_is_checked_the_same_way(run_limited: Callable) -> None:
    """`round(x, -n)` divides by `10 ** n`: 0 at once when that power is over twice `x`,
    refused when the division costs too much, Python's value otherwise."""
    x = 2 ** 1200000 - 1
    text = SETUP + ("print(round(x, -300) % 10 ** 301 == 0, round(x, -400000) == 0,"
                    " round(-5, -1), round(-6, -1), round(5, -10 ** 9), round(2.5, -1))\n"
                    "z = round(x, -180000)\n")
    shown = run_limited(text, check=False)
    assert shown.startswith(f"{round(x, -300) % 10 ** 301 == 0} True 0 -10 0 0.0\n"), shown
    assert "t.dana:4:5: error[E0513]: LimitError: round((an int of 1200000 bits), -180000) " \
           "would take about" in shown


def test_rounding_an_int_to_an_enormous_power_of_ten_is_0(run_limited: Callable) -> None:
    """`round(x, -n)` with an `n` beyond the floats' range is Python's 0, not a leaked
    ValueError of the float maths that sizes `10 ** n`."""
    text = SETUP + "print(round(5, -10 ** 400), round(-x, -10 ** 309), round(0, -2))\n"
    assert run_limited(text, check=False) == "0 0 0\n"
