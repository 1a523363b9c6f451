"""Which cached steps a durable run will restore from the store, and why the others will
run (`dana run --explain`; docs/store.md "Explain").

Consumes: a workflow template, the run's state at version 0 (a `WorkflowState`) with the
hash of each value as the journal recorded it, the run's `StoreCache`, and a function
rebuilding stored structs.
Produces: `forecast(...) -> list[Forecast]`, one per cached step the run will reach, in
order: "hit" (with the run and version whose entry will be restored), "run" (with the
reason: first run, ``code of `f` changed``, ``state key `k` changed``, ...) or "unknown"
(what it depends on that only the run can tell: the output of a step that runs first, a
state key such a step may change, a condition or a loop over such a key).

The forecast walks the `steps:` block without running a step. A step that will hit has its
entry's writes applied to a scratch copy of the state, so conditions, loops and the steps
after it are judged as the run will judge them; a step that will run (not cached, or a
miss) may change any state key it names (`Step.reads`; any key at all for one whose code
Dana cannot see), and those keys are unknown from there on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sized
from dataclasses import dataclass
from typing import Any, Callable, Literal

from dana.errors import DanaRuntimeError
from dana.messages import runtime as R
from dana.store.codec import UnstorableValue, content_hash, decode
from dana.workflow.state import CONFIG_KEY, MISSING, WorkflowState
from dana.workflow.store_cache import StoreCache, Unknown, input_hash_of
from dana.workflow.template import (ForNode, IfNode, ParallelForNode, ParallelNode, Step,
                                    StepLine, TryNode, WhileNode, WorkflowTemplate, join_path)
from dana.workflow.view import StateView

Verdict = Literal["hit", "run", "unknown"]
MAX_PASSES = 100_000
"""`while` passes a forecast follows before it gives up on the loop."""


@dataclass(frozen=True)
class Forecast:
    """One cached step of the run: its name and path (as in events), the verdict and why
    (for a hit, the run and version that made the entry)."""

    step: str
    path: str
    verdict: Verdict
    reason: str = ""
    from_run: str | None = None
    from_version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Value:
    """A value flowing between steps: known (the value and its hash) or `unknown`."""

    value: Any = None
    hash: str | None = None
    unknown: Unknown | None = None


def forecast(template: WorkflowTemplate, state: WorkflowState, hashes: dict[str, str],
             cache: StoreCache, struct: Any = None) -> list[Forecast]:
    """The forecast of a run of `template` from `state` (version 0; `hashes`: key ->
    sha256 of its committed encoding). Nothing is run, stored or committed to the run."""
    walk = _Walk(cache, WorkflowState(state.as_dict()), dict(hashes), struct)
    walk.block(template.plan, _Value(None, content_hash(None)), "")
    return walk.out


class _Walk:
    """The walk through one plan: the scratch state, the hash of each key it holds, the
    keys only the run can tell (key -> why; `anything`: every key), the forecasts."""

    def __init__(self, cache: StoreCache, state: WorkflowState, hashes: dict[str, str],
                 struct: Any) -> None:
        self.cache = cache
        self.state = state
        self.hashes = hashes
        self.struct = struct
        self.unknown: dict[str, Unknown] = {}
        self.anything: Unknown | None = None
        self.out: list[Forecast] = []

    # ------------------------------------------------------------ blocks
    def block(self, nodes: list[Any], value: _Value, path: str) -> _Value:
        for node in nodes:
            value = self.node(node, value, path)
        return value

    def node(self, node: Any, value: _Value, path: str) -> _Value:
        if isinstance(node, StepLine):
            return self.line(node, value, path)
        if isinstance(node, IfNode):
            test = self.evaluate(node.reads, node.cond, "an `if` condition")
            if isinstance(test, Unknown):
                return self.blind(node.body + node.orelse, test, path)
            return self.block(node.body if test else node.orelse, value, path)
        if isinstance(node, ForNode):
            return self.loop(node, value, path)
        if isinstance(node, WhileNode):
            return self.until(node, value, path)
        if isinstance(node, TryNode):
            value = self.block(node.body + node.orelse, value, path)
            return self.block(node.finalbody, value, path)
        if isinstance(node, ParallelNode):
            outs = [self.block(b, value, join_path(path, f"parallel[{i}]"))
                    for i, b in enumerate(node.branches)]
            return self.joined(outs)
        if isinstance(node, ParallelForNode):
            return self.loop(node, value, path, parallel=True)
        raise AssertionError(f"internal error: unknown plan node {type(node).__name__}")

    def line(self, node: StepLine, value: _Value, path: str) -> _Value:
        try:
            steps = node.resolve()
        except DanaRuntimeError:
            self.anything = self.anything or Unknown(f"`{node.label}` fails first")
            return _Value(unknown=self.anything)
        for step in steps:
            if isinstance(step, WorkflowTemplate):
                value = self.sub_workflow(step, value, join_path(path, step.name))
            else:
                value = self.step(step, value, join_path(path, step.name))
        return value

    def sub_workflow(self, template: WorkflowTemplate, value: _Value, path: str) -> _Value:
        """Its plan, with the config its steps see (its own defaults filled in)."""
        outer = self.state.get(CONFIG_KEY) or {}
        merged = {**{k: p.default for k, p in template.params.items()}, **outer}
        self.assign(CONFIG_KEY, merged)
        try:
            return self.block(template.plan, value, path)
        finally:
            self.assign(CONFIG_KEY, outer)

    def loop(self, node: ForNode | ParallelForNode, value: _Value, path: str,
             parallel: bool = False) -> _Value:
        items = self.evaluate(node.reads, node.items, "a loop's items")
        if isinstance(items, Unknown):
            return self.blind(node.body, items, join_path(path, f"{node.label}[*]"))
        if not isinstance(items, Sized):
            items = list(items)
        before, outs = self.state.get(node.var, MISSING), []
        for index, item in enumerate(items):
            self.assign(node.var, item)
            outs.append(self.block(node.body, value, join_path(path, f"{node.label}[{index}]")))
            value = value if parallel else outs[-1]
        self.assign(node.var, before)
        return self.joined(outs) if parallel else value

    def until(self, node: WhileNode, value: _Value, path: str) -> _Value:
        for index in range(MAX_PASSES):
            test = self.evaluate(node.reads, node.cond, "a `while` condition")
            if isinstance(test, Unknown):
                return self.blind(node.body, test, join_path(path, f"while[{index}]"))
            if not test:
                return value
            value = self.block(node.body, value, join_path(path, f"while[{index}]"))
        return self.blind(node.body, Unknown("a `while` loop the forecast stopped following"),
                          join_path(path, f"while[{MAX_PASSES}]"))

    def blind(self, nodes: list[Any], why: Unknown, path: str) -> _Value:
        """Nodes whose running only the run can tell: their cached steps are unknown, and
        every step in them may change what it names."""
        for node in nodes:
            if isinstance(node, StepLine):
                try:
                    steps = node.resolve()
                except DanaRuntimeError:
                    steps = []
                for step in steps:
                    if isinstance(step, WorkflowTemplate):
                        self.blind(step.plan, why, join_path(path, step.name))
                        continue
                    if step.policy.cache:
                        self.out.append(Forecast(step.name, join_path(path, step.name), "unknown",
                                                 why.why))
                    self.runs(step)
            else:
                for body in _bodies(node):
                    self.blind(body, why, path)
        return _Value(unknown=why)

    # ------------------------------------------------------------ one step
    def step(self, step: Step, value: _Value, path: str) -> _Value:
        if not step.policy.cache:
            return self.runs(step)
        if self.cache.mode == "off":
            self.out.append(Forecast(step.name, path, "run", "--no-cache"))
            return self.runs(step)
        judged = self.judge(step, value)
        if isinstance(judged, Unknown):
            self.out.append(Forecast(step.name, path, "unknown", judged.why))
            return self.runs(step)
        if judged.hit is None:
            self.out.append(Forecast(step.name, path, "unknown" if judged.unknown else "run",
                                     judged.reason))
            return self.runs(step)
        row = judged.hit
        self.out.append(Forecast(step.name, path, "hit", "", row.run_id, row.version))
        for key, data in decode(row.writes).items():
            self.assign(key, MISSING if data is None else decode(data, self.struct),
                        None if data is None else hashlib.sha256(data).hexdigest())
        output = None if row.output is None else decode(row.output, self.struct)
        return _Value(output, hashlib.sha256(row.output).hexdigest() if row.output is not None
                      else content_hash(None))

    def judge(self, step: Step, value: _Value) -> Any:
        """The step's probe, or the Unknown that keeps the forecast from one."""
        if step.policy.cache_key is not None:
            if self.anything or self.unknown or value.unknown:
                return Unknown("its cache_key reads what only the run can tell")
            try:
                input_hash = input_hash_of(step, None,
                                           step.policy.cache_key.call(self.view(), value.value))
            except DanaRuntimeError as exc:
                return Unknown(f"its cache_key failed: {exc.message}")
            except UnstorableValue:
                return Unknown("its cache_key gives a value that cannot be stored")
        elif not step.takes_input:
            input_hash = ""
        elif value.unknown is not None:
            return value.unknown
        else:
            input_hash = value.hash
        return self.cache.lookup(step, input_hash, self.current)

    def current(self, key: str) -> Any:
        """The hash a read key holds at this point, or the Unknown that it depends on."""
        if key.startswith(CONFIG_KEY + "."):
            return self.cache._config_hash(key[len(CONFIG_KEY) + 1:],
                                           self.state.get(CONFIG_KEY) or {})
        found = self.unknown.get(key) or self.anything
        return found if found is not None else self.hashes.get(key)

    def runs(self, step: Step) -> _Value:
        """A step that will run: what it names is unknown from here on; so is its output."""
        if step.reads is None:
            self.anything = self.anything or Unknown(
                f"the state may change: `{step.name}` runs first")
        for key in step.reads or ():
            self.unknown.setdefault(key, Unknown(
                f"state key `{key}` may change: `{step.name}` runs first"))
        return _Value(unknown=Unknown(f"its input is the output of `{step.name}`, which runs "
                                      "first"))

    # ------------------------------------------------------------ state
    def evaluate(self, reads: frozenset[str] | None, fn: Callable[[Any], Any],
                 what: str) -> Any:
        """`fn(state)` for a condition or loop, or the Unknown it depends on."""
        waiting = self.anything or next((self.unknown[k] for k in sorted(reads or ())
                                         if k in self.unknown), None)
        if waiting is None and reads is None and self.unknown:
            waiting = next(iter(self.unknown.values()))
        if waiting is not None:
            return Unknown(f"{what} reads what only the run can tell ({waiting.why})")
        try:
            return fn(self.view())
        except DanaRuntimeError as exc:
            return Unknown(f"{what} failed: {exc.message}")

    def view(self) -> StateView:
        return StateView(self.state, self.state, read_only=R.FORECAST_READ_ONLY)

    def assign(self, key: str, value: Any, hashed: str | None = None) -> None:
        """Set (MISSING: remove) a scratch key; `hashed`: its hash when known."""
        tx = self.state.begin("forecast")
        if value is MISSING:
            if key in self.state:
                tx.delete(key)
            self.hashes.pop(key, None)
        else:
            tx[key] = value
            try:
                self.hashes[key] = hashed or content_hash(value)
            except UnstorableValue:
                self.hashes.pop(key, None)
        self.state.commit(tx)
        self.unknown.pop(key, None)

    @staticmethod
    def joined(outs: list[_Value]) -> _Value:
        """A parallel block's output: the list of its branches' outputs."""
        waiting = next((o.unknown for o in outs if o.unknown is not None), None)
        if waiting is not None:
            return _Value(unknown=waiting)
        value = [o.value for o in outs]
        return _Value(value, content_hash(value))


def _bodies(node: Any) -> list[list[Any]]:
    """The plan blocks inside a control node."""
    if isinstance(node, IfNode):
        return [node.body, node.orelse]
    if isinstance(node, TryNode):
        return [node.body, *(h[2] for h in node.handlers), node.orelse, node.finalbody]
    if isinstance(node, ParallelNode):
        return list(node.branches)
    return [node.body]

