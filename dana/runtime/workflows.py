"""Turn `workflow` declarations into templates, and Dana values into runnable steps.

Consumes: `WorkflowDef` / `WorkflowCompose` AST nodes (through the statement compiler) and
step values at run time (Dana functions, host callables, sub-workflows).
Produces: `WorkflowTemplate`s whose plans the workflow runner executes, the `run(...)`
builtin (a `RunResult`) and `compose(...)` (docs/workflows.md).
"""

from __future__ import annotations

from typing import Any, Callable

from dana.errors import DanaRuntimeError, DanaSyntaxError, runtime_error, rule_error
from dana.messages import runtime as R
from dana.surface import ON_ERROR_TEXT, ON_ERROR_VALUES
from dana.syntax import ast as A
from dana.runtime import protocol as P
from dana.runtime.functions import Function
from dana.runtime.rtypes import compile_type
from dana.runtime.scopes import FrameLayout
from dana.messages import checks as M
from dana.messages import syntax as S
from dana.types.state_keys import literal_keys
from dana.runtime.values import (BoundMethod, Builtin, ErrorValue, describe_type,
                                 error_matches, type_name)
from dana.workflow.runner import NO_DEFAULT, Runner
from dana.workflow.template import (ForNode, IfNode, ParallelForNode, ParallelNode,
                                    Param, Requirement, Step, StepLine, StepPolicy, TryNode,
                                    WhileNode, WorkflowTemplate)

_SETTINGS = {"version", "on_error", "description"}
_PARALLEL_OPTIONS = ("max_concurrency",)


def compile_workflow(compiler: Any, node: A.WorkflowDecl) -> Callable[[list], WorkflowTemplate]:
    """A closure that builds the template when the `workflow` statement executes."""
    for name, value in node.settings:
        if name not in _SETTINGS:
            raise DanaSyntaxError.of(M.UNKNOWN_SETTING, value.span, name=name)
    settings = [(name, compiler.expr(value)) for name, value in node.settings]
    lookup = compiler.lookup_type
    params = [(p.name, compile_type(p.annotation, lookup),
               compiler.expr(p.default) if p.default is not None else None, p.span)
              for p in node.params]
    requires = [Requirement(r.name, t.name, t.check, r.span, t.from_json) for r in node.requires
                for t in [compile_type(r.annotation, lookup)]]
    returns = compile_type(node.returns, lookup) if node.returns is not None else None
    plan = _plan(compiler, node.steps)

    def make(f: list) -> WorkflowTemplate:
        values = {name: fn(f) for name, fn in settings}
        declared = {name: Param(t.name, t.check, d(f) if d is not None else NO_DEFAULT,
                                _converter(t), span)
                    for name, t, d, span in params}
        on_error = values.get("on_error", "halt")
        if on_error not in ON_ERROR_VALUES:
            span = next(v.span for n, v in node.settings if n == "on_error")
            raise rule_error("ValueError", M.BAD_SETTING, span, name="on_error",
                                 expected=f"one of {ON_ERROR_TEXT}")
        return WorkflowTemplate(node.name, str(values.get("version", "1.0")), declared,
                                requires, [build(f) for build in plan],
                                (returns.name, returns.check) if returns else None,
                                on_error, node.docstring, node.span)
    return make


def _converter(t: Any) -> Callable[[Any], Any]:
    """A config value (JSON/YAML shaped) as the Dana value of type `t`: struct dicts become
    structs, ints widen to floats where a float is expected."""
    return lambda value: t.coerce(t.from_json(value))


def compile_composition(compiler: Any, node: A.WorkflowComposeDecl) -> Callable[[list], Any]:
    """`workflow rlhf = sft | reward_model | rl`: the parts, composed in order."""
    parts = [compiler.expr(s.expr) for s in A.stages_of(node.expr)]
    return lambda f: compose([p(f) for p in parts], node.name, node.span)


def compose(templates: Any, name: str | None, span: Any = None) -> WorkflowTemplate:
    """One template running `templates` in order, each as a sub-workflow (docs/workflows.md
    "Composition"); its output type is the last part's.

    Required state: the first part's requirements only, checked before the run. A later
    part's requirements may be provided by the parts before it, so they are checked when
    that part starts (StateError if missing then); the checker proves them statically.
    Parameters: the union of the parts'; a name declared by several parts must have the
    same type in each (else TypeError naming both parts), and the first part's default
    (or its lack of one) is the composite's. Raises TypeError for a part that is not a
    workflow or for no parts."""
    parts = list(templates)
    for part in parts:
        if not isinstance(part, WorkflowTemplate):
            raise runtime_error(R.COMPOSE_NOT_WORKFLOW, span, type=type_name(part))
    if not parts:
        raise runtime_error(R.COMPOSE_NOTHING, span)
    plan = [StepLine(lambda part=part: [part], span or part.span, part.name)
            for part in parts]
    label = name or "+".join(p.name for p in parts)
    return WorkflowTemplate(label, "+".join(p.version for p in parts), _merged_params(parts, span),
                            list(parts[0].requires), plan, parts[-1].returns, "halt", None, span)


def _merged_params(parts: list[WorkflowTemplate], span: Any) -> dict[str, Param]:
    """The parts' parameters, the first declaration of each name kept; TypeError when two
    parts give one name different types."""
    params: dict[str, Param] = {}
    owners: dict[str, WorkflowTemplate] = {}
    for part in parts:
        for key, param in part.params.items():
            first = params.get(key)
            if first is None:
                params[key], owners[key] = param, part
            elif first.type_name != param.type_name:
                raise runtime_error(R.COMPOSE_PARAM_CONFLICT, span, first=owners[key].name,
                                    second=part.name, key=key, first_type=first.type_name,
                                    second_type=param.type_name)
    return params


# ------------------------------------------------------------------ plans
def _plan(compiler: Any, body: tuple) -> list[Callable[[list], Any]]:
    return [_plan_node(compiler, stmt) for stmt in body if not isinstance(stmt, A.PassStmt)]


def _plan_node(compiler: Any, stmt: Any) -> Callable[[list], Any]:
    if isinstance(stmt, A.ExprStmt):
        return _step_line(compiler, stmt.expr)
    if isinstance(stmt, A.ForStmt):
        return _for_node(compiler, stmt)
    if isinstance(stmt, A.IfStmt):
        cond, body = _with_state(compiler, stmt.cond), _plan(compiler, stmt.body)
        orelse = _plan(compiler, stmt.orelse)
        keys = _keys(stmt.cond)
        return lambda f: IfNode(lambda view: bool(cond(f, view)), [b(f) for b in body],
                                [b(f) for b in orelse], stmt.span, keys)
    if isinstance(stmt, A.WhileStmt):
        cond, body = _with_state(compiler, stmt.cond), _plan(compiler, stmt.body)
        keys = _keys(stmt.cond)
        return lambda f: WhileNode(lambda view: bool(cond(f, view)), [b(f) for b in body],
                                   stmt.span, keys)
    if isinstance(stmt, A.TryStmt):
        return _try_node(compiler, stmt)
    if isinstance(stmt, A.ParallelStmt):
        return _parallel_node(compiler, stmt)
    if isinstance(stmt, A.ParallelForStmt):
        return _parallel_for_node(compiler, stmt)
    raise DanaSyntaxError.of(S.NOT_A_STEP_STATEMENT, stmt.span)


def _parallel_node(compiler: Any, stmt: A.ParallelStmt) -> Callable[[list], ParallelNode]:
    """`parallel(max_concurrency=N):` — each body line is one branch."""
    limit = _concurrency(compiler, stmt.args)
    body = [s for s in stmt.body if not isinstance(s, A.PassStmt)]
    branches = [_plan_node(compiler, s) for s in body]
    labels = [_branch_label(s) for s in body]
    return lambda f: ParallelNode([[b(f)] for b in branches], limit(f), stmt.span, labels)


def _parallel_for_node(compiler: Any, stmt: A.ParallelForStmt) -> Callable[[list], ParallelForNode]:
    """`parallel for x in items (max_concurrency=N):` — the body once per item."""
    limit = _concurrency(compiler, stmt.args)
    items, body = _with_state(compiler, stmt.iter), _plan(compiler, stmt.body)
    var, span = stmt.target.name, stmt.iter.span
    label, keys = _loop_label(stmt.iter) or var, _keys(stmt.iter)
    return lambda f: ParallelForNode(var, lambda view: compiler.iterate(items(f, view), span),
                                     [b(f) for b in body], limit(f), stmt.span, label, keys)


def _concurrency(compiler: Any, args: tuple) -> Callable[[list], int | None]:
    """The `max_concurrency=N` option of a parallel block (None when not given). Raises
    DanaSyntaxError for another option; the closure raises ValueError unless N is an int
    >= 1."""
    limit = None
    for arg in args:
        if arg.name not in _PARALLEL_OPTIONS:
            raise DanaSyntaxError.of(M.UNKNOWN_PARALLEL_OPTION, arg.span,
                                     name=arg.name or "(a positional argument)")
        limit = (compiler.expr(arg.value), arg.value.span)

    def workers(f: list) -> int | None:
        if limit is None:
            return None
        value = limit[0](f)
        if type(value) is not int or value < 1:
            raise rule_error("ValueError", M.BAD_PARALLEL_OPTION, limit[1], src=repr(value))
        return value
    return workers


def _branch_label(stmt: Any) -> str:
    if isinstance(stmt, A.ExprStmt):
        return " | ".join(_label(s.expr) for s in A.stages_of(stmt.expr))
    if isinstance(stmt, (A.ForStmt, A.ParallelForStmt)) and isinstance(stmt.target, A.NameExpr):
        return f"for {stmt.target.name}"
    return type(stmt).__name__.removesuffix("Stmt").lower()


def _keys(expr: A.Expr) -> frozenset[str] | None:
    """The state keys a steps-block expression can reach (None: any)."""
    return literal_keys([expr], {"state"})


def _with_state(compiler: Any, expr: A.Expr) -> Callable[[list, Any], Any]:
    """Compile a steps-block expression in which the name `state` is the workflow state."""
    inner = FrameLayout("function", compiler.scope, ["state"])
    compiled = compiler.nested(inner).expr(expr)
    size = inner.size

    def evaluate(f: list, view: Any) -> Any:
        frame = [f, None, view] + [None] * (size - 3)
        return compiled(frame)
    return evaluate


def _for_node(compiler: Any, stmt: A.ForStmt) -> Callable[[list], ForNode]:
    if not isinstance(stmt.target, A.NameExpr):
        raise DanaSyntaxError.of(S.STEPS_FOR_TARGET, stmt.target.span)
    items, body = _with_state(compiler, stmt.iter), _plan(compiler, stmt.body)
    var = stmt.target.name
    span = stmt.iter.span
    label, keys = _loop_label(stmt.iter) or var, _keys(stmt.iter)
    return lambda f: ForNode(var, lambda view: compiler.iterate(items(f, view), span),
                             [b(f) for b in body], stmt.span, label, keys)


def _loop_label(expr: A.Expr) -> str | None:
    """The last name of a loop's iterable, naming the loop in step paths:
    `state.epochs` -> epochs, `batches(state)` -> batches, `range(3)` -> range."""
    if isinstance(expr, A.NameExpr):
        return expr.name
    if isinstance(expr, A.AttributeExpr):
        return expr.name
    if isinstance(expr, A.CallExpr):
        return _loop_label(expr.func)
    if isinstance(expr, A.IndexExpr):
        return _loop_label(expr.obj)
    return None


def _try_node(compiler: Any, stmt: A.TryStmt) -> Callable[[list], TryNode]:
    """`try:` / `handle` / `else:` / `finally:` around steps."""
    body, final = _plan(compiler, stmt.body), _plan(compiler, stmt.finalbody)
    orelse = _plan(compiler, stmt.orelse)
    handlers = [(compiler.expr(h.type) if h.type is not None else None, h.name,
                 _plan(compiler, h.body)) for h in stmt.handlers]

    def make(f: list) -> TryNode:
        built = []
        for kind, name, plan in handlers:
            def matches(err: DanaRuntimeError, kind=kind) -> bool:
                return err.catchable and (kind is None or error_matches(err.dana_type, kind(f)))
            built.append((matches, name, [b(f) for b in plan]))
        return TryNode([b(f) for b in body], built, [b(f) for b in final], stmt.span,
                       [b(f) for b in orelse])
    return make


def _step_line(compiler: Any, expr: A.Expr) -> Callable[[list], StepLine]:
    compiled = [(_stage_value(compiler, s.expr), s.expr.span, _label(s.expr))
                for s in A.stages_of(expr)]
    label = " | ".join(lbl for _, _, lbl in compiled)

    def make(f: list) -> StepLine:
        return StepLine(lambda: [as_step(fn(f), span, lbl) for fn, span, lbl in compiled],
                        expr.span, label)
    return make


def _stage_value(compiler: Any, expr: A.Expr) -> Callable[[list], Any]:
    """A step stage: a name (the step), or a call binding extra arguments (`$$` marks
    where the previous result goes; otherwise it goes first)."""
    if not isinstance(expr, A.CallExpr):
        return compiler.expr(expr)
    func = compiler.expr(expr.func)
    placeholder = [i for i, a in enumerate(expr.args) if isinstance(a.value, A.PlaceholderExpr)]
    args = [a for a in expr.args if not isinstance(a.value, A.PlaceholderExpr)]
    _, _, spread = compiler._arguments(tuple(args))

    def partial(f: list) -> Any:
        fn = func(f)
        values, kwargs = spread(f)
        at = placeholder[0] if placeholder else 0
        return _Partial(fn, values, kwargs, at, expr.span, bool(placeholder))
    return partial


class _Partial:
    """A step with bound arguments: calling it with the input inserts it at `at`."""

    def __init__(self, fn: Any, args: list, kwargs: dict, at: int, span: Any,
                 has_placeholder: bool) -> None:
        self.fn, self.args, self.kwargs, self.at, self.span = fn, args, kwargs, at, span
        self.has_placeholder = has_placeholder

    def invoke(self, args: list, kwargs: dict, span: Any) -> Any:
        full = list(self.args)
        full.insert(self.at, args[0] if args else None)
        return P.call(self.fn, full, {**self.kwargs, **kwargs}, span)


def _label(expr: A.Expr) -> str:
    if isinstance(expr, A.NameExpr):
        return expr.name
    if isinstance(expr, A.CallExpr):
        return _label(expr.func)
    if isinstance(expr, A.AttributeExpr):
        return f"{_label(expr.obj)}.{expr.name}"
    return "<step>"


# ------------------------------------------------------------------ steps from values
def as_step(value: Any, span: Any, label: str) -> Step | WorkflowTemplate:
    """Make a `Step` of a Dana function, bound method, partial or host callable; a
    sub-workflow stays a template (the runner runs it inline). Raises TypeError else."""
    if isinstance(value, WorkflowTemplate):
        return value
    if isinstance(value, _Partial):
        inner = as_step(value.fn, span, label)
        bound = (tuple(value.args), tuple(sorted(value.kwargs.items())), value.at)
        return Step(inner.name, _partial_runner(value), inner.policy, span,
                    inner.identity + bound, takes_input=_partial_takes_input(value),
                    reads=inner.reads)
    if isinstance(value, Function):
        return _function_step(value, span)
    if isinstance(value, (Builtin, BoundMethod)) or callable(value):
        return Step(label, lambda v, state: P.call(value, [v], {}, span), StepPolicy(), span,
                    (value,))
    raise rule_error("TypeError", M.NOT_A_STEP, span, name=label,
                     reason=f"it is not a function or workflow (its type is `{type_name(value)}`)")


def _code_identity(fn: Function) -> tuple:
    """What a cached step's code is: the text of its definition and where it stands, so
    an edited function misses the cache (docs/workflows.md "Caching")."""
    span = fn.span
    if span is None:
        return (fn,)
    return (fn.name, span.source.name, span.text)


def _function_step(fn: Function, span: Any) -> Step:
    """The Step of a Dana function called at `span`, made once per (function, span, step
    options) and then reused: a step in a loop is the same Step every iteration."""
    known = fn.steps_made.get(id(span))  # by identity: hashing a Span costs more than this
    if known is not None and known[0] is span and known[1] is fn.step_options:
        return known[2]
    policy = fn.step_options or StepPolicy()
    hooked = policy.validate is not None or policy.rollback is not None
    made = Step(fn.name, _function_runner(fn, span), policy, span, _code_identity(fn),
                takes_input=any(p.type.name != "WorkflowState" for p in fn.params),
                reads=None if hooked else fn.state_keys)
    fn.steps_made[id(span)] = (span, fn.step_options, made)  # holding `span` keeps its id its own
    return made


def _function_runner(fn: Function, span: Any) -> Callable[[Any, Any], Any]:
    """Input goes to the first parameter not typed WorkflowState; the state to those typed
    WorkflowState (docs/workflows.md "Steps"). When those are all its parameters (the usual step),
    they are passed by position. A failure of a step whose untyped parameter is named
    `state` notes that it got the previous output, not the state."""
    runner = _positional_runner(fn, span)
    if not any(p.name == "state" and not p.annotated for p in fn.params):
        return runner
    note = M.NOTE_UNTYPED_STATE.format(fn=fn.name)

    def noted(value: Any, state: Any) -> Any:
        try:
            return runner(value, state)
        except DanaRuntimeError as exc:
            exc.notes = (*exc.notes, note)
            raise
    return noted


def _positional_runner(fn: Function, span: Any) -> Callable[[Any, Any], Any]:
    state_params = [p.name for p in fn.params if p.type.name == "WorkflowState"]
    others = [p for p in fn.params if p.type.name != "WorkflowState"]
    input_param = others[0].name if others else None
    if len(others) <= 1 and not any(p.star for p in fn.params):
        is_state = tuple(p.type.name == "WorkflowState" for p in fn.params)
        call = fn.entry(tuple(i for i, state in enumerate(is_state) if state))
        return lambda value, state: call(tuple([state if s else value for s in is_state]), span)

    def run(value: Any, state: Any) -> Any:
        kwargs = {name: state for name in state_params}
        if input_param is not None:
            kwargs[input_param] = value
        return fn.invoke([], kwargs, span)
    return run


def _partial_takes_input(partial: _Partial) -> bool:
    """False when every non-state parameter of a Dana function is bound by keyword (the
    step ignores the previous output); a `$$` or an unbound parameter takes it."""
    fn = partial.fn
    if not isinstance(fn, Function) or partial.has_placeholder:
        return True
    return any(p.type.name != "WorkflowState" and p.name not in partial.kwargs
               for p in fn.params)


def _partial_runner(partial: _Partial) -> Callable[[Any, Any], Any]:
    """Like a pipeline stage call: the input goes at `$$`, else first; with the bound
    positional arguments it fills the non-state parameters not bound by keyword, in order."""
    fn = partial.fn
    if not isinstance(fn, Function):
        return lambda value, state: partial.invoke([value], {}, partial.span)
    state_params = [p.name for p in fn.params if p.type.name == "WorkflowState"]
    others = [p.name for p in fn.params if p.type.name != "WorkflowState"]

    free = [n for n in others if n not in partial.kwargs]
    if free and not partial.has_placeholder and len(partial.args) >= len(free):
        most = len(free) - 1
        example = ", ".join(f"{n}={v!r}" for n, v in zip(free, partial.args))
        raise rule_error("TypeError", M.STEP_TOO_MANY_ARGS_BOUND, partial.span, step=fn.name,
                         most=most, s="" if most == 1 else "s", given=len(partial.args),
                         call=f"{fn.name}({example})")

    def run(value: Any, state: Any) -> Any:
        args = list(partial.args)
        args.insert(partial.at if partial.has_placeholder else 0, value)
        kwargs = dict(zip(free, args))
        kwargs.update(partial.kwargs)
        kwargs.update({n: state for n in state_params})
        return fn.invoke([], kwargs, partial.span)
    return run


# ------------------------------------------------------------------ runs
def run(rt: Any, template: Any, state: dict[str, Any], config: dict[str, Any]) -> Any:
    """`run(workflow, config={...}, **state)`: validate and run one workflow."""
    if not isinstance(template, WorkflowTemplate):
        raise runtime_error(R.RUN_NOT_WORKFLOW, type=type_name(template))
    if not isinstance(config, dict):
        raise runtime_error(R.RUN_CONFIG_NOT_DICT, type=type_name(config))
    if rt.executor is not None:
        rt.executor.admit(rt)
    journal = rt.durable.journal_for(template, state, config) if rt.durable else None
    return runner_for(rt).run(template, state, config, journal)


def runner_for(rt: Any) -> Runner:
    """A runner wired to the interpreter's clocks, step deadlines (a retry's wait ends at
    the first of them: `Runtime.backoff`), thread pool (parallel branches), step cache
    and event listeners."""
    return Runner(type_name_of=describe_type, emit=rt.emit, deadline=rt.arm_deadline,
                  clock=rt.clock, sleep=rt.backoff, parallel=rt.run_parallel,
                  cache=rt.step_cache, listeners=rt.listeners)


__all__ = ["compile_workflow", "compile_composition", "compose", "as_step", "run",
           "runner_for", "ErrorValue"]
