"""State signatures of functions: which state keys a step reads and writes.

Consumes: a checked function (its AST and the checker's expression types), the names
its WorkflowState arrives under, and a way to find helper functions it calls.
Produces: `Effects` — external reads (keys read before this function wrote them, on the
path to the read), writes (with the value's type and whether every completing path
writes it), keys only read optionally (`state.get("k")`, `"k" in state`) and
`state.config.<name>` reads. Helpers that receive the state (`helper(state)`) are
followed, their effects inlined at the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from dana.source import Span
from dana.syntax import ast as A
from dana.types.signatures import STATE_MEMBERS
from dana.types.types import ANY, Type
from dana.types.walk import walk

NOT_KEYS = frozenset(STATE_MEMBERS) | {"config"}


@dataclass
class Read:
    """The first read of state key `key` (at `span`, maybe through helper `via`); `nodes`
    are all of the function's reads of it that see the state as the step received it."""

    key: str
    span: Span
    via: str | None = None
    nodes: list = field(default_factory=list)


@dataclass
class Write:
    key: str
    type: Type
    span: Span
    definite: bool = False


@dataclass
class Effects:
    """The state signature of one function."""

    reads: dict[str, Read] = field(default_factory=dict)
    writes: dict[str, Write] = field(default_factory=dict)
    optional: set[str] = field(default_factory=set)
    config: dict[str, Span] = field(default_factory=dict)


# (function node, index or name of the state parameter) -> Effects of that function.
HelperLookup = Callable[[A.CallExpr, int | str], "Effects | None"]


class _Collector:
    """Walks one function body in order, tracking keys written on the current path."""

    def __init__(self, state_names: set[str], types: dict[int, Type], helper: HelperLookup):
        self.names = state_names
        self.types = types
        self.helper = helper
        self.fx = Effects()
        self.exits: list[set[str]] = []

    def run(self, body: tuple) -> Effects:
        end = self.block(body, set())
        exits = self.exits + ([end] if end is not None else [])
        definite = set.intersection(*exits) if exits else set()
        for key, w in self.fx.writes.items():
            w.definite = key in definite
        for key in self.fx.optional:
            self.fx.reads.pop(key, None)
        return self.fx

    # ---------------------------------------------------------- statements
    def block(self, stmts: tuple, written: set[str] | None) -> set[str] | None:
        for stmt in stmts:
            if written is None:
                return None
            written = self.stmt(stmt, written)
        return written

    def stmt(self, s: Any, w: set[str]) -> set[str] | None:
        if isinstance(s, A.IfStmt):
            self.expr(s.cond, w)
            return _meet(self.block(s.body, set(w)), self.block(s.orelse, set(w)))
        if isinstance(s, (A.ForStmt, A.WhileStmt)):
            self.expr(s.iter if isinstance(s, A.ForStmt) else s.cond, w)
            after = self.block(s.body, set(w))
            return w | after if after is not None else w
        if isinstance(s, A.TryStmt):
            return self.try_stmt(s, w)
        if isinstance(s, A.ReturnStmt):
            if s.value is not None:
                self.expr(s.value, w)
            self.exits.append(set(w))
            return None
        if isinstance(s, A.RaiseStmt):
            for part in (s.exc, s.cause):
                if part is not None:
                    self.expr(part, w)
            return None
        if isinstance(s, (A.AssignStmt, A.AnnAssignStmt, A.AugAssignStmt)):
            return self.assign(s, w)
        if isinstance(s, (A.FuncDecl, A.StructDecl, A.InterfaceDecl)):
            return w
        for child in _exprs_of(s):
            self.expr(child, w)
        return w

    def try_stmt(self, s: A.TryStmt, w: set[str]) -> set[str] | None:
        body = self.block(s.body + s.orelse, set(w))
        outs = [body] + [self.block(h.body, set(w)) for h in s.handlers]
        merged: set[str] | None = None
        for out in outs:
            merged = _meet(merged, out) if merged is not None else out
        if s.finalbody:
            return self.block(s.finalbody, merged if merged is not None else set(w))
        return merged

    def assign(self, s: Any, w: set[str]) -> set[str]:
        value = s.value
        targets = s.targets if isinstance(s, A.AssignStmt) else (s.target,)
        if isinstance(s, A.AugAssignStmt):
            self.expr(s.target, w)
        if value is not None:
            self.expr(value, w)
        vtype = self.types.get(id(value), ANY) if not isinstance(s, A.AugAssignStmt) else ANY
        for target in targets:
            self.target(target, vtype, w)
        return w

    def target(self, t: Any, vtype: Type, w: set[str]) -> None:
        key = self.key_of(t)
        if key is not None:
            if key not in self.fx.writes:
                self.fx.writes[key] = Write(key, vtype, t.span)
            w.add(key)
            return
        if isinstance(t, (A.TupleExpr, A.ListExpr)):
            for item in t.items:
                self.target(item, ANY, w)
        elif isinstance(t, (A.AttributeExpr, A.IndexExpr)):
            self.expr(t.obj, w)
            if isinstance(t, A.IndexExpr):
                self.expr(t.index, w)

    # ---------------------------------------------------------- expressions
    def key_of(self, node: Any) -> str | None:
        """The state key `node` names (`state.k`, `state["k"]`), if it names one."""
        if isinstance(node, A.AttributeExpr) and self.is_state(node.obj) \
                and node.name not in NOT_KEYS:
            return node.name
        if isinstance(node, A.IndexExpr) and self.is_state(node.obj) \
                and isinstance(node.index, A.LiteralExpr) and isinstance(node.index.value, str):
            return node.index.value
        return None

    def is_state(self, node: Any) -> bool:
        return isinstance(node, A.NameExpr) and node.scope is None and node.name in self.names

    def expr(self, e: Any, w: set[str]) -> None:
        for node in walk(e):
            if isinstance(node, A.CallExpr):
                self.call(node, w)
            elif isinstance(node, A.CompareExpr):
                self.guard(node)
            elif isinstance(node, A.AttributeExpr) and isinstance(node.obj, A.AttributeExpr) \
                    and node.obj.name == "config" and self.is_state(node.obj.obj):
                self.fx.config.setdefault(node.name, node.span)
            key = self.key_of(node)
            if key is not None and key not in w:
                self.fx.reads.setdefault(key, Read(key, node.span)).nodes.append(node)

    def call(self, node: A.CallExpr, w: set[str]) -> None:
        f = node.func
        if isinstance(f, A.AttributeExpr) and f.name == "get" and self.is_state(f.obj):
            if node.args and isinstance(node.args[0].value, A.LiteralExpr):
                self.fx.optional.add(str(node.args[0].value.value))
            return
        for i, arg in enumerate(node.args):
            if self.is_state(arg.value):
                inner = self.helper(node, arg.name if arg.name else i)
                if inner is not None:
                    self.inline(inner, node, w)

    def guard(self, node: A.CompareExpr) -> None:
        for op, right in zip(node.ops, node.comparators):
            if op in ("in", "not in") and self.is_state(right) \
                    and isinstance(node.left, A.LiteralExpr):
                self.fx.optional.add(str(node.left.value))

    def inline(self, inner: Effects, node: A.CallExpr, w: set[str]) -> None:
        name = node.func.name if isinstance(node.func, A.NameExpr) else "helper"
        for key, read in inner.reads.items():
            if key not in w:
                mine = self.fx.reads.setdefault(key, Read(key, read.span, read.via or name))
                mine.nodes.extend(read.nodes)
        for key, write in inner.writes.items():
            self.fx.writes.setdefault(key, Write(key, write.type, write.span))
            if write.definite:
                w.add(key)
        self.fx.optional |= inner.optional
        for key, span in inner.config.items():
            self.fx.config.setdefault(key, span)


def _meet(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _exprs_of(stmt: Any) -> list[Any]:
    if isinstance(stmt, A.ExprStmt):
        return [stmt.expr]
    if isinstance(stmt, A.AssertStmt):
        return [e for e in (stmt.cond, stmt.message) if e is not None]
    return []


def collect_effects(body: tuple, state_names: set[str], types: dict[int, Type],
                    helper: HelperLookup) -> Effects:
    """The state signature of a function body whose state arrives as `state_names`."""
    return _Collector(state_names, types, helper).run(body)


def expression_effects(expr: Any, state_names: set[str], types: dict[int, Type],
                       helper: HelperLookup) -> Effects:
    """The state keys one expression reads (a workflow `if`/`while`/`for` header)."""
    collector = _Collector(state_names, types, helper)
    collector.expr(expr, set())
    return collector.fx
