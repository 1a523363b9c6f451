"""Definite assignment: which reads of a scope's own names may find them unbound (docs/workflows.md
"What the type checker proves": every name resolves).

Consumes: one scope's statements (a module body or a function body) and the names already
bound when it starts (parameters; builtins, host functions and earlier REPL chunks for a
module). Produces: `unbound_reads(body, bound)` -> a side table `id(Name node) -> Unbound`
for every read of a name of this scope that is not bound on every path reaching it, and
`unbound_in_module(module, bound)`, the same for a module and all its functions (the pass
the checker runs before typing).

The rules are Python's, which the interpreter follows (dana/runtime/scopes.py): a name
bound anywhere in a function body is local to it, and reading it before a binding runs
is a NameError; definitions (`def`, `struct`, `workflow`, `import`) bind when they run.
Branches that leave (`return`, `raise`, `break`, `continue`) do not reach the code after
them; loop bodies may run zero times; a `try` body may stop before any of its bindings,
so its handlers and `finally` see them as possible only. Reads inside nested functions,
lambdas, struct defaults and workflows happen later and belong to other analyses; names of
enclosing scopes and scoped names (`private:x`) are not this analysis' business. A read
that succeeds proves the name bound, so each mistake is reported once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from dana.syntax import ast as A
from dana.types.walk import children, nonlocal_names, target_names

Sites = dict  # name -> frozenset of the lines of the bindings that may reach here


@dataclass(frozen=True)
class Unbound:
    """A read of `name` that finds it unbound on every path (`definite`) or on some only.
    `lines` are the bindings that reach it (possible), or all its bindings (definite)."""

    name: str
    definite: bool
    lines: tuple[int, ...]
    how: str = "assigned"  # "defined" when only `def`, `struct`, `import`... bind it


@dataclass(frozen=True)
class Flow:
    """What holds at one point: the names bound on every path (`sure`) and, per name,
    the bindings that may have run (`sites`)."""

    sure: frozenset[str]
    sites: Sites = field(default_factory=dict)

    def bind(self, name: str, line: int) -> Flow:
        return Flow(self.sure | {name}, {**self.sites, name: frozenset((line,))})

    def widen(self, sites: Sites) -> Flow:
        """The same sure names, with `sites` possibly bound as well."""
        return Flow(self.sure, _union(self.sites, sites))


def join(*flows: Flow | None) -> Flow | None:
    """What holds where the paths ending in `flows` meet (None: a path that left)."""
    live = [f for f in flows if f is not None]
    if not live:
        return None
    sure = frozenset.intersection(*(f.sure for f in live))
    sites: Sites = {}
    for f in live:
        sites = _union(sites, f.sites)
    return Flow(sure, sites)


def _union(a: Sites, b: Sites) -> Sites:
    out = dict(a)
    for name, lines in b.items():
        out[name] = out.get(name, frozenset()) | lines
    return out


def unbound_reads(body: tuple, bound: set[str]) -> dict[int, Unbound]:
    """Reads in `body` of the names it binds that may be unbound, keyed by node identity.
    `bound` holds the names bound before `body` starts."""
    local, assigned = _scan(body)
    outer = nonlocal_names(body)  # the enclosing function's: bound when it calls this one
    local = {name: lines for name, lines in local.items() if name not in outer}
    analysis = _Analysis(local, assigned - outer)
    analysis.block(body, Flow(frozenset(n for n in local if n in bound)))
    return {k: v for k, v in analysis.reads.items() if v is not None}


def unbound_in_module(module: A.Module, bound: set[str]) -> dict[int, Unbound]:
    """The definite-assignment pass over a whole module: `unbound_reads` of its body
    (`bound`: the names bound before it runs) and of the body of every function it
    defines, at any depth (each with its parameters bound)."""
    out = unbound_reads(module.body, bound)
    for node in _every_node(module):
        if isinstance(node, A.FuncDecl):
            params = node.params if node.receiver is None else (node.receiver,) + node.params
            out.update(unbound_reads(node.body, {p.name for p in params}))
    return out


def _every_node(node: Any) -> Iterator[Any]:
    yield node
    for child in children(node):
        yield from _every_node(child)


def bindings(stmts: tuple) -> Sites:
    """Every name `stmts` bind in their own scope (as the interpreter allocates locals),
    with the lines binding it; nested functions, lambdas and comprehensions excluded."""
    return _scan(stmts)[0]


def _scan(stmts: tuple) -> tuple[Sites, set[str]]:
    """`bindings(stmts)`, and which of those names something other than a definition
    (`def`, `struct`, `import`...) binds."""
    found: dict[str, set[int]] = {}
    assigned: set[str] = set()
    for stmt in stmts:
        _collect(stmt, found, assigned)
    return {name: frozenset(lines) for name, lines in found.items()}, assigned


def _collect(node: Any, found: dict[str, set[int]], assigned: set[str]) -> None:
    for name, line in _binds(node):
        found.setdefault(name, set()).add(line)
        if not isinstance(node, _DEFINITIONS):
            assigned.add(name)
    if isinstance(node, A.AnnAssignStmt) and node.value is None:
        for name in target_names(node.target):
            found.setdefault(name, set())  # declared here, so local, but not bound
            assigned.add(name)
    if isinstance(node, _OWN_SCOPE):
        return
    for child in children(node):
        _collect(child, found, assigned)


_OWN_SCOPE = (A.FuncDecl, A.LambdaExpr, A.ComprehensionExpr, A.StructDecl, A.InterfaceDecl,
              A.WorkflowDecl, A.WorkflowComposeDecl)
_DEFINITIONS = (A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl, A.WorkflowComposeDecl,
                A.ImportStmt, A.FromImportStmt)
_BINDERS = _DEFINITIONS + (A.AssignStmt, A.AnnAssignStmt, A.AugAssignStmt, A.ForStmt, A.Handler,
                           A.PipeStage)


def _binds(node: Any) -> list[tuple[str, int]]:
    """(name, line) pairs `node` itself binds."""
    if not isinstance(node, _BINDERS):
        return []
    line = node.span.line
    if isinstance(node, A.AssignStmt):
        return [(n, line) for t in node.targets for n in target_names(t)]
    if isinstance(node, A.AnnAssignStmt) and node.value is None:
        return []
    if isinstance(node, (A.AnnAssignStmt, A.AugAssignStmt, A.ForStmt)):
        return [(n, line) for n in target_names(node.target)]
    if isinstance(node, A.Handler):
        return [(node.name, line)] if node.name else []
    if isinstance(node, A.FuncDecl):
        span = node.name_span or node.span
        return [] if node.receiver is not None else [(node.name, span.line)]
    if isinstance(node, (A.StructDecl, A.InterfaceDecl, A.WorkflowDecl, A.WorkflowComposeDecl)):
        return [(node.name, line)]
    if isinstance(node, A.ImportStmt):
        return [(node.alias or node.module.split(".")[-1], line)]
    if isinstance(node, A.FromImportStmt):
        return [(alias or name, line) for name, alias in node.names]
    if isinstance(node, A.PipeStage) and node.name:
        return [(node.name, line)]
    return []


def _never_empty(node: Any) -> bool:
    """Whether a `for` iterates over something that is never empty: a literal with items
    (a non-empty string, list, tuple, set or dict) or `range(...)` of int literals."""
    if isinstance(node, (A.ListExpr, A.TupleExpr, A.SetExpr)):
        return bool(node.items)
    if isinstance(node, A.DictExpr):
        return bool(node.keys)
    if isinstance(node, A.LiteralExpr):
        return isinstance(node.value, str) and node.value != ""
    if not (isinstance(node, A.CallExpr) and isinstance(node.func, A.NameExpr)
            and node.func.name == "range" and 1 <= len(node.args) <= 3):
        return False
    values = [_int_literal(a.value) for a in node.args if a.name is None and not a.star]
    if len(values) != len(node.args) or None in values or values[2:] == [0]:
        return False
    return len(range(*values)) > 0


def _int_literal(node: Any) -> int | None:
    if isinstance(node, A.UnaryOpExpr) and node.op == "-":
        inner = _int_literal(node.operand)
        return None if inner is None else -inner
    if isinstance(node, A.LiteralExpr) and type(node.value) is int:
        return node.value
    return None


@dataclass
class _Loop:
    """The flows at the `break`s and `continue`s of one loop."""

    breaks: list[Flow] = field(default_factory=list)
    continues: list[Flow] = field(default_factory=list)


class _Analysis:
    """One scope's forward walk. Every read of a local is (re)recorded as it is met; a
    loop body is walked until the flow at its head settles, so the last record stands."""

    def __init__(self, local: Sites, assigned: set[str]) -> None:
        self.local = local
        self.assigned = assigned
        self.reads: dict[int, Unbound | None] = {}
        self.loops: list[_Loop] = []

    # ------------------------------------------------------------------ statements
    def block(self, stmts: tuple, flow: Flow | None) -> Flow | None:
        for stmt in stmts:
            if flow is None:
                return None
            flow = self.stmt(stmt, flow)
        return flow

    def stmt(self, stmt: Any, flow: Flow) -> Flow | None:
        rule = STATEMENTS.get(type(stmt))
        if rule is None:
            raise AssertionError(f"definite assignment: unhandled {type(stmt).__name__}")
        return rule(self, stmt, flow)

    def expr_stmt(self, stmt: A.ExprStmt, flow: Flow) -> Flow:
        return self.expr(stmt.expr, flow)

    def assign(self, stmt: A.AssignStmt, flow: Flow) -> Flow:
        flow = self.expr(stmt.value, flow)
        for target in stmt.targets:
            flow = self.store(target, flow, stmt.span.line)
        return flow

    def ann_assign(self, stmt: A.AnnAssignStmt, flow: Flow) -> Flow:
        if stmt.value is None:
            return flow  # `x: int` declares; it binds nothing (as in Python)
        return self.store(stmt.target, self.expr(stmt.value, flow), stmt.span.line)

    def aug_assign(self, stmt: A.AugAssignStmt, flow: Flow) -> Flow:
        flow = self.expr(stmt.value, self.expr(stmt.target, flow))
        return self.store(stmt.target, flow, stmt.span.line)

    def store(self, target: Any, flow: Flow, line: int) -> Flow:
        """Bind an assignment target (reading the parts of attribute and index targets)."""
        if isinstance(target, A.NameExpr):
            return flow.bind(target.name, line) if target_names(target) else flow
        if isinstance(target, A.AttributeExpr):
            return self.expr(target.obj, flow)
        if isinstance(target, A.IndexExpr):
            return self.expr(target.index, self.expr(target.obj, flow))
        if isinstance(target, (A.TupleExpr, A.ListExpr)):
            for item in target.items:
                flow = self.store(item, flow, line)
        return flow

    def if_stmt(self, stmt: A.IfStmt, flow: Flow) -> Flow | None:
        flow = self.expr(stmt.cond, flow)
        return join(self.block(stmt.body, flow), self.block(stmt.orelse, flow))

    def while_stmt(self, stmt: A.WhileStmt, flow: Flow) -> Flow | None:
        endless = isinstance(stmt.cond, A.LiteralExpr) and stmt.cond.value is True
        return self.loop(stmt.body, flow, lambda f: self.expr(stmt.cond, f), None,
                         "forever" if endless else "")

    def for_stmt(self, stmt: A.ForStmt, flow: Flow) -> Flow | None:
        flow = self.expr(stmt.iter, flow)
        line = stmt.span.line
        once = "once" if _never_empty(stmt.iter) else ""
        return self.loop(stmt.body, flow, None,
                         lambda f: self.store(stmt.target, f, line), once)

    def loop(self, body: tuple, entry: Flow, header: Callable | None, enter: Callable | None,
             runs: str) -> Flow | None:
        """Walk a loop body from the join of its entry and its back edges until that join
        settles. After the loop: a `break`, or the head (the body ran out, or never ran) —
        only after an iteration when the loop `runs` "once" at least, never when "forever"."""
        head = entry
        while True:
            record = _Loop()
            self.loops.append(record)
            try:
                at_head = header(head) if header is not None else head
                start = enter(at_head) if enter is not None else at_head
                end = self.block(body, start)
            finally:
                self.loops.pop()
            back = join(end, *record.continues)
            new_head = join(entry, back)
            if new_head == head:
                break
            head = new_head
        out = {"forever": None, "once": back}.get(runs, at_head)
        return join(out, *record.breaks)

    def break_stmt(self, stmt: A.BreakStmt, flow: Flow) -> None:
        if self.loops:
            self.loops[-1].breaks.append(flow)
        return None

    def continue_stmt(self, stmt: A.ContinueStmt, flow: Flow) -> None:
        if self.loops:
            self.loops[-1].continues.append(flow)
        return None

    def unchanged(self, stmt: A.PassStmt | A.NonlocalStmt, flow: Flow) -> Flow:
        return flow

    def return_stmt(self, stmt: A.ReturnStmt, flow: Flow) -> None:
        self.expr(stmt.value, flow)
        return None

    def raise_stmt(self, stmt: A.RaiseStmt, flow: Flow) -> None:
        self.expr(stmt.cause, self.expr(stmt.exc, flow))
        return None

    def assert_stmt(self, stmt: A.AssertStmt, flow: Flow) -> Flow | None:
        flow = self.expr(stmt.cond, flow)
        self.expr(stmt.message, flow)
        failing = isinstance(stmt.cond, A.LiteralExpr) and stmt.cond.value is False
        return None if failing else flow

    def try_stmt(self, stmt: A.TryStmt, flow: Flow) -> Flow | None:
        """Handlers start where the body may have stopped anywhere: what was bound before
        the `try`, and the body's bindings as possible. `finally` runs on every way out."""
        marks = [(len(lp.breaks), len(lp.continues)) for lp in self.loops]
        body = self.block(stmt.body, flow)
        ends = [self.block(stmt.orelse, body)]
        caught = flow.widen(bindings(stmt.body))
        for h in stmt.handlers:
            start = self.expr(h.type, caught)
            if h.name:
                start = start.bind(h.name, h.span.line)
            ends.append(self.block(h.body, start))
        after = join(*ends)
        if not stmt.finalbody:
            return after
        self.through_finally(stmt.finalbody, marks)
        if after is not None:
            after = self.block(stmt.finalbody, after)
        moved = stmt.body + stmt.orelse + tuple(stmt.handlers)
        anywhere = self.block(stmt.finalbody, flow.widen(bindings(moved)))
        return None if anywhere is None else after

    def through_finally(self, final: tuple, marks: list[tuple[int, int]]) -> None:
        """A `break`/`continue` inside the `try` leaves through its `finally` first."""
        for lp, (nb, nc) in zip(self.loops, marks):
            lp.breaks[nb:] = [f for f in (self.block(final, b) for b in lp.breaks[nb:]) if f]
            lp.continues[nc:] = [f for f in (self.block(final, c) for c in lp.continues[nc:])
                                 if f]

    def parallel_stmt(self, stmt: A.ParallelStmt, flow: Flow) -> Flow | None:
        for arg in stmt.args:
            flow = self.expr(arg.value, flow)
        return self.block(stmt.body, flow)

    def func_decl(self, stmt: A.FuncDecl, flow: Flow) -> Flow:
        """Defaults and decorator arguments are evaluated where the `def` runs."""
        params = stmt.params if stmt.receiver is None else (stmt.receiver,) + stmt.params
        for p in params:
            flow = self.expr(p.default, flow)
        for dec in stmt.decorators:
            for arg in dec.args or ():
                flow = self.expr(arg.value, flow)
        return self.bind_all(stmt, flow)

    def bind_all(self, node: Any, flow: Flow) -> Flow:
        """A definition or import: binds its names where it runs."""
        for name, line in _binds(node):
            flow = flow.bind(name, line)
        return flow

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Any, flow: Flow, shadow: frozenset[str] | None = None) -> Flow:
        """Record the reads of `node` (evaluated from `flow`); the flow after it. Inside a
        comprehension, `shadow` holds its own names (its targets)."""
        if node is None or isinstance(node, str):
            return flow
        if isinstance(node, A.NameExpr):
            return self.read(node, flow, shadow)
        if isinstance(node, A.LambdaExpr):
            for p in node.params:
                flow = self.expr(p.default, flow, shadow)
            return flow
        if isinstance(node, A.ComprehensionExpr):
            return self.comprehension(node, flow, shadow)
        if isinstance(node, A.IfExpr):
            flow = self.expr(node.cond, flow, shadow)
            return join(self.expr(node.then, flow, shadow), self.expr(node.orelse, flow, shadow))
        if isinstance(node, A.BoolOpExpr):
            ends = [flow := self.expr(node.values[0], flow, shadow)]
            for value in node.values[1:]:
                ends.append(flow := self.expr(value, flow, shadow))
            return join(*ends)
        if isinstance(node, A.PipeStage):
            flow = self.expr(node.expr, flow, shadow)
            own = shadow is None and node.name
            return flow.bind(node.name, node.span.line) if own else flow
        for child in children(node):
            flow = self.expr(child, flow, shadow)
        return flow

    def read(self, node: A.NameExpr, flow: Flow, shadow: frozenset[str] | None) -> Flow:
        name = node.name
        if name in (shadow or ()) or name not in self.local or not target_names(node):
            return flow
        if name in flow.sure:
            self.reads[id(node)] = None
            return flow
        reaching = flow.sites.get(name)
        how = "assigned" if name in self.assigned else "defined"
        lines = tuple(sorted(reaching or self.local[name]))
        self.reads[id(node)] = Unbound(name, not reaching, lines, how)
        return Flow(flow.sure | {name}, flow.sites)

    def comprehension(self, node: A.ComprehensionExpr, flow: Flow,
                      shadow: frozenset[str] | None) -> Flow:
        """Clauses run now, in order; their targets are the comprehension's own names."""
        inner = shadow or frozenset()
        for clause in node.clauses:
            if isinstance(clause, A.CompFor):
                flow = self.expr(clause.iter, flow, inner)
                inner = inner | set(target_names(clause.target))
            else:
                flow = self.expr(clause.cond, flow, inner)
        return self.expr(node.value, self.expr(node.element, flow, inner), inner)


STATEMENTS: dict[type, Callable[[_Analysis, Any, Flow], Flow | None]] = {
    A.ExprStmt: _Analysis.expr_stmt,
    A.AssignStmt: _Analysis.assign,
    A.AnnAssignStmt: _Analysis.ann_assign,
    A.AugAssignStmt: _Analysis.aug_assign,
    A.IfStmt: _Analysis.if_stmt,
    A.WhileStmt: _Analysis.while_stmt,
    A.ForStmt: _Analysis.for_stmt,
    A.BreakStmt: _Analysis.break_stmt,
    A.ContinueStmt: _Analysis.continue_stmt,
    A.PassStmt: _Analysis.unchanged,
    A.NonlocalStmt: _Analysis.unchanged,
    A.ReturnStmt: _Analysis.return_stmt,
    A.RaiseStmt: _Analysis.raise_stmt,
    A.AssertStmt: _Analysis.assert_stmt,
    A.TryStmt: _Analysis.try_stmt,
    A.ParallelStmt: _Analysis.parallel_stmt,
    A.ImportStmt: _Analysis.bind_all,
    A.FromImportStmt: _Analysis.bind_all,
    A.FuncDecl: _Analysis.func_decl,
    A.StructDecl: _Analysis.bind_all,
    A.InterfaceDecl: _Analysis.bind_all,
    A.WorkflowDecl: _Analysis.bind_all,
    A.WorkflowComposeDecl: _Analysis.bind_all,
}
"""The flow rule of each statement class (`parallel for` occurs only inside `steps:`)."""
