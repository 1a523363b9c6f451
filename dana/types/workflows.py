"""Workflow checking: step signatures through `steps:` blocks and required state.

Consumes: `WorkflowDef` / `WorkflowCompose` nodes and the checked functions they name
(through the `Checker` this mixes into). Produces: diagnostics E0401-E0412 — a state key
read before any step provides it on every path, disagreeing key types, a step whose input
does not accept the previous step's output, a wrong workflow output, parallel branches
writing one key, bad settings and unknown config keys — plus each workflow's computed
required state and final writes (for sub-workflows, composition and `run(...)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dana.syntax import ast as A
from dana.types import messages as M
from dana.types.scope import WORKFLOW, Scope, Symbol
from dana.types.state_analysis import Effects, collect_effects, expression_effects
from dana.types.types import (ANY, BOOL, FLOAT, INT, NONE, STATE, STR, AnyT, ClassT,
                              FunctionT, ListT, ParamT, StateT, Type, WorkflowT, element_type,
                              assignable, join, join_all, overlaps)
from dana.types.walk import placeholders

ALWAYS_KEYS = frozenset({"error", "config"})
SETTINGS: dict[str, tuple[Type, str]] = {
    "version": (STR, "a string"), "description": (STR, "a string"),
    "on_error": (STR, 'one of "halt", "skip", "retry"'), "retry": (INT, "an `int`"),
    "timeout": (FLOAT, "a `float`"), "max_concurrency": (INT, "an `int`"),
    "cache": (BOOL, "a `bool`"),
}


@dataclass
class Flow:
    """What the state holds at one point of a `steps:` block: keys written on every path
    (with their provider), keys written on some path, and the type each key holds."""

    definite: dict[str, tuple[str, int]] = field(default_factory=dict)
    possible: dict[str, tuple[str, int]] = field(default_factory=dict)
    types: dict[str, tuple[Type, str]] = field(default_factory=dict)
    first: bool = True
    assumed: set[str] = field(default_factory=set)

    def copy(self) -> "Flow":
        return Flow(dict(self.definite), dict(self.possible), dict(self.types), self.first,
                    set(self.assumed))

    def merge(self, others: list["Flow"]) -> None:
        """Keep in `definite` only keys every flow in `others` wrote."""
        self.definite = {k: v for k, v in others[0].definite.items()
                         if all(k in o.definite for o in others[1:])}
        for o in others:
            for k, v in o.possible.items():
                self.possible.setdefault(k, v)
            for k, v in o.types.items():
                self.types.setdefault(k, v)
            self.first = self.first and o.first
            self.assumed |= o.assumed


@dataclass
class WorkflowCtx:
    """One workflow being analysed; `collect` gathers missing keys instead of reporting
    them (a composed workflow's requirements)."""

    wf: WorkflowT
    scope: Scope
    writers: dict[str, tuple[str, int]]
    collect: dict[str, Type] | None = None


class WorkflowMixin:
    """Workflow handlers of the `Checker`."""

    # -------------------------------------------------------------- declarations
    def declare_workflow(self, node: Any, scope: Scope) -> None:
        if isinstance(node, A.WorkflowCompose):
            wf = WorkflowT(node.name, node=node)
        else:
            params = tuple(ParamT(p.name, self.annotation(p.annotation, scope),
                                  p.default is not None) for p in node.params)
            requires = {r.name: self.annotation(r.annotation, scope) for r in node.requires}
            returns = self.annotation(node.returns, scope) if node.returns else ANY
            wf = WorkflowT(node.name, params, returns, requires, node)
        wf.scope, wf.status, wf.final = scope, "new", {}
        scope.define(Symbol(node.name, wf, WORKFLOW, node.span, info=wf))
        self.workflows.append(wf)

    def check_workflows(self) -> None:
        for wf in list(self.workflows):
            self.check_workflow(wf)

    def check_workflow(self, wf: WorkflowT) -> None:
        """Analyse a workflow once (on demand when another workflow uses it)."""
        if getattr(wf, "status", "done") != "new":
            return
        wf.status = "checking"
        if isinstance(wf.node, A.WorkflowCompose):
            self.check_compose(wf)
        else:
            self.check_workflow_def(wf)
        wf.status = "done"

    def requires_of(self, wf: WorkflowT) -> dict[str, Type]:
        if isinstance(wf.node, A.WorkflowCompose):
            self.check_workflow(wf)
        return wf.requires

    # -------------------------------------------------------------- workflow definitions
    def check_workflow_def(self, wf: WorkflowT) -> None:
        node: A.WorkflowDef = wf.node
        scope = Scope(wf.scope, "function")
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
        flow.types = {k: (t, "required") for k, t in wf.requires.items()}
        out = self.steps(node.steps, NONE, flow, ctx)
        if node.returns is not None and not overlaps(out, wf.returns):
            self.report(M.WORKFLOW_OUTPUT_MISMATCH, node.returns.span, workflow=wf.name,
                        dst=wf.returns, src=out)
        if node.returns is None:
            wf.returns = out
        wf.final = {k: flow.types.get(k, (ANY, ""))[0] for k in flow.definite}

    def check_settings(self, node: A.WorkflowDef, scope: Scope) -> None:
        for name, value in node.settings:
            t = self.expr(value, scope)
            if name not in SETTINGS:
                self.report(M.UNKNOWN_SETTING, value.span, name=name,
                            _suggest=(name, list(SETTINGS)))
                continue
            want, described = SETTINGS[name]
            literal = value.value if isinstance(value, A.Literal) else None
            if not overlaps(t, want) or (name == "on_error" and isinstance(literal, str)
                                         and literal not in ("halt", "skip", "retry")):
                self.report(M.BAD_SETTING, value.span, name=name, expected=described)

    def all_writers(self, steps: tuple, scope: Scope) -> dict[str, tuple[str, int]]:
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
        if isinstance(s, A.If):
            return self.step_if(s, cur, flow, ctx)
        if isinstance(s, (A.For, A.While)):
            return self.step_loop(s, cur, flow, ctx)
        if isinstance(s, A.Try):
            return self.step_try(s, cur, flow, ctx)
        if isinstance(s, A.Parallel):
            return self.step_parallel(s, cur, flow, ctx)
        return cur

    def step_if(self, s: A.If, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        self.header(s.cond, flow, ctx)
        then, other = flow.copy(), flow.copy()
        out = join(self.steps(s.body, cur, then, ctx), self.steps(s.orelse, cur, other, ctx))
        flow.merge([then, other])
        return out

    def step_loop(self, s: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        body = flow.copy()
        if isinstance(s, A.For):
            self.header(s.iter, flow, ctx)
            elem = element_type(self.types.get(id(s.iter), ANY)) or ANY
            self.bind_target(s.target, elem, ctx.scope)
            for name in _names(s.target):
                body.definite[name] = ("for", s.span.line)
                body.types[name] = (elem, "the loop variable")
        else:
            self.header(s.cond, flow, ctx)
        out = self.steps(s.body, cur, body, ctx)
        loop_vars = set(_names(s.target)) if isinstance(s, A.For) else set()
        flow.merge([body])
        for name in loop_vars:
            flow.definite.pop(name, None)
            flow.types.pop(name, None)
        return join(cur, out)

    def step_try(self, s: A.Try, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
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
                hflow.types[h.name] = (ANY, "the error record")
            outs.append(self.steps(h.body, cur, hflow, ctx))
            branches.append(hflow)
        flow.merge(branches)
        result = join_all(outs)
        self.steps(s.finalbody, result, flow, ctx)
        return result

    def step_parallel(self, s: A.Parallel, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        for arg in s.args:
            self.expr(arg.value, ctx.scope)
        seen: dict[str, int] = {}
        added: dict[str, tuple[str, int]] = {}
        for stmt in s.body:
            branch = flow.copy()
            self.step_stmt(stmt, cur, branch, ctx)
            new = set(branch.definite) - set(flow.definite) | (
                set(branch.possible) - set(flow.possible))
            for key in sorted(new):
                if key in seen:
                    self.report(M.PARALLEL_CONFLICT, stmt.span, key=key,
                                _notes=(M.NOTE_PARALLEL_OTHER.format(line=seen[key]),))
                seen.setdefault(key, stmt.span.line)
            added.update({k: v for k, v in branch.definite.items() if k not in flow.definite})
            for k, v in branch.types.items():
                flow.types.setdefault(k, v)
        flow.definite.update(added)
        flow.first = False
        return ANY

    def header(self, expr: Any, flow: Flow, ctx: WorkflowCtx) -> None:
        """A condition or loop source in `steps:`: typed, and its state reads checked."""
        self.expr(expr, ctx.scope)
        fx = expression_effects(expr, {"state"}, self.types, self.helper_lookup)
        for key, read in fx.reads.items():
            self.check_read("the workflow condition", key, read, read.span, flow, ctx)

    # -------------------------------------------------------------- one step
    def invoke(self, expr: Any, cur: Type, flow: Flow, ctx: WorkflowCtx) -> Type:
        """Run one step expression on input `cur`: returns the step's output type."""
        if isinstance(expr, A.Pipeline):
            for stage in expr.stages:
                cur = self.invoke(stage.expr, cur, flow, ctx)
                if stage.name:
                    self.record_write(stage.name, cur, stage.span, f"`{stage.name}`", flow,
                                      ctx, True)
            return cur
        if isinstance(expr, A.ListExpr):
            outs = [self.invoke(item, cur, flow.copy(), ctx) for item in expr.items]
            return ListT(join_all(outs))
        target = expr.func if isinstance(expr, A.Call) else expr
        if not isinstance(target, A.Name):
            t = self.expr(expr, ctx.scope)
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
        call = expr if isinstance(expr, A.Call) else None
        if isinstance(sym.type, WorkflowT):
            return self.invoke_workflow(sym.type, expr, flow, ctx)
        if sym.info is not None and hasattr(sym.info, "node") and \
                isinstance(sym.info.node, A.FuncDef):
            return self.invoke_function(sym.info, expr, call, cur, flow, ctx)
        t = self.function_type(sym) if sym.info is not None else sym.type
        if call is not None:
            self.step_call_args(call, t, cur, ctx)
        if isinstance(t, FunctionT):
            self.check_input(sym.name, t, cur, expr, flow, call)
            return self.result_of(t, [])
        if isinstance(t, (AnyT, ClassT)):
            return ANY
        self.report(M.NOT_A_STEP, expr.span, name=sym.name,
                    reason=f"it is not a function or workflow (its type is `{t}`)")
        return ANY

    def invoke_function(self, info: Any, expr: Any, call: A.Call | None, cur: Type,
                        flow: Flow, ctx: WorkflowCtx) -> Type:
        self.ensure_checked(info)
        name = info.node.name
        if call is not None:
            self.step_call_args(call, info.type, cur, ctx)
        self.check_input(name, info.type, cur, expr, flow, call)
        fx = self.function_effects(info, _state_positions(info.type))
        label = f"step `{name}`"
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

    def check_input(self, name: str, ft: FunctionT, cur: Type, expr: Any, flow: Flow,
                    call: A.Call | None) -> None:
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
        if not inputs or (inputs[0].has_default and cur == NONE):
            return
        if not assignable(cur, inputs[0].type):
            notes = (M.NOTE_FIRST_STEP,) if flow.first else ()
            self.report(M.STEP_INPUT_MISMATCH, expr.span, step=name, dst=inputs[0].type,
                        src=cur, _notes=notes)

    def step_call_args(self, call: A.Call, ft: Type, cur: Type, ctx: WorkflowCtx) -> None:
        """`step(a, k=b)` in `steps:` runs `step(previous, a, k=b)` (or puts the previous
        output at `$$`), WorkflowState parameters filled in by keyword."""
        if isinstance(ft, FunctionT):
            named = {a.name for a in call.args if a.name is not None}
            params = [p for p in ft.params if not isinstance(p.type, StateT)]
            params.sort(key=lambda p: p.name in named)  # keyword-bound ones are not the input
            ft = FunctionT(tuple(params), ft.returns, ft.star, ft.kwstar, ft.name, ft.infer)
        self.record(call.func, ft)
        if placeholders(call):
            self.piped.append(cur)
            try:
                args = [(a, self.expr(a.value, ctx.scope)) for a in call.args]
            finally:
                self.piped.pop()
            self.apply(ft, call, args, f"`{_ref_name(call.func)}`")
            return
        self.call_with_input(call, cur, ctx.scope, ft)

    def invoke_workflow(self, wf: WorkflowT, expr: Any, flow: Flow, ctx: WorkflowCtx) -> Type:
        if wf is ctx.wf:
            return wf.returns
        self.check_workflow(wf)
        label = f"sub-workflow `{wf.name}`"
        for key, want in wf.requires.items():
            self.check_read(label, key, None, expr.span, flow, ctx, want)
        for key, t in wf.final.items():
            self.record_write(key, t, expr.span, label, flow, ctx, True)
        return wf.returns

    # -------------------------------------------------------------- reads and writes
    def check_read(self, label: str, key: str, read: Any, span: Any, flow: Flow,
                   ctx: WorkflowCtx, want: Type = ANY) -> None:
        if key in flow.definite or key in ALWAYS_KEYS or key in ctx.wf.requires \
                or key in flow.assumed:
            return
        flow.assumed.add(key)
        if ctx.collect is not None:
            ctx.collect.setdefault(key, want)
            return
        notes = []
        if read is not None and read.span.source is span.source and read.span != span:
            note = M.NOTE_READ_VIA if read.via else M.NOTE_READ_AT
            notes.append(note.format(helper=read.via, line=read.span.line))
        if key in flow.possible:
            step, line = flow.possible[key]
            notes.append(M.NOTE_PROVIDED_SOMETIMES.format(key=key, step=step, line=line))
            self.report(M.STATE_KEY_LATE, span, step=label, key=key, _notes=tuple(notes))
            return
        if key in ctx.writers:
            step, line = ctx.writers[key]
            notes.append(M.NOTE_PROVIDED_LATER.format(key=key, step=step, line=line))
        else:
            notes.append(M.NOTE_NO_PROVIDER.format(key=key))
        self.report(M.STATE_KEY_MISSING, span, step=label, key=key, _notes=tuple(notes))

    def record_write(self, key: str, t: Type, span: Any, label: str, flow: Flow,
                     ctx: WorkflowCtx, definite: bool, line: int | None = None) -> None:
        if key in ("config", "version"):
            self.report(M.READONLY_STATE_KEY, span, key=key)
            return
        known = flow.types.get(key)
        if known is not None and not overlaps(t, known[0]) and not overlaps(known[0], t):
            self.report(M.STATE_TYPE_CONFLICT, span, key=key, first=known[1], dst=known[0],
                        second=f"written by {label}", src=t)
        elif known is None or isinstance(known[0], AnyT):
            flow.types[key] = (t, f"written by {label}")
        where = (label.split("`")[1] if "`" in label else label, line or span.line)
        if definite:
            flow.definite.setdefault(key, where)
        flow.possible.setdefault(key, where)

    # -------------------------------------------------------------- effects
    def function_effects(self, info: Any, state: set[int]) -> Effects:
        """The (cached) state signature of a function whose state params are `state`."""
        key = (id(info), frozenset(state))
        cache = self.effects_cache
        if key in cache:
            return cache[key] or Effects()
        cache[key] = None
        self.ensure_checked(info)
        names = {p.name for i, p in enumerate(info.type.params) if i in state}
        fx = collect_effects(info.node.body, names, self.types, self.helper_lookup)
        cache[key] = fx
        return fx

    def helper_lookup(self, call: A.Call, where: int | str) -> Effects | None:
        """Effects of the function `call` invokes, the state passed at `where`."""
        if not isinstance(call.func, A.Name):
            return None
        sym = self.module_scope.lookup(call.func.name)
        info = sym.info if sym is not None else None
        if info is None or not hasattr(info, "node") or not isinstance(info.node, A.FuncDef):
            return None
        params = info.type.params
        index = where if isinstance(where, int) else next(
            (i for i, p in enumerate(params) if p.name == where), None)
        if index is None or index >= len(params):
            return None
        return self.function_effects(info, {index})

    def effects_of_ref(self, node: Any, scope: Scope) -> Effects | None:
        sym = scope.lookup(_ref_name(node))
        info = sym.info if sym is not None else None
        if isinstance(getattr(info, "node", None), A.FuncDef):
            return self.function_effects(info, _state_positions(info.type))
        return None

    # -------------------------------------------------------------- composition
    def check_compose(self, wf: WorkflowT) -> None:
        node: A.WorkflowCompose = wf.node
        scope = Scope(wf.scope, "function")
        scope.define(Symbol("state", STATE, "param"))
        collected: dict[str, Type] = {}
        ctx = WorkflowCtx(wf, scope, {}, collected)
        flow = Flow()
        expr = node.expr
        if isinstance(expr, A.Call) and isinstance(expr.func, A.Name) \
                and expr.func.name == "compose":
            expr = A.Pipeline(expr.span, tuple(A.PipeStage(a.span, a.value, None)
                                               for a in expr.args))
        wf.returns = self.invoke(expr, NONE, flow, ctx)
        wf.requires = collected
        wf.final = {k: flow.types.get(k, (ANY, ""))[0] for k in flow.definite
                    if k not in collected}


def _state_positions(ft: FunctionT) -> set[int]:
    return {i for i, p in enumerate(ft.params) if isinstance(p.type, StateT)}


def _step_refs(stmts: tuple) -> list[Any]:
    """Step references (names, calls) of a `steps:` block, in source order."""
    from dana.types.walk import walk
    out = []
    for stmt in stmts:
        for node in walk(stmt):
            if isinstance(node, A.Name) and node.name != "state":
                out.append(node)
    return out


def _ref_name(node: Any) -> str:
    return node.name if isinstance(node, A.Name) else ""


def _names(target: Any) -> list[str]:
    from dana.types.walk import target_names
    return target_names(target)


__all__ = ["WorkflowMixin", "Flow", "WorkflowCtx"]
