"""Run a workflow template: validate its inputs, then execute its plan step by step.

Consumes: a `WorkflowTemplate` (its plan of `Step`s and control-flow nodes), the initial
state (key -> value), the config (parameter -> value), clocks, a sleep function and a
branch executor (injected, so tests never sleep), and an event callback.
Produces: a `RunResult`. Each step runs as a transaction over the `WorkflowState`
(docs/workflows.md): its writes commit as one new version when it succeeds and are discarded when
it fails, so retries, rollback hooks and handlers start from clean state. Config is
validated with a pydantic model (dana.workflow.params) and required state is checked before
the first step; every problem is reported at once.

Events: one typed record per kind (dana.workflow.events: `StepStarted`, `LoopIteration`,
...) is passed to `emit` while there are listeners; `RunResult.events` gives each one in its
JSON shape (a dict), made when it is read (an EventLog).
A step's path has no top-level workflow name: `epochs[2]/batches[17]/optim_step`; a
sub-workflow adds its name. Durations are seconds of `clock`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable

from dana.errors import DanaCheckError, DanaError, DanaRuntimeError, Diagnostic, TraceEntry, LimitError, runtime_error, rule_error
from dana.messages import runtime as R
from dana.messages import checks as M
from dana.diagnostics import render_error
from dana.store.runs import RunStatus
from dana.surface import OnError
from dana.workflow import events as E
from dana.workflow.cache import UNKEYED, CacheEntry, StepCache, cache_input
from dana.workflow.journal import CONTROL, MERGE, Journal, Line, Recorded, Source, step_key
from dana.workflow.params import validate_config
from dana.workflow.parallel import BranchTask, Outcome, run_concurrently
from dana.workflow.store_cache import expand_reads
from dana.workflow.state import (CONFIG_KEY, ERROR_KEY, ERROR_STEP, MISSING, BranchState,
                                 WorkflowState)
from dana.workflow.template import (DEFAULT_RETRIES, ForNode, IfNode, ParallelForNode,
                                    ParallelNode, Requirement, RunResult, Step, StepLine,
                                    TryNode, WhileNode, WorkflowTemplate, join_path)
from dana.workflow.view import StateView

PARALLEL_STEP = "parallel"

Executor = Callable[[list[BranchTask], int], list[Outcome]]


class StateValidationError(DanaCheckError):
    """Inputs of a run (state or config) that fail the template's declarations.
    `inputs[i]` is what diagnostic i is about: ("config" | "state", key)."""

    def __init__(self, diagnostics: list[Diagnostic],
                 inputs: list[tuple[str, str]] | None = None) -> None:
        super().__init__(diagnostics)
        self.inputs = list(inputs or [])


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (a KeyboardInterrupt in the thread running the workflow) stopped a run.
    `result` is its RunResult with status "interrupted" and the state as last committed."""

    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result


_LIVE: Any = object()  # a replayed step found nothing more recorded: it runs for real
_STOPPED_AT = "_dana_stopped_at"


class _StepFailed(Exception):
    def __init__(self, step: str, error: DanaRuntimeError) -> None:
        super().__init__(step)
        self.step = step
        self.error = error


def step_failure(exc: BaseException) -> tuple[str, DanaRuntimeError] | None:
    """(step, error) when `exc` is a failed step as `run_branch` raises it, else None."""
    return (exc.step, exc.error) if isinstance(exc, _StepFailed) else None


@dataclass
class _Run:
    """One run as the plan nodes see it. A sub-workflow or a parallel branch gets a copy
    with its own `on_error` default or `state` layer; `events` and `lock` are shared."""

    run_id: str
    template: WorkflowTemplate
    state: WorkflowState
    events: E.EventLog
    on_error: OnError = "halt"
    lock: threading.Lock = field(default_factory=threading.Lock)
    journal: Journal | None = None
    line: Line = field(default_factory=lambda: Line(""))  # this line's recorded commits

    @property
    def replaying(self) -> bool:
        return self.line.replaying


def _unmet(template: WorkflowTemplate,
           values: Mapping[str, Any]) -> Iterator[tuple[Requirement, Any]]:
    """Each `requires:` entry that `values` does not meet, with the value found (MISSING
    when the key is absent), in declaration order."""
    for req in template.requires:
        actual = values.get(req.key, MISSING)
        if actual is MISSING or not req.check(actual):
            yield req, actual


def _record(error: DanaRuntimeError, step: str) -> dict[str, Any]:
    """What a steps-block `handle E as e` binds, and a rollback hook receives."""
    return {"type": error.dana_type, "message": error.message, "step": step}


def _no_deadline(seconds: float | None, step: str) -> Callable[[], None]:
    return lambda: None


def _guarded(what: str, fn: Callable[[Any], Any], arg: Any) -> Any:
    """`fn(arg)`, with a Dana error (other than a resource limit) failing step `what`."""
    try:
        return fn(arg)
    except DanaRuntimeError as exc:
        if isinstance(exc, LimitError):
            raise
        raise _StepFailed(what, exc) from None


def _lazily(iterator: Iterator[Any], what: str) -> Iterable[Any]:
    """The items of `iterator` one at a time, a Dana error while taking one failing `what`."""
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except DanaRuntimeError as exc:
            if isinstance(exc, LimitError):
                raise
            raise _StepFailed(what, exc) from None
        yield item


def _severity(error: BaseException) -> int:
    """Which of several branch errors the parallel block raises (lowest first): an
    interrupt, then errors no `handle` catches, then ordinary step failures."""
    if not isinstance(error, Exception):
        return 0
    if not isinstance(error, _StepFailed):
        return 1  # a resource limit or an internal error: never a step failure
    return 2 if not error.error.catchable else 3


def _event_version(state: WorkflowState, version: int) -> int | None:
    """The version a step event reports: None inside a parallel branch, whose writes get a
    version only when the block merges them (`parallel_completed`)."""
    return None if state.in_branch else version


class Runner:
    """Executes templates. `type_name_of(value)` names a value's type in messages;
    `deadline(seconds | None, step)` arms the cooperative step timeout of the executing
    thread and returns a function that restores the previous one; `clock` measures
    durations (seconds), `wall` stamps history and events; `parallel(tasks, workers)` runs
    the branches of a parallel block (default: `run_concurrently`, a thread pool); `cache`
    keeps the results of `cache=True` steps (none: such steps always run). `emit` gets
    each event's record while `listeners` (a live collection, e.g. the runtime's list) is
    non-empty; None: always. Without listeners an event is kept unmade until
    `RunResult.events` is read."""

    def __init__(self, *, type_name_of: Callable[[Any], str], emit: Callable[[E.RunEvent], None],
                 deadline: Callable[[float | None, str], Callable[[], None]] = _no_deadline,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 parallel: Executor = run_concurrently,
                 cache: StepCache | None = None, listeners: Sized | None = None) -> None:
        self.type_name_of = type_name_of
        self.emit_hook = emit
        self.listeners = listeners
        self.deadline = deadline
        self.clock, self.wall, self.sleep = clock, wall, sleep
        self.parallel = parallel
        self.cache = cache

    # ------------------------------------------------------------ entry point
    def run(self, template: WorkflowTemplate, initial: dict[str, Any],
            config: dict[str, Any], journal: Journal | None = None) -> RunResult:
        """Validate, then run. Raises StateValidationError before any step runs when the
        config or required state is wrong; step failures end in a "failed" RunResult.

        With a `journal` the run is durable (docs/store.md): every commit is recorded in
        the run store as it happens, and a resumed run's journal replays the recorded
        commits (the steps are not run again) before it runs on; ResumeMismatch when the
        control flow leaves the recorded path."""
        config = self.validate(template, initial, config)
        state = WorkflowState({**initial, CONFIG_KEY: config}, clock=self.wall,
                              type_name_of=self.type_name_of)
        for req in template.requires:
            state.declare(req.key, req.check, req.type_name)
        run_id = journal.run_id if journal is not None else uuid.uuid4().hex[:12]
        run = _Run(run_id, template, state, E.EventLog(), template.on_error, journal=journal,
                   line=journal.main if journal is not None else Line(""))
        if journal is not None:
            journal.begin(state.as_dict())
            self._explain(run)
        started = self.clock()
        self._emit(run, E.WorkflowStarted, "")
        if journal is not None and journal.resumed_from is not None:
            self._emit(run, E.RunResumed, "", version=journal.resumed_from)
        try:
            output = self._block(run, template.plan, None, "")
            self._check_replayed(run)
            output = self._check_output(template, output)
        except _StepFailed as failure:
            return self._failed(run, failure, started)
        except KeyboardInterrupt as interrupt:
            self._stopped(run, interrupt)
            raise self._interrupted(run, started) from interrupt
        except BaseException as exc:
            self._stopped(run, exc)
            raise
        duration = self.clock() - started
        self._emit(run, E.WorkflowCompleted, "", duration=duration)
        if journal is not None:
            journal.finish(RunStatus.SUCCEEDED, None, output=output)
        return RunResult(run.run_id, template.name, template.version, "succeeded", output,
                         StateView(state, state), None, duration, run.events,
                         store=journal.store if journal is not None else None)

    def run_branch(self, run_id: str, template: WorkflowTemplate, layer: BranchState,
                   nodes: list[Any], value: Any, path: str, on_error: str) -> Any:
        """Run the plan `nodes` of one parallel branch on `layer` with input `value`, as a
        worker does with a branch shipped to it (docs/distributed.md); `template` holds the
        block. Returns the branch's output; its writes stay in `layer`. A failed step
        raises an exception that `step_failure` decodes."""
        return self._block(_Run(run_id, template, layer, E.EventLog(), on_error), nodes, value,
                           path)

    def _check_replayed(self, run: _Run) -> None:
        """A resumed run must pass through every recorded commit."""
        if run.replaying:
            run.line.expect("<end of the workflow>", "<end of the workflow>")

    def _stopped_at(self, run: _Run, exc: BaseException) -> int:
        """The version a resume continues from: where the failure or interrupt began,
        before its unwinding committed anything (never before a resume's own start)."""
        mark = getattr(exc, _STOPPED_AT, run.state.version)
        return max(mark, run.journal.resumed_from or 0) if run.journal else mark

    def _stopped(self, run: _Run, exc: BaseException) -> None:
        """Record a run ended by an interrupt, a limit or a resume mismatch."""
        if run.journal is None:
            return
        interrupted = not isinstance(exc, Exception)
        error = None
        if isinstance(exc, DanaError):
            error = {"type": getattr(exc, "dana_type", "Error"), "message": exc.message,
                     "step": "", "time": self.wall(), "diagnostic": render_error(exc)}
        status = RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED
        run.journal.finish(status, self._stopped_at(run, exc), error)

    def _failed(self, run: _Run, failure: _StepFailed, started: float) -> RunResult:
        err = failure.error
        when = self.wall()
        error = {"type": err.dana_type, "message": err.message, "step": failure.step,
                 "time": when}
        self._durable_commit(run, ERROR_STEP, "", {ERROR_KEY: error},
                             lambda: run.state.record_error(err.dana_type, err.message,
                                                            failure.step, when))
        duration = self.clock() - started
        self._emit(run, E.WorkflowFailed, "", duration=duration, error=err.dana_type,
                   message=err.message)
        record = {"type": err.dana_type, "message": err.message, "step": failure.step,
                  "time": when}
        if run.journal is not None:
            run.journal.finish(RunStatus.FAILED, self._stopped_at(run, failure),
                               {**record, "diagnostic": render_error(err)})
        return RunResult(run.run_id, run.template.name, run.template.version, "failed", None,
                         StateView(run.state, run.state), record, duration, run.events, err,
                         store=run.journal.store if run.journal is not None else None)

    def _interrupted(self, run: _Run, started: float) -> "RunInterrupted":
        """Ctrl-C ended the run: a workflow_interrupted event, and the exception that
        carries the "interrupted" RunResult (the state as last committed)."""
        duration = self.clock() - started
        self._emit(run, E.WorkflowInterrupted, "", duration=duration)
        return RunInterrupted(RunResult(run.run_id, run.template.name, run.template.version,
                                        "interrupted", None, StateView(run.state, run.state),
                                        None, duration, run.events))

    def validate(self, template: WorkflowTemplate, initial: dict[str, Any],
                 config: dict[str, Any]) -> dict[str, Any]:
        """The complete config (defaults filled in). Raises StateValidationError listing
        every bad parameter (E0412 unknown, E0413 wrong type, E0414 missing) and every
        missing (E0410) or ill-typed (E0411) required state key."""
        full, bad_config = validate_config(template, config, NO_DEFAULT, self.type_name_of)
        problems = [(diagnostic, ("config", key)) for diagnostic, key in bad_config]
        for req, actual in _unmet(template, initial):
            if actual is MISSING:
                found = Diagnostic.of(M.RUN_MISSING_STATE, req.span, wf=template.name, key=req.key,
                                                       type=req.type_name)
            else:
                found = Diagnostic.of(M.RUN_STATE_MISMATCH, req.span, wf=template.name, key=req.key,
                                                        type=req.type_name,
                                                        actual=self.type_name_of(actual))
            problems.append((found, ("state", req.key)))
        if problems:
            raise StateValidationError([d for d, _ in problems], [i for _, i in problems])
        return full

    def _check_output(self, template: WorkflowTemplate, output: Any) -> Any:
        if template.returns is None:
            return output
        name, check = template.returns
        if not check(output):
            error = rule_error("TypeError", M.WORKFLOW_OUTPUT_MISMATCH, template.span,
                               workflow=template.name, dst=name, src=self.type_name_of(output))
            raise _StepFailed(template.name, error)
        return output

    # ------------------------------------------------------------ plan nodes
    def _block(self, run: _Run, nodes: list[Any], value: Any, path: str) -> Any:
        for node in nodes:
            value = self._node(run, node, value, path)
        return value

    def _node(self, run: _Run, node: Any, value: Any, path: str) -> Any:
        try:
            return self._dispatch(run, node, value, path)
        except BaseException as exc:
            if not hasattr(exc, _STOPPED_AT):  # the innermost node: before any unwinding
                setattr(exc, _STOPPED_AT, run.state.version)
            raise

    def _dispatch(self, run: _Run, node: Any, value: Any, path: str) -> Any:
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
            branch = node.body if self._test(run, node.cond, "if") else node.orelse
            return self._block(run, branch, value, path)
        if isinstance(node, WhileNode):
            return self._while(run, node, value, path)
        if isinstance(node, TryNode):
            return self._try(run, node, value, path)
        if isinstance(node, ParallelNode):
            return self._parallel(run, node, value, path)
        if isinstance(node, ParallelForNode):
            return self._parallel_for(run, node, value, path)
        raise AssertionError(f"internal error: unknown plan node {type(node).__name__}")

    def _sub_workflow(self, run: _Run, template: WorkflowTemplate, value: Any,
                      path: str) -> Any:
        """Run another template's plan inline, on the same state, after checking that
        the state holds its required keys (docs/workflows.md "sub-workflow"); a missing or
        ill-typed key fails the step line with StateError.

        Config: the sub-workflow's steps see the run's config plus the sub-workflow's own
        parameter defaults for the parameters the config lacks. When that adds anything,
        the merged config is committed as state key `config` (version "config NAME") and
        the run's config is put back when the sub-workflow ends, failed or not (version
        "end config NAME"). A parameter without a default that the config lacks fails with
        StateError, a config value its type rejects with TypeError, before any step runs."""
        self._check_sub_requires(run, template)
        outer = run.state.get(CONFIG_KEY)
        outer = outer if isinstance(outer, dict) else {}
        config = self._sub_config(template, outer)  # None: the run's config serves as is
        sub_path = join_path(path, template.name)
        started = self.clock()
        self._emit(run, E.WorkflowStarted, sub_path)
        try:
            with self._scoped(run, CONFIG_KEY if config is not None else None, config,
                              f"config {template.name}", sub_path):
                value = self._block(replace(run, on_error=template.on_error), template.plan,
                                    value, sub_path)
            value = self._check_output(template, value)
        except _StepFailed as failure:
            self._emit(run, E.WorkflowFailed, sub_path, duration=self.clock() - started,
                       error=failure.error.dana_type, message=failure.error.message)
            raise
        self._emit(run, E.WorkflowCompleted, sub_path, duration=self.clock() - started)
        return value

    def _check_sub_requires(self, run: _Run, template: WorkflowTemplate) -> None:
        for req, actual in _unmet(template, run.state):
            if actual is MISSING:
                problem = f"state key `{req.key}` ({req.type_name}) is missing"
            else:
                problem = (f"state key `{req.key}` should be {req.type_name}, got "
                           f"{self.type_name_of(actual)}")
            error = runtime_error(R.SUB_REQUIRES, req.span, wf=template.name, problem=problem)
            raise _StepFailed(template.name, error)

    def _sub_config(self, template: WorkflowTemplate,
                    outer: dict[str, Any]) -> dict[str, Any] | None:
        """`outer` with `template`'s defaults for the parameters it lacks (a value that
        fails a parameter's type is converted as a config file's would be, then checked);
        None when that changes nothing."""
        config = dict(outer)
        for key, param in template.params.items():
            if key not in outer:
                if param.default is NO_DEFAULT:
                    error = runtime_error(R.SUB_PARAM_MISSING, template.span, wf=template.name,
                                          key=key)
                    raise _StepFailed(template.name, error)
                config[key] = param.default
            elif not param.check(outer[key]):
                try:
                    converted = param.convert(outer[key])
                except DanaError:
                    converted = outer[key]
                if not param.check(converted):
                    error = runtime_error(R.SUB_PARAM_TYPE, template.span, wf=template.name,
                                          key=key, type=param.type_name,
                                          actual=self.type_name_of(outer[key]))
                    raise _StepFailed(template.name, error)
                config[key] = converted
        return config if any(config[k] is not outer.get(k, MISSING) for k in config) else None

    def _resolve(self, line: StepLine) -> list[Step]:
        try:
            return line.resolve()
        except DanaRuntimeError as exc:
            raise _StepFailed(line.label, exc) from None

    def _view(self, run: _Run) -> StateView:
        return StateView(run.state, run.state)

    def _test(self, run: _Run, cond: Callable[[Any], bool], what: str) -> bool:
        """Evaluate an `if`/`while` condition over the state; an error fails the run."""
        return _guarded(what, cond, self._view(run))

    def _commit(self, run: _Run, name: str, writes: dict[str, Any], path: str,
                source: Source = CONTROL) -> None:
        """Commit `writes` made by the runner itself (loop variables, handler records) as
        version `name` at `path`; a `MISSING` value deletes its key."""
        tx = run.state.begin(name)
        for key, value in writes.items():
            tx[key] = value
        try:
            if run.journal is None:
                run.state.commit(tx)
            else:
                self._durable_commit(run, name, path, tx.writes, partial(run.state.commit, tx),
                                     source=source)
        except DanaRuntimeError as exc:
            tx.discard()
            raise _StepFailed(name, exc) from None

    def _durable_commit(self, run: _Run, name: str, path: str, writes: dict[str, Any],
                        commit: Callable[[], int], output: Any = None, *,
                        with_output: bool = False, attempt: int = 0,
                        started: float | None = None, source: Source = CONTROL) -> int:
        """`commit()` the in-memory version; in a durable run first encode `writes` and
        `output` (an unstorable value fails here, before anything is committed), then
        record the commit. While replaying, the commit must be the recorded one
        (ResumeMismatch) and is not recorded again."""
        journal, line = run.journal, run.line
        if journal is None:
            return commit()
        if line.replaying:
            line.expect(name, path)
            return commit()
        encoded = journal.encode(name, writes, output, with_output)
        keys = tuple(sorted(k for k, v in writes.items() if v is not MISSING or k in run.state))
        version = commit()
        duration = 0.0 if started is None else self.clock() - started
        journal.record(line, version, name, path, keys, encoded, attempt, duration, source)
        return version

    def _apply_recorded(self, run: _Run, record: Recorded) -> int:
        """Commit a recorded version's writes again (a replayed step)."""
        tx = run.state.begin(record.step)
        for key, value in run.journal.writes_of(record).items():
            if value is MISSING:
                tx.delete(key)
            else:
                tx[key] = value
        return run.state.commit(tx)

    def _for(self, run: _Run, node: ForNode, value: Any, path: str) -> Any:
        """Each item is committed as state key `var`; after the loop — also when a body
        step fails — `var` is restored to its value before the loop (removed if it had
        none): it is scoped to the loop; loop_completed is emitted either way (not on an
        interrupt: the loop did not complete). The items
        are taken one at a time (a `range(10**9)` is never built as a list); `total` is
        their number when the iterable has a length, else None."""
        looking = run.state.begin(node.label)  # what the iterable reads: the items' lineage
        try:
            items = _guarded(node.label, node.items, StateView(looking, run.state))
        finally:
            looking.discard()
        source = Source(reads=frozenset(looking.reads), origin="control")
        total, label = (len(items) if isinstance(items, Sized) else None), node.label
        iterator = _guarded(node.label, iter, items)
        self._emit(run, E.LoopStarted, path, loop=label, total=total)
        before, bound, interrupted = run.state.get(node.var, MISSING), False, False
        name = f"for {node.var}"
        try:
            for index, item in enumerate(_lazily(iterator, label)):
                self._emit(run, E.LoopIteration, path, loop=label, index=index, total=total)
                inner = join_path(path, f"{label}[{index}]")
                self._commit(run, name, {node.var: item}, inner, source)
                bound = True
                value = self._block(run, node.body, value, inner)
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            try:
                if bound:
                    self._commit(run, f"end for {node.var}", {node.var: before}, path)
            finally:
                if not interrupted:
                    self._emit(run, E.LoopCompleted, path, loop=label)
        return value

    def _while(self, run: _Run, node: WhileNode, value: Any, path: str) -> Any:
        self._emit(run, E.LoopStarted, path, loop="while", total=None)
        index = 0
        while self._test(run, node.cond, "while"):
            self._emit(run, E.LoopIteration, path, loop="while", index=index, total=None)
            value = self._block(run, node.body, value, join_path(path, f"while[{index}]"))
            index += 1
        self._emit(run, E.LoopCompleted, path, loop="while")
        return value

    def _try(self, run: _Run, node: TryNode, value: Any, path: str) -> Any:
        """`else:` runs after a body that did not fail (its failures are not handled by
        this `try`'s handlers); `finally:` runs after the body, handler or else block,
        also when a step failure passes through (not on an interrupt or a resource
        limit)."""
        try:
            value = self._handled(run, node, value, path)
        except _StepFailed:
            self._block(run, node.finalbody, value, path)
            raise
        self._block(run, node.finalbody, value, path)
        return value

    def _handled(self, run: _Run, node: TryNode, value: Any, path: str) -> Any:
        """The body, then `else:`; or the first matching handler. The failed step's writes
        are already discarded (and its rollback hook run) when the handler starts; a
        handler's `as` name is a state key holding the error record, scoped to the
        handler's body (restored, or removed, after it)."""
        try:
            value = self._block(run, node.body, value, path)
        except _StepFailed as failure:
            for matches, var, body in node.handlers:
                if matches(failure.error):
                    with self._scoped(run, var, _record(failure.error, failure.step),
                                      f"handle {var}", path):
                        return self._block(run, body, value, path)
            raise
        return self._block(run, node.orelse, value, path)

    @contextmanager
    def _scoped(self, run: _Run, key: str | None, value: Any, name: str,
                path: str) -> Iterator[None]:
        """Commit `key` = `value` (as version `name`) for the duration of the block, then
        put back what `key` held before (remove it if absent) as version "end NAME", also
        when the block fails; nothing when `key` is None."""
        if key is None:
            yield
            return
        before = run.state.get(key, MISSING)
        self._commit(run, name, {key: value}, path)
        try:
            yield
        finally:
            self._commit(run, f"end {name}", {key: before}, path)

    def _parallel(self, run: _Run, node: ParallelNode, value: Any, path: str) -> Any:
        """`parallel:` — each line of the body is a branch (see `_fork`)."""
        branches = []
        for index, nodes in enumerate(node.branches):
            branch_path = join_path(path, f"parallel[{index}]")
            label = node.labels[index] if index < len(node.labels) else ""
            branches.append((branch_path, f"{branch_path}/{label}" if label else branch_path,
                             nodes, {}))
        return self._fork(run, node, value, path, branches, None)

    def _parallel_for(self, run: _Run, node: ParallelForNode, value: Any, path: str) -> Any:
        """`parallel for x in items:` — the body runs once per item, as a branch whose own
        state key `x` holds the item (see `_fork`). The items are taken before any branch
        starts; an error taking them fails the block."""
        items = list(_lazily(_guarded(node.label, iter,
                                      _guarded(node.label, node.items, self._view(run))),
                             node.label))
        branches = []
        for index, item in enumerate(items):
            branch_path = join_path(path, f"{node.label}[{index}]")
            branches.append((branch_path, branch_path, node.body, {node.var: item}))
        return self._fork(run, node, value, path, branches, node.label)

    def _fork(self, run: _Run, node: ParallelNode | ParallelForNode, value: Any, path: str,
              branches: list[tuple[str, str, list[Any], dict[str, Any]]],
              loop: str | None) -> Any:
        """Run `branches` ((path, name, plan nodes, scoped keys) each) concurrently, each on
        its own `BranchState` begun on the current version; their net writes merge into ONE
        version (`commit_many`: two branches writing one key is a StateError naming both).
        Any failure commits nothing and re-raises the first failing branch's error in
        branch order — except that an error no `handle` may catch (an interrupt, a resource
        limit, an internal error, an uncatchable timeout) wins over ordinary step failures,
        whatever its branch. Returns the list of branch outputs in branch order.

        A resumed run replaying its record applies the block's recorded merge without
        running it; a block the run was inside when it stopped runs again, each branch
        replaying the commits it had made; a branch recorded as finished does not run again
        (its recorded writes and output are taken), whatever executor ran it."""
        merge_path = join_path(path, PARALLEL_STEP)
        if run.replaying:
            record = run.line.expect(PARALLEL_STEP, merge_path)
            self._apply_recorded(run, record)
            return run.journal.output_of(record)
        count = len(branches)
        workers = max(1, min(node.max_concurrency or count, count))
        self._emit(run, E.ParallelStarted, path, branches=count, max_concurrency=workers,
                   loop=loop)
        made = [self._branch_task(run, node, value, path, index, branch, count, loop)
                for index, branch in enumerate(branches)]
        tasks = [task for task, _ in made]
        outcomes = [finished or Outcome() for _, finished in made]
        todo = [index for index, (_, finished) in enumerate(made) if finished is None]
        for index, outcome in zip(todo, self.parallel([tasks[i] for i in todo], workers)):
            outcomes[index] = outcome
        errors = [o.error for o in outcomes if o.error is not None]
        if errors:
            raise min(errors, key=_severity)  # min is stable: branch order among equals
        txs = [task.layer.transaction() for task in tasks]
        outputs = [o.value for o in outcomes]
        merged = {k: v for tx in txs for k, v in tx.writes.items()}
        try:
            version = self._durable_commit(run, PARALLEL_STEP, merge_path, merged,
                                           partial(run.state.commit_many, txs, PARALLEL_STEP),
                                           outputs, with_output=True, source=MERGE)
        except DanaRuntimeError as exc:
            exc.span = exc.span or node.span
            raise _StepFailed(PARALLEL_STEP, exc) from None
        self._emit(run, E.ParallelCompleted, path, version=version, loop=loop)
        return outputs

    def _branch_task(self, run: _Run, node: Any, value: Any, path: str, index: int,
                     branch: tuple[str, str, list[Any], dict[str, Any]], count: int,
                     loop: str | None) -> tuple[BranchTask, Outcome | None]:
        """The task of one branch, and its Outcome when a resumed run finished it before
        it stopped (None: it runs). In a durable run a branch that finishes is recorded
        (`Journal.finish_branch`) before its branch_completed event."""
        branch_path, name, nodes, scoped = branch
        layer = BranchState(run.state, name, scoped)
        key = f"{run.state.version}:{branch_path}"
        line = run.journal.branch_line(key) if run.journal is not None else Line(key)
        line.output_version = run.line.output_version  # the block's input
        inner = replace(run, state=layer, line=line)

        def announce(succeeded: bool) -> None:
            self._emit(run, E.BranchCompleted, path, loop=loop, index=index, branches=count,
                       status="succeeded" if succeeded else "failed")

        def completed(succeeded: bool, output: Any = None) -> None:
            if succeeded and run.journal is not None:
                try:
                    run.journal.finish_branch(line, branch_path, layer.transaction().writes,
                                              output)
                except DanaRuntimeError as exc:
                    announce(False)
                    if isinstance(exc, LimitError):
                        raise
                    exc.span = exc.span or node.span
                    raise _StepFailed(PARALLEL_STEP, exc) from None
            announce(succeeded)

        def run_here() -> Any:
            try:
                output = self._block(inner, nodes, value, branch_path)
            except BaseException:
                announce(False)
                raise
            completed(True, output)
            return output

        task = BranchTask(node, index, scoped, value, branch_path, layer, run.run_id,
                          run.template.name, run.on_error, run_here,
                          partial(self._forward, run), completed, _StepFailed)
        record = Journal.finished_branch(line)
        if record is None:
            return task, None
        self._apply_recorded(inner, record)
        announce(True)
        return task, Outcome(run.journal.output_of(record))

    def _forward(self, run: _Run, event: dict[str, Any]) -> None:
        """An event of a branch run elsewhere (its JSON shape), as one of this run's."""
        self._publish(run, E.event_from_dict(event, run_id=run.run_id,
                                             workflow=run.template.name))

    # ------------------------------------------------------------ one step
    def _step(self, run: _Run, step: Step, value: Any, path: str) -> Any:
        policy = step.policy
        on_error = policy.on_error or run.on_error
        retries = policy.retry or (DEFAULT_RETRIES if on_error == "retry" else 0)
        step_path = join_path(path, step.name)
        ordinal = run.line.next_ordinal()
        if run.journal is not None and run.replaying:
            replayed = self._replayed(run, step, value, step_path, ordinal)
            if replayed is not _LIVE:
                return replayed
        probe, key = None, UNKEYED
        if policy.cache:
            if policy.cache_key is not None:
                key = self._cache_key(run, step, value, step_path)
            if run.journal is not None and run.journal.cache is not None:
                if run.journal.cache.mode != "off":
                    probe = run.journal.cache.probe(step, value,
                                                    run.state.get(CONFIG_KEY) or {}, key)
                if probe is not None and probe.hit is not None:
                    return self._restore(run, step, probe, step_path)
            elif self.cache is not None:
                hit = self.cache.lookup(step.name, step.identity,
                                        cache_input(step.takes_input, value, key), run.state)
                if hit is not None:
                    return self._replay(run, step, hit, step_path)
        first = self._first_attempt(run, ordinal, step_path)
        for attempt in range(first, max(first, retries + 1) + 1):
            started = self.clock()
            try:
                with step_key(run.run_id, step_path, ordinal):
                    return self._attempt(run, step, value, step_path, attempt, started, probe,
                                         key)
            except DanaRuntimeError as exc:
                if isinstance(exc, LimitError):
                    raise
                if span := step.span:
                    exc.trace.insert(0, TraceEntry(span, f"step {step.name}"))
                if attempt <= retries and policy.retries(exc.dana_type):
                    self._outcome(run, ordinal, step_path, attempt, "retried", exc)
                    delay = policy.delay(attempt)
                    self._emit(run, E.StepRetried, step_path, step=step.name,
                               attempt=attempt, delay=delay, error=exc.dana_type,
                               message=exc.message)
                    if delay > 0:
                        self._wait(delay, step.span)
                    continue
                if on_error == "skip":
                    self._outcome(run, ordinal, step_path, attempt, "skipped", exc)
                    self._emit(run, E.StepSkipped, step_path, step=step.name,
                               error=exc.dana_type, message=exc.message)
                    return value
                self._emit(run, E.StepFailed, step_path, step=step.name, attempt=attempt,
                           duration=self.clock() - started, error=exc.dana_type,
                           message=exc.message)
                self._outcome(run, ordinal, step_path, attempt, "failed", exc)
                raise _StepFailed(step.name, exc) from None
        raise AssertionError("unreachable")

    def _wait(self, delay: float, span: Any) -> None:
        """The wait before a retry (`sleep`); the error it raises when a deadline comes
        first (the interpreter's `Runtime.backoff`) points at the step, at `span`."""
        try:
            self.sleep(delay)
        except DanaRuntimeError as exc:
            exc.span = exc.span or span
            raise exc from None

    def _outcome(self, run: _Run, ordinal: int, path: str, attempt: int, kind: str,
                 exc: DanaRuntimeError) -> None:
        if run.journal is not None:
            run.journal.outcome(run.line, ordinal, path, attempt, kind, exc)

    def _first_attempt(self, run: _Run, ordinal: int, path: str) -> int:
        """1, or in a resumed run the attempt after the last one recorded for this step
        (attempt counts go on across resumes)."""
        if run.journal is None:
            return 1
        return 1 + max((a for a, _, _ in run.journal.attempts(run.line, ordinal, path)),
                       default=0)

    def _replayed(self, run: _Run, step: Step, value: Any, path: str, ordinal: int) -> Any:
        """A step of a resumed run that the run already passed: its recorded rollbacks and
        version are committed again and its recorded output returned, or its recorded
        failure raised again, or its recorded skip honoured — without running it. _LIVE
        when the record ends before the step committed (it runs for real)."""
        line, journal = run.line, run.journal
        for name in (f"rollback {step.name}", step.name):
            while (record := line.peek()) is not None and (record.step, record.path) == (name,
                                                                                          path):
                line.take(record)
                self._apply_recorded(run, record)
                if name == step.name:
                    return journal.output_of(record)
        if not line.replaying:
            return _LIVE
        ended = [(kind, e) for _, kind, e in journal.attempts(line, ordinal, path)
                 if kind in ("failed", "skipped")]
        if not ended:
            line.expect(step.name, path)  # raises ResumeMismatch
        kind, record = ended[-1]
        if kind == "skipped":
            return value
        error = DanaRuntimeError(record["type"], record["message"], step.span)
        error.catchable = record["catchable"]
        raise _StepFailed(step.name, error)

    def _attempt(self, run: _Run, step: Step, value: Any, path: str, attempt: int,
                 started: float, probe: Any = None, key: Any = UNKEYED) -> Any:
        """One attempt: validate hook, the step in its transaction, commit. On a failure
        after the step began, its writes are discarded and the rollback hook runs."""
        state, policy = run.state, step.policy
        version = _event_version(state, state.version)
        if probe is None:
            self._emit(run, E.StepStarted, path, step=step.name, attempt=attempt,
                       version=version)
        else:
            self._emit(run, E.StepStarted, path, step=step.name, attempt=attempt,
                       version=version, reason=probe.reason)
        if policy.validate is not None:
            self._run_validate_hook(run, step)
        tx = state.begin(step.name)
        try:
            if policy.timeout is None:  # no deadline to arm: the step runs as it is
                output = step.run(value, StateView(tx, state))
            else:
                output = self._body(step, value, StateView(tx, state))
            if run.journal is None and not policy.cache:  # nothing to record or remember
                version = state.commit(tx)
            else:
                version = self._commit_step(run, step, value, path, tx, output, attempt,
                                            started, probe, key)
        except DanaRuntimeError as exc:
            tx.discard()
            if not isinstance(exc, LimitError):
                self._rollback(run, step, exc, path)
            raise
        except BaseException:
            tx.discard()
            raise
        self._emit(run, E.StepSucceeded, path, step=step.name, attempt=attempt,
                   duration=self.clock() - started, version=_event_version(state, version))
        return output

    def _commit_step(self, run: _Run, step: Step, value: Any, path: str, tx: Any,
                     output: Any, attempt: int, started: float, probe: Any,
                     key: Any) -> int:
        """Commit a step that ran in a durable run or is cached: what it read is
        remembered (or hashed) before its writes commit, the commit recorded, and the
        cache entry stored after it."""
        state, policy = run.state, step.policy
        caching = policy.cache and self.cache is not None and run.journal is None
        if caching:  # what the step read, as it was before its own writes commit
            reads = tx.reads if key is UNKEYED else ()
            entry = CacheEntry(step.identity, cache_input(step.takes_input, value, key),
                               {k: state.get(k, MISSING) for k in reads}, output, tx.writes)
        if probe is not None:  # what the step read, hashed before its writes commit
            read = run.journal.cache.read_hashes(probe, tx.reads, state.get(CONFIG_KEY) or {})
        version = self._durable_commit(run, step.name, path, tx.writes,
                                       partial(state.commit, tx), output,
                                       with_output=True, attempt=attempt, started=started,
                                       source=self._source(run, step, tx.reads, probe))
        if caching:
            self.cache.store(step.name, entry)
        if probe is not None and version is not None and run.line.last is not None:
            run.journal.cache.store(probe, read, run.line.last.output, run.line.last.changes,
                                    run.run_id, version, policy.cache_ttl)
        return version

    def _replay(self, run: _Run, step: Step, hit: CacheEntry, path: str) -> Any:
        """A cache hit: commit the remembered writes as the step's version, without
        running it (or its hooks), and give its remembered output."""
        tx = run.state.begin(step.name)
        for key, value in hit.writes.items():
            if value is MISSING:
                tx.delete(key)
            else:
                tx[key] = value
        version = self._durable_commit(run, step.name, path, tx.writes,
                                       partial(run.state.commit, tx), hit.output,
                                       with_output=True)
        self._emit(run, E.StepCached, path, step=step.name,
                   version=_event_version(run.state, version))
        return hit.output

    def _source(self, run: _Run, step: Step, reads: set[str], probe: Any) -> Source:
        """A step commit's lineage: what it read (config parameters by name), its code."""
        if run.journal is None:
            return CONTROL
        code, names = run.journal.code_hash(step)
        config = run.state.get(CONFIG_KEY) or {}
        return Source(frozenset(expand_reads(reads, names, config)), code,
                      reason=probe.reason if probe is not None else "",
                      input=run.line.output_version if step.takes_input else None)

    def _restore(self, run: _Run, step: Step, probe: Any, path: str) -> Any:
        """A hit in the store's cache: commit the entry's writes as the step's version,
        without running it, and give its output; step_cached names the run and version
        that produced the entry."""
        row = probe.hit
        output, writes = run.journal.cache.restore(row, run.journal.struct)
        tx = run.state.begin(step.name)
        for key, value in writes.items():
            if value is MISSING:
                tx.delete(key)
            else:
                tx[key] = value
        source = Source(frozenset(row.reads), probe.code_hash, "cache", row.run_id, row.version,
                        input=run.line.output_version if step.takes_input else None)
        version = self._durable_commit(run, step.name, path, tx.writes,
                                       partial(run.state.commit, tx), output,
                                       with_output=True, source=source)
        self._emit(run, E.StepCached, path, step=step.name,
                   version=_event_version(run.state, version), from_run=row.run_id,
                   from_version=row.version)
        return output

    def _body(self, step: Step, value: Any, view: StateView) -> Any:
        """Run a step that has a timeout: the deadline stops Dana code that runs past it,
        and a step that returns late (host code, sleeps) fails all the same."""
        timeout = step.policy.timeout
        started = self.clock()
        disarm = self.deadline(timeout, step.name)
        try:
            output = step.run(value, view)
        except DanaRuntimeError as exc:
            late = timeout is not None and self.clock() - started >= timeout
            if exc.dana_type == "TimeoutError" and late:
                exc.catchable = True  # its own deadline: a `handle` around the step may catch it
            raise
        finally:
            disarm()
        if timeout is not None and self.clock() - started > timeout:
            raise runtime_error(R.STEP_TIMEOUT, step.span, step=step.name, seconds=timeout)
        return output

    def _run_validate_hook(self, run: _Run, step: Step) -> None:
        """The validate hook sees the state the step would see, read-only; False fails the
        attempt with StepError, an error it raises fails it with that error."""
        hook = step.policy.validate
        view = StateView(run.state, run.state, read_only=R.VALIDATE_READ_ONLY)
        if not hook.call(view):
            raise runtime_error(R.STEP_FAILED_VALIDATE, step.span, step=step.name, hook=hook.name)

    @staticmethod
    def _explain(run: _Run) -> None:
        """Tell the cache's `report` which cached steps a new durable run will restore
        and why the others will run (`dana run --explain`)."""
        journal = run.journal
        if journal.cache is None or journal.cache.report is None \
                or journal.resumed_from is not None:
            return
        from dana.workflow.explain import forecast
        journal.cache.report(forecast(run.template, run.state, journal.hashes, journal.cache,
                                      journal.struct))

    def _cache_key(self, run: _Run, step: Step, value: Any, path: str) -> Any:
        """The value of the step's `cache_key` hook, called on the state the step would
        see (read-only) and its input. An error it raises fails the step (no retry)."""
        view = StateView(run.state, run.state, read_only=R.CACHE_KEY_READ_ONLY)
        try:
            return step.policy.cache_key.call(view, value)
        except DanaRuntimeError as exc:
            if isinstance(exc, LimitError):
                raise
            self._emit(run, E.StepFailed, path, step=step.name, attempt=1, duration=0.0,
                       error=exc.dana_type, message=exc.message)
            raise _StepFailed(step.name, exc) from None

    def _rollback(self, run: _Run, step: Step, error: DanaRuntimeError, path: str) -> None:
        """Run the rollback hook in its own transaction, committed as "rollback NAME". If
        the hook fails, that failure ends the step (no retry, no skip)."""
        hook = step.policy.rollback
        if hook is None:
            return
        name = f"rollback {step.name}"
        tx = run.state.begin(name)
        try:
            hook.call(StateView(tx, run.state), _record(error, step.name))
            self._durable_commit(run, name, path, tx.writes, partial(run.state.commit, tx))
        except DanaRuntimeError as exc:
            tx.discard()
            if isinstance(exc, LimitError):
                raise
            self._emit(run, E.StepFailed, path, step=name, attempt=1, duration=0.0,
                       error=exc.dana_type, message=exc.message)
            raise _StepFailed(name, exc) from None

    def _emit(self, run: _Run, kind: type[E.RunEvent], path: str, **fields: Any) -> None:
        """Record an event of `kind` (its fields as keywords; a wrong or missing one is a
        TypeError: an internal error) and give it to the listeners; with none, the record
        is made only if `RunResult.events` is read."""
        if run.journal is not None and run.replaying and issubclass(kind, E.StepEvent):
            return  # a replayed step did not run again
        fields["run_id"] = run.run_id
        fields["workflow"] = run.template.name
        fields["path"] = path
        fields["time"] = self.wall()
        if self.listeners is not None and not self.listeners:
            run.events.defer(kind, fields)
        else:
            self._publish(run, kind(**fields))

    def _publish(self, run: _Run, event: E.RunEvent) -> None:
        with run.lock:
            run.events.add(event)
            self.emit_hook(event)


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _NoDefault()
"""The `default` of a `Param` that must be given."""
