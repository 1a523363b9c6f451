"""Workflow checking: step signatures through `steps:` blocks.

Consumes: `WorkflowDef` nodes and the checked functions they name (through the `Checker`
this mixes into). Produces: diagnostics E0404-E0407, E0409, E0412, E0415 and E0416 — a
step whose input does not accept the previous step's output, a wrong workflow output,
something that cannot be a step, parallel branches writing one key, bad settings,
`parallel` options and unknown config keys — plus each workflow's output type, input
type (what its first step takes), required state and final writes (for sub-workflows,
composition and `run(...)`). The state flow itself lives in `workflow_state`, composition
in `composition`.
"""

from __future__ import annotations

from typing import Any

from dana.source import Span
from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.scope import BUILTIN, WORKFLOW, SymbolTable, Symbol
from dana.types.state_analysis import expression_effects
from dana.types.types import (ANY, INT, NONE, STATE, AnyT, ClassT,
                              FunctionT, ListT, ParamT, StateT, Type, WorkflowT, element_type,
                              assignable, join, join_all, overlaps)
from dana.types.signatures import HOOK_ARGS, NONDETERMINISTIC, SETTINGS
from dana.types.walk import placeholders, walk
from dana.types.workflow_state import Flow, KeyType, WorkflowCtx, merge_types, state_positions

ERROR_RECORD = HOOK_ARGS["rollback"][1]  # {"type", "message", "step"}, as a rollback gets it


class WorkflowMixin:
    """Workflow handlers of the `Checker`."""

    # -------------------------------------------------------------- declarations
    def declare_workflow(self, node: Any, scope: SymbolTable) -> None:
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

    def check_workflows(self) -> None:
        for wf in list(self.workflows):
            self.check_workflow(wf)

    def check_workflow(self, wf: WorkflowT) -> WorkflowT:
        """Analyse a workflow once (on demand when another workflow uses it)."""
        if getattr(wf, "status", "done") != "new":
            return wf
        wf.status = "checking"
        with self.isolated():
            if isinstance(wf.node, A.WorkflowComposeDecl):
                self.check_compose(wf)
            else:
                self.check_workflow_def(wf)
        wf.status = "done"
        return wf

    def requires_of(self, wf: WorkflowT) -> dict[str, Type]:
        if isinstance(wf.node, A.WorkflowComposeDecl):
            self.check_workflow(wf)
        return wf.requires

    # -------------------------------------------------------------- workflow definitions
    def check_workflow_def(self, wf: WorkflowT) -> None:
        node: A.WorkflowDecl = wf.node
        scope = SymbolTable(wf.scope, "function")
        scope.define(Symbol("state", STATE, "param"))
        for p, pt in zip(node.params, wf.params):
            if p.default is not None:
                self.expect(self.expr(p.default, wf.scope), pt.type, p.default.span,
                            target=f"config `{p.name}`")
            scope.define(Symbol(p.name, pt.type, "param", p.span, declared=pt.type))
        self.check_settings(node, scope)
        ctx = WorkflowCtx(wf, scope, self.all_writers(node.steps, scope))
        flow = Flow({k: ("requires", r.span.line) for k, r in
                     zip(wf.requires, node.requires)})
        flow.types = {r.name: KeyType(wf.requires[r.name], "required", r.span.line)
                      for r in node.requires}
        out = self.steps(node.steps, NONE, flow, ctx)
        if node.returns is not None and not overlaps(out, wf.returns):
            self.report(M.WORKFLOW_OUTPUT_MISMATCH, node.returns.span, workflow=wf.name,
                        dst=wf.returns, src=out)
        if node.returns is None:
            wf.returns = out
        wf.final = {k: flow.types[k].type if k in flow.types else ANY
                    for k, (provider, _) in flow.definite.items() if provider != "requires"}

    def check_settings(self, node: A.WorkflowDecl, scope: SymbolTable) -> None:
        for name, value in node.settings:
            t = self.expr(value, scope)
            if name not in SETTINGS:
                self.report(M.UNKNOWN_SETTING, value.span, name=name,
                            _suggest=(name, list(SETTINGS)))
                continue
            want, described = SETTINGS[name]
            literal = value.value if isinstance(value, A.LiteralExpr) else None
            if not overlaps(t, want) or (name == "on_error" and isinstance(literal, str)
                                         and literal not in ("halt", "skip", "retry")):
                self.report(M.BAD_SETTING, value.span, name=name, expected=described)

    def all_writers(self, steps: tuple, scope: SymbolTable) -> dict[str, tuple[str, int]]:
        """The first step (in source order) that writes each key: for "provided later"."""
        out: dict[str, tuple[str, int]] = {}
        for node in _step_refs(steps):
            fx = self.effects_of_ref(node, scope)
            for key in (fx.writes if fx else {}):
                out.setdefault(key, (_ref_name(node), node.span.line))
        return out

    # -------------------------------------------------------------- steps blocks
    def steps(self, stmts: tuple, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        for stmt in stmts:
            cur = self.step_stmt(stmt, cur, flow, ctx)
        return cur

    def step_stmt(self, s: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        if isinstance(s, A.ExprStmt):
            return self.invoke(s.expr, cur, flow, ctx)
        if isinstance(s, A.IfStmt):
            return self.step_if(s, cur, flow, ctx)
        if isinstance(s, (A.ForStmt, A.WhileStmt)):
            return self.step_loop(s, cur, flow, ctx)
        if isinstance(s, A.TryStmt):
            return self.step_try(s, cur, flow, ctx)
        if isinstance(s, A.ParallelStmt):
            return self.step_parallel(s, cur, flow, ctx)
        if isinstance(s, A.ParallelForStmt):
            return self.step_parallel_for(s, cur, flow, ctx)
        return cur

    def step_if(self, s: A.IfStmt, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        self.header(s.cond, flow, ctx)
        then, other = flow.copy(), flow.copy()
        out = join(self.steps(s.body, cur, then, ctx), self.steps(s.orelse, cur, other, ctx))
        flow.merge([then, other])
        return out

    def step_loop(self, s: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        before, body = flow.copy(), flow.copy()
        if isinstance(s, A.ForStmt):
            self.header(s.iter, flow, ctx)
            elem = element_type(self.types.get(id(s.iter), ANY)) or ANY
            self.bind_target(s.target, elem, ctx.scope)
            for name in _names(s.target):
                body.definite[name] = ("for", s.span.line)
                body.types[name] = KeyType(elem, "the loop variable", s.span.line)
        else:
            self.header(s.cond, flow, ctx)
        out = self.steps(s.body, cur, body, ctx)
        loop_vars = set(_names(s.target)) if isinstance(s, A.ForStmt) else set()
        flow.merge([body])
        flow.types = merge_types([before, body])
        for name in loop_vars:
            flow.definite.pop(name, None)
            flow.types.pop(name, None)
        return join(cur, out)

    def step_try(self, s: A.TryStmt, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        body = flow.copy()
        outs = [self.steps(s.body + s.orelse, cur, body, ctx)]
        branches = [body]
        for h in s.handlers:
            caught = self.handler_type(h, ctx.scope)
            if h.name:
                ctx.scope.define(Symbol(h.name, caught, "var", h.span))
            hflow = flow.copy()
            if h.name:
                hflow.definite[h.name] = ("handle", h.span.line)
                hflow.types[h.name] = KeyType(ERROR_RECORD, "the error record", h.span.line)
            outs.append(self.steps(h.body, cur, hflow, ctx))
            branches.append(hflow)
        flow.merge(branches)
        result = join_all(outs)
        self.steps(s.finalbody, result, flow, ctx)
        return result

    def step_parallel(self, s: A.ParallelStmt, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        """Each line is a branch run on the block's input from the same state; their
        writes merge (two writing one key: E0407); the output is the list of branch
        outputs, in branch order (common semantics, docs/workflows.md)."""
        self.parallel_options(s, ctx.scope)
        seen: dict[str, int] = {}
        added: dict[str, tuple[str, int]] = {}
        types = dict(flow.types)
        outs: list[Type] = []
        for stmt in s.body:
            if isinstance(stmt, A.PassStmt):
                continue
            branch = flow.copy()
            outs.append(self.step_stmt(stmt, cur, branch, ctx))
            new = set(branch.definite) - set(flow.definite) | (
                set(branch.possible) - set(flow.possible))
            for key in sorted(new):
                if key in seen:
                    self.report(M.PARALLEL_CONFLICT, stmt.span, key=key,
                                _notes=(M.NOTE_PARALLEL_OTHER.format(line=seen[key]),))
                seen.setdefault(key, stmt.span.line)
            added.update({k: v for k, v in branch.definite.items() if k not in flow.definite})
            for k, v in branch.possible.items():
                flow.possible.setdefault(k, v)
            types.update({k: v for k, v in branch.types.items() if flow.types.get(k) != v})
            flow.assumed |= branch.assumed
        flow.definite.update(added)
        flow.types = types
        flow.first = False
        return ListT(join_all(outs)) if outs else ListT(ANY)

    def step_parallel_for(self, s: A.ParallelForStmt, cur: Type, flow: Flow,
                          ctx: WorkflowCtx) -> Type:
        """The body runs once per item, each run a branch on the block's input from the same
        state, seeing its item as state key `var` (the element type of the items). Every
        branch runs the same steps, so a key the body writes is written by every branch
        (E0407). The output is `list[T]`, T the body's output (docs/workflows.md)."""
        self.parallel_options(s, ctx.scope)
        self.header(s.iter, flow, ctx)
        elem = element_type(self.types.get(id(s.iter), ANY)) or ANY
        var = s.target.name
        self.bind_target(s.target, elem, ctx.scope)
        body = flow.copy()
        body.definite[var] = ("for", s.span.line)
        body.types[var] = KeyType(elem, "the loop variable", s.span.line)
        out = self.steps(s.body, cur, body, ctx)
        written = (set(body.definite) - set(flow.definite)) - {var}
        header = Span(s.span.source, s.span.start, (s.args[-1] if s.args else s.iter).span.end)
        for key in sorted(written):
            self.report(M.PARALLEL_FOR_WRITE, header, var=var, key=key,
                        _notes=(M.NOTE_PARALLEL_FOR_OUTPUT,))
            flow.definite[key] = body.definite[key]
        flow.assumed |= body.assumed
        flow.first = False
        return ListT(out)

    def parallel_options(self, s: A.ParallelStmt | A.ParallelForStmt, scope: SymbolTable) -> None:
        """`parallel(max_concurrency=N)`: the only option, an `int` >= 1."""
        for arg in s.args:
            t = self.expr(arg.value, scope)
            if arg.name != "max_concurrency":
                name = arg.name or "(positional)"
                self.report(M.UNKNOWN_PARALLEL_OPTION, arg.span, name=name,
                            _suggest=(name, ["max_concurrency"]))
                continue
            value = arg.value.value if isinstance(arg.value, A.LiteralExpr) else None
            if isinstance(value, int) and not isinstance(value, bool) and value < 1:
                self.report(M.BAD_PARALLEL_OPTION, arg.value.span, src=value)
            elif not overlaps(t, INT):
                self.report(M.BAD_PARALLEL_OPTION, arg.value.span, src=t)

    def header(self, expr: Any, flow: Flow, ctx: WorkflowCtx) -> None:
        """A condition or loop source in `steps:`: typed, its state reads checked, and a
        call of a non-deterministic builtin warned about (E0422: resume replays it)."""
        self.expr(expr, ctx.scope)
        for call in walk(expr):
            if isinstance(call, A.CallExpr) and isinstance(call.func, A.NameExpr) and \
                    call.func.name in NONDETERMINISTIC and \
                    getattr(ctx.scope.lookup(call.func.name), "kind", BUILTIN) == BUILTIN:
                self.report(M.NONDETERMINISTIC_CONDITION, call.span, name=call.func.name)
        fx = expression_effects(expr, {"state"}, self.types, self.helper_lookup)
        for key, read in fx.reads.items():
            self.check_read("the workflow condition", key, read, read.span, flow, ctx)

    # -------------------------------------------------------------- one step
    def invoke(self, expr: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        """Run one step expression on input `cur`: returns the step's output type."""
        if isinstance(expr, A.PipelineExpr):
            for stage in expr.stages:
                cur = self.invoke(stage.expr, cur, flow, ctx)
                if stage.name:
                    self.record_write(stage.name, cur, stage.span, f"`{stage.name}`", flow,
                                      ctx, True)
            return cur
        if isinstance(expr, A.ListExpr):
            outs = [self.invoke(item, cur, flow.copy(), ctx) for item in expr.items]
            return ListT(join_all(outs))
        target = expr.func if isinstance(expr, A.CallExpr) else expr
        if not isinstance(target, A.NameExpr):
            self.in_steps = True  # a step may name a workflow (`lib.flow()`)
            try:
                t = self.expr(expr, ctx.scope)
            finally:
                self.in_steps = False
            flow.first = False
            return t.returns if isinstance(t, FunctionT) else ANY
        sym = ctx.scope.lookup(target.name)
        if sym is None:
            self.expr(target, ctx.scope)
            return ANY
        self.record(target, sym.type)
        out = self.invoke_symbol(sym, expr, cur, flow, ctx)
        flow.first = False
        return out

    def invoke_symbol(self, sym: Symbol, expr: Any, cur: Type, flow: Flow,
                      ctx: WorkflowCtx) -> Type:
        call = expr if isinstance(expr, A.CallExpr) else None
        if isinstance(sym.type, WorkflowT):
            return self.invoke_workflow(sym.type, expr, cur, flow, ctx)
        if sym.info is not None and hasattr(sym.info, "node") and \
                isinstance(sym.info.node, A.FuncDecl):
            return self.invoke_function(sym.info, expr, call, cur, flow, ctx)
        t = self.function_type(sym) if sym.info is not None else sym.type
        if call is not None:
            self.step_call_args(call, t, cur, ctx, flow)
        if isinstance(t, FunctionT):
            self.check_input(sym.name, t, cur, expr, flow, call, ctx)
            return self.result_of(t, [])
        if isinstance(t, (AnyT, ClassT)):
            return ANY
        self.report(M.NOT_A_STEP, expr.span, name=sym.name,
                    reason=f"it is not a function or workflow (its type is `{t}`)")
        return ANY

    def invoke_function(self, info: Any, expr: Any, call: A.CallExpr | None, cur: Type,
                        flow: Flow, ctx: WorkflowCtx) -> Type:
        self.ensure_checked(info)
        name = info.node.name
        if call is not None:
            self.step_call_args(call, info.type, cur, ctx, flow, dana_function=True)
        self.check_input(name, info.type, cur, expr, flow, call, ctx)
        fx = self.function_effects(info, state_positions(info.type))
        label = f"step `{name}`"
        self.hook_effects(info, expr, flow, ctx)
        for key, read in fx.reads.items():
            self.check_read(label, key, read, expr.span, flow, ctx)
        for key, span in fx.config.items():
            if ctx.collect is None and key not in {p.name for p in ctx.wf.params}:
                self.report(M.UNKNOWN_CONFIG, span, wf=ctx.wf.name, key=key,
                            _suggest=(key, [p.name for p in ctx.wf.params]))
        for key, w in fx.writes.items():
            self.record_write(key, w.type, w.span, label, flow, ctx, w.definite,
                              line=expr.span.line)
        return info.type.returns

    def hook_effects(self, info: Any, expr: Any, flow: Flow, ctx: WorkflowCtx) -> None:
        """A step's `validate` hook reads the state the step would see; its `rollback` hook
        reads it after a failed attempt and may write (its writes are not certain)."""
        for kind, hook in info.hooks.items():
            fx = self.function_effects(hook, {0})
            label = f"step `{info.node.name}` (its {kind} hook `{hook.node.name}`)"
            for key, read in fx.reads.items():
                self.check_read(label, key, read, expr.span, flow, ctx)
            if kind == "rollback":
                for key, w in fx.writes.items():
                    self.record_write(key, w.type, w.span, label, flow, ctx, False,
                                      line=expr.span.line)

    def check_input(self, name: str, ft: FunctionT, cur: Type, expr: Any, flow: Flow,
                    call: A.CallExpr | None, ctx: WorkflowCtx) -> None:
        """The step's input parameter must accept the previous step's output."""
        inputs = [p for p in ft.params if not isinstance(p.type, StateT)]
        if call is not None or ft.star:
            return
        extra = [p.name for p in inputs[1:] if not p.has_default]
        if extra:
            self.report(M.NOT_A_STEP, expr.span, name=name,
                        reason="it needs more than one input (" +
                        ", ".join(f"`{p}`" for p in [inputs[0].name] + extra) + ")")
            return
        if not inputs:
            return
        self.note_input(flow, ctx, inputs[0].type, name)
        if not assignable(cur, inputs[0].type):
            notes = (M.NOTE_FIRST_STEP,) if flow.first else ()
            self.report(M.STEP_INPUT_MISMATCH, expr.span, step=name, dst=inputs[0].type,
                        src=cur, _notes=notes)

    def note_input(self, flow: Flow, ctx: WorkflowCtx, t: Type, step: str) -> None:
        """The first step takes the workflow's input: remember what it accepts."""
        if flow.first and ctx.wf.input is None:
            ctx.wf.input, ctx.wf.input_step = t, step

    def step_call_args(self, call: A.CallExpr, ft: Type, cur: Type, ctx: WorkflowCtx,
                       flow: Flow | None = None, dana_function: bool = False) -> None:
        """`step(a, k=b)` in `steps:` binds like the runner's partial step: WorkflowState
        parameters get the state; the previous output goes at `$$`, else to the first
        non-state parameter not bound by keyword, and the positional arguments fill the
        rest in order. A Dana step whose non-state parameters are all bound by keyword
        takes no input. Host callables get the input first, as in a pipeline."""
        takes_input = True
        if isinstance(ft, FunctionT) and dana_function:
            named = {a.name for a in call.args if a.name is not None}
            params = [p for p in ft.params if not isinstance(p.type, StateT)]
            free = [p for p in params if p.name not in named]
            bound = [p for p in params if p.name in named]
            takes_input = bool(free) or ft.star
            positional = [a for a in call.args if a.name is None]
            if takes_input and not ft.star and not placeholders(call) \
                    and len(positional) >= len(free):
                self.step_args_fill_input(call, free, positional)
                return
            ft = FunctionT(tuple(free + bound), ft.returns, ft.star, ft.kwstar, ft.name,
                           ft.infer)
        self.record(call.func, ft)
        if flow is not None and takes_input and isinstance(ft, FunctionT) and ft.params \
                and not placeholders(call):
            self.note_input(flow, ctx, ft.params[0].type, _ref_name(call.func))
        if not takes_input and not placeholders(call):
            args = [(a, self.expr(a.value, ctx.scope)) for a in call.args]
            self.apply(ft, call, args, f"`{_ref_name(call.func)}`")
            return
        if placeholders(call):
            self.piped.append(cur)
            try:
                args = [(a, self.expr(a.value, ctx.scope)) for a in call.args]
            finally:
                self.piped.pop()
            self.apply(ft, call, args, f"`{_ref_name(call.func)}`")
            return
        self.call_with_input(call, cur, ctx.scope, ft)

    def step_args_fill_input(self, call: A.CallExpr, free: list, positional: list) -> None:
        """`fetch(3)` for `def fetch(state: WorkflowState, limit: int)`: the input would
        take `limit` and 3 would be one argument too many."""
        step = _ref_name(call.func)
        most = len(free) - 1
        example = ", ".join(f"{p.name}={a.value.span.text}" for p, a in zip(free, positional))
        self.report(M.STEP_TOO_MANY_ARGS, positional[most].span if most >= 0 else call.span,
                    step=step, most=most, s="" if most == 1 else "s", given=len(positional),
                    _notes=(M.NOTE_STEP_KEYWORDS.format(step=step, example=example),))

    def invoke_workflow(self, wf: WorkflowT, expr: Any, cur: Type, flow: Flow,
                        ctx: WorkflowCtx) -> Type:
        """A workflow used as a step (or a part of a composition) runs inline on the
        same state: its required state must hold here with the declared types, and its
        first step takes the previous output."""
        if wf is ctx.wf:
            return wf.returns
        self.check_workflow(wf)
        label = f"sub-workflow `{wf.name}`"
        if wf.input is not None:
            self.note_input(flow, ctx, wf.input, wf.name)
            if not assignable(cur, wf.input):
                notes = (M.NOTE_FIRST_STEP,) if flow.first else ()
                self.report(M.WORKFLOW_INPUT_MISMATCH, expr.span, wf=wf.name,
                            step=wf.input_step, dst=wf.input, src=cur, _notes=notes)
        for key, want in wf.requires.items():
            self.check_read(label, key, None, expr.span, flow, ctx, want)
        for key, t in wf.final.items():
            self.record_write(key, t, expr.span, label, flow, ctx, True)
        return wf.returns


def _step_refs(stmts: tuple) -> list[Any]:
    """Step references (names, calls) of a `steps:` block, in source order."""
    from dana.types.walk import walk
    out = []
    for stmt in stmts:
        for node in walk(stmt):
            if isinstance(node, A.NameExpr) and node.name != "state":
                out.append(node)
    return out


def _ref_name(node: Any) -> str:
    return node.name if isinstance(node, A.NameExpr) else ""


def _names(target: Any) -> list[str]:
    from dana.types.walk import target_names
    return target_names(target)


__all__ = ["WorkflowMixin"]
