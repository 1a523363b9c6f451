"""Composed workflows: `workflow rlhf = sft | reward_model | rl` and `compose(a, b, ...)`.

Consumes: `WorkflowCompose` nodes and `compose(...)` calls (through the `Checker` this
mixes into). Produces: the composite's `WorkflowT` — its required state (what each part
requires that no earlier part provides, docs/workflows.md "Composition"), config parameters (all
the parts'), output type (the last part's) and final writes — and diagnostics: a part
that is not a workflow (E0406), a part whose first step does not accept the previous
part's output (E0404), parts disagreeing on a state key's type (E0403).
"""

from __future__ import annotations

from typing import Any

from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.scope import SymbolTable, Symbol
from dana.types.types import ANY, ANY_WORKFLOW, NONE, STATE, AnyT, ParamT, Type, WorkflowT
from dana.types.workflow_state import Flow, WorkflowCtx


class CompositionMixin:
    """Composition handlers of the `Checker`."""

    def check_compose(self, wf: WorkflowT) -> None:
        """Run the parts in order on one state flow, collecting unmet requirements."""
        scope = SymbolTable(wf.scope, "function")
        scope.define(Symbol("state", STATE, "param"))
        collected: dict[str, Type] = {}
        ctx = WorkflowCtx(wf, scope, {}, collected)
        flow = Flow()
        cur: Type = NONE
        params: dict[str, ParamT] = {}
        known: dict[str, Type] | None = None  # requirements before the first unknown part
        for part in compose_parts(wf.node.expr):
            t = self.expr(part, wf.scope)
            if isinstance(t, WorkflowT) and t.name is not None:
                cur = self.invoke_workflow(t, part, cur, flow, ctx)
                for p in t.params:
                    params.setdefault(p.name, p)
            else:
                if not isinstance(t, (AnyT, WorkflowT)):
                    self.report(M.NOT_A_STEP, part.span, name=part.span.text,
                                reason=f"the parts of a composed workflow must be "
                                       f"workflows, not `{t}`")
                known = dict(collected) if known is None else known
                cur = ANY
            flow.first = False
        wf.returns = cur
        wf.requires = collected if known is None else known
        wf.params = tuple(params.values())
        wf.final = {k: flow.types[k].type if k in flow.types else ANY
                    for k in flow.definite if k not in collected}

    def compose_call(self, node: A.CallExpr, scope: SymbolTable) -> Type:
        """`compose(a, b, ...)`: a composite workflow, checked like `workflow x = a | b`."""
        if any(a.name is not None or a.star for a in node.args) or not node.args:
            return ANY_WORKFLOW
        if any(not isinstance(self.types.get(id(a.value)), WorkflowT)
               or self.types[id(a.value)].name is None for a in node.args):
            self.check_workflow(self.composite(node, scope))  # reports parts that are not
            return ANY_WORKFLOW
        return self.check_workflow(self.composite(node, scope))

    def composite(self, node: A.CallExpr, scope: SymbolTable) -> WorkflowT:
        names = [a.value.span.text for a in node.args]
        wf = WorkflowT("+".join(names), node=A.WorkflowComposeDecl(node.span, "+".join(names),
                                                               node))
        wf.scope, wf.status = scope, "new"
        return wf


def compose_parts(expr: Any) -> list[Any]:
    """The part expressions of `a | b | c` or `compose(a, b, c)`."""
    if isinstance(expr, A.PipelineExpr):
        return [s.expr for s in expr.stages]
    if isinstance(expr, A.CallExpr) and isinstance(expr.func, A.NameExpr) \
            and expr.func.name == "compose":
        return [a.value for a in expr.args]
    return [expr]

