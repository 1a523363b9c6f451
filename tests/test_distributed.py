"""Executors (docs/distributed.md): parallel branches in a local process pool and on
a Dask cluster give what threads give; what travels is the module's source and encoded
values; host functions must be importable on workers; only the coordinator commits, also
when a Dask worker dies in the middle of a branch.

Clusters are small (two single-threaded worker processes) and shared per module. No test
asserts a time; waits have generous safety timeouts that only a broken build reaches.
"""

from __future__ import annotations

import csv
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from distributed import LocalCluster

import dana
from dana import pipeline
from dana.cli.main import main
from dana.distributed import ExecutorChoice, make_executor, parse_executor
from dana.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "monthly_temps.dana"
WAIT = 120.0

PROGRAM = '''
struct Part:
    name: str
    size: int

def parts(state: WorkflowState) -> int:
    state.parts = [Part("a", 3), Part("b", 40), Part("c", 500)]
    return 7

def weigh(base: int, state: WorkflowState) -> Part:
    total = 0
    for i in range(state.part.size):
        total += i
    print(f"weighed {state.part.name}")
    return Part(state.part.name, base + total)

def left(state: WorkflowState) -> str:
    state.left_seen = state.version
    return "L"

def right(state: WorkflowState) -> str:
    state.right_seen = len(state.parts)
    return "R"

def invert(state: WorkflowState) -> float:
    return 1 / (state.part.size - 40)

workflow fan() -> list[Part]:
    steps:
        parts
        parallel for part in state.parts (max_concurrency=2):
            weigh
        parallel:
            left
            right
        parts
        parallel for part in state.parts:
            weigh

workflow broken() -> list[float]:
    steps:
        parts
        parallel for part in state.parts:
            invert
'''


@pytest.fixture(scope="module")
def processes():
    with make_executor(parse_executor("processes:2")) as executor:
        yield executor


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as local:
        yield local


def dask_url(cluster) -> str:
    return "dask://" + cluster.scheduler_address.removeprefix("tcp://")


def run_program(tmp_path: Path, workflow: str, executor=None):
    """Run PROGRAM's `workflow` as `dana run --workflow` does; (result, printed text)."""
    path = tmp_path / "program.dana"
    path.write_text(PROGRAM)
    out = __import__("io").StringIO()
    session = pipeline.Session(stdout=out, executor=executor)
    return pipeline.run_workflow_file(path, workflow, session), out.getvalue()


def summary(result) -> tuple:
    state = {k: v for k, v in result.state.as_dict().items() if k != "error"}
    error = result.error and {k: v for k, v in result.error.items() if k != "time"}
    steps = sorted((e["event"], e["path"]) for e in result.events if "step" in e)
    return (result.status, repr(result.output), repr(state), error,
            [(h["step"], sorted(h["keys_changed"])) for h in result.history()], steps)


# ---------------------------------------------------------------- choosing an executor
@pytest.mark.parametrize("text, workers, expected", [
    ("threads", None, ExecutorChoice("threads")),
    ("processes", 3, ExecutorChoice("processes", 3)),
    ("processes:4", None, ExecutorChoice("processes", 4)),
    ("dask", 2, ExecutorChoice("dask", 2)),
    ("dask://10.0.0.5:8786", None, ExecutorChoice("dask", None, "tcp://10.0.0.5:8786")),
])
def test_executor_choices(text, workers, expected):
    assert parse_executor(text, workers) == expected


@pytest.mark.parametrize("text, workers", [("thread", None), ("processes:0", None),
                                           ("processes:x", None), ("dask:", None),
                                           ("threads", 0)])
def test_a_bad_executor_is_a_usage_error(text, workers, tmp_path, capsys):
    with pytest.raises(UsageError) as info:
        parse_executor(text, workers)
    assert info.value.code == "E0606"
    (tmp_path / "x.dana").write_text("print(1)\n")
    args = ["run", str(tmp_path / "x.dana"), "--executor", text]
    assert main(args + (["--workers", str(workers)] if workers is not None else [])) == 2
    assert "E0606" in capsys.readouterr().err


# ---------------------------------------------------------------- same results as threads
def test_processes_give_what_threads_give(processes, tmp_path):
    threads, printed = run_program(tmp_path, "fan")
    assert threads.status == "succeeded", threads.error
    remote, printed_remote = run_program(tmp_path, "fan", processes)
    assert summary(remote) == summary(threads)
    assert sorted(printed_remote.splitlines()) == sorted(printed.splitlines())
    assert [p.fields["size"] for p in remote.output] == [7 + 3, 7 + 780, 7 + 124750]


def test_a_failing_branch_fails_the_block_on_a_worker_as_on_threads(processes, tmp_path):
    threads, _ = run_program(tmp_path, "broken")
    remote, _ = run_program(tmp_path, "broken", processes)
    assert threads.status == remote.status == "failed"
    assert summary(remote) == summary(threads)
    assert remote.error["type"] == "ZeroDivisionError" and remote.error["step"] == "invert"
    assert remote.exception.span.line == threads.exception.span.line  # the coordinator's source


def test_dask_gives_what_threads_give(cluster, tmp_path):
    threads, _ = run_program(tmp_path, "fan")
    with make_executor(parse_executor(dask_url(cluster))) as executor:
        remote, _ = run_program(tmp_path, "fan", executor)
    assert summary(remote) == summary(threads)


# ---------------------------------------------------------------- host functions
def double(x):
    return 2 * x


def test_an_importable_host_function_runs_on_workers(processes):
    with dana.Interpreter(check=False, executor="processes:2") as interp:
        interp.register(double)
        interp.exec("def twice(state: WorkflowState) -> int:\n    return double(state.n)\n"
                    "workflow w():\n    steps:\n        parallel for n in state.ns:\n"
                    "            twice\n")
        result = interp.run(interp.globals["w"], ns=[1, 2, 3])
    assert result.status == "succeeded", result.error
    assert result.output == [2, 4, 6]


def test_a_host_function_workers_cannot_import_refuses_the_run_before_it_starts():
    events = []
    with dana.Interpreter(check=False, executor="processes:2") as interp:
        interp.register(lambda x: x, name="ident")
        interp.on_event(events.append)
        interp.exec("def one(state: WorkflowState) -> int:\n    return ident(1)\n"
                    "workflow w():\n    steps:\n        parallel for n in state.ns:\n"
                    "            one\n")
        with pytest.raises(UsageError) as info:
            interp.run(interp.globals["w"], ns=[1])
    assert info.value.code == "E0607"
    assert "host function `ident`" in str(info.value) and "lambda" in str(info.value)
    assert events == []  # nothing started


# ---------------------------------------------------------------- a worker dies
def slow_first_attempt(value, state):
    """A host step: records which process ran it; the first attempt on item 0 then waits
    (the test kills its worker meanwhile)."""
    folder, item = Path(state["marker_dir"]), state["item"]
    first = not any(folder.glob(f"{item}-*"))
    (folder / f"{item}-{os.getpid()}").write_text(str(os.getpid()))
    if first and item == 0:
        time.sleep(WAIT)
    state[f"doubled_{item}"] = 2 * item
    return 2 * item


def _marked_pids(folder: Path) -> list[int]:
    """The pids written so far into branch 0's marker files."""
    return [int(text) for m in folder.glob("0-*") if (text := m.read_text())]


def test_a_killed_dask_worker_reruns_the_branch_and_its_writes_commit_once(cluster, tmp_path):
    results = []
    with dana.Interpreter(check=False, executor=dask_url(cluster)) as interp:
        interp.register_step(slow_first_attempt)
        interp.exec("workflow w():\n    steps:\n        parallel for item in state.items:\n"
                    "            slow_first_attempt\n")
        runner = threading.Thread(target=lambda: results.append(
            interp.run(interp.globals["w"], items=[0, 1], marker_dir=str(tmp_path))))
        runner.start()
        deadline = time.monotonic() + WAIT
        # the marker is created before its pid is written: wait for the pid too
        while not _marked_pids(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        first = _marked_pids(tmp_path)
        assert first, "branch 0 never started"
        os.kill(first[0], signal.SIGKILL)
        runner.join(WAIT)
    result = results[0]
    assert result.status == "succeeded", result.error
    assert result.output == [0, 2]
    assert len(list(tmp_path.glob("0-*"))) == 2  # branch 0 ran again after its worker died
    parallel = [h for h in result.history() if h["step"] == "parallel"]
    assert [sorted(h["keys_changed"]) for h in parallel] == [["doubled_0", "doubled_1"]]


# ---------------------------------------------------------------- durable runs
GATED = """
def shards(state: WorkflowState) -> int:
    state.shards = [0, 1, 2]
    return 0

def effect(shard: int) -> int:
    append_text("{folder}/effects.txt", f"{{shard}}\\n")
    if shard == 2:
        read_text("{folder}/gate.txt")  # fails until the test writes the file
    return shard * 10

def crunch(state: WorkflowState) -> int:
    return effect(state.shard)

def left(state: WorkflowState) -> int:
    return effect(1)

def right(state: WorkflowState) -> int:
    return effect(2)

workflow fan() -> list[int]:
    steps:
        shards
        parallel for shard in state.shards (max_concurrency=1):
            crunch

workflow lines() -> list[int]:
    steps:
        parallel(max_concurrency=1):
            left
            right
"""


@pytest.mark.parametrize("workflow, output, effects", [
    ("fan", [0, 10, 20], ["0", "1", "2", "2"]), ("lines", [10, 20], ["1", "2", "2"])])
@pytest.mark.parametrize("executor", ["threads", "processes:2", "dask"])
def test_a_resumed_run_runs_only_the_branches_that_did_not_finish(
        executor, workflow, output, effects, cluster, tmp_path):
    """The last branch fails until a file exists; the resume runs only that branch."""
    choice = dask_url(cluster) if executor == "dask" else executor
    grants = dana.Permissions(read=[tmp_path], write=[tmp_path])
    with dana.Interpreter(check=False, executor=choice, store=tmp_path / "dana.db",
                          permissions=grants) as interp:
        (tmp_path / "gated.dana").write_text(GATED.format(folder=tmp_path))
        failed = interp.load(tmp_path / "gated.dana").run(workflow)
        assert failed.status == "failed"
        (tmp_path / "gate.txt").write_text("open")
        result = interp.resume(failed.run_id)
    assert (result.status, result.output) == ("succeeded", output)
    assert sorted((tmp_path / "effects.txt").read_text().split()) == effects


# ---------------------------------------------------------------- live events
LIVE = """
def first(state: WorkflowState) -> int:
    return state.item

@step(timeout=60)
def gated(n: int, state: WorkflowState) -> int:
    while True:
        try:
            read_text(f"{folder}/gate-{{state.item}}.txt")
            return n
        except Error as e:
            pass
    return n

workflow live() -> list[int]:
    steps:
        parallel for item in state.items:
            first | gated
"""


@pytest.mark.parametrize("executor", ["processes:2", "dask"])
def test_a_branch_s_events_reach_the_run_while_the_branch_runs(executor, cluster, tmp_path):
    """Each branch waits for a file that the test writes when it sees the branch's first
    step succeed: events coming only with the branch's result would never open it (the
    step would time out)."""
    choice = dask_url(cluster) if executor == "dask" else executor
    grants = dana.Permissions(read=[tmp_path], write=[tmp_path])
    seen = []
    with dana.Interpreter(check=False, executor=choice, permissions=grants) as interp:
        @interp.on_event
        def open_gate(event):
            seen.append((event["event"], event["path"]))
            if event["event"] == "step_succeeded" and event["step"] == "first":
                item = event["path"].removeprefix("items[").partition("]")[0]
                (tmp_path / f"gate-{item}.txt").write_text("open")

        (tmp_path / "live.dana").write_text(LIVE.format(folder=tmp_path))
        result = interp.load(tmp_path / "live.dana").run("live", items=[0, 1])
    assert (result.status, result.output) == ("succeeded", [0, 1]), result.error
    for item in (0, 1):  # each event once, the branch's own before it completes
        mine = [kind for kind, path in seen if path.startswith(f"items[{item}]/")]
        assert mine == ["step_started", "step_succeeded"] * 2
    assert [kind for kind, _ in seen].count("branch_completed") == 2


# ---------------------------------------------------------------- the example, everywhere
def monthly_figures() -> dict[str, tuple[int, float, float]]:
    """(hours, mean, median) per month of the shipped data, computed here independently."""
    temps = defaultdict(list)
    with open(ROOT / "examples" / "data" / "seattle-temps.csv", newline="") as f:
        for row in csv.DictReader(f):
            temps[row["date"][:7]].append(float(row["temp"]))
    return {m: (len(t), sum(t) / len(t), statistics.median(t)) for m, t in temps.items()}


def run_example(*executor: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", str(EXAMPLE),
                           "--quiet", *executor], capture_output=True, text=True,
                          timeout=WAIT, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_the_monthly_example_prints_the_same_on_every_executor(cluster):
    out = run_example()
    for month, (hours, mean, median) in monthly_figures().items():
        fields = next(line for line in out.splitlines() if line.startswith(month)).split()
        assert fields[1:3] == [str(hours), f"{mean:.1f}"], fields
        assert fields[5] == f"{median:.1f}", fields
    assert "12 months found" in out and "history: <initial>, find_months, parallel, report" in out
    assert run_example("--executor", "processes:2") == out
    assert run_example("--executor", dask_url(cluster)) == out
