"""Functions defined again with another signature while a function body calls them
(docs/errors.md, E0322).

A call at the top level is typed by the definition in effect where it is written; a call
inside a function body runs whenever that function is called, before or after the
redefinition, so no one signature types it. Like mypy, which refuses conditional
variants with different signatures, the checker refuses this case; a redefinition with
the same signature, or one that no body calls, is fine.

Consumes: a `Module`. Produces: E0322 diagnostics (a pass on its own: it reads the AST
only, and its result is added to the checker's).
"""

from __future__ import annotations

from typing import Iterator

from dana.errors import Diagnostic
from dana.messages import checks as M
from dana.syntax import ast as A
from dana.types.declarations import block_defs
from dana.types.walk import assigned_names, children, walk


def redefinitions(module: A.Module) -> list[Diagnostic]:
    """E0322 for each later `def` of a name whose signature differs from the first one's,
    when a function body in the same block (or below it) reads that name."""
    found = []
    for block in _blocks(module.body):
        for name, defs in _defs_by_name(block).items():
            first = defs[0]
            for later in defs[1:]:
                if _signature(later) == _signature(first):
                    continue
                user = next(_callers(block, name), None)
                if user is not None:
                    found.append(Diagnostic.of(
                        M.REDEFINED_SIGNATURE, later.name_span or later.span,
                        (M.NOTE_FIRST_DEFINED.format(name=name, line=first.span.line,
                                                     old=_signature(first),
                                                     new=_signature(later)),
                         M.NOTE_ONE_SIGNATURE), name=name, user=user.name))
    return found


def _blocks(body: tuple) -> Iterator[tuple]:
    """`body` and the body of every function inside it."""
    yield body
    for node in _all_nodes(body):
        if isinstance(node, A.FuncDecl):
            yield node.body


def _all_nodes(body: tuple) -> Iterator[object]:
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(children(node))))


def _defs_by_name(block: tuple) -> dict[str, list[A.FuncDecl]]:
    """The plain `def`s of a block (with those inside its if/for/while/try), by name."""
    by_name: dict[str, list[A.FuncDecl]] = {}
    for d in block_defs(block):
        if d.receiver is None:
            by_name.setdefault(d.name, []).append(d)
    return {n: ds for n, ds in by_name.items() if len(ds) > 1}


def _callers(block: tuple, name: str) -> Iterator[A.FuncDecl]:
    """Functions in `block` whose own body reads `name` from an enclosing scope."""
    for node in _all_nodes(block):
        if not isinstance(node, A.FuncDecl):
            continue
        own = {p.name for p in node.params} | assigned_names(node.body)
        if name in own:
            continue
        if any(isinstance(n, A.NameExpr) and n.name == name and n.scope is None
               for stmt in node.body for n in walk(stmt)):
            yield node


def _signature(node: A.FuncDecl) -> str:
    """The signature as written: `(x: int, y: str = ...) -> str`."""
    params = []
    for p in node.params:
        text = "*" * p.star + p.name
        if p.annotation is not None:
            text += f": {p.annotation.span.text}"
        if p.default is not None:
            text += " = ..."
        params.append(text)
    returns = f" -> {node.returns.span.text}" if node.returns is not None else ""
    return f"({', '.join(params)}){returns}"
