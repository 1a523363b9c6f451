"""Statement checking: assignments, control flow, returns, raises, imports, decorators.

Consumes: statement nodes and the current scope (through the `Checker` this mixes into).
Produces: diagnostics, bindings in the scope and entries in the expression type table.
Blocks do not open scopes (Python rules); assignments inside a nested block or loop widen
a variable's type to the union of what it may hold.
"""

from __future__ import annotations

from typing import Any

from dana.syntax import ast as A
from dana.types import messages as M
from dana.types.scope import MODULE, PARAM, VAR, Scope, Symbol
from dana.types.signatures import ON_ERROR_VALUES, STEP_OPTIONS
from dana.types.types import (ANY, NONE, STR, AnyT, ClassT, DictT, ErrorT, InterfaceT, ListT,
                              ModuleT, StateT, StructT, TupleT, Type, UnionT,
                              element_type, join, missing_methods, overlaps)
from dana.types.walk import assigned_names


class StatementMixin:
    """Statement handlers of the `Checker`."""

    nesting = 0

    def block(self, stmts: tuple, scope: Scope) -> None:
        for stmt in stmts:
            self.stmt(stmt, scope)

    def stmt(self, stmt: Any, scope: Scope) -> None:
        handler = getattr(self, "s_" + type(stmt).__name__, None)
        if handler is None:
            raise AssertionError(f"checker: unhandled statement {type(stmt).__name__}")
        handler(stmt, scope)

    def nested(self, stmts: tuple, scope: Scope, loop: bool = False) -> None:
        """A block inside a compound statement (assignments there widen types)."""
        self.nesting += 1
        if loop:
            self.loops += 1
            scope.pending.append(assigned_names(stmts))
        try:
            self.block(stmts, scope)
        finally:
            self.nesting -= 1
            if loop:
                self.loops -= 1
                scope.pending.pop()

    # -------------------------------------------------------------- compatibility
    def expect(self, src: Type, dst: Type, span: Any, *, target: str,
               msg: M.Msg = M.ASSIGN_MISMATCH, **kw: object) -> bool:
        """Report (E0313 for interfaces, else `msg`) unless `src` fits `dst`."""
        if overlaps(src, dst):
            return True
        if isinstance(dst, InterfaceT) and isinstance(src, StructT):
            missing = missing_methods(src, dst)
            self.report(M.INTERFACE_UNSATISFIED, span, struct=src, iface=dst,
                        s="s" if len(missing) > 1 else "",
                        methods=", ".join(f"`{m}`" for m in missing))
            return False
        self.report(msg, span, src=src, dst=dst, target=target, **kw)
        return False

    # -------------------------------------------------------------- simple statements
    def s_ExprStmt(self, stmt: A.ExprStmt, scope: Scope) -> None:
        self.expr(stmt.expr, scope)

    def s_Assign(self, stmt: A.Assign, scope: Scope) -> None:
        t = self.expr(stmt.value, scope)
        for target in stmt.targets:
            self.assign_to(target, t, scope)

    def s_AnnAssign(self, stmt: A.AnnAssign, scope: Scope) -> None:
        declared = self.annotation(stmt.annotation, scope)
        target = stmt.target
        if stmt.value is not None:
            t = self.expr(stmt.value, scope)
            self.expect(t, declared, stmt.value.span, target=f"`{target.name}`")
        if target.scope in ("private", "public", "system"):
            self.scoped[(target.scope, target.name)] = declared
            return
        scope.define(Symbol(target.name, declared, VAR, target.span, declared=declared))
        self.record(target, declared)

    def s_AugAssign(self, stmt: A.AugAssign, scope: Scope) -> None:
        current = self.expr(stmt.target, scope)
        value = self.expr(stmt.value, scope)
        result = self.binop_type(stmt.op, current, value, stmt.span)
        self.assign_to(stmt.target, result, scope)

    def assign_to(self, target: Any, t: Type, scope: Scope) -> None:
        if isinstance(target, A.Name):
            self.assign_name(target, t, scope)
        elif isinstance(target, A.Attribute):
            self.assign_attribute(target, t, scope)
        elif isinstance(target, A.Index):
            self.assign_index(target, t, scope)
        elif isinstance(target, (A.TupleExpr, A.ListExpr)):
            self.unpack(target, t, scope)

    def assign_name(self, target: A.Name, t: Type, scope: Scope) -> None:
        self.record(target, t)
        if target.scope in ("private", "public", "system"):
            key = (target.scope, target.name)
            self.scoped[key] = join(self.scoped[key], t) if key in self.scoped else t
            return
        sym = scope.lookup_local(target.name)
        if sym is not None and sym.declared is not None:
            self.expect(t, sym.declared, target.span, target=f"`{target.name}`")
        elif sym is not None and sym.kind in (VAR, PARAM) and self.nesting > 0:
            sym.type = join(sym.type, t)
        else:
            scope.define(Symbol(target.name, t, VAR, target.span))

    def assign_attribute(self, target: A.Attribute, t: Type, scope: Scope) -> None:
        obj = self.expr(target.obj, scope)
        if isinstance(obj, StructT):
            field = obj.fields.get(target.name)
            if field is None:
                self.report(M.UNKNOWN_FIELD, target.span, struct=obj, name=target.name,
                            _suggest=(target.name, list(obj.fields)))
            else:
                self.expect(t, field.type, target.span, target=f"field `{target.name}`")
        elif isinstance(obj, StateT) and target.name in ("config", "version", "created_at",
                                                         "updated_at"):
            self.report(M.READONLY_STATE_KEY, target.span, key=target.name)

    def assign_index(self, target: A.Index, t: Type, scope: Scope) -> None:
        obj = self.expr(target.obj, scope)
        key = self.expr(target.index, scope)
        if isinstance(obj, DictT):
            self.check_key(obj.key, key, target.index.span)
        elif isinstance(obj, ListT):
            self.check_key(_INT_OR_SLICE(target.index), key, target.index.span)
        elif isinstance(obj, (TupleT, StructT)) or obj == STR:
            self.report(M.NOT_ITEM_ASSIGNABLE, target.span, type=obj)

    def unpack(self, target: A.TupleExpr | A.ListExpr, t: Type, scope: Scope) -> None:
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

    # -------------------------------------------------------------- control flow
    def s_If(self, stmt: A.If, scope: Scope) -> None:
        self.expr(stmt.cond, scope)
        self.nested(stmt.body, scope)
        self.nested(stmt.orelse, scope)

    def s_While(self, stmt: A.While, scope: Scope) -> None:
        scope.pending.append(assigned_names(stmt.body))
        self.expr(stmt.cond, scope)
        scope.pending.pop()
        self.nested(stmt.body, scope, loop=True)

    def s_For(self, stmt: A.For, scope: Scope) -> None:
        it = self.expr(stmt.iter, scope)
        elem = element_type(it)
        if elem is None:
            self.report(M.NOT_ITERABLE, stmt.iter.span, type=it)
            elem = ANY
        self.nesting += 1
        self.assign_to(stmt.target, elem, scope)
        self.nesting -= 1
        self.nested(stmt.body, scope, loop=True)

    def s_Break(self, stmt: A.Break, scope: Scope) -> None:
        if self.loops == 0:
            self.report(M.LOOP_CONTROL_OUTSIDE, stmt.span, what="break")

    def s_Continue(self, stmt: A.Continue, scope: Scope) -> None:
        if self.loops == 0:
            self.report(M.LOOP_CONTROL_OUTSIDE, stmt.span, what="continue")

    def s_Pass(self, stmt: A.Pass, scope: Scope) -> None:
        pass

    def s_Return(self, stmt: A.Return, scope: Scope) -> None:
        t = self.expr(stmt.value, scope) if stmt.value is not None else NONE
        info = self.current
        if info is None:
            self.report(M.RETURN_OUTSIDE, stmt.span)
        elif info.declared_return is not None:
            span = stmt.value.span if stmt.value is not None else stmt.span
            self.expect(t, info.declared_return, span, target="", msg=M.RETURN_MISMATCH,
                        func=info.label)
        else:
            info.returns.append(t)

    def s_Raise(self, stmt: A.Raise, scope: Scope) -> None:
        if stmt.exc is not None:
            t = self.expr(stmt.exc, scope)
            if not _raisable(t):
                self.report(M.BAD_RAISE, stmt.exc.span, type=t)
        if stmt.cause is not None:
            self.expr(stmt.cause, scope)

    def s_Assert(self, stmt: A.Assert, scope: Scope) -> None:
        self.expr(stmt.cond, scope)
        if stmt.message is not None:
            self.expr(stmt.message, scope)

    def s_Try(self, stmt: A.Try, scope: Scope) -> None:
        self.guards.append(_caught_names(stmt))
        try:
            self.nested(stmt.body, scope)
        finally:
            self.guards.pop()
        for h in stmt.handlers:
            caught = self.handler_type(h, scope)
            if h.name:
                scope.define(Symbol(h.name, caught, VAR, h.span))
            self.nested(h.body, scope)
        self.nested(stmt.orelse, scope)
        self.nested(stmt.finalbody, scope)

    def handler_type(self, h: A.Handler, scope: Scope) -> Type:
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
                text = h.type.span.source.text[h.type.span.start:h.type.span.end]
                self.report(M.BAD_HANDLER, h.type.span, type=o, text=text)
                caught.append(ANY)
        from dana.types.types import union
        return union(*caught)

    def s_Parallel(self, stmt: A.Parallel, scope: Scope) -> None:
        for arg in stmt.args:
            self.expr(arg.value, scope)
        self.nested(stmt.body, scope)

    # -------------------------------------------------------------- imports
    def s_Import(self, stmt: A.Import, scope: Scope) -> None:
        mod = self.imported_module(stmt.module, stmt.span)
        name = stmt.alias or stmt.module.split(".")[-1]
        scope.define(Symbol(name, mod or ANY, MODULE, stmt.span))

    def s_FromImport(self, stmt: A.FromImport, scope: Scope) -> None:
        mod = self.imported_module(stmt.module, stmt.span)
        names = dict(mod.names) if isinstance(mod, ModuleT) else None
        for name, alias in stmt.names:
            t: Type = ANY
            if names is not None:
                if name in names:
                    t = names[name]
                else:
                    self.report(M.IMPORT_NOT_FOUND, stmt.span, module=stmt.module, name=name,
                                _suggest=(name, list(names)))
            scope.define(Symbol(alias or name, t, _kind_of(t), stmt.span))

    # -------------------------------------------------------------- definitions
    def s_FuncDef(self, stmt: A.FuncDef, scope: Scope) -> None:
        if scope.kind == "module":
            return
        for info in self.funcs:
            if info.node is stmt:
                self.ensure_checked(info)

    def s_StructDef(self, stmt: A.StructDef, scope: Scope) -> None:
        self.check_field_defaults(stmt, scope)

    def s_InterfaceDef(self, stmt: A.InterfaceDef, scope: Scope) -> None:
        pass

    def s_WorkflowDef(self, stmt: A.WorkflowDef, scope: Scope) -> None:
        pass

    def s_WorkflowCompose(self, stmt: A.WorkflowCompose, scope: Scope) -> None:
        pass

    def check_decorators(self, node: A.FuncDef, info: Any, scope: Scope) -> None:
        for dec in node.decorators:
            if dec.name != "step":
                self.report(M.UNKNOWN_DECORATOR, dec.span, name=dec.name)
                continue
            for arg in dec.args or ():
                self.step_option(arg, info, scope)

    def step_option(self, arg: A.Arg, info: Any, scope: Scope) -> None:
        t = self.expr(arg.value, scope)
        if arg.name is None or arg.name not in STEP_OPTIONS:
            name = arg.name or "(positional)"
            self.report(M.UNKNOWN_STEP_OPTION, arg.span, name=name,
                        _suggest=(name, list(STEP_OPTIONS)))
            return
        want, described = STEP_OPTIONS[arg.name]
        value = arg.value.value if isinstance(arg.value, A.Literal) else None
        bad = not overlaps(t, want) or (arg.name == "on_error" and isinstance(value, str)
                                        and value not in ON_ERROR_VALUES)
        if bad:
            self.report(M.BAD_STEP_OPTION, arg.value.span, name=arg.name, expected=described)
        info.options[arg.name] = value


def _caught_names(stmt: A.Try) -> set[str]:
    """Names of the error types a `try`'s handlers catch (`Error` for a bare handler)."""
    out: set[str] = set()
    for h in stmt.handlers:
        types = h.type.items if isinstance(h.type, A.TupleExpr) else (h.type,)
        for t in types:
            if t is None:
                out.add("Error")
            elif isinstance(t, A.Name):
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
    return ANY if isinstance(index, A.Slice) else INT

