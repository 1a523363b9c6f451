"""Generic traversal helpers over the AST (no typing): children, assigned names, and
whether a block can finish without returning.

Consumes: `dana.syntax.ast` nodes. Produces: `children(node)`, `walk(node)` (pre-order,
not entering nested functions or lambdas), `assigned_names(stmts)` and
`nonlocal_names(stmts)`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Iterator

from dana.syntax import ast as A

SCOPE_NODES = (A.FuncDecl, A.LambdaExpr, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl,
               A.WorkflowComposeDecl)


def _is_node(value: Any) -> bool:
    return hasattr(value, "__dataclass_fields__") and hasattr(value, "span")


def children(node: Any) -> Iterator[Any]:
    """Direct child nodes of `node`, in field order (tuples, nested tuples included)."""
    for f in fields(node):
        if f.name == "span":
            continue
        yield from _nodes_in(getattr(node, f.name))


def _nodes_in(value: Any) -> Iterator[Any]:
    if isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)
    elif _is_node(value):
        yield value


def walk(node: Any) -> Iterator[Any]:
    """`node` and its descendants, not entering nested function/struct/workflow bodies."""
    yield node
    for child in children(node):
        if isinstance(child, SCOPE_NODES):
            yield child
            continue
        yield from walk(child)


def assigned_names(stmts: tuple) -> set[str]:
    """Plain names bound anywhere in `stmts` (assignments, loop targets, handlers,
    imports, nested defs, `f as name` stages), not looking into nested functions."""
    out: set[str] = set()
    for stmt in stmts:
        for node in ((stmt,) if isinstance(stmt, SCOPE_NODES) else walk(stmt)):
            out.update(_bound_by(node))
    return out


def nonlocal_names(stmts: tuple) -> set[str]:
    """Names declared `nonlocal` in `stmts`, not looking into nested functions."""
    return {name for stmt in stmts if not isinstance(stmt, SCOPE_NODES)
            for node in walk(stmt) if isinstance(node, A.NonlocalStmt) for name in node.names}


def _bound_by(node: Any) -> list[str]:
    if isinstance(node, A.AssignStmt):
        return [n for t in node.targets for n in target_names(t)]
    if isinstance(node, (A.AnnAssignStmt, A.ForStmt)):
        return target_names(node.target)
    if isinstance(node, A.Handler):
        return [node.name] if node.name else []
    if isinstance(node, (A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl,
                         A.WorkflowComposeDecl)):
        return [node.name] if not getattr(node, "receiver", None) else []
    if isinstance(node, A.ImportStmt):
        return [node.alias or node.module.split(".")[-1]]
    if isinstance(node, A.FromImportStmt):
        return [alias or name for name, alias in node.names]
    if isinstance(node, A.PipeStage) and node.name:
        return [node.name]
    return []


def target_names(target: Any) -> list[str]:
    """Plain (unscoped) names an assignment target binds."""
    if isinstance(target, A.NameExpr):
        return [target.name] if target.scope in (None, "local") else []
    if isinstance(target, (A.TupleExpr, A.ListExpr)):
        return [n for item in target.items for n in target_names(item)]
    return []


def placeholders(expr: Any) -> list[A.PlaceholderExpr]:
    """`$$` nodes in `expr`, not looking into nested pipelines or lambdas."""
    out = []
    for node in walk(expr):
        if isinstance(node, A.PlaceholderExpr):
            out.append(node)
    return out
