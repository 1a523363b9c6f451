"""`parallel:` blocks really run their branches concurrently, on a bounded thread pool, from
one snapshot, and merge or reject their writes as a whole (docs/workflows.md "Parallel branches").

Host steps (registered through the embedding API) meet on barriers and events, so a
sequential run fails the test instead of passing it; nothing sleeps and nothing asserts on
the wall clock (every wait has a 5 s safety timeout that only a broken build reaches).
"""

from __future__ import annotations

import threading

import pytest

import dana
from dana.errors import DanaError
from dana.runtime.interpreter import INTERRUPT

WAIT = 5.0


def interpreter(**steps) -> dana.Interpreter:
    interp = dana.Interpreter(check=False)
    for name, fn in steps.items():
        interp.register_step(fn, name=name)
    return interp


def run(interp: dana.Interpreter, steps: str, **state):
    """Define workflow `w` whose `steps:` block is `steps` (indented lines) and run it."""
    interp.exec("workflow w():\n    steps:\n" + "".join(f"        {line}\n"
                                                       for line in steps.splitlines()))
    return interp.run(interp.globals["w"], **state)


def test_branches_overlap_in_time():
    barrier = threading.Barrier(2, timeout=WAIT)

    def meet(value, state):
        barrier.wait()  # both branches must be running at once to get past this
        return threading.get_ident()
    interp = interpreter(left=meet, right=meet)
    result = run(interp, "parallel:\n    left\n    right")
    assert result.status == "succeeded", result.error
    assert len(set(result.output)) == 2  # two different worker threads


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_max_concurrency_bounds_the_branches_running_at_once(limit):
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}
    threads = set()
    together = threading.Barrier(limit, timeout=WAIT)  # groups of `limit` branches meet

    def work(value, state):
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
            threads.add(threading.get_ident())
        together.wait()
        with lock:
            running["now"] -= 1
    interp = interpreter(work=work)
    result = run(interp, f"parallel(max_concurrency={limit}):\n" + "    work\n" * (2 * limit))
    assert result.status == "succeeded", result.error
    assert running["peak"] == limit
    assert len(threads) == limit  # the branches ran on `limit` worker threads, no more


@pytest.mark.parametrize("limit", [1, 2])
def test_parallel_for_runs_one_branch_per_item_at_most_limit_at_once(limit):
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}
    together = threading.Barrier(limit, timeout=WAIT)

    def work(value, state):
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        together.wait()
        with lock:
            running["now"] -= 1
        return state["item"] * 10
    interp = interpreter(work=work)
    result = run(interp, f"parallel for item in state.items (max_concurrency={limit}):\n"
                         "    work", items=list(range(2 * limit)))
    assert result.status == "succeeded", result.error
    assert result.output == [i * 10 for i in range(2 * limit)]  # item order
    assert running["peak"] == limit


def test_two_branches_writing_one_key_is_a_state_error_naming_both():
    def first(value, state):
        state["total"] = 1

    def second(value, state):
        state["total"] = 2
    result = run(interpreter(first=first, second=second), "parallel:\n    first\n    second")
    assert result.status == "failed" and result.error["type"] == "StateError"
    assert result.error["message"] == ("parallel branches `parallel[0]/first` and "
                                       "`parallel[1]/second` both write state key `total`")
    assert "total" not in result.state


def test_branches_see_the_snapshot_not_each_other():
    written = threading.Event()

    def write_x(value, state):
        state["x"] = "branch 0"

    def own_view(value, state):
        seen = state.get("x")
        written.set()  # branch 0's write is committed to its own layer by now
        return seen

    def other_view(value, state):
        assert written.wait(WAIT)
        return "x" in state
    interp = interpreter(write_x=write_x, own_view=own_view, other_view=other_view)
    result = run(interp, "parallel:\n    write_x | own_view\n    other_view", x0=None)
    assert result.status == "succeeded", result.error
    assert result.output == ["branch 0", False]
    assert result.state["x"] == "branch 0" and result.state.version == 1


def test_a_failing_branch_commits_nothing_and_its_error_fails_the_block():
    def fine(value, state):
        state["fine"] = True

    def broken(value, state):
        state["partial"] = True
        raise ValueError("branch broke")
    result = run(interpreter(fine=fine, broken=broken), "parallel:\n    fine\n    broken")
    assert result.status == "failed"
    assert (result.error["type"], result.error["message"]) == ("ValueError", "branch broke")
    assert "fine" not in result.state and "partial" not in result.state
    assert [h["step"] for h in result.history()] == ["<initial>", "<error>"]


def test_call_depth_is_counted_per_branch():
    """Two branches each 500 calls deep at once stay under the 800-call limit: the depth
    of one branch does not count against the other."""
    barrier = threading.Barrier(2, timeout=WAIT)
    interp = interpreter()
    interp.register(lambda: barrier.wait() is not None, name="meet")
    interp.exec("def down(n: int) -> int:\n    if n == 0:\n        meet()\n        return 0\n"
                "    return 1 + down(n - 1)\n"
                "def deep(state: WorkflowState) -> int:\n    return down(500)\n")
    result = run(interp, "parallel:\n    deep\n    deep")
    assert result.status == "succeeded", result.error
    assert result.output == [500, 500]


def test_step_timeout_applies_inside_a_branch():
    ticks = {"now": 0.0}
    lock = threading.Lock()

    def clock() -> float:  # virtual: each reading advances 10 ms
        with lock:
            ticks["now"] += 0.01
            return ticks["now"]
    interp = interpreter()
    interp.runtime.clock = clock
    interp.exec("@step(timeout=1.0)\ndef spin(state: WorkflowState):\n    state.spun = True\n"
                "    while True:\n        pass\n"
                "def other(state: WorkflowState):\n    state.other = True\n")
    result = run(interp, "parallel:\n    other\n    spin")
    assert result.status == "failed" and result.error["type"] == "TimeoutError"
    assert "spun" not in result.state and "other" not in result.state


def test_interrupt_stops_every_branch():
    def press_ctrl_c(value, state):
        INTERRUPT.set()
    interp = interpreter(press=press_ctrl_c)
    interp.exec("def spin(state: WorkflowState):\n    while True:\n        pass\n")
    try:
        with pytest.raises(DanaError, match="interrupted") as info:  # never a host exception
            run(interp, "parallel:\n    spin\n    press\n    spin")
        assert isinstance(info.value.__cause__, KeyboardInterrupt)
        assert not INTERRUPT.is_set()
    finally:
        INTERRUPT.clear()
