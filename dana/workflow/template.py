"""Workflow templates, steps and run results as data (DESIGN §3).

Consumes: callables and type tests made by the runtime (this package never imports it).
Produces: `Step` (a named callable `(input, transaction) -> output` with options),
the plan nodes of a `steps:` block, `Requirement`, `WorkflowTemplate` and `RunResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from dana.source import Span


@dataclass
class StepPolicy:
    """How the runner treats one step: retries (count), backoff and max_delay (seconds,
    exponential), timeout (seconds per attempt) and on_error ("halt" | "skip" | "retry")."""

    retry: int = 0
    backoff: float = 0.0
    max_delay: float = 60.0
    timeout: float | None = None
    cache: bool = False
    on_error: str = "halt"


@dataclass(eq=False)
class Step:
    """One runnable step. `run(input, tx)` returns the step's output; `tx` is the state
    transaction the step reads and writes through."""

    name: str
    run: Callable[[Any, Any], Any]
    policy: StepPolicy
    span: Span | None = None


@dataclass(eq=False)
class StepLine:
    """One line of `steps:`: a step or a pipeline `a | b | c`. `resolve()` evaluates the
    line's names when it runs (so steps may be defined after the workflow)."""

    resolve: Callable[[], list[Step]]
    span: Span
    label: str


@dataclass(eq=False)
class ForNode:
    """`for x in state.items:` — `items(view)` gives the sequence; each iteration exposes
    the item to the body's steps as state key `var` (removed after the loop)."""

    var: str
    items: Callable[[Any], Any]
    body: list[Any]
    span: Span
    label: str


@dataclass(eq=False)
class WhileNode:
    cond: Callable[[Any], bool]
    body: list[Any]
    span: Span


@dataclass(eq=False)
class IfNode:
    """`if cond:` over the state; `orelse` holds `elif`/`else` branches."""

    cond: Callable[[Any], bool]
    body: list[Any]
    orelse: list[Any]
    span: Span


@dataclass(eq=False)
class TryNode:
    """`try:` around steps; each handler is (matches(error) -> bool, var name, body)."""

    body: list[Any]
    handlers: list[tuple[Callable[[Any], bool], str | None, list[Any]]]
    finalbody: list[Any]
    span: Span


@dataclass(eq=False)
class ParallelNode:
    """`parallel(max_concurrency=N):` — each branch is a list of plan nodes."""

    branches: list[list[Any]]
    max_concurrency: int
    span: Span


@dataclass(frozen=True)
class Requirement:
    """A `requires:` entry: the key, its type's name and test, and where it is declared."""

    key: str
    type_name: str
    check: Callable[[Any], bool]
    span: Span | None = None
    from_json: Callable[[Any], Any] = lambda v: v


@dataclass(eq=False)
class WorkflowTemplate:
    """A named, versioned workflow template (DESIGN §3).

    `params` maps config names to (type name, check, default or MISSING); the run's config
    is exposed to steps as the read-only state key `config`. `plan` is the `steps:` block.
    """

    name: str
    version: str
    params: dict[str, tuple[str, Callable[[Any], bool], Any]]
    requires: list[Requirement]
    plan: list[Any]
    returns: tuple[str, Callable[[Any], bool]] | None = None
    on_error: str = "halt"
    docstring: str | None = None
    span: Span | None = None
    parts: tuple["WorkflowTemplate", ...] = ()

    dana_type_name = "workflow"
    dana_attrs = frozenset({"name", "version", "docstring"})

    def __repr__(self) -> str:
        return f"<workflow {self.name} v{self.version}>"


@dataclass(eq=False)
class RunResult:
    """The outcome of one run: status is "succeeded" or "failed"; `error` is the
    {type, message, step, time} record of the failure (also in the state as `error`)."""

    run_id: str
    workflow: str
    version: str
    status: str
    output: Any
    state: Any
    error: dict[str, Any] | None = None
    duration: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    exception: Any = field(default=None, repr=False)

    dana_attrs = frozenset({"run_id", "workflow", "version", "status", "output", "state",
                            "error", "duration", "history"})

    def history(self) -> list[Any]:
        """The state's version history (one entry per committed step)."""
        return self.state.history()

    def __repr__(self) -> str:
        return f"<run {self.run_id} of {self.workflow}: {self.status}>"
