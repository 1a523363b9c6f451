"""Calls, attribute access and pipelines.

Consumes: `Call`, `Attribute` and `Pipeline` nodes (through the `Checker` this mixes into).
Produces: their types and diagnostics: arity, keyword names and argument types (E0302-E0305,
E0320), struct construction (E0304 unknown field, E0305), members of structs and builtin
types (E0306, E0307), non-callables (E0309) and pipeline stages (E0316); a call of `run` has
its inputs checked by `dana.types.run_inputs`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.scope import SymbolTable, Symbol
from dana.types.signatures import BUILTINS, ERROR_ATTRIBUTES, STATE_MEMBERS, methods_of
from dana.types.types import (ANY, NONE, STR, TYPE, AnyT, ClassT, DictT,
                              ErrorT, FunctionT, InterfaceT, ListT, ModuleT, ParamT, SetT,
                              StateT, StructT, Type, UnionT, WorkflowT, join, join_all)
from dana.types.demands import Demand
from dana.types.run_inputs import Args, check_run
from dana.types.walk import placeholders


class CallMixin:
    """Call, attribute and pipeline handlers of the `Checker`."""

    # -------------------------------------------------------------- calls
    def call(self, node: A.CallExpr, scope: SymbolTable) -> Type:
        ft = self.maybe_none(node.func, self.expr(node.func, scope), "`None` is not callable")
        args = [(a, self.expr(a.value, scope)) for a in node.args]
        if ft is BUILTINS["type"] and len(args) == 3:
            self.report(M.TYPE_THREE_ARGS, node.span)
            return ANY
        if ft is BUILTINS["run"]:
            check_run(node, args, self.workflow_analysis.requires_of, self.types, self.report)
        if ft is BUILTINS["compose"]:
            keywords = [(a, t) for a, t in args if a.name is not None]  # parts: compose_call
            self.bind(ft, keywords, "`compose`", node)
            return self.workflow_analysis.compose_call(node, scope)
        return self.apply(ft, node, args, _label(node.func, ft))

    def apply(self, ft: Type, node: A.CallExpr, args: Args, label: str) -> Type:
        """The result of calling a value of type `ft` with `args` (checked)."""
        if isinstance(ft, FunctionT):
            self.bind(ft, args, label, node)
            return self.result_of(ft, args)
        if isinstance(ft, ClassT) and isinstance(ft.of, StructT):
            struct = ft.of
            params = tuple(ParamT(f.name, f.type, f.has_default) for f in struct.fields.values())
            self.bind(FunctionT(params, struct), args, f"struct `{struct}`", node, "field")
            return struct
        if isinstance(ft, ClassT) and isinstance(ft.of, ErrorT):
            return ft.of
        if isinstance(ft, WorkflowT) and ft.name is not None and not self.body.in_steps:
            self.report(M.WORKFLOW_CALLED, node.func.span, name=ft.name,
                        _notes=(M.NOTE_RUN_WORKFLOW.format(name=ft.name),))
            return ANY
        if isinstance(ft, (AnyT, UnionT, WorkflowT)) or ft == TYPE:
            return ANY
        self.report(M.NOT_CALLABLE, node.func.span, type=ft)
        return ANY

    def result_of(self, ft: FunctionT, args: Args) -> Type:
        if ft.infer is None:
            return ft.returns
        positional = [t for a, t in args if a.name is None and a.star == 0]
        keywords = {a.name: t for a, t in args if a.name is not None}
        return ft.infer(positional, keywords)

    def bind(self, ft: FunctionT, args: Args, label: str, node: A.CallExpr,
             what: str = "argument") -> None:
        """Match `args` to `ft`'s parameters: arity, keyword names, duplicates, types."""
        positional = ft.positional_params()
        by_name = {p.name: p for p in ft.params}
        bound: set[str] = set()
        unknown_rest = False
        count = sum(1 for a, _ in args if a.name is None and a.star == 0)
        for arg, t in args:
            if arg.star:
                unknown_rest = True
                continue
            if arg.name is None:
                param = positional.pop(0) if positional else None
                if param is None and not ft.star and count:
                    most = len(ft.positional_params())
                    self.report(M.TOO_MANY_ARGS, arg.span, callee=label, given=count,
                                most=most, s="" if most == 1 else "s",
                                were="was" if count == 1 else "were")
                    count = 0
            else:
                param = by_name.get(arg.name)
                if param is None and not ft.kwstar:
                    msg = M.UNKNOWN_FIELD_KEYWORD if what == "field" else M.UNKNOWN_KEYWORD
                    self.report(msg, arg.span, callee=label, name=arg.name,
                                struct=ft.returns, _suggest=(arg.name, list(by_name)))
                elif param is not None and param.name in bound:
                    self.report(M.MULTIPLE_VALUES, arg.span, callee=label, name=arg.name)
                    continue
            if param is None:
                param = _rest_param(ft, arg)
            else:
                bound.add(param.name)
            if param is not None:
                self.expect(t, param.type, arg.value.span, target="", msg=M.ARG_MISMATCH,
                            what=what, param=param.name, callee=label, node=arg.value)
        if not unknown_rest:
            for p in ft.params:
                if not p.has_default and p.name not in bound:
                    self.report(M.MISSING_ARG, node.span, callee=label, what=what, name=p.name)

    # -------------------------------------------------------------- attributes
    def attribute(self, node: A.AttributeExpr, scope: SymbolTable) -> Type:
        obj = self.expr(node.obj, scope)
        obj = self.maybe_none(node.obj, obj, f"`None` has no attribute `{node.name}`")
        self.demands.note(node.obj, Demand("attribute", f"a value with a member `{node.name}`",
                                           name=node.name))
        t = self.member(obj, node.name, node)
        ref = self.facts.ref_key(node, scope)
        if ref is not None:
            self.facts.bases[ref[0]] = t
        return self.facts.narrowed(node, scope, t)

    def member(self, obj: Type, name: str, node: A.AttributeExpr) -> Type:
        """The type of `obj.name`, reporting a member that does not exist."""
        options = obj.options if isinstance(obj, UnionT) else (obj,)
        found = [self.member_quiet(o, name) for o in options if o != NONE]
        known = [f for f in found if f is not None]
        if known:
            return join_all(known)
        if isinstance(obj, StructT):
            self.report(M.UNKNOWN_MEMBER, node.span, struct=obj, name=name,
                        _suggest=(name, list(obj.fields) + list(obj.methods)))
        elif isinstance(obj, ModuleT):
            self.report(M.IMPORT_NOT_FOUND, node.span, module=obj.name, name=name,
                        _suggest=(name, [n for n, _ in obj.names]))
        elif found or obj == NONE:
            self.report(M.UNKNOWN_ATTRIBUTE, node.span, type=obj, name=name,
                        _suggest=(name, _member_names(obj)))
        return ANY

    def member_quiet(self, obj: Type, name: str) -> Type | None:
        """`obj.name`'s type, None when `obj` certainly has no such member."""
        if isinstance(obj, StructT):
            if name in obj.fields:
                return obj.fields[name].type
            method = obj.method(name)
            return method.drop_first() if method is not None else None
        if isinstance(obj, InterfaceT):
            return obj.methods.get(name)
        if isinstance(obj, ErrorT):
            return ERROR_ATTRIBUTES.get(name)
        if isinstance(obj, StateT):
            return STATE_MEMBERS.get(name) or (DictT(STR, ANY) if name == "config" else ANY)
        if isinstance(obj, DictT):
            return (methods_of(obj) or {}).get(name, obj.value)
        if isinstance(obj, ModuleT):
            return dict(obj.names).get(name)
        members = methods_of(obj)
        if members is None:
            return ANY
        return members.get(name)

    # -------------------------------------------------------------- pipelines
    def pipeline(self, node: A.PipelineExpr, scope: SymbolTable) -> Type:
        head = node.stages[0]
        cur = self.expr(head.expr, scope)
        composed = isinstance(cur, FunctionT) and not isinstance(head.expr, A.CallExpr)
        start = cur
        if composed:
            cur = cur.returns if cur.infer is None else ANY
        self.bind_stage_name(head, cur, scope)
        lazy = _may_be_function(start)
        self.body.deferred += lazy
        try:
            for stage in node.stages[1:]:
                cur = self.stage(stage.expr, cur, scope)
                self.bind_stage_name(stage, cur, scope)
        finally:
            self.body.deferred -= lazy
        if composed:
            return dataclasses.replace(start, returns=cur, name="pipeline", infer=None)
        return cur

    def bind_stage_name(self, stage: A.PipeStage, t: Type, scope: SymbolTable) -> None:
        if stage.name:
            scope.define(Symbol(stage.name, t, "var", stage.span))

    def stage(self, expr: Any, cur: Type, scope: SymbolTable) -> Type:
        """The result of one pipeline stage applied to a value of type `cur`."""
        if isinstance(expr, A.ListExpr):
            return ListT(join_all([self.stage(item, cur, scope) for item in expr.items]))
        if isinstance(expr, A.CallExpr) and placeholders(expr):
            self.body.piped.append(cur)
            try:
                return self.expr(expr, scope)
            finally:
                self.body.piped.pop()
        if isinstance(expr, A.CallExpr) and not _makes_stage(expr, scope):
            return self.record(expr, self.call_with_input(expr, cur, scope))
        ft = self.expr(expr, scope)
        return self.apply_stage(ft, cur, expr)

    def call_with_input(self, call: A.CallExpr, cur: Type, scope: SymbolTable,
                        ft: Type | None = None) -> Type:
        """`value | f(a, k=b)` is `f(value, a, k=b)`: the piped value goes first."""
        if ft is None:
            ft = self.expr(call.func, scope)
        args = [(A.Arg(call.span, call), cur)]
        args += [(a, self.expr(a.value, scope)) for a in call.args]
        return self.apply(ft, call, args, _label(call.func, ft))

    def apply_stage(self, ft: Type, cur: Type, expr: Any) -> Type:
        if isinstance(ft, (SetT, DictT)) and isinstance(cur, (type(ft), AnyT)):
            return join(cur, ft) if isinstance(cur, type(ft)) else ft
        if isinstance(ft, FunctionT):
            if not ft.star and (not ft.params or len(ft.required()) > 1):
                self.report(M.BAD_STAGE, expr.span, type=ft)
                return ANY
            if ft.params and not ft.star:
                p = ft.params[0]
                self.expect(cur, p.type, expr.span, target="", msg=M.ARG_MISMATCH,
                            what="argument", param=p.name, callee=_label(expr, ft))
            return ft.infer([cur], {}) if ft.infer else ft.returns
        if isinstance(ft, ClassT) and isinstance(ft.of, ErrorT):
            return ft.of
        if isinstance(ft, (AnyT, UnionT, ClassT)):
            return ANY
        if isinstance(ft, WorkflowT):
            return ft.returns
        self.report(M.BAD_STAGE, expr.span, type=ft)
        return ANY


EXPRESSIONS: dict[type, Callable[[Any, Any, SymbolTable], Type]] = {
    A.CallExpr: CallMixin.call,
    A.AttributeExpr: CallMixin.attribute,
    A.PipelineExpr: CallMixin.pipeline,
}
"""The typing rule of each expression class defined here."""


def _may_be_function(t: Type) -> bool:
    """Whether a pipeline's head of type `t` may be a function (or a list of them): then
    the pipeline composes, and its stages are evaluated only when the result is called."""
    if isinstance(t, UnionT):
        return any(_may_be_function(o) for o in t.options)
    if isinstance(t, ListT):
        return _may_be_function(t.elem)
    return isinstance(t, (FunctionT, AnyT))


def _makes_stage(call: A.CallExpr, scope: SymbolTable) -> bool:
    """`case(...)` builds a stage from its arguments instead of taking the value."""
    if not isinstance(call.func, A.NameExpr):
        return False
    sym = scope.lookup(call.func.name)
    return sym is not None and sym.type is BUILTINS["case"]


def _label(func: Any, ft: Type) -> str:
    if isinstance(func, A.NameExpr):
        return f"`{func.name}`"
    if isinstance(func, A.AttributeExpr):
        return f"method `{func.name}`"
    return "this function"


def _member_names(t: Type) -> list[str]:
    return list(methods_of(t) or {})


def _rest_param(ft: FunctionT, arg: A.Arg) -> ParamT | None:
    """The `*args` / `**kwargs` parameter an extra argument goes to, when it is typed."""
    if arg.name is None:
        return ft.star_param and ParamT(f"*{ft.star_param.name}", ft.star_param.type, True)
    return ft.kwstar_param and ParamT(arg.name, ft.kwstar_param.type, True)
