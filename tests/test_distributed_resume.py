"""A durable run on a remote executor records each `parallel for` branch as its result
reaches the coordinator, so a resume after a crash runs only the unfinished branches
(docs/distributed.md "How failures behave").

The coordinator (`dana run --executor processes:2`) is killed with SIGKILL once its event
log shows two branches completed (a completed branch is recorded before its event is
written); `dana resume` then finishes the run. Each branch appends a line to a file of
its own as its side effect: the branches completed before the kill must not run again.
No test asserts a time; waits have generous safety timeouts that only a broken build
reaches.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120.0

PROGRAM = '''
def shards(state: WorkflowState) -> int:
    state.shards = [1, 2, 1000000, 1000001, 1000002, 1000003]
    return 0


def crunch(state: WorkflowState) -> int:
    total = 0
    for i in range(state.shard):
        total += i % 7
    append_text(f"{folder}/ran-{{state.shard}}.txt", "ran\\n")
    return total


def report(outputs: list[int], state: WorkflowState) -> int:
    print(f"outputs: {{outputs}}")
    return sum(outputs)


workflow fan() -> int:
    steps:
        shards
        parallel for shard in state.shards (max_concurrency=2):
            crunch
        report
'''


def _dana(folder: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dana.cli.main", *args, "--store", str(folder / "dana.db"),
            "--allow-write", str(folder)]


def _program(folder: Path) -> Path:
    folder.mkdir()
    path = folder / "fan.dana"
    path.write_text(PROGRAM.format(folder=folder))
    return path


def _completed(events: Path) -> list[int]:
    if not events.exists():
        return []
    lines = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
    return [e["index"] for e in lines if e["event"] == "branch_completed"]


def _effects(folder: Path) -> Counter:
    """How many times each shard's branch ran (one file each: appends from concurrent
    branches to one file could interleave)."""
    return Counter({int(p.stem.split("-")[1]): len(p.read_text().split())
                    for p in folder.glob("ran-*.txt")})


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What an uninterrupted run prints."""
    clean = _program(tmp_path_factory.mktemp("clean") / "run")
    done = subprocess.run(_dana(clean.parent, "run", str(clean), "--quiet"),
                          capture_output=True, text=True, timeout=WAIT, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_killed_run_resumes_running_only_the_unfinished_branches(
        uninterrupted: str, tmp_path: Path) -> None:
    executor = "processes:2"
    program = _program(tmp_path / "crashed")
    folder, events = program.parent, program.parent / "events.jsonl"
    proc = subprocess.Popen(_dana(folder, "run", str(program), "--quiet", "--executor",
                                  executor, "--events", str(events)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + WAIT
    while len(_completed(events)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    finished = set(_completed(events))
    assert len(finished) >= 2 and len(finished) < 6, finished  # killed mid-fan-out

    runs = subprocess.run(_dana(folder, "runs", "--format", "json")[:-2],
                          capture_output=True, text=True, timeout=WAIT, cwd=ROOT)
    run_id = json.loads(runs.stdout)[0]["id"]
    resumed = subprocess.run(_dana(folder, "resume", run_id, "--quiet", "--executor",
                                   executor),
                             capture_output=True, text=True, timeout=WAIT, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == uninterrupted

    shards = [1, 2, 1000000, 1000001, 1000002, 1000003]
    effects = _effects(folder)
    assert set(effects) == set(shards)  # every branch ran
    assert {shards[i]: effects[shards[i]] for i in finished} == \
        {shards[i]: 1 for i in finished}  # those finished before the kill ran once
