"""The workflow runner on host-Python steps: transactions, retries with backoff, timeouts,
skips and required-state validation (DESIGN §3). Clocks and sleep are injected: no test
sleeps for real."""

import pytest

from dana.errors import DanaRuntimeError
from dana.workflow.runner import NO_DEFAULT, Runner, StateValidationError
from dana.workflow.template import (ForNode, IfNode, Requirement, Step, StepLine, StepPolicy,
                                    TryNode, WorkflowTemplate)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_runner(fake: FakeTime, events: list | None = None) -> Runner:
    sink = events if events is not None else []
    return Runner(type_name_of=lambda v: type(v).__name__, emit=sink.append,
                  deadline=lambda seconds, step: None, clock=fake.clock, wall=fake.clock,
                  sleep=fake.sleep)


def line(*steps: Step) -> StepLine:
    return StepLine(lambda: list(steps), None, "+".join(s.name for s in steps))


def template(*nodes, requires=(), params=None) -> WorkflowTemplate:
    return WorkflowTemplate("wf", "1.0", params or {}, list(requires), list(nodes))


def write(key, value, output=None):
    def run(inp, state):
        state.dana_setattr(key, value)
        return output if output is not None else inp
    return run


def fail(kind="ValueError"):
    def run(inp, state):
        raise DanaRuntimeError(kind, "boom")
    return run


def test_each_successful_step_commits_one_version():
    fake = FakeTime()
    wf = template(line(Step("a", write("x", 1, "A"), StepPolicy())),
                  line(Step("b", write("y", 2, "B"), StepPolicy())))
    result = make_runner(fake).run(wf, {}, {})
    assert result.status == "succeeded" and result.output == "B"
    assert [(h["version"], h["step"], h["keys_changed"]) for h in result.history()] == [
        (0, "<initial>", ["config"]), (1, "a", ["x"]), (2, "b", ["y"])]


def test_failed_step_writes_are_discarded_and_error_recorded():
    def half(inp, state):
        state.dana_setattr("partial", True)
        raise DanaRuntimeError("StepError", "halfway")
    wf = template(line(Step("a", write("x", 1), StepPolicy())), line(Step("b", half, StepPolicy())))
    result = make_runner(FakeTime()).run(wf, {}, {})
    assert result.status == "failed"
    assert result.error["step"] == "b" and result.error["type"] == "StepError"
    assert "partial" not in result.state
    assert result.state["error"]["message"] == "halfway"


def test_retry_uses_exponential_backoff_capped_at_max_delay():
    fake, calls = FakeTime(), []

    def flaky(inp, state):
        calls.append(1)
        if len(calls) < 4:
            raise DanaRuntimeError("ValueError", "flaky")
        return "ok"
    policy = StepPolicy(retry=3, backoff=1.0, max_delay=3.0)
    events: list = []
    result = make_runner(fake, events).run(template(line(Step("f", flaky, policy))), {}, {})
    assert result.status == "succeeded" and result.output == "ok"
    assert fake.sleeps == [1.0, 2.0, 3.0]
    assert [e["attempt"] for e in events if e["event"] == "step_retried"] == [1, 2, 3]


def test_retries_exhausted_fail_the_run():
    result = make_runner(FakeTime()).run(
        template(line(Step("f", fail(), StepPolicy(retry=2)))), {}, {})
    assert result.status == "failed" and result.error["type"] == "ValueError"


def test_step_past_its_timeout_fails_and_its_writes_are_discarded():
    fake = FakeTime()

    def slow(inp, state):
        state.dana_setattr("late", 1)
        fake.now += 5.0
        return inp
    result = make_runner(fake).run(template(line(Step("s", slow, StepPolicy(timeout=1.0)))),
                                   {}, {})
    assert result.status == "failed" and result.error["type"] == "TimeoutError"
    assert "late" not in result.state


def test_on_error_skip_passes_the_input_through():
    wf = template(line(Step("a", lambda i, s: 7, StepPolicy())),
                  line(Step("b", fail(), StepPolicy(on_error="skip"))),
                  line(Step("c", lambda i, s: i * 2, StepPolicy())))
    result = make_runner(FakeTime()).run(wf, {}, {})
    assert result.status == "succeeded" and result.output == 14


def test_all_missing_and_ill_typed_state_is_reported_before_any_step():
    ran = []
    reqs = [Requirement("a", "int", lambda v: type(v) is int),
            Requirement("b", "str", lambda v: type(v) is str),
            Requirement("c", "list", lambda v: isinstance(v, list))]
    wf = template(line(Step("s", lambda i, s: ran.append(1), StepPolicy())), requires=reqs)
    with pytest.raises(StateValidationError) as info:
        make_runner(FakeTime()).run(wf, {"a": "x"}, {})
    messages = [d.message for d in info.value.diagnostics]
    assert len(messages) == 3 and ran == []
    assert "`a` to be int, got str" in messages[0] and "`c` (list)" in messages[2]


def test_config_defaults_and_types_are_validated():
    params = {"rate": ("float", lambda v: type(v) is float, 0.5), "n": ("int", lambda v: type(v) is int, NO_DEFAULT)}
    wf = template(line(Step("s", lambda i, s: s.dana_getattr("config"), StepPolicy())), params=params)
    runner = make_runner(FakeTime())
    assert runner.run(wf, {}, {"n": 3}).output == {"rate": 0.5, "n": 3}
    with pytest.raises(StateValidationError) as info:
        runner.run(wf, {}, {"rate": "fast", "bogus": 1})
    assert len(info.value.diagnostics) == 3


def test_for_loop_exposes_the_item_as_a_state_key():
    seen = []
    body = [line(Step("s", lambda i, s: seen.append(s.dana_getattr("item")), StepPolicy()))]
    loop = ForNode("item", lambda view: view.dana_getattr("items"), body, None, "item")
    make_runner(FakeTime()).run(template(loop), {"items": [1, 2, 3]}, {})
    assert seen == [1, 2, 3]


def test_if_and_try_nodes():
    branch = IfNode(lambda view: view.dana_getattr("flag"), [line(Step("yes", lambda i, s: "Y", StepPolicy()))],
                    [line(Step("no", lambda i, s: "N", StepPolicy()))], None)
    assert make_runner(FakeTime()).run(template(branch), {"flag": False}, {}).output == "N"
    guarded = TryNode([line(Step("bad", fail("KeyError"), StepPolicy()))],
                      [(lambda e: e.dana_type == "KeyError", "err",
                        [line(Step("fix", lambda i, s: s.dana_getattr("err")["type"], StepPolicy()))])],
                      [], None)
    assert make_runner(FakeTime()).run(template(guarded), {}, {}).output == "KeyError"
