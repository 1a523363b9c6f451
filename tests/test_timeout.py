"""`dana run --timeout SECONDS` and `Limits.timeout_s` (docs/cli.md "Limits"): the whole
run counts, from the command's start (reading, parsing and checking included), and a
program stuck in one long operation between two of its own checks is stopped by the
watchdog (dana/cli/watchdog.py) with the LimitError at the line it was running."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import dana
from dana import pipeline
from dana.cli.watchdog import running_span
from dana.errors import LimitError
from dana.runtime.interpreter import Limits
from dana.source import SourceFile, Span

LOOP = "total = 0\nfor i in range(100000):\n    total += i\nprint(total)\n"


class Clock:
    """A clock that advances a millisecond per reading (no test sleeps)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def _run(tmp_path: Path, started_ago: float | None) -> str:
    path = tmp_path / "loop.dana"
    path.write_text(LOOP)
    clock, out = Clock(), io.StringIO()
    started = None if started_ago is None else clock.now - started_ago
    session = pipeline.Session(stdout=out, limits=Limits(timeout_s=5.0), clock=clock,
                               started=started)
    pipeline.run_file(path, session)
    return out.getvalue()


def test_the_timeout_counts_from_the_start_the_session_gives(tmp_path: Path) -> None:
    assert _run(tmp_path, None) == f"{sum(range(100000))}\n"  # the run alone: in time
    with pytest.raises(LimitError, match="ran longer than 5.0 seconds") as caught:
        _run(tmp_path, 5.5)  # reading and checking took all of it
    assert caught.value.span.line == 2


def test_a_program_waiting_past_the_timeout_is_stopped_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flaky.dana"
    path.write_text('@step(retry=3, backoff=30.0)\ndef flaky(state: WorkflowState) -> None:\n'
                    '    raise ValueError("always")\n\n\nworkflow w():\n    steps:\n'
                    '        flaky\n\n\nr = run(w)\nprint(r.status)\n')
    # --timeout counts from the process's start: 3 s leaves a loaded machine time to parse
    # and check before the deadline, so the run (not the start-up) is what it stops
    done = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", "--quiet",
                           "--timeout", "3", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # the retry's wait: 30 s, unless cut
    assert done.returncode == 1
    assert f"{path}:8:9: error[E0513]: LimitError: the program ran longer than 3.0 " \
           "seconds" in done.stderr
    assert "Traceback" not in done.stderr


FLAKY = ('@step(retry=3, backoff=30.0)\ndef flaky(state: WorkflowState) -> None:\n'
         '    raise ValueError("always")\n\n\nworkflow w():\n    steps:\n'
         '        flaky\n\n\nr = run(w)\nprint(r.status)\n')


def _waiting(timeout: float) -> tuple[dana.Interpreter, list[float]]:
    """An interpreter with `timeout`, on a fake clock whose sleeps are recorded."""
    clock, slept = Clock(), []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    interp = dana.Interpreter(limits=Limits(timeout_s=timeout), stdout=io.StringIO())
    interp.runtime.clock, interp.runtime.sleep = clock, sleep
    return interp, slept


def test_a_retry_waits_only_until_the_deadline_then_stops() -> None:
    """In the runtime, so an embedding host gets it too: the wait before a retry ends at
    the run's deadline, with the LimitError at the step, and no other attempt."""
    interp, slept = _waiting(5.0)
    with pytest.raises(LimitError, match="ran longer than 5.0 seconds") as caught:
        interp.exec(FLAKY)
    assert caught.value.span.line == 8
    assert len(slept) == 1 and 4.9 < slept[0] < 5.0


def test_a_retry_wait_that_ends_before_the_deadline_is_whole() -> None:
    interp, slept = _waiting(1000.0)
    interp.exec(FLAKY)
    assert slept == [30.0, 60.0, 60.0] and interp.runtime.stdout.getvalue() == "failed\n"


# Each product takes a fraction of a second in one C call: 128 of them (the operations
# between two of the program's own checks) keep it from checking for far longer than the
# timeout, so the watchdog ends the process.
SLOW_STEP = """@step
def first(state: WorkflowState) -> None:
    state.firsts = state.get("firsts", 0) + 1

@step
def multiply(state: WorkflowState) -> int:
    x = 2 ** 3000000 - 1
    if read_text("mode.txt") == "slow":
        for i in range(1000):
            state.product = x * x
    return state.firsts

workflow w() -> int:
    steps:
        first
        multiply
"""


def _dana(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dana.cli.main", *args,
                           "--store", str(tmp_path / "runs.db")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_durable_run_the_watchdog_ends_is_failed_and_resumes(tmp_path: Path) -> None:
    (tmp_path / "slow.dana").write_text(SLOW_STEP)
    (tmp_path / "mode.txt").write_text("slow")
    done = _dana(tmp_path, "run", "--quiet", "--timeout", "4", "slow.dana")
    assert done.returncode == 1
    assert done.stderr.startswith("slow.dana:10:13: error[E0513]: LimitError: the program "
                                  "ran longer than 4.0 seconds"), done.stderr
    [run] = json.loads(_dana(tmp_path, "runs", "--format", "json").stdout)
    assert done.stderr.endswith(f"dana: continue it with: dana resume {run['id']} --store "
                                f"{tmp_path / 'runs.db'}\n")
    assert (run["status"], run["versions"], run["last_path"]) == ("failed", 1, "first")
    status = _dana(tmp_path, "status", run["id"], "--format", "json")
    assert json.loads(status.stdout)["error"]["type"] == "LimitError"
    (tmp_path / "mode.txt").write_text("fast")
    resumed = _dana(tmp_path, "resume", "--quiet", run["id"])
    assert (resumed.returncode, resumed.stdout) == (0, "1\n"), resumed.stderr
    [run] = json.loads(_dana(tmp_path, "runs", "--format", "json").stdout)
    assert run["status"] == "succeeded"


def test_the_running_span_is_the_innermost_one_a_thread_evaluates() -> None:
    source = SourceFile("x.dana", "a = 1\nb = 2\n")
    outer, inner, waiting, release = Span(source, 0, 5), Span(source, 6, 11), \
        threading.Event(), threading.Event()

    def evaluate(span: Span, then: object) -> None:
        then()

    def wait() -> None:
        waiting.set()
        release.wait()

    thread = threading.Thread(target=evaluate, args=(outer, lambda: evaluate(inner, wait)))
    thread.start()
    waiting.wait()
    try:
        assert running_span(thread) is inner
    finally:
        release.set()
        thread.join()
