"""Run a workflow template: validate its inputs, then execute its plan step by step.

Consumes: a `WorkflowTemplate` (its plan of `Step`s and control-flow nodes), the initial
state (key -> value), the config (parameter -> value), clocks and a sleep function
(injected, so tests never sleep), and an event callback.
Produces: a `RunResult`. Each step runs as a transaction over the `WorkflowState`
(DESIGN §3): its writes commit as one new version when it succeeds and are discarded when
it fails, so retries and handlers start from clean state. Required state is checked
before the first step, reporting every missing or ill-typed key at once.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from dana.errors import ERROR, DanaCheckError, DanaRuntimeError, Diagnostic, Frame, LimitError
from dana.workflow.state import WorkflowState
from dana.workflow.template import (ForNode, IfNode, RunResult, Step, StepLine, TryNode,
                                    WhileNode, WorkflowTemplate)
from dana.workflow.view import StateView

MSG_MISSING = "workflow `{wf}` requires state key `{key}` ({type}), which is missing"
MSG_ILL_TYPED = "workflow `{wf}` requires state key `{key}` to be {type}, got {actual}"
MSG_BAD_CONFIG = "workflow `{wf}` parameter `{key}` expects {type}, got {actual}"
MSG_UNKNOWN_CONFIG = "workflow `{wf}` has no parameter `{key}`"
MSG_NO_CONFIG = "workflow `{wf}` parameter `{key}` has no default and was not given"


class StateValidationError(DanaCheckError):
    """Inputs of a run (state or config) that fail the template's declarations."""


class _StepFailed(Exception):
    def __init__(self, step: str, error: DanaRuntimeError) -> None:
        super().__init__(step)
        self.step = step
        self.error = error


@dataclass
class _Run:
    run_id: str
    template: WorkflowTemplate
    state: WorkflowState
    events: list[dict[str, Any]]


class Runner:
    """Executes templates. `type_name_of(value)` names a value's type in messages;
    `deadline(seconds | None, step)` arms or clears the cooperative step timeout of the
    executing thread; `clock` measures durations (seconds), `wall` stamps history."""

    def __init__(self, *, type_name_of: Callable[[Any], str], emit: Callable[[dict], None],
                 deadline: Callable[[float | None, str], None],
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.type_name_of = type_name_of
        self.emit_hook = emit
        self.deadline = deadline
        self.clock, self.wall, self.sleep = clock, wall, sleep

    # ------------------------------------------------------------ entry point
    def run(self, template: WorkflowTemplate, initial: dict[str, Any],
            config: dict[str, Any]) -> RunResult:
        """Validate, then run. Raises StateValidationError before any step runs when the
        config or required state is wrong; step failures end in a "failed" RunResult."""
        config = self.validate(template, initial, config)
        state = WorkflowState({**initial, "config": config}, clock=self.wall,
                              type_name_of=self.type_name_of)
        for req in template.requires:
            state.declare(req.key, req.check, req.type_name)
        run = _Run(uuid.uuid4().hex[:12], template, state, [])
        started = self.clock()
        self._emit(run, "workflow_started", template.name)
        try:
            output = self._block(run, template.plan, None, template.name)
            output = self._check_output(template, output)
        except _StepFailed as failure:
            return self._failed(run, failure, started)
        duration = self.clock() - started
        self._emit(run, "workflow_completed", template.name, duration=duration)
        return RunResult(run.run_id, template.name, template.version, "succeeded", output,
                         StateView(state, state), None, duration, run.events)

    def _failed(self, run: _Run, failure: _StepFailed, started: float) -> RunResult:
        err = failure.error
        when = self.wall()
        run.state.record_error(err.dana_type, err.message, failure.step, when)
        duration = self.clock() - started
        self._emit(run, "workflow_failed", run.template.name, duration=duration,
                   error=err.dana_type, message=err.message)
        record = {"type": err.dana_type, "message": err.message, "step": failure.step,
                  "time": when}
        result = RunResult(run.run_id, run.template.name, run.template.version, "failed", None,
                           StateView(run.state, run.state), record, duration, run.events, err)
        return result

    def validate(self, template: WorkflowTemplate, initial: dict[str, Any],
                 config: dict[str, Any]) -> dict[str, Any]:
        """The complete config (defaults filled in). Raises StateValidationError listing
        every bad parameter and every missing or ill-typed required state key."""
        problems: list[Diagnostic] = []
        full = self._config(template, config, problems)
        for req in template.requires:
            if req.key not in initial:
                text = MSG_MISSING.format(wf=template.name, key=req.key, type=req.type_name)
                problems.append(Diagnostic(text, req.span, "E0410", ERROR))
            elif not req.check(initial[req.key]):
                text = MSG_ILL_TYPED.format(wf=template.name, key=req.key, type=req.type_name,
                                            actual=self.type_name_of(initial[req.key]))
                problems.append(Diagnostic(text, req.span, "E0411", ERROR))
        if problems:
            raise StateValidationError(problems)
        return full

    def _config(self, template: WorkflowTemplate, config: dict[str, Any],
                problems: list[Diagnostic]) -> dict[str, Any]:
        full: dict[str, Any] = {}
        for key in config:
            if key not in template.params:
                problems.append(Diagnostic(MSG_UNKNOWN_CONFIG.format(wf=template.name, key=key),
                                           template.span, "E0412", ERROR))
        for key, (type_name, check, default) in template.params.items():
            if key in config:
                value = config[key]
                value = float(value) if type_name == "float" and type(value) is int else value
                if not check(value):
                    problems.append(Diagnostic(MSG_BAD_CONFIG.format(
                        wf=template.name, key=key, type=type_name,
                        actual=self.type_name_of(value)), template.span, "E0413", ERROR))
                full[key] = value
            elif default is _NO_DEFAULT:
                problems.append(Diagnostic(MSG_NO_CONFIG.format(wf=template.name, key=key),
                                           template.span, "E0414", ERROR))
            else:
                full[key] = default
        return full

    def _check_output(self, template: WorkflowTemplate, output: Any) -> Any:
        if template.returns is None:
            return output
        name, check = template.returns
        if not check(output):
            error = DanaRuntimeError("TypeError", f"workflow `{template.name}` should return "
                                     f"{name}, got {self.type_name_of(output)}", template.span)
            raise _StepFailed(template.name, error)
        return output

    # ------------------------------------------------------------ plan nodes
    def _block(self, run: _Run, nodes: list[Any], value: Any, path: str) -> Any:
        for node in nodes:
            value = self._node(run, node, value, path)
        return value

    def _node(self, run: _Run, node: Any, value: Any, path: str) -> Any:
        if isinstance(node, StepLine):
            for step in self._resolve(node):
                if isinstance(step, WorkflowTemplate):
                    value = self._sub_workflow(run, step, value, path)
                else:
                    value = self._step(run, step, value, path)
            return value
        if isinstance(node, ForNode):
            return self._for(run, node, value, path)
        if isinstance(node, IfNode):
            branch = node.body if node.cond(self._view(run)) else node.orelse
            return self._block(run, branch, value, path)
        if isinstance(node, WhileNode):
            while node.cond(self._view(run)):
                value = self._block(run, node.body, value, path)
            return value
        if isinstance(node, TryNode):
            return self._try(run, node, value, path)
        raise AssertionError(f"internal error: unknown plan node {type(node).__name__}")

    def _sub_workflow(self, run: _Run, template: WorkflowTemplate, value: Any,
                      path: str) -> Any:
        """Run another template's plan inline, on the same state, after checking that
        the state holds its required keys (DESIGN §3 "sub-workflow")."""
        for req in template.requires:
            problem = None
            if req.key not in run.state:
                problem = f"state key `{req.key}` ({req.type_name}) is missing"
            elif not req.check(run.state[req.key]):
                problem = (f"state key `{req.key}` should be {req.type_name}, got "
                           f"{self.type_name_of(run.state[req.key])}")
            if problem:
                error = DanaRuntimeError("StateError", f"sub-workflow `{template.name}` "
                                         f"requires {problem}", req.span)
                raise _StepFailed(template.name, error)
        self._emit(run, "workflow_started", f"{path}/{template.name}")
        value = self._block(run, template.plan, value, f"{path}/{template.name}")
        return self._check_output(template, value)

    def _resolve(self, line: StepLine) -> list[Step]:
        try:
            return line.resolve()
        except DanaRuntimeError as exc:
            raise _StepFailed(line.label, exc) from None

    def _view(self, run: _Run) -> StateView:
        return StateView(run.state, run.state)

    def _for(self, run: _Run, node: ForNode, value: Any, path: str) -> Any:
        try:
            items = list(node.items(self._view(run)))
        except DanaRuntimeError as exc:
            raise _StepFailed(node.label, exc) from None
        for index, item in enumerate(items):
            tx = run.state.begin(f"for {node.var}")
            tx[node.var] = item
            run.state.commit(tx)
            value = self._block(run, node.body, value, f"{path}/{node.label}[{index}]")
        return value

    def _try(self, run: _Run, node: TryNode, value: Any, path: str) -> Any:
        try:
            return self._block(run, node.body, value, path)
        except _StepFailed as failure:
            for matches, var, body in node.handlers:
                if matches(failure.error):
                    if var:
                        tx = run.state.begin(f"handle {var}")
                        tx[var] = {"type": failure.error.dana_type,
                                   "message": failure.error.message, "step": failure.step}
                        run.state.commit(tx)
                    return self._block(run, body, value, path)
            raise
        finally:
            if node.finalbody:
                self._block(run, node.finalbody, value, path)

    # ------------------------------------------------------------ one step
    def _step(self, run: _Run, step: Step, value: Any, path: str) -> Any:
        policy = step.policy
        attempts = 1 + (policy.retry or (3 if policy.on_error == "retry" else 0))
        delay = policy.backoff
        step_path = f"{path}/{step.name}"
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(run, step, value, step_path, attempt)
            except DanaRuntimeError as exc:
                if isinstance(exc, LimitError):
                    raise
                if span := step.span:
                    exc.frames.insert(0, Frame(span, f"step {step.name}"))
                if attempt < attempts:
                    self._emit(run, "step_retried", step_path, attempt=attempt, delay=delay,
                               error=exc.dana_type, message=exc.message)
                    if delay > 0:
                        self.sleep(delay)
                    delay = min(delay * 2, policy.max_delay)
                    continue
                if policy.on_error == "skip" or (run.template.on_error == "skip"
                                                  and policy.on_error == "halt"
                                                  and step.policy.retry == 0):
                    self._emit(run, "step_skipped", step_path, error=exc.dana_type)
                    return value
                raise _StepFailed(step.name, exc) from None
        raise AssertionError("unreachable")

    def _attempt(self, run: _Run, step: Step, value: Any, path: str, attempt: int) -> Any:
        state = run.state
        tx = state.begin(step.name)
        self._emit(run, "step_started", path, attempt=attempt, version=state.version)
        started = self.clock()
        self.deadline(step.policy.timeout, step.name)
        try:
            output = step.run(value, StateView(tx, state))
        except BaseException:
            tx.discard()
            raise
        finally:
            self.deadline(None, step.name)
        duration = self.clock() - started
        if step.policy.timeout is not None and duration > step.policy.timeout:
            tx.discard()
            raise DanaRuntimeError("TimeoutError", f"step `{step.name}` took {duration:.3f} s, "
                                   f"longer than its timeout of {step.policy.timeout} s",
                                   step.span)
        version = state.commit(tx)
        self._emit(run, "step_succeeded", path, attempt=attempt, duration=duration,
                   version=version)
        return output

    def _emit(self, run: _Run, kind: str, path: str, **fields: Any) -> None:
        event = {"event": kind, "run_id": run.run_id, "workflow": run.template.name,
                 "path": path, "time": self.wall(), **fields}
        run.events.append(event)
        self.emit_hook(event)


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


_NO_DEFAULT: Any = _NoDefault()
NO_DEFAULT = _NO_DEFAULT
