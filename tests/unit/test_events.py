"""Run events are typed records (dana.workflow.events): one class per kind, a closed set of
kinds, the JSON shape `--events` writes, and docs/events.schema.json generated from them."""

import json
import re
import typing
from pathlib import Path

import pytest

from dana import Interpreter
from dana.cli.progress import _HANDLERS
from dana.workflow import events as E
from dana.workflow.event_schema import event_schema

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
def load(state: WorkflowState):
    state.items = [1, 2, 3]

def visit(state: WorkflowState):
    state.total = state.get("total", 0) + state.x

def left(state: WorkflowState):
    state.l = 1

def right(state: WorkflowState):
    state.r = 2

def shaky(state: WorkflowState):
    raise ValueError("no")

@step(on_error="skip")
def optional(state: WorkflowState):
    raise ValueError("skipped")

workflow w():
    steps:
        load
        for x in state.items:
            visit
        parallel:
            left
            right
        optional
        try:
            shaky
        handle ValueError:
            load
"""


def test_every_kind_has_one_record_class() -> None:
    assert set(typing.get_args(E.EventKind)) == set(E.EVENT_TYPES)
    for kind, cls in E.EVENT_TYPES.items():
        assert cls.__dataclass_fields__["event"].default == kind


def test_a_record_reads_like_its_json_dict() -> None:
    event = E.StepStarted(run_id="r", workflow="w", path="a", time=1.0, step="a", attempt=1,
                          version=None)
    assert dict(event) == {"event": "step_started", "run_id": "r", "workflow": "w",
                           "path": "a", "time": 1.0, "step": "a", "attempt": 1,
                           "version": None}  # `reason` is left out when None
    assert event["step"] == event.step == "a" and event.get("reason") is None
    assert E.event_from_dict(dict(event)) == event
    with pytest.raises(TypeError):
        E.StepStarted(run_id="r", workflow="w", path="a", time=1.0, step="a")


def test_a_runs_events_are_the_records_and_their_dicts_fit_the_schema(tmp_path) -> None:
    from pydantic import Field, TypeAdapter
    seen: list[E.RunEvent] = []
    interp = Interpreter()
    interp.on_event(seen.append)
    (tmp_path / "flow.dana").write_text(FLOW)
    result = interp.load(tmp_path / "flow.dana").run("w")
    assert result.status == "succeeded", result.error
    union = typing.Union[tuple(E.EVENT_TYPES.values())]
    adapter = TypeAdapter(typing.Annotated[union, Field(discriminator="event")])
    assert [dict(e) for e in seen] == result.events
    for event in result.events:
        assert type(adapter.validate_python(event)) is E.EVENT_TYPES[event["event"]]
    kinds = {e["event"] for e in result.events}
    assert {"loop_iteration", "branch_completed", "step_skipped", "step_failed"} <= kinds


def test_the_published_schema_is_generated_from_the_records() -> None:
    published = json.loads((ROOT / "docs" / "events.schema.json").read_text())
    assert published == event_schema(), ("docs/events.schema.json is stale: python -m "
                                         "dana.workflow.event_schema > docs/events.schema.json")
    assert {d["properties"]["event"]["const"] for d in published["$defs"].values()} \
        == set(E.EVENT_TYPES)


def test_the_progress_display_handles_every_kind() -> None:
    assert set(_HANDLERS) == set(E.EVENT_TYPES.values())


def test_the_events_table_of_the_docs_lists_every_kind() -> None:
    text = (ROOT / "docs" / "workflows.md").read_text()
    table = text[text.index("| event | extra fields |"):]
    table = table[:table.index("\n\n")]
    assert set(re.findall(r"^\| `(\w+)` \|", table, re.M)) == set(E.EVENT_TYPES)
