"""Declarations: the structs, interfaces, functions and workflows of a block, hoisted so
they can be used before their definition (mutual recursion; docs/language.md "Functions",
docs/architecture.md "The checker").

Consumes: a block's statements, the `SymbolTable` they are declared in, and `report` (for
bad annotations, E0202/E0203, and an unknown embedded interface).
Produces: their symbols in the table — each struct's fields, each interface's methods,
each function's `FunctionT` (its return type `any` until the typing pass infers it) and
each workflow's `WorkflowT` (analysed later by the workflow pass) — and the records of
what was declared: `FuncInfo`s appended to `functions`, `WorkflowT`s to `workflows`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from dana.messages import checks as M
from dana.syntax import ast as A
from dana.types.annotations import resolve
from dana.types.exprs import def_type, star_param_type
from dana.types.scope import FUNC, INTERFACE, STRUCT, WORKFLOW, SymbolTable, Symbol
from dana.types.types import (ANY, ClassT, FieldT, FunctionT, InterfaceT, ParamT, StructT,
                              Type, UnionT, WorkflowT)


@dataclass
class FuncInfo:
    """Checker bookkeeping for one function definition: its node and type, the scope it
    is declared in, its symbol (None for a method with a receiver), whether its body was
    checked (`status`), its declared return type (None: inferred from `returns`), the
    types of its parameters in its body, and its `@step` options and hooks."""

    node: A.FuncDecl
    type: FunctionT
    scope: SymbolTable
    symbol: Symbol | None = None
    status: str = "new"
    declared_return: Type | None = None
    returns: list[Type] = field(default_factory=list)
    param_types: dict[str, Type] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)
    hooks: dict[str, "FuncInfo"] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return A.callable_label(self.node)


class Declarations:
    """Declares blocks into symbol tables (see the module docstring)."""

    def __init__(self, report: Callable[..., None], functions: list[FuncInfo],
                 workflows: list[WorkflowT]) -> None:
        self.report = report
        self.functions = functions
        self.workflows = workflows

    def annotation(self, texpr: A.TypeExpr | None, scope: SymbolTable) -> Type:
        return resolve(texpr, scope, self.report)

    def block(self, stmts: tuple, scope: SymbolTable) -> list[FuncInfo]:
        """Declare the block's structs, interfaces, functions (those inside its `if`,
        `for`, `while` and `try` blocks too) and workflows; returns its functions."""
        structs = [s for s in stmts if isinstance(s, A.StructDecl)]
        ifaces = [s for s in stmts if isinstance(s, A.InterfaceDecl)]
        for s in structs:
            scope.define(Symbol(s.name, ClassT(StructT(s.name)), STRUCT, s.span, info=s))
        for i in ifaces:
            scope.define(Symbol(i.name, ClassT(InterfaceT(i.name)), INTERFACE, i.span, info=i))
        for s in structs:
            self.struct_fields(s, scope)
        for i in ifaces:
            self.interface_methods(i, scope)
        funcs = [self.function(f, scope) for f in block_defs(stmts)]
        for info in reversed(funcs):  # until a redefinition runs, the first one is in effect
            if info.symbol is not None:
                scope.symbols[info.node.name] = info.symbol
        for w in stmts:
            if isinstance(w, (A.WorkflowDecl, A.WorkflowComposeDecl)):
                self.workflow(w, scope)
        return funcs

    def workflow(self, node: A.WorkflowDecl | A.WorkflowComposeDecl,
                 scope: SymbolTable) -> None:
        if isinstance(node, A.WorkflowComposeDecl):
            wf = WorkflowT(node.name, node=node)
        else:
            params = tuple(ParamT(p.name, self.annotation(p.annotation, scope),
                                  p.default is not None) for p in node.params)
            requires = {r.name: self.annotation(r.annotation, scope) for r in node.requires}
            returns = self.annotation(node.returns, scope) if node.returns else ANY
            wf = WorkflowT(node.name, params, returns, requires, node)
        wf.scope, wf.status = scope, "new"
        scope.define(Symbol(node.name, wf, WORKFLOW, node.span, info=wf))
        self.workflows.append(wf)

    def struct_fields(self, node: A.StructDecl, scope: SymbolTable) -> None:
        struct = scope.symbols[node.name].type.of
        for f in node.fields:
            t = self.annotation(f.annotation, scope)
            struct.fields[f.name] = FieldT(f.name, t, f.default is not None)

    def interface_methods(self, node: A.InterfaceDecl, scope: SymbolTable) -> None:
        iface = scope.symbols[node.name].type.of
        for sig in node.methods:
            params = tuple(ParamT(p.name, self.annotation(p.annotation, scope),
                                  p.default is not None) for p in sig.params)
            iface.methods[sig.name] = FunctionT(params, self.annotation(sig.returns, scope),
                                                name=sig.name)
        for name in node.embeds:
            sym = scope.lookup(name)
            if sym is None or sym.kind != INTERFACE:
                self.report(M.UNKNOWN_TYPE, node.span, name=name)
                continue
            for m, t in sym.type.of.methods.items():
                iface.methods.setdefault(m, t)

    def function(self, node: A.FuncDecl, scope: SymbolTable) -> FuncInfo:
        params = node.params if node.receiver is None else (node.receiver,) + node.params
        ptypes = {p.name: self.annotation(p.annotation, scope) for p in params}
        declared = self.annotation(node.returns, scope) if node.returns else None
        ftype = def_type(params, ptypes, declared or ANY, node.name)
        ptypes.update({p.name: star_param_type(p, ptypes[p.name]) for p in params if p.star})
        info = FuncInfo(node, ftype, scope, declared_return=declared, param_types=ptypes)
        self.functions.append(info)
        if node.receiver is not None:
            attach_method(ptypes[node.receiver.name], node.name, ftype, receiver=True)
        else:
            info.symbol = scope.define(Symbol(node.name, ftype, FUNC, node.name_span or
                                              node.span, info=info))
            if params:
                attach_method(ptypes[params[0].name], node.name, ftype, receiver=False)
        return info


def attach_method(target: Type, name: str, ftype: FunctionT, receiver: bool) -> None:
    """Make a function a method of the struct(s) its first parameter (or receiver) has."""
    for t in (target.options if isinstance(target, UnionT) else (target,)):
        if isinstance(t, StructT):
            (t.methods if receiver else t.loose_methods)[name] = ftype


def update_method(info: FuncInfo) -> None:
    """Re-attach a method after its return type was inferred."""
    node = info.node
    first = node.receiver or (node.params[0] if node.params else None)
    if first is not None:
        attach_method(info.param_types[first.name], node.name, info.type,
                      receiver=node.receiver is not None)


def block_defs(stmts: tuple) -> list[A.FuncDecl]:
    """The `def`s of a block, in order, with those inside its `if`, `for`, `while` and
    `try` blocks: Python binds them in the same scope (docs/language.md, "Functions")."""
    out: list[A.FuncDecl] = []
    for stmt in stmts:
        if isinstance(stmt, A.FuncDecl):
            out.append(stmt)
        elif isinstance(stmt, (A.IfStmt, A.ForStmt, A.WhileStmt)):
            out += block_defs(stmt.body) + block_defs(getattr(stmt, "orelse", ()))
        elif isinstance(stmt, A.TryStmt):
            out += block_defs(stmt.body)
            for handler in stmt.handlers:
                out += block_defs(handler.body)
            out += block_defs(stmt.orelse) + block_defs(stmt.finalbody)
    return out
