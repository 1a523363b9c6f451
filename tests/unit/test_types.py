"""Unit tests of dana.types: compatibility, unions, widening, spelling, and the public API
of the checker (scope persistence for the REPL, `type_of_expression`, side tables)."""

from __future__ import annotations

import pytest

from dana.source import SourceFile
from dana.syntax.builder import parse, parse_expr
from dana.types.checker import check_module, type_of_expression
from dana.types.narrowing import instance_of, not_instance_of, not_none
from dana.types.signatures import methods_of
from dana.types.types import (ANY, BOOL, FLOAT, INT, NEVER, NONE, STR, DictT, ErrorT,
                              FunctionT, InterfaceT, ListT, ParamT, SetT, StructT, TupleT,
                              assignable, join, overlaps, union)


def check(text: str, **kw):
    return check_module(parse(SourceFile("t.dana", text)), **kw)


@pytest.mark.parametrize("src, dst, ok", [
    (INT, FLOAT, True), (FLOAT, INT, False), (BOOL, INT, False), (INT, STR, False),
    (ANY, INT, True), (INT, ANY, True), (NONE, union(INT, NONE), True),
    (union(INT, NONE), INT, False), (ListT(INT), ListT(FLOAT), True),
    (ListT(STR), ListT(INT), False), (ListT(ANY), ListT(INT), True),
    (DictT(STR, INT), DictT(STR, FLOAT), True), (DictT(INT, INT), DictT(STR, INT), False),
    (TupleT((INT, STR)), TupleT((INT, STR)), True), (TupleT((INT,)), TupleT((INT, STR)), False),
    (TupleT((INT, INT)), TupleT((INT,), True), True), (SetT(INT), ListT(INT), False),
    (ErrorT("ValueError"), ErrorT("Error"), True), (ErrorT("Error"), ErrorT("ValueError"), False),
])
def test_assignable(src, dst, ok) -> None:
    assert assignable(src, dst) is ok


def test_overlaps_is_permissive_for_unions_but_strict_about_none() -> None:
    assert overlaps(union(INT, STR), INT)
    assert not overlaps(union(INT, NONE), INT)
    assert overlaps(union(INT, NONE), union(INT, NONE))
    assert not overlaps(union(STR, NONE), INT)
    assert not overlaps(ListT(union(INT, STR)), ListT(INT))


def test_never_disappears_in_joins_and_unions() -> None:
    assert join(NEVER, INT) == INT
    assert join(STR, NEVER) == STR
    assert union(NEVER, INT, NONE) == union(INT, NONE)
    assert assignable(NEVER, INT)


def test_narrowing_helpers() -> None:
    assert not_none(union(INT, NONE)) == INT
    assert not_none(NONE) == NEVER
    assert instance_of(union(INT, STR, NONE), STR) == STR
    assert not_instance_of(union(INT, STR), STR) == INT
    assert instance_of(ANY, ListT(ANY)) == ListT(ANY)
    assert str(union(NONE, INT)) == "int | None"


def test_union_flattens_dedupes_and_widens() -> None:
    assert union(INT, INT) == INT
    assert union(INT, FLOAT) == FLOAT
    assert union(INT, union(STR, NONE)) == union(INT, STR, NONE)
    assert union(INT, ANY) == ANY
    assert str(union(INT, NONE)) == "int | None"


def test_join() -> None:
    assert join(INT, FLOAT) == FLOAT
    assert join(ListT(ANY), ListT(INT)) == ListT(INT)
    assert join(INT, STR) == union(INT, STR)


def test_spelling() -> None:
    assert str(ListT(INT)) == "list[int]"
    assert str(DictT(STR, ListT(FLOAT))) == "dict[str, list[float]]"
    assert str(TupleT((INT,), True)) == "tuple[int, ...]"
    assert str(FunctionT((ParamT("a", INT), ParamT("b", STR)), BOOL)) == "(int, str) -> bool"
    assert str(StructT("Point")) == "Point"


def test_interface_satisfied_structurally() -> None:
    shape = InterfaceT("Shape")
    shape.methods["area"] = FunctionT((), FLOAT)
    sq = StructT("Square")
    assert not assignable(sq, shape)
    sq.methods["area"] = FunctionT((ParamT("s", sq),), FLOAT)
    assert assignable(sq, shape)


def test_scope_persists_between_chunks() -> None:
    first = check("struct P:\n    x: int\n\ndef f(n: int) -> int:\n    return n\n\nv = 3\n")
    assert first.ok
    second = check("p = P(x=f(v))\nprint(p.x)\n", scope=first.scope)
    assert second.ok, second.diagnostics
    third = check("p = P(x='s')\n", scope=second.scope)
    assert [d.code for d in third.diagnostics] == ["E0302"]


def test_type_of_expression_and_side_table() -> None:
    result = check("xs = [1, 2]\ndef f(s: str) -> bool:\n    return True\n")
    source = SourceFile("<repl>", "xs | len")
    assert str(type_of_expression(parse_expr(source), result.scope)) == "int"
    assert str(type_of_expression(parse_expr(SourceFile("<repl>", "f")), result.scope)) == \
        "(str) -> bool"
    module = parse(SourceFile("t.dana", "y = {'a': 1.5}\n"))
    res = check_module(module)
    value = module.body[0].value
    assert str(res.type_of(value)) == "dict[str, float]"


def test_inferred_return_types() -> None:
    result = check("def f(n: int):\n    if n > 0:\n        return n\n    return 0.5\n")
    assert str(result.scope.lookup("f").type) == "(int) -> float"
    result = check("def g():\n    print(1)\n")
    assert str(result.scope.lookup("g").type) == "() -> None"


def test_host_functions_are_typed() -> None:
    host = {"fetch": FunctionT((ParamT("url", STR),), STR, name="fetch")}
    result = check("x: str = fetch('u')\nfetch(3)\n", host_functions=host)
    assert [d.code for d in result.diagnostics] == ["E0302"]


def test_diagnostics_sorted_and_ok_flag() -> None:
    result = check("b = undefined_b\na: int = 'x'\n")
    assert not result.ok
    lines = [d.span.line for d in result.diagnostics]
    assert lines == sorted(lines)


def test_a_function_that_never_returns_has_type_never() -> None:
    result = check("def fail(msg: str):\n    raise ValueError(msg)\n")
    assert str(result.scope.lookup("fail").type) == "(str) -> never"


@pytest.mark.parametrize("py, t", [(str, STR), (list, ListT(ANY)), (dict, DictT(ANY, ANY)),
                                   (set, SetT(ANY)), (tuple, TupleT((ANY,), True))])
def test_builtin_methods_match_the_runtime(py, t) -> None:
    """The checker accepts exactly the methods the interpreter implements: a method the
    checker allows but the runtime lacks would be a run-time AttributeError."""
    from dana.runtime.protocol import METHODS
    assert set(methods_of(t)) == set(METHODS[py])


def codes(result) -> list[tuple[str, str, int]]:
    return [(d.code, d.severity, d.span.line) for d in result.diagnostics]


def test_a_possibly_unbound_read_is_a_warning_not_an_error() -> None:
    result = check("def f(flag: bool) -> int:\n    if flag:\n        n = 1\n    return n\n")
    assert codes(result) == [("E0208", "warning", 4)]
    assert result.ok
    assert result.diagnostics[0].notes == ("`n` is assigned at line 3",)


def test_repl_chunks_see_earlier_bindings_as_bound() -> None:
    first = check("x = 1\ndef f(n: int) -> int:\n    return n\n")
    second = check("if x > 0:\n    x = 2\nprint(f(x))\ndef f(n: int) -> int:\n    return n\n",
                   scope=first.scope)
    assert second.diagnostics == []
    fresh = check("if x > 0:\n    x = 2\nprint(f(x))\ndef f(n: int) -> int:\n    return n\n")
    assert codes(fresh) == [("E0201", "error", 1), ("E0201", "error", 3)]


def test_builtins_and_host_functions_are_bound_at_the_top_level() -> None:
    host = {"fetch": FunctionT((ParamT("url", STR),), STR, name="fetch")}
    result = check("print(fetch('u'), len('ab'))\nfetch = 1\nlen = 2\n", host_functions=host)
    assert result.diagnostics == []
    local = check("def f() -> int:\n    n = len('ab')\n    len = 2\n    return n\n")
    assert codes(local) == [("E0201", "error", 2)]


def test_imports_bind_where_they_run() -> None:
    result = check("def f(flag: bool) -> float:\n    if flag:\n        import math\n"
                   "    return math.sqrt(4.0)\n")
    assert codes(result) == [("E0208", "warning", 4)]


def test_stages_of_a_composed_pipeline_are_not_checked_where_it_is_built() -> None:
    """`inc | step` builds a function whose stages are looked up when it is called."""
    text = ("def inc(n: int) -> int:\n    return n + 1\n\n"
            "def build(flag: bool):\n    if flag:\n        step = inc\n"
            "    applied = 1 | step\n    composed = inc | step\n    step = inc\n"
            "    return composed\n")
    assert codes(check(text)) == [("E0208", "warning", 7)]


def test_builtins_options_and_settings_match_the_runtime() -> None:
    """The checker knows exactly the builtins, `@step` options and workflow settings the
    interpreter has, so a program it accepts never meets an unknown one at run time."""
    from dana.runtime.interpreter import Runtime
    from dana.runtime.step_options import OPTION_NAMES
    from dana.runtime.workflows import _SETTINGS
    from dana.types.signatures import BUILTINS, SETTINGS, STEP_OPTIONS
    from dana.workflow.template import StepPolicy
    assert set(BUILTINS) == set(Runtime().builtins)
    assert set(STEP_OPTIONS) == set(OPTION_NAMES) == set(StepPolicy.__dataclass_fields__)
    assert set(SETTINGS) == set(_SETTINGS)
