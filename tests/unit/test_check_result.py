"""The checker's output contract (docs/architecture.md "What checking produces"): every
expression it checks has a type in `CheckResult.types`, every name resolves to a symbol in
`CheckResult.symbols`, and its dispatch covers every node class of the AST."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.types import definite, statements
from dana.types.checker import EXPRESSIONS, check_module
from dana.types.types import FunctionT, StructT
from dana.types.walk import children

PROGRAM = '''\
struct Point:
    x: int
    y: int = 0

def norm(p: Point, scale: float = 1.0) -> float:
    total = p.x * p.x + p.y * p.y
    return total * scale

def first(xs: list[int]) -> int | None:
    for x in xs:
        if x > 0 and not x == 3:
            return x
    return None

points = [Point(x=i, y=-i) for i in range(3) if i != 1]
lengths = {str(i): norm(p) for i, p in enumerate(points)}
best = first([p.x for p in points])
shown = f"{best!r:>4} {lengths['0']}"
square = lambda n: int :: n * n
piped = 3 | square
chosen = points[0].x if best is not None else -1
items = (1, "a", [1.5])[1:]
try:
    assert chosen >= 0, "negative"
except ValueError as err:
    print(err)
'''


def _nodes(node: object) -> list:
    out = [node]
    for child in children(node):
        out.extend(_nodes(child))
    return out


def _checked():
    module = parse(SourceFile("contract.dana", PROGRAM))
    result = check_module(module)
    assert result.diagnostics == []
    return module, result


def test_every_expression_has_a_type() -> None:
    module, result = _checked()
    exprs = [n for n in _nodes(module) if isinstance(n, get_args(A.Expr))]
    assert len(exprs) > 100
    assert [n.span.text for n in exprs if result.type_of(n) is None] == []


def test_types_are_the_narrowed_ones_at_each_read() -> None:
    module = parse(SourceFile("narrow.dana", "def f(x: int | None) -> int:\n"
                              "    if x is None:\n        return 0\n    return x + 1\n"))
    result = check_module(module)
    reads = [n for n in _nodes(module) if isinstance(n, A.NameExpr) and n.name == "x"]
    assert [str(result.type_of(n)) for n in reads] == ["int | None", "int"]
    assert result.symbol_of(reads[0]) is result.symbol_of(reads[1])
    assert result.symbol_of(reads[0]).kind == "param"


def test_every_name_resolves_to_its_symbol() -> None:
    module, result = _checked()
    names = [n for n in _nodes(module) if isinstance(n, A.NameExpr)]
    unresolved = [n.span.text for n in names if result.symbol_of(n) is None]
    assert unresolved == []
    by_text = {}
    for n in names:
        by_text.setdefault(n.name, set()).add(id(result.symbol_of(n)))
    assert all(len(ids) == 1 for name, ids in by_text.items() if name not in ("i", "p", "x"))
    point = next(n for n in names if n.name == "Point")
    assert result.symbol_of(point).kind == "struct"
    norm = next(n for n in names if n.name == "norm")
    assert isinstance(result.symbol_of(norm).type, FunctionT)
    assert str(result.symbol_of(norm).type) == "(Point, float) -> float"


def test_a_name_bound_by_assignment_resolves_to_the_binding() -> None:
    module, result = _checked()
    target = module.body[3].targets[0]
    assert target.name == "points"
    assert result.symbol_of(target) is result.scope.lookup("points")
    assert isinstance(result.type_of(target).elem, StructT)


EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.dana"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_expression_and_name_of_the_examples_is_in_the_side_tables(path: Path) -> None:
    """Every name has its symbol and its binding (name resolution). Workflows included: a
    step's name, call or pipeline, a composition, the target of a state write."""
    module = parse(SourceFile(str(path), path.read_text(encoding="utf-8")))
    result = check_module(module)
    nodes = _nodes(module)
    untyped = [n.span.text for n in nodes if isinstance(n, get_args(A.Expr))
               and result.type_of(n) is None]
    unresolved = [n.name for n in nodes if isinstance(n, A.NameExpr) and n.scope is None
                  and result.symbol_of(n) is None]
    unbound = [n.name for n in nodes if isinstance(n, A.NameExpr) and n.scope is None
               and result.binding_of(n) is None]
    assert (untyped, unresolved, unbound) == ([], [], [])


def test_the_checker_dispatch_covers_every_node_class() -> None:
    assert set(get_args(A.Expr)) == set(EXPRESSIONS)
    stmts = set(get_args(A.Stmt)) - set(statements.STEPS_ONLY)
    assert stmts == set(statements.STATEMENTS)
    assert stmts == set(definite.STATEMENTS)


def test_the_pipeline_hands_the_check_result_to_the_run_phase() -> None:
    from dana import pipeline
    prepared = pipeline.prepare(SourceFile("p.dana", "x = 1 + 2\nprint(x)\n"))
    call = prepared.module.body[1].expr
    assert str(prepared.result.type_of(call.args[0].value)) == "int"
    assert prepared.result.symbol_of(call.args[0].value) is prepared.scope.lookup("x")
    assert pipeline.prepare(SourceFile("p.dana", "x = 1\n"), check=False).result is None
