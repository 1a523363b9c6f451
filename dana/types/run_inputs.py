"""What `run(wf, config={...}, key=value, ...)` gives a workflow, checked as the run checks
it, statically (docs/workflows.md "Running a workflow").

Consumes: a `run(...)` call, its arguments with their types, the state the workflow
requires (`requires`: key -> type, from the workflow pass), the expression types table
and `report`.
Produces: diagnostics E0410 (a required state key not supplied), E0411 (a state value of
the wrong type), E0412-E0414 (an unknown config key, a config value of the wrong type, a
parameter without a default left out of a literal `config`).
"""

from __future__ import annotations

from typing import Any, Callable

from dana.messages import checks as M
from dana.syntax import ast as A
from dana.types.types import ANY, ANY_WORKFLOW, Type, WorkflowT, overlaps

Args = list[tuple[A.Arg, Type]]


def check_run(node: A.CallExpr, args: Args, requires: Callable[[WorkflowT], dict[str, Type]],
              types: dict[int, Type], report: Callable[..., None]) -> None:
    """Check the call `node` of `run` (its `args` typed): config keys and types, state
    types, and the required state keys it does not supply. Nothing is said when the
    workflow is not known statically or an argument is unpacked (`*xs`, `**kw`)."""
    first = next((t for a, t in args if a.name is None and a.star == 0), None)
    if not isinstance(first, WorkflowT) or first.name is None or first is ANY_WORKFLOW:
        return
    if any(a.star for a, _ in args):
        return
    required = requires(first)
    supplied: set[str] = set()
    config = None
    for arg, t in args:
        if arg.name == "config":
            config = arg.value
        elif arg.name is not None:
            supplied.add(arg.name)
            want = required.get(arg.name)
            if want is not None and not overlaps(t, want):
                report(M.RUN_STATE_MISMATCH, arg.value.span, wf=first.name, key=arg.name,
                       type=want, actual=t)
    _config_literal(first, config, node, types, report)
    for key, want in required.items():
        if key not in supplied:
            report(M.RUN_MISSING_STATE, node.span, wf=first.name, key=key, type=want)


def _config_literal(wf: WorkflowT, value: Any, node: A.CallExpr, types: dict[int, Type],
                    report: Callable[..., None]) -> None:
    """A `config` given as a dict literal with string keys (or none given) against the
    workflow's parameters."""
    if value is not None and not isinstance(value, A.DictExpr):
        return
    params = {p.name: p for p in wf.params}
    given: set[str] = set()
    for key, val in zip(value.keys, value.values) if value is not None else ():
        if not (isinstance(key, A.LiteralExpr) and isinstance(key.value, str)):
            return
        given.add(key.value)
        param = params.get(key.value)
        if param is None:
            report(M.UNKNOWN_CONFIG, key.span, wf=wf.name, key=key.value,
                   _suggest=(key.value, list(params)))
            continue
        t = types.get(id(val), ANY)
        if not overlaps(t, param.type):
            report(M.CONFIG_MISMATCH, val.span, wf=wf.name, key=key.value,
                   type=param.type, actual=t)
    for p in wf.params:
        if not p.has_default and p.name not in given:
            report(M.MISSING_CONFIG, node.span, wf=wf.name, key=p.name)
