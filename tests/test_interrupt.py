"""Ctrl-C during a run: the run ends as interrupted, never as a success (docs/workflows.md
"Events"). The interrupt is simulated where it really arrives: an exception raised in the
thread running the program (here by an event listener, as a Ctrl-C check between
statements would)."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dana.cli.progress import PlainProgress
from dana.cli.repl import ReplSession
from dana.embedding import Interpreter
from dana import RunInterrupted

DAYS = '''
def work(state: WorkflowState) -> int:
    state.done = state.day
    return state.day

workflow daily():
    requires:
        days: list[int]
    steps:
        for day in state.days:
            work
'''


def interrupt_at(index: int):
    """A listener that 'presses Ctrl-C' when the loop reaches iteration `index`."""
    def listener(event: dict) -> None:
        if event["event"] == "loop_iteration" and event["index"] == index:
            raise KeyboardInterrupt
    return listener


def test_interrupted_run_ends_with_workflow_interrupted_and_partial_state():
    interp = Interpreter()
    interp.exec(DAYS)
    events: list[dict] = []
    interp.on_event(events.append)
    interp.on_event(interrupt_at(3))
    with pytest.raises(RunInterrupted) as info:
        interp.run(interp.globals["daily"], days=[1, 2, 3, 4, 5, 6, 7, 8])
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "workflow_interrupted"
    assert "loop_completed" not in kinds
    result = info.value.result
    assert result.status == "interrupted"
    assert result.state["done"] == 3


def test_progress_shows_the_loop_and_the_run_as_interrupted():
    stream = io.StringIO()
    interp = Interpreter()
    interp.exec(DAYS)
    interp.on_event(PlainProgress(stream))
    interp.on_event(interrupt_at(3))
    with pytest.raises(KeyboardInterrupt):
        interp.run(interp.globals["daily"], days=[1, 2, 3, 4, 5, 6, 7, 8])
    lines = stream.getvalue().splitlines()
    assert lines[-2] == "  ✗ loop days: interrupted after 3 of 8 iterations"
    assert lines[-1].startswith("■ workflow daily interrupted after ")
    assert "✓ loop" not in stream.getvalue()


def test_repl_state_shows_the_interrupted_run():
    out, err = io.StringIO(), io.StringIO()
    session = ReplSession(out, err)
    session.runtime.listeners.append(interrupt_at(2))
    session.execute(DAYS)
    session.execute("r = run(daily, days=[1, 2, 3, 4])")
    session.show_state()
    text = out.getvalue()
    assert "workflow daily v1.0 interrupted" in text
    assert "done = 2" in text


SLOW = DAYS.replace("    state.done = state.day\n",
                    "    total = 0\n    for i in range(200000):\n        total += i\n"
                    "    state.done = state.day\n")


def test_ctrl_c_on_the_command_line(tmp_path: Path):
    (tmp_path / "slow.dana").write_text(SLOW)
    (tmp_path / "days.yaml").write_text("days: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n")
    events = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dana.cli.main", "run", "slow.dana", "--workflow", "daily",
         "--state", "days.yaml", "--events", str(events)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"index": 1,' not in _read(events):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert json.loads(_read(events).splitlines()[-1])["event"] == "workflow_interrupted"
    assert "interrupted after" in err and "✓ loop" not in err


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
