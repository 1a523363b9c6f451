"""Closures specialised on the checker's types (dana/runtime/numeric.py) keep a guard on
every operand they read: when the types are wrong at run time (the checker's types are
not a run-time guarantee, docs/architecture.md "What checking produces"), the program
behaves exactly as unchecked code, limits included. A checker that lies (every expression
an int, a float, a str, a list, a dict or a struct type) must change nothing."""

from __future__ import annotations

import io

import pytest

from dana import pipeline
from dana.diagnostics import render_error
from dana.errors import DanaError
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.source import SourceFile
from dana.types.types import FLOAT, INT, STR, ClassT, DictT, FieldT, ListT, StructT

PROGRAMS = {
    "strings added": "def f(a, b):\n    return a + b + a\nprint(f('x', 'y'))\n",
    "repetition over the limit": (
        "def f(s, n):\n    t = s * n * 1\n    return len(t)\nprint(f('ab', 10 ** 7))\n"),
    "lists in a loop": (
        "def f(xs):\n    total = []\n    for x in xs:\n        total = total + x + x\n"
        "    return total\nprint(f([[1], [2, 3]]))\n"),
    "unassigned": (
        "def f(flag):\n    if flag:\n        y = 1\n    return y * 2 + 1\nprint(f(False))\n"),
    "division by zero": "def f(a, b):\n    return a * 2 / b\nprint(f(3, 0))\n",
    "big int product": (
        "def f(a):\n    n = a\n    for i in range(30):\n        n = n * n + 0\n    return n\n"
        "print(f(3) > 0)\n"),
    "big int division": (
        "def f(a, b):\n    return a % 1000 + a // b - 1\n"
        "x = int('f' * 250000, 16)\nprint(f(x, 3) > 0)\nprint(f(x, x >> 500000))\n"),
    "mixed comparison": (
        "def f(a, b):\n    return a < b and a + 1 > 0\nprint(f('a', 2))\n"),
    "index out of range": "def f(xs, i):\n    return xs[i] * 2 + 1\nprint(f([1], 5))\n",
    "missing key": (
        "def f(d, k):\n    return (d[k], d[k] + 1)\nprint(f({'a': 1}, 'a'), f({'a': 1}, 'b'))\n"),
    "tuple key": (
        "def f(d, k):\n    return d[k] + 1\nprint(f({(1, 2): 3}, (1, 2)))\n"),
    "dict methods": (
        "def f(x, k):\n    return x.get(k, 0)\n"
        "print(f({'a': 1}, 'a'), f({(1,): 2}, (1,)), f('ab', 'a'))\n"),
    "str methods": (
        "def f(s, c):\n    return s.strip(c)\nprint(f(' a ', None), f('xax', 'x'))\n"
        "print(f('a', 3))\n"),
    "growing method": "def f(s, n):\n    return s.center(n)\nprint(f('a', 10 ** 8))\n",
    "list methods": (
        "def f(xs, x):\n    ys = xs.copy()\n    ys.append(x)\n    return ys.index(x)\n"
        "print(f([1, 2], 2), f('ab', 'b'))\n"),
    "enclosing variables": (
        "def f(a, s):\n    def g(b):\n        def h(c):\n            return a * b + c - a\n"
        "        return h(b) + len(s * b)\n    return g(2)\n"
        "print(f(3, 'x'), f(2.5, 'y'))\nprint(f('ab', 'z'))\n"),
    "enclosing variable unassigned": (
        "def f(n):\n    def g(m):\n        return y * m + n\n    print(g(2) if n else 0)\n"
        "    y = 3\n    return g(1)\nprint(f(0))\nprint(f(1))\n"),
    "comprehension items": (
        "def f(n, big):\n    a = [x * x + y for x in range(n) for y in range(x, n) if x % 2 == 0]\n"
        "    b = [x * 3 // 2 for x in range(big, big + 2)]\n"
        "    c = [x * 2 for x in ['a', 1.5, 2]]\n"
        "    d = [x * 2 for x in range(3) for x in [x, 'b']]\n"
        "    e = [g(1) for x in range(2) for g in [lambda y :: x * y + 1]]\n"
        "    h = [[x * y for y in range(x)] for x in range(3)]\n"
        "    return a, b, c, d, e, h\nprint(f(5, 2 ** 5000)[:1], f(4, -(2 ** 4097))[1][0] < 0)\n"
        "print(f(3, 5)[2:])\n"),
    "comprehension item overflowing": (
        "def f(n):\n    return [x * x * x for x in range(n, n + 1)]\n"
        "print(len(str(f(2 ** 4095)[0])), f(-3), f(2 ** 5000)[0] > 0)\nprint(f(2 ** 50000))\n"),
    "struct fields": (
        "struct P:\n    x: int\n    y: str\n"
        "def f(p):\n    return p.x + p.y * 2\nprint(f(P(1, 'a')))\n"),
    "struct construction": (
        "struct P:\n    x: int\n    y: str\nstruct Q:\n    x: int\n    y: str\n"
        "struct R:\n    x: float\n    y: str\n"
        "def f(a, b):\n    return a + 1\n"
        "def make(k, a, b):\n    out = []\n    for i in range(2):\n"
        "        out.append(k(a, b))\n    return out\n"
        "print(make(P, 1, 'a'), make(Q, 2, 'b'), make(R, 3, 'c'), make(f, 4, 'd'))\n"
        "print(make(P, 'a', 1))\n"),
    "call arguments": (
        "struct P:\n    x: int\n    y: str\n"
        "def g(a, b, c):\n    return a\n"
        "def f(p, d):\n    return g(p.x + 1, p.x // d, p.y * 2)\n"
        "print(f(P(1, 'a'), 2), f(P(1, 'a'), 0))\n"),
}


def _run(text: str, checked: object = None) -> str:
    out = io.StringIO()
    rt = Runtime(stdout=out, limits=Limits(max_size=10**6))
    module = pipeline.parse_source(SourceFile("t.dana", text))
    try:
        run_module(rt, module, checked=checked)
    except DanaError as err:
        return out.getvalue() + render_error(err)
    return out.getvalue()


class Lying:
    """A checker result that gives every expression the type `t`."""

    def __init__(self, t: object) -> None:
        self.t = t

    def type_of(self, node: object) -> object:
        return self.t


def _struct_type(name: str, **fields: object) -> ClassT:
    """The checker's type of struct type `name` with `fields` (name -> type)."""
    t = StructT(name)
    t.fields = {n: FieldT(n, f, False) for n, f in fields.items()}
    return ClassT(t)


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("t", [INT, FLOAT, STR, ListT(INT), DictT(STR, INT),
                               _struct_type("P", x=INT, y=STR)],
                         ids=["int", "float", "str", "list", "dict", "struct type"])
def test_wrong_types_change_nothing(name: str, t: object) -> None:
    text = PROGRAMS[name]
    assert _run(text, Lying(t)) == _run(text)


def test_a_field_whose_name_is_not_a_python_name() -> None:
    text = ("struct P:\n    x\u00b2: float\n"
            "def f(p: P) -> float:\n    return p.x\u00b2 * 2.0 + 1.0\nprint(f(P(1.5)))\n")
    prepared = pipeline.prepare(SourceFile("t.dana", text))
    out = io.StringIO()
    run_module(Runtime(stdout=out), prepared.module, checked=prepared.result)
    assert out.getvalue() == "4.0\n"
