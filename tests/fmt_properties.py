"""What `dana fmt` promises about its output, as functions the tests apply to many programs
(docs/tools.md): the output parses to the same AST (positions aside), formatting it again
changes nothing, and each comment stays with the statement it was written beside."""

from __future__ import annotations

import dataclasses
from typing import Any

from dana.format import format_module
from dana.source import SourceFile, Span
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.syntax.lexemes import lexemes

POSITIONS = ("span", "name_span")


def shape(node: Any) -> Any:
    """A node as nested tuples of its fields, positions left out."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = tuple((f.name, shape(getattr(node, f.name)))
                       for f in dataclasses.fields(node) if f.name not in POSITIONS)
        return (type(node).__name__, fields)
    if isinstance(node, (tuple, list)):
        return tuple(shape(n) for n in node)
    if isinstance(node, Span):
        return "span"
    return node


def comment_owners(source: SourceFile, module: A.Module) -> list[tuple[str, tuple]]:
    """Each comment's text with where it sits: the path of the innermost statement whose
    span holds it, and how many of that statement's own statements come before it."""
    out = []
    for c in lexemes(source):
        if c.kind == "comment":
            out.append((c.text, _owner(module.body, c.start, ())))
    return out


def _owner(body: tuple, at: int, path: tuple) -> tuple:
    before = 0
    for i, stmt in enumerate(body):
        if stmt.span.start <= at < stmt.span.end:
            inner = _children(stmt)
            return _owner(inner, at, path + (i,)) if inner else path + (i, "in")
        if stmt.span.start <= at:
            before = i + 1
    return path + (before,)


def _children(stmt: Any) -> tuple:
    """Statements nested in `stmt`, in source order (branches concatenated)."""
    if isinstance(stmt, A.IfStmt):
        return stmt.body + stmt.orelse
    if isinstance(stmt, (A.WhileStmt, A.ForStmt, A.ParallelStmt, A.ParallelForStmt,
                         A.FuncDecl)):
        return stmt.body
    if isinstance(stmt, A.TryStmt):
        handlers = tuple(s for h in stmt.handlers for s in h.body)
        return stmt.body + handlers + stmt.orelse + stmt.finalbody
    if isinstance(stmt, A.WorkflowDecl):
        return stmt.steps
    return ()


def check_properties(name: str, text: str) -> str:
    """Format `text` and assert the three properties; returns the formatted text."""
    source = SourceFile(name, text)
    module = parse(source)
    once = format_module(source, module)
    formatted = SourceFile(name, once)
    again = parse(formatted)
    assert shape(again) == shape(module), f"{name}: the AST changed"
    assert format_module(formatted, again) == once, f"{name}: formatting twice differs"
    before, after = comment_owners(source, module), comment_owners(formatted, again)
    assert [c for c, _ in after] == [c for c, _ in before], \
        f"{name}: comments lost or reordered"
    assert after == before, f"{name}: a comment moved to another statement"
    return once
