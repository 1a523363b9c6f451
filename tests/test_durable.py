"""Durable runs through the embedding API (docs/store.md): every commit is recorded, a run
stopped part-way resumes without running its committed steps again, in loops, branches,
handlers, parallel blocks, sub-workflows and retries; resume refuses changed code and
reports a control flow that left the recorded path.

A "crash" here is a host function raising a BaseException that nothing in Dana catches,
after a chosen number of effects; the SIGKILL version is tests/test_crash.py."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import dana
from dana.errors import DanaError
from dana.store.runs import RunStore

COMMON = '''
def work(tag: str, state: WorkflowState) -> str:
    effect(idempotency_key())
    state.log = state.get("log", []) + [tag]
    return tag
'''

LOOPS = COMMON + '''
def a(state: WorkflowState) -> str:
    return work("a", state)

def b(state: WorkflowState) -> str:
    return work(f"b{state.i}", state)

def c(state: WorkflowState) -> str:
    return work("c", state)

def flaky(state: WorkflowState) -> str:
    if attempt_fails():
        raise ValueError("flaky")
    return work("flaky", state)

def broken(state: WorkflowState) -> str:
    effect(idempotency_key())
    raise ValueError("broken")

def mend(state: WorkflowState) -> str:
    return work(f"mend {state.err['type']}", state)

def left(state: WorkflowState) -> str:
    effect(idempotency_key())
    state.left = 1
    return "L"

def right(state: WorkflowState) -> str:
    effect(idempotency_key())
    state.right = 2
    return "R"

workflow inner() -> str:
    steps:
        c
        c

@step(retry=3)
def retried(state: WorkflowState) -> str:
    return flaky(state)

workflow loops() -> list[str]:
    steps:
        a
        for i in range(3):
            b
            if state.i == 1:
                c
        try:
            broken
        handle ValueError as err:
            mend
        parallel:
            left
            right
        inner
        retried
        while len(state.log) < 12:
            c
        final
'''

FINAL = '''
def final(state: WorkflowState) -> list[str]:
    effect(idempotency_key())
    return state.log
'''


class Crash(BaseException):
    """The process 'dies': nothing in Dana catches it."""


class Host:
    """An interpreter on a store with the host functions the workflows call: `effect`
    (records the step key; raises Crash at effect number `crash_at`) and `attempt_fails`
    (True for the first `failures` calls)."""

    def __init__(self, store: Path, source: Path, crash_at: int | None = None,
                 failures: int = 0) -> None:
        self.interp = dana.Interpreter(store=store, stdout=io.StringIO(), allow_read=[source.parent])
        self.effects: list[str] = []
        self.crash_at, self.failures = crash_at, failures
        self.interp.register(self.effect)
        self.interp.register(self.attempt_fails)
        self.module = self.interp.load(source)

    def effect(self, key: str) -> None:
        self.effects.append(key)
        if self.crash_at is not None and len(self.effects) == self.crash_at:
            raise Crash()

    def attempt_fails(self) -> bool:
        self.failures -= 1
        return self.failures >= 0


def _source(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wf.dana"
    path.write_text(text)
    return path


def _strip(key: str) -> str:
    return key.split(":", 1)[1]


def _uninterrupted(tmp_path: Path, text: str, workflow: str) -> tuple[Any, list[str]]:
    host = Host(tmp_path / "clean.db", _source(tmp_path, text))
    result = host.module.run(workflow)
    assert result.status == "succeeded", result.error
    return result, host.effects


@pytest.mark.parametrize("crash_at", [1, 2, 4, 5, 6, 8, 9, 11, 13, 15])
def test_a_crashed_run_resumes_to_the_uninterrupted_result(tmp_path: Path,
                                                           crash_at: int) -> None:
    text = LOOPS + FINAL
    clean, clean_effects = _uninterrupted(tmp_path, text, "loops")
    store = tmp_path / "dana.db"
    first = Host(store, _source(tmp_path, text), crash_at=crash_at)
    with pytest.raises(BaseException):
        first.module.run("loops")
    [run] = first.interp.runs()
    assert run["status"] == "interrupted"
    second = Host(store, _source(tmp_path, text))
    result = second.interp.resume(run["id"][:6])
    assert (result.status, result.output) == ("succeeded", clean.output)
    assert result.run_id == run["id"]
    assert [(h["step"], h["keys_changed"]) for h in result.history()] == \
        [(h["step"], h["keys_changed"]) for h in clean.history()]
    effects = [_strip(k) for k in first.effects + second.effects]
    # every step's effect once, but the one running at the crash, which ran again
    assert sorted(effects) == sorted([_strip(k) for k in clean_effects] + [effects[crash_at - 1]])
    # the step running at the crash runs again (not necessarily first: parallel branches
    # reach their effects in either order)
    assert effects[crash_at - 1] in [_strip(k) for k in second.effects]


def test_every_commit_is_recorded_and_an_unchanged_key_is_stored_once(tmp_path: Path) -> None:
    host = Host(tmp_path / "dana.db", _source(tmp_path, LOOPS + FINAL))
    result = host.module.run("loops")
    store = RunStore(tmp_path / "dana.db")
    versions = store.versions(result.run_id)
    assert [v.step for v in versions] == [h["step"] for h in result.history()]
    assert [list(v.keys) for v in versions] == [h["keys_changed"] for h in result.history()]
    assert "range[1]/c" in [v.path for v in versions]
    assert "parallel" in [v.path for v in versions]
    assert len(store.changes(result.run_id, 0, 10 ** 6)) == len([v for v in versions if v.keys])
    rows = store._query("SELECT count(*) FROM changes WHERE run_id = ? AND key = 'config'",
                        (result.run_id,))
    assert rows[0][0] == 1
    assert store.integrity() == "ok"


def test_retries_go_on_counting_across_a_resume(tmp_path: Path) -> None:
    text = LOOPS + FINAL
    store = tmp_path / "dana.db"
    first = Host(store, _source(tmp_path, text), failures=2)
    first.crash_at = 9  # the first effect after the parallel block: inside `inner`
    with pytest.raises(BaseException):
        first.module.run("loops")
    second = Host(store, _source(tmp_path, text), failures=1)
    result = second.interp.resume(first.interp.runs()[0]["id"])
    retried = [e for e in result.events if e["event"] in ("step_retried", "step_succeeded")
               and e["path"] == "retried"]
    assert [(e["event"], e["attempt"]) for e in retried] == [("step_retried", 1),
                                                             ("step_succeeded", 2)]


def test_a_failed_run_resumes_from_the_failed_step(tmp_path: Path) -> None:
    text = COMMON + '''
def gate(state: WorkflowState) -> str:
    if attempt_fails():
        raise ValueError("not yet")
    return work("gate", state)

def one(state: WorkflowState) -> str:
    return work(f"one{state.i}", state)

workflow w() -> str:
    steps:
        for i in range(2):
            one
        gate
'''
    store = tmp_path / "dana.db"
    first = Host(store, _source(tmp_path, text), failures=1)
    failed = first.module.run("w")
    assert failed.status == "failed"
    assert first.interp.runs()[0]["status"] == "failed"
    second = Host(store, _source(tmp_path, text))
    result = second.interp.resume(failed.run_id)
    assert (result.status, result.output) == ("succeeded", "gate")
    assert [_strip(k) for k in second.effects] == ["gate#3"]
    assert "error" not in result.state
    assert [h["step"] for h in result.history()][-2:] == ["end for i", "gate"]


def test_finished_parallel_branches_do_not_run_again(tmp_path: Path) -> None:
    text = COMMON + '''
def fast(state: WorkflowState) -> int:
    effect(idempotency_key())
    state.fast = 1
    return 1

def slow(state: WorkflowState) -> int:
    effect(idempotency_key())
    state.slow = 2
    return 2

def after(state: WorkflowState) -> int:
    return state.fast + state.slow

workflow w() -> int:
    steps:
        parallel(max_concurrency=1):
            fast
            slow
        after
'''
    store = tmp_path / "dana.db"
    first = Host(store, _source(tmp_path, text), crash_at=2)
    with pytest.raises(BaseException):
        first.module.run("w")
    second = Host(store, _source(tmp_path, text))
    result = second.interp.resume(first.interp.runs()[0]["id"])
    assert (result.status, result.output) == ("succeeded", 3)
    assert [_strip(k) for k in second.effects] == ["parallel[1]/slow#1"]


def test_resume_stops_where_the_control_flow_leaves_the_recorded_path(tmp_path: Path) -> None:
    text = COMMON + '''
def a(state: WorkflowState) -> str:
    return work("a", state)

def b(state: WorkflowState) -> str:
    return work("b", state)

workflow w() -> str:
    steps:
        a
        if attempt_fails():
            a
        else:
            b
        b
'''
    store = tmp_path / "dana.db"
    first = Host(store, _source(tmp_path, text), crash_at=3, failures=1)
    with pytest.raises(BaseException):
        first.module.run("w")
    second = Host(store, _source(tmp_path, text))
    with pytest.raises(DanaError) as caught:
        second.interp.resume(first.interp.runs()[0]["id"])
    assert caught.value.code == "E0420"
    assert "reached step `b` where the run recorded `a`" in caught.value.message
    assert second.effects == []
    assert second.interp.runs()[0]["status"] == "failed"


def test_resume_refuses_changed_code_unless_allowed(tmp_path: Path) -> None:
    text = LOOPS + FINAL
    store = tmp_path / "dana.db"
    first = Host(store, _source(tmp_path, text), crash_at=3)
    with pytest.raises(BaseException):
        first.module.run("loops")
    changed = text.replace('work(f"b{state.i}", state)', 'work(f"B{state.i}", state)')
    second = Host(store, _source(tmp_path, changed))
    run_id = first.interp.runs()[0]["id"]
    with pytest.raises(DanaError) as caught:
        second.interp.resume(run_id)
    assert caught.value.code == "E0421"
    assert "changed since it started: b" in caught.value.message
    result = second.interp.resume(run_id, allow_changed=True)
    assert result.status == "succeeded"


def test_an_unstorable_value_fails_its_step_and_commits_nothing(tmp_path: Path) -> None:
    text = '''
def keep(state: WorkflowState) -> int:
    state.n = 1
    state.fn = len
    return 1

workflow w() -> int:
    steps:
        keep
'''
    host = Host(tmp_path / "dana.db", _source(tmp_path, text))
    result = host.module.run("w")
    assert result.status == "failed"
    assert result.error["message"] == ("step `keep` wrote state key `fn` a value that cannot "
                                       "be stored (a value of type Builtin, type function)")
    assert "n" not in result.state


def test_a_step_that_returns_none_for_a_declared_type_commits_nothing(tmp_path: Path) -> None:
    text = '''
def fetch(state: WorkflowState) -> int:
    state.fetched = True
    return state.get("missing")

def report(n: int, state: WorkflowState) -> int:
    effect("report")
    return n

workflow w() -> int:
    steps:
        fetch
        report
'''
    host = Host(tmp_path / "dana.db", _source(tmp_path, text))
    result = host.module.run("w")
    assert (result.status, result.error["step"]) == ("failed", "fetch")
    assert result.error["message"] == "step `fetch` returns `int`, but this returns `None`"
    assert host.effects == []  # the next step never started
    assert "fetched" not in result.state
    assert [v.step for v in RunStore(tmp_path / "dana.db").versions(result.run_id)
            if v.step == "fetch"] == []


def test_idempotency_key_is_only_for_steps(tmp_path: Path) -> None:
    interp = dana.Interpreter()
    with pytest.raises(DanaError, match="only be called while a workflow step runs"):
        interp.eval("idempotency_key()")
