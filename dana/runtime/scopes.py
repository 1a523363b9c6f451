"""Compile-time scopes: which names are locals of which function, and their frame slots.

Consumes: AST bodies (function, lambda, comprehension, module).
Produces: `FrameLayout` objects and `resolve(scope, name)`, used by the compiler so that every
name is resolved to a frame slot (or the module's globals) once, before evaluation
(docs/architecture.md "Runtime"). Rules follow Python's: a name assigned anywhere in a function body is
local to it; comprehension targets are local to the comprehension; module-level names
live in the module's globals dict; a name declared `nonlocal` in a function is the
enclosing function's (Dana has no `global`: shared module state uses the
`private:`/`public:`/`system:` scopes).

Frame layout (a Python list): [0] the frame of the lexically enclosing scope,
[1] the return value, [2..] locals and compiler temporaries.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Iterator

from dana.syntax import ast as A

FIRST_SLOT = 2


class FrameLayout:
    """One lexical scope. `kind` is "module", "function" or "comp". The slots of `names`
    (a function's parameters) are below `bound`: they always hold a value. While a body
    is compiled, `assigned` holds the slots every path to the statement being compiled
    has assigned (a slot, once assigned, is never unassigned): reads of those need no
    unassigned test (the compiler keeps it, `StatementCompiler.statements`)."""

    def __init__(self, kind: str, parent: "FrameLayout | None", names: list[str] = ()) -> None:
        self.kind = kind
        self.parent = parent
        self.slots: dict[str, int] = {}
        self.size = FIRST_SLOT
        self.nonlocals: frozenset[str] = frozenset()
        self.returns: tuple[str, Any] | None = None  # a function's name and return type
        for name in names:
            self.add(name)
        self.bound = self.size  # slots below: set when the frame is made (parameters)
        self.assigned: frozenset[int] = frozenset()

    def add(self, name: str) -> int:
        """The slot of `name`, allocating one on first use."""
        if name not in self.slots:
            self.slots[name] = self.size
            self.size += 1
        return self.slots[name]

    def temp(self) -> int:
        """A fresh anonymous slot (for `$$` values and other compiler temporaries)."""
        self.size += 1
        return self.size - 1


def resolve(scope: FrameLayout, name: str) -> tuple[int, int] | None:
    """(depth, slot) of a local/enclosing name, or None when it is a module global."""
    depth = 0
    current: FrameLayout | None = scope
    while current is not None and current.kind != "module":
        if name in current.slots:
            return depth, current.slots[name]
        current = current.parent
        depth += 1
    return None


def children(node: Any) -> Iterator[Any]:
    """Direct child nodes of an AST node (in field order), flattening tuples."""
    for f in dataclasses.fields(node):
        if f.name == "span":
            continue
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, tuple):
                    yield from (x for x in item if hasattr(x, "span"))
                elif hasattr(item, "span"):
                    yield item
        elif hasattr(value, "span"):
            yield value


_NEW_SCOPES = (A.FuncDecl, A.LambdaExpr, A.ComprehensionExpr, A.StructDecl, A.InterfaceDecl,
               A.WorkflowDecl, A.WorkflowComposeDecl)


# The AST is immutable (its nodes compare by identity), so what a body binds is worked
# out once: each run of a module compiles its bodies again. Bounded, as a long-lived host
# may compile many programs.
@functools.lru_cache(maxsize=1024)
def assigned_names(body: tuple) -> tuple[str, ...]:
    """Names bound anywhere in `body` without entering nested scopes, in order (those
    declared `nonlocal` there included)."""
    found: dict[str, None] = {}
    for stmt in body:
        _collect(stmt, found)
    return tuple(found)


@functools.lru_cache(maxsize=1024)
def nonlocal_names(body: tuple) -> frozenset[str]:
    """Names declared `nonlocal` in `body`, not looking into nested scopes."""
    found: dict[str, None] = {}
    for stmt in body:
        _collect(stmt, found, A.NonlocalStmt)
    return frozenset(found)


def _collect(node: Any, found: dict[str, None], only: type | None = None) -> None:
    """Add the names `node` binds to `found` (with `only`, those of `only` nodes)."""
    if isinstance(node, (A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl,
                         A.WorkflowComposeDecl)):
        if only is None and not (isinstance(node, A.FuncDecl) and node.receiver is not None):
            found.setdefault(node.name, None)
        return
    if isinstance(node, (A.LambdaExpr, A.ComprehensionExpr)):
        return
    if only is not None:
        if isinstance(node, only):
            found.update(dict.fromkeys(node.names))
    elif isinstance(node, (A.AssignStmt,)):
        for t in node.targets:
            _targets(t, found)
    elif isinstance(node, (A.AnnAssignStmt, A.AugAssignStmt, A.ForStmt)):
        _targets(node.target, found)
    elif isinstance(node, A.Handler) and node.name:
        found.setdefault(node.name, None)
    elif isinstance(node, A.ImportStmt):
        found.setdefault(node.alias or node.module.split(".")[-1], None)
    elif isinstance(node, A.FromImportStmt):
        for name, alias in node.names:
            found.setdefault(alias or name, None)
    elif isinstance(node, A.PipeStage) and node.name:
        found.setdefault(node.name, None)
    for child in children(node):
        _collect(child, found, only)


def _targets(target: Any, found: dict[str, None]) -> None:
    if isinstance(target, A.NameExpr) and target.scope in (None, "local"):
        found.setdefault(target.name, None)
    elif isinstance(target, (A.TupleExpr, A.ListExpr)):
        for item in target.items:
            _targets(item, found)
