"""The typed AST of Dana: a closed set of frozen node classes, each with a `span`.

Consumes: nothing (pure data; no lark import).
Produces: node classes used by the builder (lark -> AST), the checker and the interpreter.

Nodes use identity equality (docs/architecture.md "The phases"): analyses keep side tables
keyed by node. Child sequences are tuples. Source positions are `dana.source.Span`. The
classes are made by `dana.syntax.nodes.node`: frozen and slotted, and read by
`dataclasses.fields`/`replace` like dataclasses.
"""

from __future__ import annotations

from typing import Any, Union

from dana.source import Span
from dana.surface import ScopeName
from dana.syntax.nodes import node  # frozen, slotted, identity-equal dataclass-like records


# ------------------------------------------------------------------ types (annotations)
@node
class TypeName:
    """`int`, `list[Reading]`, `dict[str, int]`, `tuple[int, ...]` (args may hold "...")."""
    span: Span
    name: str
    args: tuple["TypeExpr", ...] = ()


@node
class UnionType:
    """`A | B | None`."""
    span: Span
    options: tuple["TypeExpr", ...]


TypeExpr = Union[TypeName, UnionType]


# ------------------------------------------------------------------ expressions
@node
class NameExpr:
    """A variable reference; `scope` is "private"/"public"/"local"/"system" for `private:x`."""
    span: Span
    name: str
    scope: ScopeName | None = None


@node
class LiteralExpr:
    """int, float, str, bool or None constant."""
    span: Span
    value: Any


@node
class FormattedValue:
    """One `{expr!conv:spec}` field of an f-string; `spec` is itself f-string parts."""
    span: Span
    expr: "Expr"
    conversion: str | None
    spec: tuple[Union[str, "FormattedValue"], ...] | None


@node
class FStringExpr:
    """f"..." text: literal string pieces and formatted fields, in order."""
    span: Span
    parts: tuple[Union[str, FormattedValue], ...]


@node
class ListExpr:
    span: Span
    items: tuple["Expr", ...]


@node
class TupleExpr:
    span: Span
    items: tuple["Expr", ...]


@node
class SetExpr:
    span: Span
    items: tuple["Expr", ...]


@node
class DictExpr:
    span: Span
    keys: tuple["Expr", ...]
    values: tuple["Expr", ...]


@node
class CompFor:
    """`for target in iter` clause of a comprehension."""
    span: Span
    target: "Expr"
    iter: "Expr"


@node
class CompIf:
    span: Span
    cond: "Expr"


@node
class ComprehensionExpr:
    """kind: "list" | "set" | "dict" | "gen". For dicts `element` is the key, `value` the value."""
    span: Span
    kind: str
    element: "Expr"
    value: "Expr | None"
    clauses: tuple[CompFor | CompIf, ...]


@node
class BinOpExpr:
    """Arithmetic: op in + - * / // % **."""
    span: Span
    op: str
    left: "Expr"
    right: "Expr"


@node
class UnaryOpExpr:
    """op in "-", "+", "not"."""
    span: Span
    op: str
    operand: "Expr"


@node
class BoolOpExpr:
    """op in "and", "or"; short-circuit over `values` (2 or more)."""
    span: Span
    op: str
    values: tuple["Expr", ...]


@node
class CompareExpr:
    """Comparison chain: `left op0 c0 op1 c1 ...`; ops include "in", "not in", "is", "is not"."""
    span: Span
    left: "Expr"
    ops: tuple[str, ...]
    comparators: tuple["Expr", ...]


@node
class IfExpr:
    span: Span
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"


@node
class Param:
    """A parameter of a def, lambda, receiver or interface method; `star` is 1 for
    `*args` (a tuple of the extra positional arguments, each of type `annotation`) and 2
    for `**kwargs` (a dict of the extra keyword arguments)."""
    span: Span
    name: str
    annotation: TypeExpr | None
    default: "Expr | None"
    star: int = 0


@node
class LambdaExpr:
    """`lambda x, y :: x + y` (docs/language.md)."""
    span: Span
    params: tuple[Param, ...]
    body: "Expr"


@node
class Arg:
    """A call argument: `name=value` when `name` is set; `star` is 0, 1 (*x) or 2 (**x)."""
    span: Span
    value: "Expr"
    name: str | None = None
    star: int = 0


@node
class CallExpr:
    span: Span
    func: "Expr"
    args: tuple[Arg, ...]


@node
class AttributeExpr:
    span: Span
    obj: "Expr"
    name: str


@node
class IndexExpr:
    span: Span
    obj: "Expr"
    index: "Expr"


@node
class SliceExpr:
    span: Span
    lower: "Expr | None"
    upper: "Expr | None"
    step: "Expr | None"


@node
class PlaceholderExpr:
    """`$$`: where the piped value goes in a pipeline stage call."""
    span: Span


@node
class PipeStage:
    """One stage of a pipeline; `name` is set by `f as name`."""
    span: Span
    expr: "Expr"
    name: str | None


@node
class PipelineExpr:
    """`value | f | g`: `stages[0]` is the input expression, the rest are applied in order."""
    span: Span
    stages: tuple[PipeStage, ...]


def stages_of(expr: "Expr") -> tuple[PipeStage, ...]:
    """The stages of a pipeline `a | b | c`; any other expression is one stage."""
    return expr.stages if isinstance(expr, PipelineExpr) else (PipeStage(expr.span, expr, None),)


Expr = Union[NameExpr, LiteralExpr, FStringExpr, ListExpr, TupleExpr, SetExpr, DictExpr,
             ComprehensionExpr, BinOpExpr, UnaryOpExpr, BoolOpExpr, CompareExpr, IfExpr,
             LambdaExpr, CallExpr, AttributeExpr, IndexExpr, SliceExpr, PlaceholderExpr,
             PipelineExpr]


# ------------------------------------------------------------------ statements
@node
class ExprStmt:
    span: Span
    expr: Expr


@node
class AssignStmt:
    """`t1 = t2 = value`; each target is a Name, Attribute, Index or TupleExpr of those."""
    span: Span
    targets: tuple[Expr, ...]
    value: Expr


@node
class AnnAssignStmt:
    span: Span
    target: Expr
    annotation: TypeExpr
    value: Expr | None


@node
class AugAssignStmt:
    """`target op= value`; `op` is the binary operator ("+", "-", ...)."""
    span: Span
    target: Expr
    op: str
    value: Expr


@node
class IfStmt:
    """`elif` chains become nested If nodes in `orelse`."""
    span: Span
    cond: Expr
    body: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]


@node
class WhileStmt:
    span: Span
    cond: Expr
    body: tuple["Stmt", ...]


@node
class ForStmt:
    span: Span
    target: Expr
    iter: Expr
    body: tuple["Stmt", ...]


@node
class BreakStmt:
    span: Span


@node
class ContinueStmt:
    span: Span


@node
class PassStmt:
    span: Span


@node
class NonlocalStmt:
    """`nonlocal a, b`: assignments to these names in this function bind the enclosing
    function's variables (Python's rule)."""
    span: Span
    names: tuple[str, ...]


@node
class ReturnStmt:
    span: Span
    value: Expr | None


@node
class RaiseStmt:
    """`raise E(...)`, `raise "text"` (an `Error`), or bare `raise` (re-raise in a handler)."""
    span: Span
    exc: Expr | None
    cause: Expr | None


@node
class AssertStmt:
    span: Span
    cond: Expr
    message: Expr | None


@node
class ImportStmt:
    """`import a.b as c`: binds `alias` (or the last dotted part) to the module."""
    span: Span
    module: str
    alias: str | None


@node
class FromImportStmt:
    """`from a.b import x as y, z`: `names` are (name, alias-or-None) pairs."""
    span: Span
    module: str
    names: tuple[tuple[str, str | None], ...]


@node
class Handler:
    """`handle T as e:` / `except T as e:`; `type` None catches every Dana error."""
    span: Span
    type: Expr | None
    name: str | None
    body: tuple["Stmt", ...]


@node
class TryStmt:
    span: Span
    body: tuple["Stmt", ...]
    handlers: tuple[Handler, ...]
    orelse: tuple["Stmt", ...]
    finalbody: tuple["Stmt", ...]


@node
class ParallelStmt:
    """`parallel(max_concurrency=N):` in a `steps:` block; each body line is a branch."""
    span: Span
    args: tuple[Arg, ...]
    body: tuple["Stmt", ...]


@node
class ParallelForStmt:
    """`parallel for x in state.items (max_concurrency=N):` in a `steps:` block: `body` runs
    once per item, each run a branch (docs/workflows.md "Parallel branches")."""
    span: Span
    target: Expr
    iter: Expr
    args: tuple[Arg, ...]
    body: tuple["Stmt", ...]


@node
class Decorator:
    """`@step(retry=3)`: a dotted name and optional call arguments."""
    span: Span
    name: str
    args: tuple[Arg, ...] | None


@node
class FuncDecl:
    """`def f(...) -> T:` — `receiver` is set for `def (p: Point) norm():` methods.

    `def h(x) = f | g` is built as a FuncDef whose body returns the pipeline.
    """
    span: Span
    name: str
    params: tuple[Param, ...]
    returns: TypeExpr | None
    body: tuple["Stmt", ...]
    receiver: Param | None = None
    decorators: tuple[Decorator, ...] = ()
    docstring: str | None = None
    name_span: Span | None = None


def callable_label(node: FuncDecl) -> str:
    """How a message names a def: "step `name`" for one declared as a workflow step (an
    `@step` decorator, or a parameter typed `WorkflowState`), else "function `name`"."""
    step = any(d.name == "step" for d in node.decorators) or any(
        p.annotation is not None and "WorkflowState" in _names(p.annotation)
        for p in node.params)
    return f"{'step' if step else 'function'} `{node.name}`"


def _names(t: "TypeExpr") -> list[str]:
    if isinstance(t, UnionType):
        return [n for option in t.options for n in _names(option)]
    return [t.name]


@node
class FieldDecl:
    span: Span
    name: str
    annotation: TypeExpr
    default: Expr | None


@node
class StructDecl:
    span: Span
    name: str
    fields: tuple[FieldDecl, ...]
    docstring: str | None = None


@node
class MethodSig:
    span: Span
    name: str
    params: tuple[Param, ...]
    returns: TypeExpr | None


@node
class InterfaceDecl:
    span: Span
    name: str
    methods: tuple[MethodSig, ...]
    embeds: tuple[str, ...]
    docstring: str | None = None


@node
class Requirement:
    """One `requires:` line: a state key and its type."""
    span: Span
    name: str
    annotation: TypeExpr


@node
class WorkflowDecl:
    """`workflow name(params) -> T:` with settings (`version = "1.0"`), `requires:` and `steps:`.

    `steps` holds statements of the steps sub-language: ExprStmt (a step name, call or
    pipeline), For, While, If, Try, Parallel, ParallelFor and Pass (checked by the builder).
    """
    span: Span
    name: str
    params: tuple[Param, ...]
    returns: TypeExpr | None
    settings: tuple[tuple[str, Expr], ...]
    requires: tuple[Requirement, ...]
    steps: tuple["Stmt", ...]
    docstring: str | None = None


@node
class WorkflowComposeDecl:
    """`workflow rlhf = sft | reward_model | rl`."""
    span: Span
    name: str
    expr: Expr


Stmt = Union[ExprStmt, AssignStmt, AnnAssignStmt, AugAssignStmt, IfStmt, WhileStmt, ForStmt,
             BreakStmt, ContinueStmt, PassStmt, NonlocalStmt, ReturnStmt, RaiseStmt, AssertStmt,
             ImportStmt, FromImportStmt, TryStmt, ParallelStmt, ParallelForStmt, FuncDecl,
             StructDecl, InterfaceDecl, WorkflowDecl, WorkflowComposeDecl]


@node
class Module:
    """A parsed source file: its statements in order."""
    span: Span
    body: tuple[Stmt, ...]
    docstring: str | None = None
