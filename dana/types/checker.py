"""The type checker phase: Module -> CheckResult (docs/workflows.md "What the type checker
proves"; the passes are described in docs/architecture.md "The checker").

Consumes: a parsed `Module`, optionally a starting `SymbolTable` (REPL chunks), host function
types, and an import resolver. Produces: `CheckResult` — every diagnostic (sorted by
position), the module's final scope, and side tables keyed by node identity: each
expression's type and each name's symbol. The AST is never modified.

The passes, in order: definite assignment over the whole module (`definite`); name
resolution (`resolve`: which definition each name refers to); the declarations of each
block, hoisted (here); typing, by the rules the tables `EXPRESSIONS`
and `statements.STATEMENTS` give each node class (`exprs`, `calls`, `statements`, with the
narrowing facts of `narrowing` and the state-read demands of `demands`), each function's
body checked once, on demand, in its own `Body`; then the workflow pass (`workflows`,
`workflow_state`, reading each step's state signature from `state_analysis`); last, the
uses of struct members, resolved from the types (`resolve.resolve_members`).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from dana.errors import Diagnostic, is_subtype
from dana.messages import checks as M
from dana.source import SourceFile, Span
from dana.syntax import ast as A
from dana.types import calls, exprs
from dana.types.annotations import resolve
from dana.types.calls import CallMixin
from dana.types.declarations import Declarations, FuncInfo, update_method
from dana.types.redefinitions import redefinitions
from dana.types.resolve import Binding, Resolution, resolve_members, resolve_names
from dana.types.definite import Unbound, unbound_in_module
from dana.types.duplicates import duplicate_definitions, duplicate_message
from dana.types.demands import Demands
from dana.types.exprs import ExprMixin
from dana.types.imports import Imports, Resolver
from dana.types.narrowing import Narrowing, falls_through
from dana.types.options import Options
from dana.types.scope import FUNC, SymbolTable, Symbol, new_module_scope
from dana.types.statements import STATEMENTS, StatementMixin
from dana.types.types import NONE, FunctionT, ModuleT, Type, WorkflowT
from dana.types.walk import assigned_names, nonlocal_names
from dana.types.workflow_state import StateChecks, StepEffects
from dana.types.workflows import WorkflowAnalysis


EXPRESSIONS = {**exprs.EXPRESSIONS, **calls.EXPRESSIONS}
"""Expression class -> its typing rule `rule(checker, node, scope) -> Type`."""


@dataclass
class CheckResult:
    """What checking a module produces (docs/architecture.md "What checking produces").

    `diagnostics`: every error and warning, sorted by position. `scope`: the module's final
    `SymbolTable` (the REPL starts the next chunk from it). Two side tables keyed by node
    identity (`id(node)`; AST nodes compare by identity), read through `type_of` and
    `symbol_of`: `types` gives each expression the checker typed its static `Type` (the
    narrowed type where the read is narrowed; for a name bound by an assignment, a loop or
    a comprehension, the type it was given there), and `symbols` gives each name read or
    bound, and each parameter, the `Symbol` it resolved to (its kind, declared type,
    definition span). `nodes` keeps every keyed node alive, so no id is reused while the
    result lives. `names` is the name resolution (`dana.types.resolve`): each name's
    lexical `Binding` (`binding_of`), every occurrence of it with its span, the names of
    each scope."""

    diagnostics: list[Diagnostic]
    scope: SymbolTable
    types: dict[int, Type] = field(repr=False)
    nodes: dict[int, object] = field(default_factory=dict, repr=False)
    symbols: dict[int, Symbol] = field(default_factory=dict, repr=False)
    names: Resolution = field(default_factory=Resolution, repr=False)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def type_of(self, node: object) -> Type | None:
        """The type the checker gave expression `node` (None if it never saw it: code in
        a module it did not check, or a node it has no type for, such as a statement)."""
        return self.types.get(id(node))

    def symbol_of(self, node: A.NameExpr | A.Param) -> Symbol | None:
        """The symbol name `node` resolved to (None: undefined, a scoped `private:x` name,
        or a name the checker never saw)."""
        return self.symbols.get(id(node))

    def binding_of(self, node: object) -> Binding | None:
        """The definition name node `node` refers to (`names.binding_of`)."""
        return self.names.binding_of(node)


def check_module(module: A.Module, *, scope: SymbolTable | None = None,
                 host_functions: Mapping[str, FunctionT] | None = None,
                 resolve_import: Resolver | None = None) -> CheckResult:
    """Check a whole module; never raises for problems in the program (they become
    diagnostics). `scope` continues a previous REPL chunk's scope."""
    checker = Checker(scope, host_functions, resolve_import)
    checker.check(module)
    return checker.result()


def type_of_expression(expr: A.Expr, scope: SymbolTable | None = None) -> Type:
    """The static type of one expression in `scope` (the REPL's `:type`)."""
    checker = Checker(scope, None, None)
    return checker.expr(expr, checker.module_scope)


@dataclass
class Body:
    """The state of checking one body (a module's top level, a function, a workflow),
    fresh for each (`Checker.isolated`): the `function` whose body it is (None at the top
    level), the enclosing loops, `handle` blocks and compound statements, the values of the enclosing
    pipeline stages (for `$$`), the error names enclosing `try`s catch, how many
    enclosing pipeline stages run later (`deferred`), whether a `steps:` expression is
    being typed, the narrowing `facts` and the body's diagnostics so far."""

    function: FuncInfo | None
    facts: Narrowing
    loops: int = 0
    handlers: int = 0
    nesting: int = 0
    piped: list[Type] = field(default_factory=list)
    guards: list[set[str]] = field(default_factory=list)
    deferred: int = 0
    in_steps: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)


class Checker(StatementMixin, ExprMixin, CallMixin):
    """One checking run over a module: the typing pass (its rules live in `statements`,
    `exprs` and `calls`), driving the other passes (see the module docstring).

    Inputs: `module_scope` (builtins, host functions, an earlier REPL chunk's names),
    `imports` (the modules imported, checked once each: `dana.types.imports`), `unbound`,
    the definite-assignment table, and `names`, the name resolution (which `nonlocal`
    targets assign an enclosing function's variable). Outputs: the side tables `types`, `symbols` (with `nodes`)
    and `demands`; `funcs` and `workflows` (what was declared), `scoped` (the types of
    `private:`/`public:`/`system:` names) and `kept` (the diagnostics of finished bodies).
    The body being checked is `body`; the workflow pass is `workflow_analysis`."""

    def __init__(self, scope: SymbolTable | None, host_functions: Mapping[str, FunctionT] | None,
                 resolve_import: Resolver | None, imported: dict | None = None) -> None:
        self.module_scope = new_module_scope(scope)
        for name, t in (host_functions or {}).items():
            self.module_scope.define(Symbol(name, t, FUNC))
        self.imports = Imports(resolve_import, self._module_type, imported)
        self.types: dict[int, Type] = {}
        self.nodes: dict[int, object] = {}
        self.symbols: dict[int, Symbol] = {}
        self.names = Resolution()
        self.demands = Demands(self.types)
        self.bases: dict[tuple, Type] = {}
        self.unbound: dict[int, Unbound] = {}
        self.funcs: list[FuncInfo] = []
        self.workflows: list[WorkflowT] = []
        self.scoped: dict[tuple[str, str], Type] = {}
        self.source: SourceFile | None = None
        self.kept: list[Diagnostic] = []
        self.body = self.new_body(None)
        self.declarations = Declarations(self.report, self.funcs, self.workflows)
        self.options = Options(self)
        state = StateChecks(self.report, self.demands, self.member_quiet, self.funcs)
        effects = StepEffects(self.types, self.module_scope, self.ensure_checked)
        self.workflow_analysis = WorkflowAnalysis(self, state, effects)

    def new_body(self, function: FuncInfo | None) -> Body:
        return Body(function, Narrowing(self.types, self.bases))

    @property
    def facts(self) -> Narrowing:
        """The narrowing facts of the body being checked."""
        return self.body.facts

    # -------------------------------------------------------------- dispatch
    def expr(self, node: A.Expr, scope: SymbolTable) -> Type:
        """The type of expression `node`, by the rule `EXPRESSIONS` gives its class
        (recorded in the side table)."""
        rule = EXPRESSIONS.get(type(node))
        if rule is None:
            raise AssertionError(f"checker: unhandled expression {type(node).__name__}")
        return self.record(node, rule(self, node, scope))

    def stmt(self, stmt: A.Stmt, scope: SymbolTable) -> None:
        """Check statement `stmt` by the rule `STATEMENTS` gives its class."""
        rule = STATEMENTS.get(type(stmt))
        if rule is None:
            raise AssertionError(f"checker: unhandled statement {type(stmt).__name__}")
        rule(self, stmt, scope)

    # -------------------------------------------------------------- driver
    def check(self, module: A.Module) -> None:
        self.source = module.span.source
        scope = self.module_scope
        scope.assigned |= assigned_names(module.body)
        self.unbound.update(unbound_in_module(module, set(scope.visible_names())))
        self.names = resolve_names(module, scope)
        self.kept.extend(self.names.diagnostics)
        for dup in duplicate_definitions(module.body):
            msg, fields = duplicate_message(dup)
            self.report(msg, dup.span, **fields)
        self.declare_block(module.body, scope)
        self.block(module.body, scope)
        for info in list(self.funcs):
            self.ensure_checked(info)
        self.workflow_analysis.check_all(self.workflows)
        self.kept.extend(redefinitions(module))
        resolve_members(module, self.names, self.types)

    def result(self) -> CheckResult:
        diags = sorted(self.body.diagnostics + self.kept, key=_position)
        return CheckResult(_dedupe(diags), self.module_scope, self.types, self.nodes,
                           self.symbols, self.names)

    def report(self, msg: M.Msg, span: Span | None, *, _notes: tuple[str, ...] = (),
               _suggest: tuple[str, list[str]] | None = None, **kw: object) -> None:
        """Record one diagnostic; `_suggest=(name, candidates)` adds "did you mean".
        Inside a `try` whose handlers catch the error this mistake raises at run time
        (a deliberate failure), nothing is reported."""
        raised = M.RAISES.get(msg.code, ())
        raised = (raised,) if isinstance(raised, str) else raised
        if any(is_subtype(r, g) for r in raised for guard in self.body.guards
               for g in guard):
            return
        notes = list(_notes)
        if _suggest is not None:
            close = difflib.get_close_matches(_suggest[0], _suggest[1], n=1, cutoff=0.75)
            if close:
                notes.append(M.NOTE_DID_YOU_MEAN.format(name=close[0]))
        self.body.diagnostics.append(Diagnostic(msg.format(**kw), span, msg.code,
                                                msg.severity, tuple(notes)))

    def annotation(self, texpr: A.TypeExpr | None, scope: SymbolTable) -> Type:
        return resolve(texpr, scope, self.report)

    # -------------------------------------------------------------- declarations
    def declare_block(self, stmts: tuple, scope: SymbolTable) -> None:
        """Hoist the declarations of a block (`Declarations.block`), then check the
        decorators of its functions."""
        for info in self.declarations.block(stmts, scope):
            self.options.decorators(info.node, info, scope)

    def check_field_defaults(self, node: A.StructDecl, scope: SymbolTable) -> None:
        struct = scope.symbols[node.name].type.of
        for f in node.fields:
            if f.default is not None:
                t = self.expr(f.default, scope)
                self.expect(t, struct.fields[f.name].type, f.default.span,
                            target=f"field `{f.name}`")

    # -------------------------------------------------------------- functions
    def ensure_checked(self, info: FuncInfo) -> None:
        """Check a function's body once (on demand when its inferred type is needed)."""
        if info.status != "new":
            return
        info.status = "checking"
        with self.isolated(info):
            try:
                self.function_body(info)
            finally:
                info.status = "done"

    @contextmanager
    def isolated(self, function: FuncInfo | None = None) -> Iterator[None]:
        """Check a function or workflow on its own: a fresh `Body` (flow state), and its
        diagnostics kept even when the loop that asked for the check is re-checked."""
        saved, self.body = self.body, self.new_body(function)
        try:
            with self.demands.isolated():
                yield
        finally:
            self.kept.extend(self.body.diagnostics)
            self.body = saved

    def function_body(self, info: FuncInfo) -> None:
        node = info.node
        fscope = SymbolTable(info.scope, "function")
        fscope.func = info
        fscope.assigned = assigned_names(node.body) - nonlocal_names(node.body)
        params = node.params if node.receiver is None else (node.receiver,) + node.params
        for p in params:
            t = info.param_types[p.name]
            if p.default is not None:
                self.expect(self.expr(p.default, info.scope), t, p.default.span,
                            target=f"parameter `{p.name}`")
            self.resolved(p, fscope.define(Symbol(p.name, t, "param", p.span, declared=t)))
        self.declare_block(node.body, fscope)
        self.block(node.body, fscope)
        self.finish_function(info)

    def finish_function(self, info: FuncInfo) -> None:
        falls_off = falls_through(info.node.body)
        if info.declared_return is not None:
            if falls_off and not _accepts_none(info.declared_return):
                span = info.node.name_span or info.node.span
                self.report(M.MISSING_RETURN, span, func=info.label,
                            dst=info.declared_return)
            return
        from dana.types.types import NEVER, join_all
        results = list(info.returns) + ([NONE] if falls_off else [])
        inferred = join_all(results) if results else NEVER
        info.type = dataclasses.replace(info.type, returns=inferred)
        if info.symbol is not None:
            info.symbol.type = info.type
        update_method(info)

    def function_type(self, sym: Symbol) -> Type:
        """A function symbol's type, inferring its return type first when needed."""
        info = sym.info
        if isinstance(info, FuncInfo) and info.declared_return is None:
            self.ensure_checked(info)
            return info.type
        return sym.type

    def _module_type(self, name: str, module: A.Module) -> ModuleT:
        """Check imported module `module` (with this run's imports) for its names."""
        sub = Checker(None, None, self.imports.resolve, self.imports.cache)
        sub.check(module)
        return ModuleT(name, tuple((n, s.type) for n, s in sub.module_scope.symbols.items()))


def _accepts_none(t: Type) -> bool:
    from dana.types.types import assignable
    return assignable(NONE, t)


def _position(d: Diagnostic) -> tuple:
    if d.span is None:
        return ("", -1, 0, d.code)
    return (d.span.source.name, d.span.start, d.span.end, d.code)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for d in diags:
        if not out or out[-1] != d:
            out.append(d)
    return out


__all__ = ["CheckResult", "Checker", "FuncInfo", "SymbolTable", "check_module",
           "type_of_expression"]
