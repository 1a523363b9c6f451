"""The workflow runner on host-Python steps: transactions, retries with backoff, timeouts,
skips and required-state validation (docs/workflows.md). Clocks and sleep are injected: no test
sleeps for real."""

import pytest

from dana.errors import DanaRuntimeError, LimitError
from dana.workflow.parallel import Outcome
from dana.workflow.runner import NO_DEFAULT, Runner, StateValidationError
from dana.workflow.template import (ForNode, Hook, IfNode, ParallelNode, Param, Requirement,
                                    Step, StepLine, StepPolicy, TryNode, WhileNode,
                                    WorkflowTemplate)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def in_order(tasks, workers):
    """A parallel executor running the branches one after another, every one to its end."""
    outcomes = []
    for task in tasks:
        try:
            outcomes.append(Outcome(task()))
        except BaseException as exc:  # noqa: BLE001 - an Outcome holds any branch error
            outcomes.append(Outcome(error=exc))
    return outcomes


def make_runner(fake: FakeTime, events: list | None = None) -> Runner:
    sink = events if events is not None else []
    return Runner(type_name_of=lambda v: type(v).__name__, emit=sink.append,
                  clock=fake.clock, wall=fake.clock, sleep=fake.sleep, parallel=in_order)


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


def widen(v):
    return float(v) if type(v) is int else v


def test_config_defaults_and_types_are_validated():
    params = {"rate": Param("float", lambda v: type(v) is float, 0.5, widen),
              "n": Param("int", lambda v: type(v) is int, NO_DEFAULT)}
    wf = template(line(Step("s", lambda i, s: s.dana_getattr("config"), StepPolicy())), params=params)
    runner = make_runner(FakeTime())
    assert runner.run(wf, {}, {"n": 3}).output == {"rate": 0.5, "n": 3}
    assert runner.run(wf, {}, {"n": 3, "rate": 2}).output == {"rate": 2.0, "n": 3}
    with pytest.raises(StateValidationError) as info:
        runner.run(wf, {}, {"rate": "fast", "bogus": 1})
    assert [(d.code, d.message) for d in info.value.diagnostics] == [
        ("E0412", "workflow `wf` has no parameter `bogus`"),
        ("E0413", "workflow `wf` parameter `rate` expects float, got str"),
        ("E0414", "workflow `wf` parameter `n` has no default and was not given")]


def test_config_names_that_pydantic_reserves_are_ordinary_parameters():
    params = {name: Param("int", lambda v: type(v) is int, 0)
              for name in ("json", "model_config", "_hidden", "copy")}
    wf = template(line(Step("s", lambda i, s: s.dana_getattr("config"), StepPolicy())), params=params)
    out = make_runner(FakeTime()).run(wf, {}, {"json": 1, "model_config": 2, "_hidden": 3}).output
    assert out == {"json": 1, "model_config": 2, "_hidden": 3, "copy": 0}


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


def kinds(events, *wanted):
    return [(e["event"], e["path"]) for e in events if not wanted or e["event"] in wanted]


def test_step_events_carry_step_attempt_duration_and_version():
    fake, events = FakeTime(), []

    def slow(inp, state):
        fake.now += 0.25
        state.dana_setattr("x", 1)
        return inp
    make_runner(fake, events).run(template(line(Step("a", slow, StepPolicy()))), {}, {})
    started, succeeded = events[1], events[2]
    assert {k: started[k] for k in ("event", "workflow", "path", "step", "attempt", "version")} \
        == {"event": "step_started", "workflow": "wf", "path": "a", "step": "a", "attempt": 1,
            "version": 0}
    assert (succeeded["event"], succeeded["duration"], succeeded["version"]) == \
        ("step_succeeded", 0.25, 1)
    assert [e["path"] for e in events if e["event"].startswith("workflow")] == ["", ""]
    assert len({e["run_id"] for e in events}) == 1


def test_final_failure_emits_step_failed_and_workflow_failed():
    events = []
    make_runner(FakeTime(), events).run(template(line(Step("bad", fail(), StepPolicy()))), {}, {})
    failed = [e for e in events if e["event"] == "step_failed"]
    assert len(failed) == 1 and failed[0]["error"] == "ValueError" and failed[0]["attempt"] == 1
    assert events[-1]["event"] == "workflow_failed" and events[-1]["message"] == "boom"


def test_loop_events_and_paths_use_the_iterables_label():
    events = []
    inner = ForNode("b", lambda view: view.dana_getattr("batches"),
                    [line(Step("optim", lambda i, s: i, StepPolicy()))], None, "batches")
    outer = ForNode("e", lambda view: [0, 1], [inner], None, "epochs")
    make_runner(FakeTime(), events).run(template(outer), {"batches": ["x", "y"]}, {})
    steps = [e["path"] for e in events if e["event"] == "step_succeeded"]
    assert steps == ["epochs[0]/batches[0]/optim", "epochs[0]/batches[1]/optim",
                     "epochs[1]/batches[0]/optim", "epochs[1]/batches[1]/optim"]
    loops = [(e["event"], e["path"], e["loop"], e.get("index"), e.get("total"))
             for e in events if e["event"].startswith("loop") and e["loop"] == "epochs"]
    assert loops == [("loop_started", "", "epochs", None, 2),
                     ("loop_iteration", "", "epochs", 0, 2), ("loop_iteration", "", "epochs", 1, 2),
                     ("loop_completed", "", "epochs", None, None)]


def test_a_run_nobody_listens_to_keeps_the_same_events():
    """RunResult.events is the same list of dicts (same keys in the same order) whether
    the events went to listeners or were kept unmade; a listener that joins mid-run gets
    the events from then on, and the run's list still has every one."""
    listeners: list = []
    late: list = []

    def join(inp, state):
        if inp == 1:
            listeners.append(late.append)
        return inp

    def to_listeners(event):
        for listener in listeners:
            listener(event)

    loop = ForNode("item", lambda view: [0, 1, 2],
                   [line(Step("s", lambda i, s: join(s.dana_getattr("item"), s), StepPolicy()))],
                   None, "items")
    quiet = Runner(type_name_of=lambda v: type(v).__name__, emit=to_listeners,
                   clock=FakeTime().clock, wall=FakeTime().clock, sleep=FakeTime().sleep,
                   parallel=in_order, listeners=listeners).run(template(loop), {}, {})
    listeners.clear()
    heard: list = []
    loud = Runner(type_name_of=lambda v: type(v).__name__, emit=heard.append,
                  clock=FakeTime().clock, wall=FakeTime().clock, sleep=FakeTime().sleep,
                  parallel=in_order).run(template(loop), {}, {})

    def shapes(events):
        return [[(k, v) for k, v in e.items() if k != "run_id"] for e in events]
    assert shapes(quiet.events) == shapes(loud.events) == shapes(dict(e) for e in heard)
    assert [e["event"] for e in late] == ["step_succeeded", "loop_iteration", "step_started",
                                          "step_succeeded", "loop_completed", "workflow_completed"]
    assert quiet.events is quiet.events


def test_loop_variable_is_scoped_to_the_loop():
    seen = []
    body = [line(Step("s", lambda i, s: seen.append(s.dana_getattr("item")), StepPolicy()))]
    loop = ForNode("item", lambda view: [1, 2], body, None, "items")
    fresh = make_runner(FakeTime()).run(template(loop), {}, {})
    assert seen == [1, 2] and "item" not in fresh.state
    shadowing = make_runner(FakeTime()).run(template(loop), {"item": "outer"}, {})
    assert shadowing.state["item"] == "outer"


def test_while_counts_iterations_in_paths():
    events = []

    def tick(inp, state):
        state.dana_setattr("n", state.dana_getattr("get")("n", 0) + 1)
    loop = WhileNode(lambda view: view.dana_getattr("get")("n", 0) < 2, [line(Step("tick", tick, StepPolicy()))],
                     None)
    make_runner(FakeTime(), events).run(template(loop), {}, {})
    assert [e["path"] for e in events if e["event"] == "step_succeeded"] == \
        ["while[0]/tick", "while[1]/tick"]


def test_backoff_delays_are_reported_and_slept():
    fake, events = FakeTime(), []
    policy = StepPolicy(retry=4, backoff=0.5, max_delay=1.5)
    result = make_runner(fake, events).run(template(line(Step("f", fail(), policy))), {}, {})
    assert result.status == "failed"
    assert [e["delay"] for e in events if e["event"] == "step_retried"] == [0.5, 1.0, 1.5, 1.5]
    assert fake.sleeps == [0.5, 1.0, 1.5, 1.5]


def test_workflow_on_error_is_the_default_of_steps_without_their_own():
    calls = []

    def flaky(inp, state):
        calls.append(1)
        raise DanaRuntimeError("ValueError", "no")
    wf = template(line(Step("f", flaky, StepPolicy())), line(Step("g", lambda i, s: "done",
                                                                    StepPolicy())))
    wf.on_error = "skip"
    assert make_runner(FakeTime()).run(wf, {}, {}).output == "done"
    wf.on_error = "retry"
    calls.clear()
    assert make_runner(FakeTime()).run(wf, {}, {}).status == "failed" and len(calls) == 4
    wf.plan[0] = line(Step("f", flaky, StepPolicy(on_error="halt")))
    calls.clear()
    assert make_runner(FakeTime()).run(wf, {}, {}).status == "failed" and len(calls) == 1


def test_validate_hook_false_fails_the_attempt_with_step_error():
    ran = []
    policy = StepPolicy(validate=Hook("ready", lambda view: view.dana_getattr("get")("ready", False)))
    wf = template(line(Step("go", lambda i, s: ran.append(1), policy)))
    result = make_runner(FakeTime()).run(wf, {}, {})
    assert result.error["type"] == "StepError" and ran == []
    assert result.error["message"] == "step `go` failed its validate hook `ready`"
    assert make_runner(FakeTime()).run(wf, {"ready": True}, {}).status == "succeeded"


def test_rollback_hook_runs_after_the_writes_are_discarded_and_commits_its_own():
    seen = []

    def undo(view, error):
        seen.append(("half" in view, error))
        view.dana_setattr("undone", True)

    def half(inp, state):
        state.dana_setattr("half", 1)
        raise DanaRuntimeError("StepError", "broke")
    policy = StepPolicy(on_error="skip", rollback=Hook("undo", undo))
    result = make_runner(FakeTime()).run(template(line(Step("s", half, policy))), {}, {})
    assert result.status == "succeeded" and result.state["undone"] is True
    assert seen == [(False, {"type": "StepError", "message": "broke", "step": "s"})]
    assert [h.step for h in result.state._state.history()] == ["<initial>", "rollback s"]


def raising(exc):
    def run(inp, state):
        raise exc
    return run


def catch_all(*nodes) -> TryNode:
    """`try: nodes` with a handler catching every catchable error, as `handle Error` does."""
    handler = [line(Step("handled", lambda i, s: "handled", StepPolicy()))]
    return TryNode(list(nodes), [(lambda e: e.catchable, None, handler)], [], None)


def parallel(*steps: Step) -> ParallelNode:
    return ParallelNode([[line(step)] for step in steps], None, None)


def test_an_uncatchable_branch_error_wins_over_an_earlier_ordinary_failure():
    ordinary = Step("ordinary", fail(), StepPolicy())
    limit = Step("limit", raising(LimitError("the program executed too many steps")),
                 StepPolicy())
    with pytest.raises(LimitError):
        make_runner(FakeTime()).run(template(catch_all(parallel(ordinary, limit))), {}, {})
    interrupt = Step("interrupt", raising(KeyboardInterrupt()), StepPolicy())
    with pytest.raises(KeyboardInterrupt):
        make_runner(FakeTime()).run(template(catch_all(parallel(limit, interrupt))), {}, {})
    late = DanaRuntimeError("TimeoutError", "the enclosing step took too long")
    late.catchable = False
    timeout = Step("timeout", raising(late), StepPolicy())
    result = make_runner(FakeTime()).run(template(catch_all(parallel(ordinary, timeout))),
                                         {}, {})
    assert result.status == "failed" and result.error["type"] == "TimeoutError"


def test_ordinary_branch_failures_keep_branch_order():
    first = Step("first", fail("KeyError"), StepPolicy())
    second = Step("second", fail("ValueError"), StepPolicy())
    result = make_runner(FakeTime()).run(template(parallel(first, second)), {}, {})
    assert (result.error["type"], result.error["step"]) == ("KeyError", "first")


def test_steps_inside_a_parallel_branch_report_no_version():
    events = []
    wf = template(line(Step("before", write("a", 1), StepPolicy())),
                  parallel(Step("left", write("l", 1), StepPolicy()),
                           Step("right", write("r", 1), StepPolicy())))
    make_runner(FakeTime(), events).run(wf, {}, {})
    versions = [(e["event"], e["path"], e["version"]) for e in events if "version" in e]
    assert versions == [("step_started", "before", 0), ("step_succeeded", "before", 1),
                        ("step_started", "parallel[0]/left", None),
                        ("step_succeeded", "parallel[0]/left", None),
                        ("step_started", "parallel[1]/right", None),
                        ("step_succeeded", "parallel[1]/right", None),
                        ("parallel_completed", "", 2)]


def test_for_takes_items_lazily_and_cleans_up_when_a_body_step_fails():
    pulled, events = [], []

    def items(view):  # no length: the loop's total is unknown
        for n in range(100):
            pulled.append(n)
            yield n

    def work(inp, state):
        if state.dana_getattr("n") == 2:
            raise DanaRuntimeError("ValueError", "bad item")
    loop = ForNode("n", items, [line(Step("work", work, StepPolicy()))], None, "items")
    result = make_runner(FakeTime(), events).run(template(catch_all(loop)), {}, {})
    assert result.status == "succeeded" and result.output == "handled"
    assert pulled == [0, 1, 2] and "n" not in result.state
    loops = [(e["event"], e.get("total")) for e in events if e["event"].startswith("loop")]
    assert loops == [("loop_started", None), ("loop_iteration", None), ("loop_iteration", None),
                     ("loop_iteration", None), ("loop_completed", None)]


def test_handler_variable_is_removed_or_restored_after_the_handler():
    seen = []
    guarded = TryNode([line(Step("bad", fail(), StepPolicy()))],
                      [(lambda e: True, "err",
                        [line(Step("fix", lambda i, s: seen.append(s.dana_getattr("err")),
                                   StepPolicy()))])], [], None)
    fresh = make_runner(FakeTime()).run(template(guarded), {}, {})
    assert seen[0]["message"] == "boom" and "err" not in fresh.state
    shadowing = make_runner(FakeTime()).run(template(guarded), {"err": "mine"}, {})
    assert shadowing.state["err"] == "mine"


def test_try_else_runs_only_after_a_body_that_did_not_fail():
    def guarded(body_step):
        handler = [line(Step("fix", lambda i, s: "handled", StepPolicy()))]
        orelse = [line(Step("after", lambda i, s: f"else after {i}", StepPolicy()))]
        return TryNode([line(body_step)], [(lambda e: True, None, handler)], [], None, orelse)
    ok = make_runner(FakeTime()).run(template(guarded(Step("ok", lambda i, s: "ok",
                                                            StepPolicy()))), {}, {})
    assert ok.output == "else after ok"
    bad = make_runner(FakeTime()).run(template(guarded(Step("bad", fail(), StepPolicy()))),
                                      {}, {})
    assert bad.output == "handled"


def float_param(default=NO_DEFAULT):
    return Param("float", lambda v: type(v) is float, default, widen)


def sub_workflow(params):
    read = Step("read", lambda i, s: s.dana_getattr("config")["lr"], StepPolicy())
    inner = WorkflowTemplate("inner", "1.0", params, [], [line(read)])
    return StepLine(lambda: [inner], None, "inner")


def test_sub_workflow_sees_its_own_defaults_and_the_run_config_afterwards():
    wf = template(sub_workflow({"lr": float_param(0.5)}),
                  line(Step("after", lambda i, s: (i, s.dana_getattr("config")), StepPolicy())),
                  params={"epochs": Param("int", lambda v: type(v) is int, 2)})
    result = make_runner(FakeTime()).run(wf, {}, {})
    assert result.output == (0.5, {"epochs": 2})
    given = template(sub_workflow({"lr": float_param(0.5)}),
                     params={"lr": Param("int", lambda v: type(v) is int, 3)})
    assert make_runner(FakeTime()).run(given, {}, {}).output == 3.0  # int widened to float


def test_sub_workflow_config_problems_fail_before_its_steps():
    wrong = template(sub_workflow({"lr": float_param(0.5)}),
                     params={"lr": Param("str", lambda v: type(v) is str, "fast")})
    result = make_runner(FakeTime()).run(wrong, {}, {})
    assert (result.error["type"], result.error["message"]) == (
        "TypeError", "sub-workflow `inner` parameter `lr` expects float, but the config has str")
    missing = make_runner(FakeTime()).run(template(sub_workflow({"lr": float_param()})), {}, {})
    assert (missing.error["type"], missing.error["message"]) == (
        "StateError", "sub-workflow `inner` parameter `lr` has no default and the config has "
        "no `lr`")
