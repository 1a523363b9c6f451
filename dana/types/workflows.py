"""The workflow pass: step signatures through `steps:` blocks, and composed workflows.

Consumes: `WorkflowDecl` / `WorkflowComposeDecl` nodes (declared by the `Checker` as
`WorkflowT`s), the checked functions they name, and `compose(...)` calls; the typing pass
(`Typer`) types their expressions and checks functions on demand. Produces:
diagnostics E0404-E0407, E0409, E0412, E0415 and E0416 — a step whose input does not
accept the previous step's output, a wrong workflow output, something that cannot be a
step, parallel branches writing one key, bad settings, `parallel` options and unknown
config keys — plus each workflow's output type, input
type (what its first step takes), required state and final writes (for sub-workflows,
composition and `run(...)`). The state flow itself lives in `workflow_state`.

A composite (`workflow rlhf = sft | reward_model | rl`, `compose(a, b, ...)`) runs its
parts in order on one state: it requires what each part requires that no earlier part
provides (docs/workflows.md "Composition"), takes all the parts' config parameters,
returns the last part's output; a part that is not a workflow is E0406, a part whose
first step does not accept the previous part's output E0404, parts disagreeing on a key's
type E0403.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from dana.source import Span
from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.options import Options
from dana.types.scope import BUILTIN, SymbolTable, Symbol
from dana.types.state_analysis import expression_effects
from dana.types.types import (ANY, ANY_WORKFLOW, NONE, STATE, AnyT, ClassT,
                              FunctionT, ListT, ParamT, StateT, Type, WorkflowT, element_type,
                              assignable, join, join_all, overlaps)
from dana.types.signatures import HOOK_ARGS, NONDETERMINISTIC
from dana.types.walk import placeholders, walk
from dana.types.workflow_state import (Flow, KeyType, StateChecks, StepEffects, WorkflowCtx,
                                       merge_types, state_positions)

ERROR_RECORD = HOOK_ARGS["rollback"][1]  # {"type", "message", "step"}, as a rollback gets it


class Typer(Protocol):
    """What the workflow analysis asks of the expression and statement typing pass (the
    `Checker`): types of expressions and targets, calls bound as the typer binds them,
    functions checked on demand, diagnostics, and the body being checked."""

    types: dict[int, Type]
    body: Any
    options: Options  # decorators, settings and `parallel` options

    def expr(self, node: Any, scope: SymbolTable) -> Type: ...
    def record(self, node: Any, t: Type) -> Type: ...
    def resolved(self, node: A.NameExpr, sym: Symbol) -> Symbol: ...
    def report(self, msg: Any, span: Any, **kw: Any) -> None: ...
    def expect(self, src: Type, dst: Type, span: Any, **kw: Any) -> bool: ...
    def bind_target(self, target: Any, t: Type, scope: SymbolTable) -> None: ...
    def handler_type(self, h: A.Handler, scope: SymbolTable) -> Type: ...
    def apply(self, ft: Type, node: A.CallExpr, args: list, label: str) -> Type: ...
    def call_with_input(self, call: A.CallExpr, cur: Type, scope: SymbolTable,
                        ft: Type | None = None) -> Type: ...
    def result_of(self, ft: FunctionT, args: list) -> Type: ...
    def function_type(self, sym: Symbol) -> Type: ...
    def ensure_checked(self, info: Any) -> None: ...
    def isolated(self) -> AbstractContextManager[None]: ...


class WorkflowAnalysis:
    """The workflow pass: analyses each workflow once (on demand when another workflow,
    a composition or `run(...)` needs what it requires and returns). Reads the typer's
    side tables and state demands; writes diagnostics through it and each workflow's
    `WorkflowT` fields (`returns`, `input`, `requires`, `params`, `final`)."""

    def __init__(self, typer: Typer, state: StateChecks, effects: StepEffects) -> None:
        self.typer = typer
        self.state = state
        self.effects = effects

    def check_all(self, workflows: list[WorkflowT]) -> None:
        """Analyse every workflow of the module (those not yet analysed on demand)."""
        for wf in list(workflows):
            self.check_workflow(wf)

    def check_workflow(self, wf: WorkflowT) -> WorkflowT:
        """Analyse a workflow once (on demand when another workflow uses it)."""
        if getattr(wf, "status", "done") != "new":
            return wf
        wf.status = "checking"
        with self.typer.isolated():
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
                self.typer.expect(self.typer.expr(p.default, wf.scope), pt.type, p.default.span,
                                  target=f"config `{p.name}`")
            scope.define(Symbol(p.name, pt.type, "param", p.span, declared=pt.type))
        self.typer.options.settings(node, scope)
        ctx = WorkflowCtx(wf, scope, self.all_writers(node.steps, scope))
        flow = Flow({k: ("requires", r.span.line) for k, r in
                     zip(wf.requires, node.requires)})
        flow.types = {r.name: KeyType(wf.requires[r.name], "required", r.span.line)
                      for r in node.requires}
        out = self.steps(node.steps, NONE, flow, ctx)
        if node.returns is not None and not overlaps(out, wf.returns):
            self.typer.report(M.WORKFLOW_OUTPUT_MISMATCH, node.returns.span, workflow=wf.name,
                              dst=wf.returns, src=out)
        if node.returns is None:
            wf.returns = out
        wf.final = {k: flow.types[k].type if k in flow.types else ANY
                    for k, (provider, _) in flow.definite.items() if provider != "requires"}

    def all_writers(self, steps: tuple, scope: SymbolTable) -> dict[str, tuple[str, int]]:
        """The first step (in source order) that writes each key: for "provided later"."""
        out: dict[str, tuple[str, int]] = {}
        for node in _step_refs(steps):
            fx = self.effects.effects_of_ref(node, scope)
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
            elem = element_type(self.typer.types.get(id(s.iter), ANY)) or ANY
            self.typer.bind_target(s.target, elem, ctx.scope)
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
            caught = self.typer.handler_type(h, ctx.scope)
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
        self.typer.options.parallel(s, ctx.scope)
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
                    self.typer.report(M.PARALLEL_CONFLICT, stmt.span, key=key,
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
        self.typer.options.parallel(s, ctx.scope)
        self.header(s.iter, flow, ctx)
        elem = element_type(self.typer.types.get(id(s.iter), ANY)) or ANY
        var = s.target.name
        self.typer.bind_target(s.target, elem, ctx.scope)
        body = flow.copy()
        body.definite[var] = ("for", s.span.line)
        body.types[var] = KeyType(elem, "the loop variable", s.span.line)
        out = self.steps(s.body, cur, body, ctx)
        written = (set(body.definite) - set(flow.definite)) - {var}
        header = Span(s.span.source, s.span.start, (s.args[-1] if s.args else s.iter).span.end)
        for key in sorted(written):
            self.typer.report(M.PARALLEL_FOR_WRITE, header, var=var, key=key,
                              _notes=(M.NOTE_PARALLEL_FOR_OUTPUT,))
            flow.definite[key] = body.definite[key]
        flow.assumed |= body.assumed
        flow.first = False
        return ListT(out)

    def header(self, expr: Any, flow: Flow, ctx: WorkflowCtx) -> None:
        """A condition or loop source in `steps:`: typed, its state reads checked, and a
        call of a non-deterministic builtin warned about (E0422: resume replays it)."""
        self.typer.expr(expr, ctx.scope)
        for call in walk(expr):
            if isinstance(call, A.CallExpr) and isinstance(call.func, A.NameExpr) and \
                    call.func.name in NONDETERMINISTIC and \
                    getattr(ctx.scope.lookup(call.func.name), "kind", BUILTIN) == BUILTIN:
                self.typer.report(M.NONDETERMINISTIC_CONDITION, call.span, name=call.func.name)
        fx = expression_effects(expr, {"state"}, self.typer.types, self.effects.helper_lookup)
        for key, read in fx.reads.items():
            self.state.check_read("the workflow condition", key, read, read.span, flow, ctx)

    # -------------------------------------------------------------- one step
    def invoke(self, expr: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        """Run one step expression on input `cur`: returns the step's output type, which
        is also the recorded type of a step call, pipeline or list of steps (a step's
        name has the type of the function or workflow it names)."""
        out = self.invoke_step(expr, cur, flow, ctx)
        if not isinstance(expr, A.NameExpr):
            self.typer.record(expr, out)
        return out

    def invoke_step(self, expr: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        if isinstance(expr, A.PipelineExpr):
            for stage in expr.stages:
                cur = self.invoke(stage.expr, cur, flow, ctx)
                if stage.name:
                    self.state.record_write(stage.name, cur, stage.span, f"`{stage.name}`", flow,
                                            ctx, True)
            return cur
        if isinstance(expr, A.ListExpr):
            outs = [self.invoke(item, cur, flow.copy(), ctx) for item in expr.items]
            return ListT(join_all(outs))
        target = expr.func if isinstance(expr, A.CallExpr) else expr
        if not isinstance(target, A.NameExpr):
            self.typer.body.in_steps = True  # a step may name a workflow (`lib.flow()`)
            try:
                t = self.typer.expr(expr, ctx.scope)
            finally:
                self.typer.body.in_steps = False
            flow.first = False
            return t.returns if isinstance(t, FunctionT) else ANY
        sym = ctx.scope.lookup(target.name)
        if sym is None:
            self.typer.expr(target, ctx.scope)
            return ANY
        self.typer.record(target, sym.type)
        self.typer.resolved(target, sym)
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
        t = self.typer.function_type(sym) if sym.info is not None else sym.type
        if call is not None:
            self.step_call_args(call, t, cur, ctx, flow)
        if isinstance(t, FunctionT):
            self.check_input(sym.name, t, cur, expr, flow, call, ctx)
            return self.typer.result_of(t, [])
        if isinstance(t, (AnyT, ClassT)):
            return ANY
        self.typer.report(M.NOT_A_STEP, expr.span, name=sym.name,
                          reason=f"it is not a function or workflow (its type is `{t}`)")
        return ANY

    def invoke_function(self, info: Any, expr: Any, call: A.CallExpr | None, cur: Type,
                        flow: Flow, ctx: WorkflowCtx) -> Type:
        self.typer.ensure_checked(info)
        name = info.node.name
        if call is not None:
            self.step_call_args(call, info.type, cur, ctx, flow, dana_function=True)
        self.check_input(name, info.type, cur, expr, flow, call, ctx)
        fx = self.effects.function_effects(info, state_positions(info.type))
        label = f"step `{name}`"
        self.hook_effects(info, expr, flow, ctx)
        for key, read in fx.reads.items():
            self.state.check_read(label, key, read, expr.span, flow, ctx)
        for key, span in fx.config.items():
            if ctx.collect is None and key not in {p.name for p in ctx.wf.params}:
                self.typer.report(M.UNKNOWN_CONFIG, span, wf=ctx.wf.name, key=key,
                                  _suggest=(key, [p.name for p in ctx.wf.params]))
        for key, w in fx.writes.items():
            self.state.record_write(key, w.type, w.span, label, flow, ctx, w.definite,
                                    line=expr.span.line)
        return info.type.returns

    def hook_effects(self, info: Any, expr: Any, flow: Flow, ctx: WorkflowCtx) -> None:
        """A step's `validate` hook reads the state the step would see; its `rollback` hook
        reads it after a failed attempt and may write (its writes are not certain)."""
        for kind, hook in info.hooks.items():
            fx = self.effects.function_effects(hook, {0})
            label = f"step `{info.node.name}` (its {kind} hook `{hook.node.name}`)"
            for key, read in fx.reads.items():
                self.state.check_read(label, key, read, expr.span, flow, ctx)
            if kind == "rollback":
                for key, w in fx.writes.items():
                    self.state.record_write(key, w.type, w.span, label, flow, ctx, False,
                                            line=expr.span.line)

    def check_input(self, name: str, ft: FunctionT, cur: Type, expr: Any, flow: Flow,
                    call: A.CallExpr | None, ctx: WorkflowCtx) -> None:
        """The step's input parameter must accept the previous step's output."""
        inputs = [p for p in ft.params if not isinstance(p.type, StateT)]
        if call is not None or ft.star:
            return
        extra = [p.name for p in inputs[1:] if not p.has_default]
        if extra:
            needs = ", ".join(f"`{p}`" for p in [inputs[0].name] + extra)
            self.typer.report(M.NOT_A_STEP, expr.span, name=name,
                              reason=f"it needs more than one input ({needs})")
            return
        if not inputs:
            return
        self.note_input(flow, ctx, inputs[0].type, name)
        if not assignable(cur, inputs[0].type):
            notes = (M.NOTE_FIRST_STEP,) if flow.first else ()
            self.typer.report(M.STEP_INPUT_MISMATCH, expr.span, step=name, dst=inputs[0].type,
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
        self.typer.record(call.func, ft)
        if flow is not None and takes_input and isinstance(ft, FunctionT) and ft.params \
                and not placeholders(call):
            self.note_input(flow, ctx, ft.params[0].type, _ref_name(call.func))
        if not takes_input and not placeholders(call):
            args = [(a, self.typer.expr(a.value, ctx.scope)) for a in call.args]
            self.typer.apply(ft, call, args, f"`{_ref_name(call.func)}`")
            return
        if placeholders(call):
            self.typer.body.piped.append(cur)
            try:
                args = [(a, self.typer.expr(a.value, ctx.scope)) for a in call.args]
            finally:
                self.typer.body.piped.pop()
            self.typer.apply(ft, call, args, f"`{_ref_name(call.func)}`")
            return
        self.typer.call_with_input(call, cur, ctx.scope, ft)

    def step_args_fill_input(self, call: A.CallExpr, free: list, positional: list) -> None:
        """`fetch(3)` for `def fetch(state: WorkflowState, limit: int)`: the input would
        take `limit` and 3 would be one argument too many."""
        step = _ref_name(call.func)
        most = len(free) - 1
        example = ", ".join(f"{p.name}={a.value.span.text}" for p, a in zip(free, positional))
        span = positional[most].span if most >= 0 else call.span
        self.typer.report(M.STEP_TOO_MANY_ARGS, span, step=step, most=most,
                          s="" if most == 1 else "s", given=len(positional),
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
                self.typer.report(M.WORKFLOW_INPUT_MISMATCH, expr.span, wf=wf.name,
                                  step=wf.input_step, dst=wf.input, src=cur, _notes=notes)
        for key, want in wf.requires.items():
            self.state.check_read(label, key, None, expr.span, flow, ctx, want)
        for key, t in wf.final.items():
            self.state.record_write(key, t, expr.span, label, flow, ctx, True)
        return wf.returns


    # -------------------------------------------------------------- composition
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
        self.typer.record(wf.node.expr, wf)
        for part in compose_parts(wf.node.expr):
            t = self.typer.expr(part, wf.scope)
            if isinstance(t, WorkflowT) and t.name is not None:
                cur = self.invoke_workflow(t, part, cur, flow, ctx)
                for p in t.params:
                    params.setdefault(p.name, p)
            else:
                if not isinstance(t, (AnyT, WorkflowT)):
                    self.typer.report(M.NOT_A_STEP, part.span, name=part.span.text,
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
        if any(not isinstance(self.typer.types.get(id(a.value)), WorkflowT)
               or self.typer.types[id(a.value)].name is None for a in node.args):
            self.check_workflow(self.composite(node, scope))  # reports parts that are not
            return ANY_WORKFLOW
        return self.check_workflow(self.composite(node, scope))

    def composite(self, node: A.CallExpr, scope: SymbolTable) -> WorkflowT:
        names = [a.value.span.text for a in node.args]
        wf = WorkflowT("+".join(names), node=A.WorkflowComposeDecl(node.span, "+".join(names),
                                                                   node))
        wf.scope, wf.status = scope, "new"
        return wf


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


def compose_parts(expr: Any) -> list[Any]:
    """The part expressions of `a | b | c` or `compose(a, b, c)`."""
    if isinstance(expr, A.PipelineExpr):
        return [s.expr for s in expr.stages]
    if isinstance(expr, A.CallExpr) and isinstance(expr.func, A.NameExpr) \
            and expr.func.name == "compose":
        return [a.value for a in expr.args]
    return [expr]


__all__ = ["WorkflowAnalysis", "compose_parts"]
