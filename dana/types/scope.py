"""Lexical scopes of the checker: names -> symbols (types and what they are).

Consumes: types from `dana.types.types`.
Produces: `Symbol`, `SymbolTable` (a chain of dicts with a kind: builtins, module, function,
block-less comprehension), and `builtin_scope()`. A module's final `SymbolTable` is what
`CheckResult.scope` returns; the REPL passes it back for the next chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from dana.source import Span
from dana.types.signatures import BUILTINS
from dana.types.types import ANY, Type

VAR, FUNC, STRUCT, INTERFACE, WORKFLOW, MODULE, BUILTIN, PARAM = (
    "var", "function", "struct", "interface", "workflow", "module", "builtin", "param")
"""The kinds of `Symbol`s (and of name resolution's `Binding`s)."""
IMPORTED, FIELD, METHOD, STATE_KEY = "import", "field", "method", "state key"
"""The kinds only a `dana.types.resolve.Binding` has: a name `from m import n` binds (its
kind is the other module's), a struct's field, a receiver or interface method, a
workflow's required state key."""


@dataclass
class Symbol:
    """A bound name. `declared` is its annotation (assignments must hold it); `info` is
    checker bookkeeping for functions and workflows (their definition and analyses)."""

    name: str
    type: Type
    kind: str = VAR
    span: Span | None = None
    declared: Type | None = None
    info: Any = field(default=None, repr=False)


class SymbolTable:
    """One level of names. `kind` is "builtins", "module", "function", "lambda" or
    "comprehension"; `assigned` holds names assigned anywhere in the function or module
    body (a nested function may read them before the walk reaches the assignment)."""

    def __init__(self, parent: SymbolTable | None = None, kind: str = "module",
                 symbols: dict[str, Symbol] | None = None) -> None:
        self.parent = parent
        self.kind = kind
        self.symbols: dict[str, Symbol] = dict(symbols or {})
        self.assigned: set[str] = set()
        self.pending: list[set[str]] = []
        self.func: Any = None

    def lookup(self, name: str) -> Symbol | None:
        """The nearest symbol named `name`, or None."""
        scope: SymbolTable | None = self
        while scope is not None:
            sym = scope.symbols.get(name)
            if sym is not None:
                return sym
            scope = scope.parent
        return None

    def lookup_local(self, name: str) -> Symbol | None:
        """A symbol bound in this function's own scope (comprehensions included)."""
        for scope in self.chain():
            if name in scope.symbols:
                return scope.symbols[name]
            if scope.kind not in ("comprehension",):
                return None
        return None

    def assigned_later(self, name: str) -> bool:
        """True when `name` is not bound yet but will be: assigned later in an enclosing
        loop body of this function, or anywhere in an enclosing function/module body
        seen from inside a nested function."""
        crossed = False
        for scope in self.chain():
            if any(name in p for p in scope.pending):
                return True
            if crossed and name in scope.assigned:
                return True
            if scope.kind in ("function", "lambda"):
                crossed = True
        return False

    def function(self) -> SymbolTable | None:
        """The innermost enclosing function (or lambda) scope, if any."""
        return next((s for s in self.chain() if s.kind in ("function", "lambda")), None)

    def enclosing_binding(self, name: str) -> Symbol | None:
        """The variable `nonlocal name` refers to from this function: bound (or assigned
        somewhere) in an enclosing function, not the module. None when there is none."""
        func = self.function()
        scope = func.parent if func is not None else None
        while scope is not None and scope.kind not in ("module", "builtins"):
            if name in scope.symbols or name in scope.assigned:
                return scope.symbols.get(name) or Symbol(name, ANY, "var")
            scope = scope.parent
        return None

    def define(self, sym: Symbol) -> Symbol:
        self.symbols[sym.name] = sym
        return sym

    def chain(self) -> Iterator[SymbolTable]:
        scope: SymbolTable | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def visible_names(self) -> list[str]:
        """Every name visible from here (for "did you mean" and REPL completion)."""
        seen: dict[str, None] = {}
        for scope in self.chain():
            for name in scope.symbols:
                seen.setdefault(name, None)
        return list(seen)

    def module(self) -> SymbolTable:
        """The enclosing module scope (the outermost below builtins)."""
        for scope in self.chain():
            if scope.kind == "module":
                return scope
        return self

    def copy(self) -> SymbolTable:
        """A module scope holding the same symbols (for the next REPL chunk)."""
        out = SymbolTable(self.parent, self.kind, self.symbols)
        out.assigned = set(self.assigned)
        return out


def builtin_scope() -> SymbolTable:
    """The outermost scope: Dana's builtin functions and error types."""
    scope = SymbolTable(None, "builtins")
    for name, t in BUILTINS.items():
        scope.define(Symbol(name, t, "builtin"))
    return scope


def new_module_scope(previous: SymbolTable | None = None) -> SymbolTable:
    """A fresh module scope over the builtins, or a copy of a REPL's previous scope."""
    if previous is not None:
        return previous.copy()
    return SymbolTable(builtin_scope(), "module")

