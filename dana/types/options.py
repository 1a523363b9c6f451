"""Options checked against their declarations (dana/surface): a function's decorators and
`@step(...)` options, a workflow's settings, and the options of `parallel` blocks
(docs/workflows.md "Step options", "Settings", "Parallel steps").

Consumes: `FuncDecl` decorators, `WorkflowDecl` settings and `parallel` arguments, and the
typing pass (`Typer`: each option's value is typed like any expression).
Produces: diagnostics E0315 (`@step`), E0409 and E0415 (settings), E0416 (`parallel`):
an unknown decorator, option or setting, a value of the wrong type or out of range, a
hook that cannot be called as the runner calls it; and on each function's `FuncInfo` its literal `options` and its
`hooks` (the functions `validate=`/`rollback=` name).
"""

from __future__ import annotations

from typing import Any, Protocol

from dana.messages import checks as M
from dana.surface import ON_ERROR_VALUES
from dana.syntax import ast as A
from dana.types.scope import SymbolTable
from dana.types.signatures import HOOK_ARGS, SETTINGS, STEP_OPTIONS
from dana.types.types import BOOL, INT, FunctionT, Type, assignable, overlaps


class Typer(Protocol):
    """What option checking needs of the typing pass."""

    def expr(self, node: Any, scope: SymbolTable) -> Type: ...
    def report(self, msg: Any, span: Any, **kw: Any) -> None: ...


class Options:
    """Checks options for the typing pass `typer`."""

    def __init__(self, typer: Typer) -> None:
        self.typer = typer

    def decorators(self, node: A.FuncDecl, info: Any, scope: SymbolTable) -> None:
        """`@step(...)` (the only decorator) and each of its options."""
        for dec in node.decorators:
            if dec.name != "step":
                self.typer.report(M.UNKNOWN_DECORATOR, dec.span, name=dec.name)
                continue
            for arg in dec.args or ():
                self.step_option(arg, info, scope)

    def step_option(self, arg: A.Arg, info: Any, scope: SymbolTable) -> None:
        t = self.typer.expr(arg.value, scope)
        if arg.name is None or arg.name not in STEP_OPTIONS:
            name = arg.name or "(positional)"
            self.typer.report(M.UNKNOWN_STEP_OPTION, arg.span, name=name,
                              _suggest=(name, list(STEP_OPTIONS)))
            return
        want, described = STEP_OPTIONS[arg.name]
        value = _literal(arg.value)
        bad = not overlaps(t, want)
        if arg.name == "on_error" and isinstance(value, str) and value not in ON_ERROR_VALUES:
            bad, t = True, f'"{value}"'
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            bad, described, t = True, described + " >= 0", value
        if arg.name in HOOK_ARGS and not bad and isinstance(t, FunctionT):
            bad = not _hook_fits(t, arg.name)
        if bad:
            self.typer.report(M.BAD_STEP_OPTION, arg.value.span, name=arg.name,
                              expected=described, src=t)
        info.options[arg.name] = value
        hook = scope.lookup(arg.value.name) if isinstance(arg.value, A.NameExpr) else None
        if arg.name in HOOK_ARGS and not bad and hook is not None \
                and isinstance(getattr(hook.info, "node", None), A.FuncDecl):
            info.hooks[arg.name] = hook.info

    def settings(self, node: A.WorkflowDecl, scope: SymbolTable) -> None:
        """A workflow's settings (`version = "1.0"`, `on_error = "stop"`, ...)."""
        for name, value in node.settings:
            t = self.typer.expr(value, scope)
            if name not in SETTINGS:
                self.typer.report(M.UNKNOWN_SETTING, value.span, name=name,
                                  _suggest=(name, list(SETTINGS)))
                continue
            want, described = SETTINGS[name]
            literal = value.value if isinstance(value, A.LiteralExpr) else None
            if not overlaps(t, want) or (name == "on_error" and isinstance(literal, str)
                                         and literal not in ON_ERROR_VALUES):
                self.typer.report(M.BAD_SETTING, value.span, name=name, expected=described)

    def parallel(self, s: A.ParallelStmt | A.ParallelForStmt, scope: SymbolTable) -> None:
        """`parallel(max_concurrency=N)`: the only option, an `int` >= 1."""
        for arg in s.args:
            t = self.typer.expr(arg.value, scope)
            if arg.name != "max_concurrency":
                name = arg.name or "(positional)"
                self.typer.report(M.UNKNOWN_PARALLEL_OPTION, arg.span, name=name,
                                  _suggest=(name, ["max_concurrency"]))
                continue
            value = arg.value.value if isinstance(arg.value, A.LiteralExpr) else None
            if isinstance(value, int) and not isinstance(value, bool) and value < 1:
                self.typer.report(M.BAD_PARALLEL_OPTION, arg.value.span, src=value)
            elif not overlaps(t, INT):
                self.typer.report(M.BAD_PARALLEL_OPTION, arg.value.span, src=t)


def _literal(node: Any) -> Any:
    """The value of a literal option (`3`, `-1.5`, `"skip"`); None for anything else."""
    if isinstance(node, A.UnaryOpExpr) and node.op == "-" \
            and isinstance(node.operand, A.LiteralExpr) \
            and isinstance(node.operand.value, (int, float)):
        return -node.operand.value
    return node.value if isinstance(node, A.LiteralExpr) else None


def _hook_fits(ft: FunctionT, hook: str) -> bool:
    """Whether `ft` can be called as the runner calls a `validate`/`rollback` hook."""
    args = HOOK_ARGS[hook]
    if hook == "validate" and not overlaps(ft.returns, BOOL):
        return False
    if ft.star:
        return True
    if len(ft.params) < len(args) or len(ft.required()) > len(args):
        return False
    return all(assignable(a, p.type) for a, p in zip(args, ft.params))
