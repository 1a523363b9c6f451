"""Name resolution (dana/types/resolve.py, docs/architecture.md "What checking produces"):
which definition each name refers to, by Python's lexical rules, with the span of every
occurrence — what the language server reads for definitions, references and rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.types.checker import check_module
from dana.types.walk import children

PROGRAM = '''\
limit = 10

struct Box:
    size: int

def (b: Box) grow(by: int) -> Box:
    return Box(size=b.size + by)

def outer(n: int) -> int:
    total = 0
    def add(k: int) -> int:
        nonlocal total
        total = total + k + limit
        return total
    for i in range(n):
        add(i)
    return total

boxes = [Box(size=s) for s in range(3)]
print(boxes[0].grow(1).size, len(boxes))
'''


def _nodes(node: object) -> list:
    out = [node]
    for child in children(node):
        out.extend(_nodes(child))
    return out


def _resolved():
    module = parse(SourceFile("r.dana", PROGRAM))
    result = check_module(module)
    assert result.diagnostics == []
    return module, result


def _names(module: A.Module, name: str) -> list[A.NameExpr]:
    return [n for n in _nodes(module) if isinstance(n, A.NameExpr) and n.name == name]


def _places(result, binding) -> list[tuple[int, int]]:
    return [(r.span.line, r.span.col) for r in result.names.references(binding)]


def test_each_name_refers_to_its_scopes_binding() -> None:
    module, result = _resolved()
    limit = result.binding_of(_names(module, "limit")[-1])
    assert (limit.kind, limit.owner) == ("var", module)
    outer = next(s for s in module.body if isinstance(s, A.FuncDecl) and s.name == "outer")
    total = {id(result.binding_of(n)) for n in _names(module, "total")}
    assert len(total) == 1 and result.binding_of(_names(module, "total")[0]).owner is outer
    assert result.binding_of(_names(module, "len")[0]).kind == "builtin"
    assert result.binding_of(_names(module, "s")[0]).kind == "var"


def test_every_occurrence_has_the_span_of_its_name() -> None:
    module, result = _resolved()
    total = result.binding_of(_names(module, "total")[0])
    assert _places(result, total) == [(10, 5), (12, 18), (13, 9), (13, 17), (14, 16), (17, 12)]
    by = result.binding_of(next(n for n in _nodes(module) if isinstance(n, A.Param)
                                and n.name == "by"))
    assert (by.kind, _places(result, by)) == ("param", [(6, 19), (7, 30)])


def test_members_are_resolved_from_the_checkers_types() -> None:
    module, result = _resolved()
    box = result.names.top["Box"]
    assert set(box.members) == {"size", "grow"}
    assert _places(result, box.members["size"]) == [(4, 5), (7, 16), (7, 23), (19, 14),
                                                    (20, 24)]
    assert _places(result, box.members["grow"]) == [(6, 14), (20, 16)]


def test_names_visible_at_a_point_include_the_enclosing_functions() -> None:
    module, result = _resolved()
    inside_add = PROGRAM.index("return total")
    assert {"k", "total", "n", "add", "limit", "Box"} <= set(result.names.visible_at(inside_add))
    assert "k" not in result.names.visible_at(PROGRAM.index("boxes ="))


def test_parameters_have_the_checkers_symbols_too() -> None:
    module, result = _resolved()
    param = next(n for n in _nodes(module) if isinstance(n, A.Param) and n.name == "k")
    assert str(result.symbol_of(param).type) == "int"


EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.dana"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_resolution_and_typing_agree_on_every_name(path: Path) -> None:
    """Each name the checker typed has a binding of the same kind (a name from `from m
    import n` has the kind `import`)."""
    module = parse(SourceFile(str(path), path.read_text(encoding="utf-8")))
    result = check_module(module)
    disagree = []
    for n in _nodes(module):
        if isinstance(n, A.NameExpr) and n.scope is None:
            symbol, binding = result.symbol_of(n), result.binding_of(n)
            if (symbol is None) != (binding is None) or symbol is not None \
                    and binding.kind not in (symbol.kind, "import"):
                disagree.append((n.span.line, n.name))
    assert disagree == []
