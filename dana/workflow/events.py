"""Run events: one typed record per kind (docs/workflows.md "Events").

Consumes: nothing (plain data); the runner (dana.workflow.runner) builds the records.
Produces: `RunEvent` and its subclasses, one per event kind, `EventKind` (the closed set of
kinds), `EVENT_TYPES` (kind -> class), `event_from_dict` (a record from its JSON shape),
`EventLog` (a run's events, made into dicts when read) and `Listener` (what receives events).

A record is a slotted dataclass that also reads like the dict it is serialised as: `e.step`
and `e["step"]`, `e.get("error")`, `dict(e)` all work, so a listener written for plain event
dicts keeps working. Every listener gets the same record: never change one. (They are not
frozen: frozen dataclasses cost several times more to define, at the start of every
workflow run, and to build.) Its JSON shape (`dict(e)`, what `--events` writes and
`RunResult.events` holds) is `{"event", "run_id", "workflow", "path", "time", ...fields}`;
fields marked `omit_none` are left out when None (they exist only in durable runs).
`docs/events.schema.json` is generated from these classes
(`python -m dana.workflow.event_schema > docs/events.schema.json`).

Kept light on purpose: importing it loads no pydantic; a plain `dana run` of a script that
starts no workflow does not import it at all (tests/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from operator import attrgetter
from typing import Any, Literal

EventKind = Literal[
    "workflow_started", "workflow_completed", "workflow_failed", "workflow_interrupted",
    "run_resumed", "step_started", "step_succeeded", "step_failed", "step_retried",
    "step_skipped", "step_cached", "loop_started", "loop_iteration", "loop_completed",
    "parallel_started", "branch_completed", "parallel_completed"]

BranchStatus = Literal["succeeded", "failed"]

_OMIT_NONE = {"omit_none": True}


def _optional() -> Any:
    """A field that is absent from the JSON shape when None."""
    return field(default=None, metadata=_OMIT_NONE)


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class RunEvent(Mapping):
    """What every event carries: its kind, the run's id, the top-level workflow's name,
    the place in the run (`epochs[2]/batches[17]/optim_step`; "" for the run itself) and
    the wall-clock time (seconds since the epoch)."""

    event: EventKind
    run_id: str
    workflow: str
    path: str
    time: float

    def _shape(self) -> tuple[str, ...]:
        return tuple(name for name, omit_none in _layout(type(self))
                     if not (omit_none and getattr(self, name) is None))

    def as_dict(self) -> dict[str, Any]:
        """The JSON dict of this event (what `dict(event)` gives), made in one pass."""
        names, values, omissible = _reader(type(self))
        out = dict(zip(names, values(self)))
        for name in omissible:
            if out[name] is None:
                del out[name]
        return out

    def __getitem__(self, key: str) -> Any:
        omit_none = _omitted(type(self)).get(key)
        if omit_none is not None:
            value = getattr(self, key)
            if value is not None or not omit_none:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._shape())

    def __len__(self) -> int:
        return len(self._shape())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"


@cache
def _layout(cls: type[RunEvent]) -> tuple[tuple[str, bool], ...]:
    """(field name, left out when None) of a record class, in JSON order."""
    return tuple((f.name, bool(f.metadata.get("omit_none"))) for f in fields(cls))


@cache
def _reader(cls: type[RunEvent]) -> tuple[tuple[str, ...], Callable[[Any], tuple], tuple[str, ...]]:
    """(field names in JSON order, a getter of their values as a tuple, the names left out
    when None) of a record class."""
    names = tuple(name for name, _ in _layout(cls))
    return names, attrgetter(*names), tuple(name for name, omit in _layout(cls) if omit)


@cache
def _omitted(cls: type[RunEvent]) -> dict[str, bool]:
    """Field name -> whether it is left out when None, of a record class."""
    return dict(_layout(cls))


# ------------------------------------------------------------------ workflows
@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class WorkflowStarted(RunEvent):
    """A run (path "") or a sub-workflow (its path) began."""

    event: Literal["workflow_started"] = "workflow_started"


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class WorkflowCompleted(RunEvent):
    """A run or a sub-workflow ended well after `duration` seconds."""

    event: Literal["workflow_completed"] = "workflow_completed"
    duration: float


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class WorkflowFailed(RunEvent):
    """A run or a sub-workflow failed: `error` is the Dana error type, `message` its text."""

    event: Literal["workflow_failed"] = "workflow_failed"
    duration: float
    error: str
    message: str


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class WorkflowInterrupted(RunEvent):
    """Ctrl-C stopped the run (its last event; path "")."""

    event: Literal["workflow_interrupted"] = "workflow_interrupted"
    duration: float


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class RunResumed(RunEvent):
    """`dana resume` continues a run from state version `version` (docs/store.md)."""

    event: Literal["run_resumed"] = "run_resumed"
    version: int


# ------------------------------------------------------------------ steps
@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepEvent(RunEvent):
    """An event of one step (`step` is its name); a replayed step emits none."""

    step: str


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepStarted(StepEvent):
    """Attempt `attempt` (from 1) began on state version `version` (None inside a parallel
    branch); `reason` (durable runs, `cache=True` steps) says why it runs."""

    event: Literal["step_started"] = "step_started"
    attempt: int
    version: int | None
    reason: str | None = _optional()


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepSucceeded(StepEvent):
    """The step committed state version `version` (None inside a parallel branch: its
    writes become visible in the block's merged version)."""

    event: Literal["step_succeeded"] = "step_succeeded"
    attempt: int
    duration: float
    version: int | None


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepFailed(StepEvent):
    """The step's final failure."""

    event: Literal["step_failed"] = "step_failed"
    attempt: int
    duration: float
    error: str
    message: str


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepRetried(StepEvent):
    """Attempt `attempt` failed; the next one starts after `delay` seconds."""

    event: Literal["step_retried"] = "step_retried"
    attempt: int
    delay: float
    error: str
    message: str


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepSkipped(StepEvent):
    """The step failed under `on_error="skip"`; the run goes on without its writes."""

    event: Literal["step_skipped"] = "step_skipped"
    error: str
    message: str


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class StepCached(StepEvent):
    """A cache hit: the step did not run, its remembered writes are version `version`;
    in a durable run `from_run`/`from_version` name the commit that made the entry."""

    event: Literal["step_cached"] = "step_cached"
    version: int | None
    from_run: str | None = _optional()
    from_version: int | None = _optional()


# ------------------------------------------------------------------ loops
@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class LoopEvent(RunEvent):
    """An event of a `for`/`while` loop of `steps:`: `loop` is its label (the last name of
    the iterated expression, "while" for a while loop); `path` is where the loop stands."""

    loop: str


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class LoopStarted(LoopEvent):
    """A loop began over `total` items (None for `while`)."""

    event: Literal["loop_started"] = "loop_started"
    total: int | None


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class LoopIteration(LoopEvent):
    """Iteration `index` (from 0) began; its steps are under `<loop>[<index>]`."""

    event: Literal["loop_iteration"] = "loop_iteration"
    index: int
    total: int | None


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class LoopCompleted(LoopEvent):
    """The loop ended (also after `break`; not when a failure or Ctrl-C cut it short)."""

    event: Literal["loop_completed"] = "loop_completed"


# ------------------------------------------------------------------ parallel blocks
@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class ParallelEvent(RunEvent):
    """An event of a `parallel:` block (`loop` None) or a `parallel for` (`loop` its label)."""

    loop: str | None


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class ParallelStarted(ParallelEvent):
    """The block began `branches` branches, at most `max_concurrency` at once."""

    event: Literal["parallel_started"] = "parallel_started"
    branches: int
    max_concurrency: int


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class BranchCompleted(ParallelEvent):
    """Branch `index` (of `branches`) ended with `status`."""

    event: Literal["branch_completed"] = "branch_completed"
    index: int
    branches: int
    status: BranchStatus


@dataclass(slots=True, kw_only=True, eq=False, repr=False)
class ParallelCompleted(ParallelEvent):
    """Every branch succeeded; their writes are merged as state version `version`."""

    event: Literal["parallel_completed"] = "parallel_completed"
    version: int | None


EVENT_TYPES: dict[str, type[RunEvent]] = {
    cls.__dataclass_fields__["event"].default: cls
    for cls in (WorkflowStarted, WorkflowCompleted, WorkflowFailed, WorkflowInterrupted,
                RunResumed, StepStarted, StepSucceeded, StepFailed, StepRetried, StepSkipped,
                StepCached, LoopStarted, LoopIteration, LoopCompleted, ParallelStarted,
                BranchCompleted, ParallelCompleted)}
"""Every event kind -> its record class (the closed set `EventKind` names and the schema
publishes)."""

_KIND_NAMES: dict[type[RunEvent], str] = {cls: kind for kind, cls in EVENT_TYPES.items()}


class EventLog:
    """The events of one run in the order they happened, each turned into its JSON dict
    only when `dicts()` is asked (RunResult.events). An event nobody listens to is kept as
    its fields (a dict of plain values, which the garbage collector does not track) and its
    record is made then too, so a step of a run without listeners builds none. Appending is
    safe from several threads (list.append)."""

    __slots__ = ("_entries", "_dicts")

    def __init__(self) -> None:
        self._entries: list[RunEvent | dict[str, Any]] = []
        self._dicts: list[dict[str, Any]] = []

    def add(self, event: RunEvent) -> None:
        """Keep a record that was made (and given to the listeners)."""
        self._entries.append(event)

    def defer(self, kind: type[RunEvent], fields: dict[str, Any]) -> None:
        """Keep an event of `kind` with `fields` (every field but `event`; the dict is
        taken over), made later."""
        fields["event"] = _KIND_NAMES[kind]
        self._entries.append(fields)

    def dicts(self) -> list[dict[str, Any]]:
        """Every event so far as its JSON dict, oldest first (the same dicts each call).
        Raises TypeError (an internal error) for a deferred event with a wrong field."""
        made, entries = self._dicts, self._entries
        for entry in entries[len(made):len(entries)]:
            record = event_from_dict(entry) if type(entry) is dict else entry
            made.append(record.as_dict())
        return made


Listener = Callable[[RunEvent], None]
"""What `Runtime.listeners`, `Interpreter.on_event` and `Session(on_event=)` take."""


def event_from_dict(data: Mapping[str, Any], **override: Any) -> RunEvent:
    """The record of an event in its JSON shape (`dict(event)`), with `override` fields
    replaced. Raises KeyError for an unknown kind, TypeError for missing/unknown fields."""
    fields_ = {**data, **override}
    cls = EVENT_TYPES[fields_.pop("event")]
    return cls(**fields_)
