"""Workflow templates, steps and run results as data (docs/workflows.md).

Consumes: callables and type tests made by the runtime (this package never imports it).
Produces: `Step` (a named callable `(input, transaction) -> output` with options),
the plan nodes of a `steps:` block, `Requirement`, `Param`, `WorkflowTemplate`,
`RunResult` and `RunOutcome`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, NamedTuple

from dana.errors import NOT_RETRIED, DanaRuntimeError, is_subtype, runtime_error
from dana.messages import runtime as R
from dana.source import Span
from dana.surface import OnError

DEFAULT_RETRIES = 3
"""Retries of a step whose on_error is "retry" (its own or its workflow's) and no `retry=N`."""


def join_path(path: str, segment: str) -> str:
    """A step path one level down: `epochs[2]` + `train` -> `epochs[2]/train`."""
    return f"{path}/{segment}" if path else segment


@dataclass(frozen=True)
class Hook:
    """A step hook: `name` (for messages) and `call`. A validate hook is called as
    `call(state_view) -> bool`, a rollback hook as `call(state_view, error)` with the error
    record {"type", "message", "step"} that a steps-block `handle E as e` binds, a cache_key
    hook as `call(state_view, input) -> value` (docs/workflows.md
    "Validate and rollback hooks", "Cached steps")."""

    name: str
    call: Callable[..., Any]


@dataclass
class StepPolicy:
    """How the runner treats one step: retries (count), backoff and max_delay (seconds:
    attempt k waits min(backoff * 2**(k-1), max_delay) before the next), timeout (seconds
    per attempt), cache (skip when an earlier identical execution is stored), cache_ttl
    (seconds a cache entry is valid; None: forever), cache_key (a hook `(state view,
    input) -> value` the cache is keyed on instead of the reads and the input), on_error
    ("halt" | "skip" | "retry"; None: the workflow's default), the optional `validate` /
    `rollback` hooks, and which errors are retried: `retry_on` (error type names; None: all
    but `dana.errors.NOT_RETRIED`) minus `no_retry_on`."""

    retry: int = 0
    backoff: float = 0.0
    max_delay: float = 60.0
    timeout: float | None = None
    cache: bool = False
    cache_ttl: float | None = None
    cache_key: Hook | None = None
    on_error: OnError | None = None
    validate: Hook | None = None
    rollback: Hook | None = None
    retry_on: tuple[str, ...] | None = None
    no_retry_on: tuple[str, ...] = ()

    def retries(self, error_type: str) -> bool:
        """True when a failed attempt with an error of `error_type` may be retried."""
        allowed = any(is_subtype(error_type, t) for t in self.retry_on) \
            if self.retry_on is not None else error_type not in NOT_RETRIED
        return allowed and not any(is_subtype(error_type, t) for t in self.no_retry_on)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based) before the next."""
        return min(self.backoff * 2 ** (attempt - 1), self.max_delay)


@dataclass(eq=False)
class Step:
    """One runnable step. `run(input, tx)` returns the step's output; `tx` is the state
    transaction the step reads and writes through. A step whose `takes_input` is False
    ignores its input (every non-state parameter is bound), so the cache does not key on
    it."""

    name: str
    run: Callable[[Any, Any], Any]
    policy: StepPolicy
    span: Span | None = None
    identity: tuple = ()   # its code and bound arguments: what the step cache compares
    takes_input: bool = True
    reads: frozenset[str] | None = None  # the state keys it can reach; None: any


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
    the item to the body's steps as state key `var` (removed after the loop). `label` is
    the loop's name in step paths (`items[3]/step`): the iterable's last name."""

    var: str
    items: Callable[[Any], Any]
    body: list[Any]
    span: Span
    label: str
    reads: frozenset[str] | None = None  # keys its expression can reach; None: any


@dataclass(eq=False)
class WhileNode:
    """`while cond:` over the state — `cond(view)` is tested before each pass of `body`;
    iteration k's steps are under `while[k]` in step paths."""

    cond: Callable[[Any], bool]
    body: list[Any]
    span: Span
    reads: frozenset[str] | None = None  # keys its expression can reach; None: any


@dataclass(eq=False)
class IfNode:
    """`if cond:` over the state; `orelse` holds `elif`/`else` branches."""

    cond: Callable[[Any], bool]
    body: list[Any]
    orelse: list[Any]
    span: Span
    reads: frozenset[str] | None = None  # keys its expression can reach; None: any


@dataclass(eq=False)
class TryNode:
    """`try:` around steps; each handler is (matches(error) -> bool, var name or None,
    body). `orelse` (the `else:` block) runs only when `body` did not fail, `finalbody`
    always (Python semantics); a handler's var is a state key scoped to its body."""

    body: list[Any]
    handlers: list[tuple[Callable[[Any], bool], str | None, list[Any]]]
    finalbody: list[Any]
    span: Span
    orelse: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class ParallelNode:
    """`parallel(max_concurrency=N):` — each branch is a list of plan nodes, `labels` name
    them (the line's step names or block keyword); None: as many workers as branches."""

    branches: list[list[Any]]
    max_concurrency: int | None
    span: Span
    labels: list[str] = field(default_factory=list)


@dataclass(eq=False)
class ParallelForNode:
    """`parallel for var in items (max_concurrency=N):` — `items(view)` gives the items;
    `body` runs once per item, each run a branch that sees its item as state key `var`
    (never committed). `label` names the branches in step paths (`shards[3]/step`): the
    iterable's last name. None: as many workers as items."""

    var: str
    items: Callable[[Any], Any]
    body: list[Any]
    max_concurrency: int | None
    span: Span
    label: str
    reads: frozenset[str] | None = None  # keys its expression can reach; None: any


@dataclass(frozen=True)
class Requirement:
    """A `requires:` entry: the key, its type's name and test, and where it is declared."""

    key: str
    type_name: str
    check: Callable[[Any], bool]
    span: Span | None = None
    from_json: Callable[[Any], Any] = lambda v: v


class Param(NamedTuple):
    """A workflow parameter: its type's name and test, its default (`NO_DEFAULT` in
    dana.workflow.runner when required), and `convert` (JSON/YAML value -> Dana value, with
    int -> float widening; applied before `check`)."""

    type_name: str
    check: Callable[[Any], bool]
    default: Any
    convert: Callable[[Any], Any] = lambda v: v
    span: Span | None = None   # where it is declared in the workflow header


@dataclass(eq=False)
class WorkflowTemplate:
    """A named, versioned workflow template (docs/workflows.md).

    `params` maps config names to `Param`s; the run's config
    is exposed to steps as the read-only state key `config`. `plan` is the `steps:` block.
    """

    name: str
    version: str
    params: dict[str, Param]
    requires: list[Requirement]
    plan: list[Any]
    returns: tuple[str, Callable[[Any], bool]] | None = None
    on_error: OnError = "halt"
    docstring: str | None = None
    span: Span | None = None

    dana_type_name = "workflow"
    dana_attrs = frozenset({"name", "version", "docstring"})

    def __repr__(self) -> str:
        return f"<workflow {self.name} v{self.version}>"


RunOutcome = Literal["succeeded", "failed", "interrupted"]
"""How a run ended (`RunResult.status`): the final values of the store's `RunStatus`."""


@dataclass(eq=False)
class RunResult:
    """The outcome of one run: status is "succeeded", "failed" or "interrupted" (Ctrl-C:
    carried by `dana.workflow.runner.RunInterrupted`); `error` is the
    {type, message, step, time} record of the failure (also in the state as `error`);
    `events` every event the run emitted (dicts, made from `log`, the run's
    dana.workflow.events.EventLog, when first read); `duration` in seconds."""

    run_id: str
    workflow: str
    version: str
    status: RunOutcome
    output: Any
    state: Any
    error: dict[str, Any] | None = None
    duration: float = 0.0
    log: Any = field(default=None, repr=False)  # EventLog (dana.workflow.events)
    exception: Any = field(default=None, repr=False)
    store: Any = field(default=None, repr=False)  # the RunStore of a durable run

    dana_attrs = frozenset({"run_id", "workflow", "version", "status", "output", "state",
                            "error", "duration", "history", "events", "lineage"})

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event of the run in its JSON shape, oldest first."""
        return self.log.dicts() if self.log is not None else []

    def history(self) -> list[Any]:
        """The state's version history (one entry per committed step)."""
        return self.state.history()

    def lineage(self, key: str, version: int | None = None, depth: int | None = None,
                downstream: bool = False) -> dict[str, Any]:
        """Where state key `key` (as at `version`, default the last) came from, or with
        `downstream` what was derived from it: the graph `dana lineage --format json`
        prints (docs/store.md "Lineage"). Raises StateError for a run that was not
        recorded (ephemeral) or a key it never held."""
        if self.store is None:
            raise runtime_error(R.LINEAGE_EPHEMERAL)
        from dana.store.lineage import trace
        from dana.store.runs import StoreError
        try:
            return trace(self.store, self.run_id, key, version, depth, downstream).as_dict()
        except StoreError as exc:
            raise DanaRuntimeError("StateError", str(exc)) from None

    def __repr__(self) -> str:
        return f"<run {self.run_id} of {self.workflow}: {self.status}>"
