"""Statement checking: assignments, control flow, returns, raises, imports, definitions.

Consumes: statement nodes and the current scope (through the `Checker` this mixes into).
Produces: diagnostics, bindings in the scope and entries in the expression type table.
Blocks do not open scopes (Python rules); assignments inside a nested block or loop widen
a variable's type to the union of what it may hold, while the narrowing fact sets
(`dana.types.narrowing`) track what it holds at each point: `if`/`while` conditions,
`assert`, early exits and assignments narrow; branch ends are joined; loops are checked
until the types they carry settle.
"""

from __future__ import annotations

from typing import Any, Callable

from dana.surface import SHARED_SCOPES
from dana.syntax import ast as A
from dana.messages import checks as M
from dana.messages import syntax as S
from dana.types.scope import MODULE, PARAM, VAR, SymbolTable, Symbol
from dana.types.types import (ANY, NONE, STR, AnyT, ClassT, DictT, ErrorT, InterfaceT, ListT,
                              ModuleT, StateT, StructT, TupleT, Type, UnionT, element_type, join,
                              join_all, missing_methods, overlaps, widened)
from dana.types.demands import ITERABLE
from dana.types.narrowing import (MAX_PASSES, Entry, LoopRecord, falls_through, head_changed,
                                  is_optional, not_none)
from dana.types.walk import assigned_names, target_names


class StatementMixin:
    """Statement handlers of the `Checker`."""

    def block(self, stmts: tuple, scope: SymbolTable) -> None:
        for stmt in stmts:
            self.stmt(stmt, scope)

    def nested(self, stmts: tuple, scope: SymbolTable, loop: bool = False,
               facts: dict | None = None, enter: Any = None) -> dict | None:
        """A block inside a compound statement (assignments there widen types), checked
        in a narrowing fact set starting from `facts`. Returns the fact set at its end, or None
        when the block never falls through (it returns, raises, breaks or continues)."""
        self.body.nesting += 1
        if loop:
            self.body.loops += 1
            scope.pending.append(assigned_names(stmts))
        self.facts.push(facts)
        try:
            if enter is not None:
                enter()
            self.block(stmts, scope)
        finally:
            level = self.facts.pop()
            self.body.nesting -= 1
            if loop:
                self.body.loops -= 1
                scope.pending.pop()
        return level if falls_through(stmts) else None

    def after(self, first: dict | None, stmts: tuple, scope: SymbolTable) -> dict | None:
        """The end fact set of `stmts` run after a block that ended with fact set `first`."""
        if first is None:
            return None
        self.facts.push(first)
        try:
            end = self.nested(stmts, scope)
        finally:
            base = self.facts.pop()
        return None if end is None else {**base, **end}

    # -------------------------------------------------------------- compatibility
    def expect(self, src: Type, dst: Type, span: Any, *, target: str,
               msg: M.Msg = M.ASSIGN_MISMATCH, node: Any = None, **kw: object) -> bool:
        """Report (E0313 for interfaces, else `msg`) unless `src` fits `dst`; `node` is
        the expression giving the value (a state read there must fit `dst`, E0403)."""
        self.demands.note_type(node, dst)
        if overlaps(src, dst):
            return True
        if isinstance(dst, InterfaceT) and isinstance(src, StructT):
            missing = missing_methods(src, dst)
            self.report(M.INTERFACE_UNSATISFIED, span, struct=src, iface=dst,
                        s="s" if len(missing) > 1 else "",
                        methods=", ".join(f"`{m}`" for m in missing))
            return False
        notes = (M.NOTE_MAY_BE_NONE,) if is_optional(src) and overlaps(not_none(src), dst) \
            else ()
        self.report(msg, span, src=src, dst=dst, target=target, _notes=notes, **kw)
        return False

    # -------------------------------------------------------------- simple statements
    def expr_stmt(self, stmt: A.ExprStmt, scope: SymbolTable) -> None:
        self.expr(stmt.expr, scope)

    def assign(self, stmt: A.AssignStmt, scope: SymbolTable) -> None:
        t = self.expr(stmt.value, scope)
        for target in stmt.targets:
            self.assign_to(target, t, scope)

    def ann_assign(self, stmt: A.AnnAssignStmt, scope: SymbolTable) -> None:
        declared = self.annotation(stmt.annotation, scope)
        target = stmt.target
        if stmt.value is not None:
            t = self.expr(stmt.value, scope)
            self.expect(t, declared, stmt.value.span, target=f"`{target.name}`",
                        node=stmt.value)
        if target.scope in SHARED_SCOPES:
            self.scoped[(target.scope, target.name)] = declared
            return
        self.resolved(target, scope.define(Symbol(target.name, declared, VAR, target.span,
                                                  declared=declared)))
        self.record(target, declared)

    def aug_assign(self, stmt: A.AugAssignStmt, scope: SymbolTable) -> None:
        current = self.expr(stmt.target, scope)
        value = self.expr(stmt.value, scope)
        current = self.maybe_none(stmt.target, current,
                                  f"operator `{stmt.op}` is not defined for `None`")
        value = self.maybe_none(stmt.value, value,
                                f"operator `{stmt.op}` is not defined for `None`")
        result = self.binop_type(stmt.op, current, value, stmt.span, f"{stmt.op}=")
        self.assign_to(stmt.target, result, scope)

    def assign_to(self, target: Any, t: Type, scope: SymbolTable) -> None:
        if isinstance(target, A.NameExpr):
            self.assign_name(target, t, scope)
        elif isinstance(target, A.AttributeExpr):
            self.assign_attribute(target, t, scope)
        elif isinstance(target, A.IndexExpr):
            self.assign_index(target, t, scope)
        elif isinstance(target, (A.TupleExpr, A.ListExpr)):
            self.unpack(target, t, scope)

    def assign_name(self, target: A.NameExpr, t: Type, scope: SymbolTable) -> None:
        self.record(target, t)
        if target.scope in SHARED_SCOPES:
            key = (target.scope, target.name)
            self.scoped[key] = join(self.scoped[key], t) if key in self.scoped else t
            return
        if self.names.assigns_enclosing(target):
            self.assign_nonlocal(target, t, scope)
            return
        sym = scope.lookup_local(target.name)
        if sym is not None and sym.declared is not None:
            self.expect(t, sym.declared, target.span, target=f"`{target.name}`")
            self.facts.assigned(sym, t)
        elif sym is not None and sym.kind in (VAR, PARAM) and self.body.nesting > 0:
            sym.type = join(sym.type, t)
            self.facts.assigned(sym, t)
        else:
            sym = scope.define(Symbol(target.name, t, VAR, target.span))
        self.resolved(target, sym)

    def assign_nonlocal(self, target: A.NameExpr, t: Type, scope: SymbolTable) -> None:
        """`x = v` after `nonlocal x`: the enclosing function's variable takes `v`."""
        sym = scope.enclosing_binding(target.name)
        if sym is None:
            return  # reported by name resolution, at the `nonlocal` statement
        if sym.declared is not None:
            self.expect(t, sym.declared, target.span, target=f"`{target.name}`")
        else:
            sym.type = join(sym.type, t)

    def assign_attribute(self, target: A.AttributeExpr, t: Type, scope: SymbolTable) -> None:
        self.record(target, t)
        obj = self.expr(target.obj, scope)
        if isinstance(obj, StructT):
            field = obj.fields.get(target.name)
            if field is None:
                self.report(M.UNKNOWN_FIELD, target.span, struct=obj, name=target.name,
                            _suggest=(target.name, list(obj.fields)))
            else:
                self.expect(t, field.type, target.span, target=f"field `{target.name}`")
                self.facts.assigned_path(target, scope, field.type, t)
        elif isinstance(obj, StateT) and target.name in ("config", "version", "created_at",
                                                         "updated_at"):
            self.report(M.READONLY_STATE_KEY, target.span, key=target.name)

    def assign_index(self, target: A.IndexExpr, t: Type, scope: SymbolTable) -> None:
        self.record(target, t)
        obj = self.expr(target.obj, scope)
        key = self.expr(target.index, scope)
        if isinstance(obj, DictT):
            self.check_key(obj.key, key, target.index.span, target.obj)
        elif isinstance(obj, ListT):
            self.check_key(_INT_OR_SLICE(target.index), key, target.index.span, target.obj)
        elif isinstance(obj, (TupleT, StructT)) or obj == STR:
            self.report(M.NOT_ITEM_ASSIGNABLE, target.span, type=obj)

    def unpack(self, target: A.TupleExpr | A.ListExpr, t: Type, scope: SymbolTable) -> None:
        items = target.items
        if isinstance(t, TupleT) and not t.variadic:
            if len(t.items) != len(items):
                self.report(M.UNPACK_MISMATCH, target.span, given=len(t.items),
                            s="" if len(t.items) == 1 else "s", wanted=len(items),
                            t="" if len(items) == 1 else "s")
                parts = [ANY] * len(items)
            else:
                parts = list(t.items)
        else:
            elem = element_type(t)
            parts = [elem if elem is not None else ANY] * len(items)
        for item, part in zip(items, parts):
            self.assign_to(item, part, scope)
        self.record(target, t)

    # -------------------------------------------------------------- control flow
    def if_stmt(self, stmt: A.IfStmt, scope: SymbolTable) -> None:
        self.expr(stmt.cond, scope)
        pos, neg = self.facts.condition_facts(stmt.cond, scope)
        then = self.nested(stmt.body, scope, facts=pos)
        other = self.nested(stmt.orelse, scope, facts=neg)
        self.facts.merge([then, other])

    def while_stmt(self, stmt: A.WhileStmt, scope: SymbolTable) -> None:
        def header() -> tuple[dict, dict]:
            scope.pending.append(assigned_names(stmt.body))
            try:
                self.expr(stmt.cond, scope)
            finally:
                scope.pending.pop()
            return self.facts.condition_facts(stmt.cond, scope)
        endless = isinstance(stmt.cond, A.LiteralExpr) and stmt.cond.value is True
        self.loop(stmt.body, scope, header=header, endless=endless)

    def for_stmt(self, stmt: A.ForStmt, scope: SymbolTable) -> None:
        it = self.maybe_none(stmt.iter, self.expr(stmt.iter, scope), "`None` is not iterable")
        self.demands.note(stmt.iter, ITERABLE)
        elem = element_type(it)
        if elem is None:
            self.report(M.NOT_ITERABLE, stmt.iter.span, type=it)
            elem = ANY
        self.loop(stmt.body, scope, targets=tuple(target_names(stmt.target)),
                  enter=lambda: self.assign_to(stmt.target, elem, scope))

    def loop(self, body: tuple, scope: SymbolTable, targets: tuple = (), header: Any = None,
             enter: Any = None, endless: bool = False) -> None:
        """Check a loop body until the types of the variables it reassigns are stable at
        its head (diagnostics of an unstable pass are dropped), then narrow what holds
        after the loop: the head's types (and a `while` condition's falsity) or a
        `break`'s."""
        carried = self.facts.loop_carried(body, scope, targets)
        head, mark, demands = carried, len(self.body.diagnostics), self.demands.mark()
        for _ in range(MAX_PASSES):
            del self.body.diagnostics[mark:]
            self.demands.forget(demands)
            record = LoopRecord(head)
            self.facts.push(head)
            self.facts.loops.append(record)
            try:
                self.facts.forget_assigned_paths(body, scope, carried)
                pos, neg = header() if header is not None else ({}, {})
                end = self.nested(body, scope, loop=True, facts=pos, enter=enter)
            finally:
                self.facts.loops.pop()
                self.facts.pop()
            ends = [e for e in [end, *record.continues] if e is not None]
            new_head = {k: Entry(e.sym, widened(join_all([e.type] + [x[k].type for x in ends
                                                                     if k in x])))
                        for k, e in head.items()}
            stable = not head_changed(head, new_head)
            head = new_head
            if stable:
                break
        exits = record.breaks + ([] if endless else [{**head, **neg}])
        self.facts.merge(exits)

    def break_stmt(self, stmt: A.BreakStmt, scope: SymbolTable) -> None:
        if self.body.loops == 0:
            self.report(M.LOOP_CONTROL_OUTSIDE, stmt.span, what="break")
        snap = self.facts.snapshot()
        if snap is not None:
            self.facts.loops[-1].breaks.append(snap)

    def continue_stmt(self, stmt: A.ContinueStmt, scope: SymbolTable) -> None:
        if self.body.loops == 0:
            self.report(M.LOOP_CONTROL_OUTSIDE, stmt.span, what="continue")
        snap = self.facts.snapshot()
        if snap is not None:
            self.facts.loops[-1].continues.append(snap)

    def pass_stmt(self, stmt: A.PassStmt, scope: SymbolTable) -> None:
        pass

    def return_stmt(self, stmt: A.ReturnStmt, scope: SymbolTable) -> None:
        t = self.expr(stmt.value, scope) if stmt.value is not None else NONE
        info = self.body.function
        if info is None:
            self.report(M.RETURN_OUTSIDE, stmt.span)
        elif info.declared_return is not None:
            span = stmt.value.span if stmt.value is not None else stmt.span
            self.expect(t, info.declared_return, span, target="", msg=M.RETURN_MISMATCH,
                        func=info.label, node=stmt.value)
        else:
            info.returns.append(t)

    def raise_stmt(self, stmt: A.RaiseStmt, scope: SymbolTable) -> None:
        if stmt.exc is None and self.body.handlers == 0:
            self.report(S.BARE_RAISE_OUTSIDE, stmt.span)
        if stmt.exc is not None:
            t = self.expr(stmt.exc, scope)
            if not _raisable(t):
                self.report(M.BAD_RAISE, stmt.exc.span, type=t)
        if stmt.cause is not None:
            self.expr(stmt.cause, scope)

    def assert_stmt(self, stmt: A.AssertStmt, scope: SymbolTable) -> None:
        self.expr(stmt.cond, scope)
        pos, neg = self.facts.condition_facts(stmt.cond, scope)
        if stmt.message is not None:
            self.facts.push(neg)
            try:
                self.expr(stmt.message, scope)
            finally:
                self.facts.pop()
        self.facts.add(pos)

    def try_stmt(self, stmt: A.TryStmt, scope: SymbolTable) -> None:
        self.body.guards.append(_caught_names(stmt))
        try:
            body = self.nested(stmt.body, scope)
        finally:
            self.body.guards.pop()
        ends = [self.after(body, stmt.orelse, scope)]
        for h in stmt.handlers:
            caught = self.handler_type(h, scope)
            if h.name:
                scope.define(Symbol(h.name, caught, VAR, h.span))
            self.body.handlers += 1
            try:
                ends.append(self.nested(h.body, scope, facts=self.unsettled(stmt.body, scope)))
            finally:
                self.body.handlers -= 1
        self.facts.merge(ends)
        if stmt.finalbody:
            moved = stmt.body + stmt.orelse + tuple(s for h in stmt.handlers for s in h.body)
            self.facts.push(self.unsettled(moved, scope))
            try:
                end = self.nested(stmt.finalbody, scope)
            finally:
                self.facts.pop()
            self.facts.merge([end])

    def unsettled(self, stmts: tuple, scope: SymbolTable) -> dict:
        """Facts where `stmts` may have stopped anywhere: what they assign has its
        declared (or widest) type, and attribute paths they assign are not narrowed."""
        carried = self.facts.loop_carried(stmts, scope)
        facts = {k: Entry(e.sym, e.sym.declared or e.sym.type) for k, e in carried.items()}
        self.facts.push(facts)
        try:
            self.facts.forget_assigned_paths(stmts, scope, carried)
        finally:
            level = self.facts.pop()
        return level

    def handler_type(self, h: A.Handler, scope: SymbolTable) -> Type:
        if h.type is None:
            return ErrorT("Error")
        t = self.expr(h.type, scope)
        options = t.items if isinstance(t, TupleT) else (t,)
        caught: list[Type] = []
        for o in options:
            if isinstance(o, ClassT) and isinstance(o.of, ErrorT):
                caught.append(o.of)
            elif isinstance(o, AnyT):
                caught.append(ANY)
            else:
                text = h.type.span.text
                self.report(M.BAD_HANDLER, h.type.span, type=o, text=text)
                caught.append(ANY)
        from dana.types.types import union
        return union(*caught)

    def parallel_stmt(self, stmt: A.ParallelStmt, scope: SymbolTable) -> None:
        for arg in stmt.args:
            self.expr(arg.value, scope)
        self.facts.merge([self.nested(stmt.body, scope)])

    # -------------------------------------------------------------- imports
    def import_stmt(self, stmt: A.ImportStmt, scope: SymbolTable) -> None:
        mod = self.imports.module(stmt.module, self.source, stmt.span, self.report)
        name = stmt.alias or stmt.module.split(".")[-1]
        scope.define(Symbol(name, mod or ANY, MODULE, stmt.span))

    def from_import(self, stmt: A.FromImportStmt, scope: SymbolTable) -> None:
        for name, t in self.imports.names(stmt, self.source, self.report):
            scope.define(Symbol(name, t, _kind_of(t), stmt.span))

    # -------------------------------------------------------------- definitions
    def func_decl(self, stmt: A.FuncDecl, scope: SymbolTable) -> None:
        """From here on, calls use this definition (a later `def` of the same name
        replaces it, as in Python); a nested function's body is checked now."""
        info = next((i for i in self.funcs if i.node is stmt), None)
        if info is None:
            return
        if info.symbol is not None and scope.symbols.get(stmt.name) is not info.symbol:
            scope.symbols[stmt.name] = info.symbol
        if scope.kind != "module":
            self.ensure_checked(info)

    def struct_decl(self, stmt: A.StructDecl, scope: SymbolTable) -> None:
        self.check_field_defaults(stmt, scope)

    def hoisted(self, stmt: Any, scope: SymbolTable) -> None:
        """An interface or workflow: `declare_block` declared it with its block, and the
        workflow analysis checks a workflow's body; a `nonlocal` statement: name
        resolution checked it (`dana.types.resolve`)."""


STATEMENTS: dict[type, Callable[[Any, Any, SymbolTable], None]] = {
    A.ExprStmt: StatementMixin.expr_stmt,
    A.AssignStmt: StatementMixin.assign,
    A.AnnAssignStmt: StatementMixin.ann_assign,
    A.AugAssignStmt: StatementMixin.aug_assign,
    A.NonlocalStmt: StatementMixin.hoisted,
    A.IfStmt: StatementMixin.if_stmt,
    A.WhileStmt: StatementMixin.while_stmt,
    A.ForStmt: StatementMixin.for_stmt,
    A.BreakStmt: StatementMixin.break_stmt,
    A.ContinueStmt: StatementMixin.continue_stmt,
    A.PassStmt: StatementMixin.pass_stmt,
    A.ReturnStmt: StatementMixin.return_stmt,
    A.RaiseStmt: StatementMixin.raise_stmt,
    A.AssertStmt: StatementMixin.assert_stmt,
    A.TryStmt: StatementMixin.try_stmt,
    A.ParallelStmt: StatementMixin.parallel_stmt,
    A.ImportStmt: StatementMixin.import_stmt,
    A.FromImportStmt: StatementMixin.from_import,
    A.FuncDecl: StatementMixin.func_decl,
    A.StructDecl: StatementMixin.struct_decl,
    A.InterfaceDecl: StatementMixin.hoisted,
    A.WorkflowDecl: StatementMixin.hoisted,
    A.WorkflowComposeDecl: StatementMixin.hoisted,
}
"""The checking rule of each statement class. `parallel for` is absent: the parser accepts
it only inside `steps:` (`dana.types.workflows` checks it there)."""

STEPS_ONLY = (A.ParallelForStmt,)


def _caught_names(stmt: A.TryStmt) -> set[str]:
    """Names of the error types a `try`'s handlers catch (`Error` for a bare handler)."""
    out: set[str] = set()
    for h in stmt.handlers:
        types = h.type.items if isinstance(h.type, A.TupleExpr) else (h.type,)
        for t in types:
            if t is None:
                out.add("Error")
            elif isinstance(t, A.NameExpr):
                out.add(t.name)
    return out


def _raisable(t: Type) -> bool:
    if isinstance(t, UnionT):
        return any(_raisable(o) for o in t.options)
    return isinstance(t, (AnyT, ErrorT)) or t == STR or (
        isinstance(t, ClassT) and isinstance(t.of, ErrorT))


def _kind_of(t: Type) -> str:
    return "module" if isinstance(t, ModuleT) else VAR


def _INT_OR_SLICE(index: Any) -> Type:
    from dana.types.types import INT
    return ANY if isinstance(index, A.SliceExpr) else INT

