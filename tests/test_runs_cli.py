"""`dana run` records runs; `dana runs/status/history/show/diff/gc` read them and `dana
resume` continues one, refusing changed code and a control flow that left the recorded
path (docs/cli.md "Runs", docs/store.md). Black-box: the real command, a store in a
temporary folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = '''
def a(state: WorkflowState) -> str:
    state.path = "a"
    state.pair = (1, 2.5)
    return "a"

def b(state: WorkflowState) -> str:
    state.path = "b"
    return "b"

def gate(state: WorkflowState) -> str:
    if read_text("gate.txt") != "open":
        raise StepError("the gate is closed")
    state.passed = True
    return "through"

workflow w() -> str:
    steps:
        if read_text("flag.txt") == "a":
            a
        else:
            b
        gate
'''


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "wf.dana").write_text(WORKFLOW)
    (tmp_path / "flag.txt").write_text("a")
    (tmp_path / "gate.txt").write_text("closed")
    return tmp_path


def dana(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dana.cli.main", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120)


def failed_run(folder: Path) -> str:
    out = dana(folder, "run", "wf.dana", "--workflow", "w", "--quiet", "--store", "s.db")
    assert out.returncode == 1
    last = out.stderr.splitlines()[-1]
    assert last.startswith("dana: continue it with: dana resume ")
    assert last.endswith(" --store s.db")
    return last.split()[-3]


def test_inspecting_a_failed_run(folder: Path) -> None:
    run_id = failed_run(folder)
    [listed] = json.loads(dana(folder, "runs", "--store", "s.db", "--format", "json").stdout)
    assert (listed["id"], listed["workflow"], listed["status"], listed["last_path"]) == \
        (run_id, "w", "failed", "")
    table = dana(folder, "runs", "--store", "s.db").stdout.splitlines()
    assert table[0].split() == ["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "VERSIONS",
                                "AT"]
    assert table[1].split()[:3] == [run_id, "w@1.0", "failed"]
    status = dana(folder, "status", run_id[:5], "--store", "s.db")
    assert status.stdout.splitlines()[0] == f"run {run_id}: w@1.0 failed"
    assert "error[E0509]: StepError: the gate is closed" in status.stderr
    assert "in step gate" in status.stderr
    error = json.loads(dana(folder, "status", run_id, "--store", "s.db", "--format",
                            "json").stdout)["error"]
    assert (error["type"], error["step"]) == ("StepError", "gate")
    history = json.loads(dana(folder, "history", run_id, "--store", "s.db", "--format",
                              "json").stdout)
    assert [(h["version"], h["step"], h["keys"]) for h in history] == [
        (0, "<initial>", ["config"]), (1, "a", ["pair", "path"]), (2, "<error>", ["error"])]
    assert dana(folder, "show", run_id, "pair", "--store", "s.db").stdout == "(1, 2.5)\n"
    shown = json.loads(dana(folder, "show", run_id, "--version", "1", "--store", "s.db",
                            "--format", "json").stdout)
    assert shown == {"run": run_id, "version": 1,
                     "state": {"config": {}, "path": "a", "pair": [1, 2.5]}}
    diff = dana(folder, "diff", run_id, "0", "1", "--store", "s.db")
    assert diff.stdout == "pair: (absent) -> (1, 2.5)\npath: (absent) -> 'a'\n"


def test_resume_continues_from_the_failed_step(folder: Path) -> None:
    run_id = failed_run(folder)
    (folder / "gate.txt").write_text("open")
    out = dana(folder, "resume", run_id[:6], "--store", "s.db", "--quiet")
    assert (out.returncode, out.stdout) == (0, "through\n")
    assert out.stderr == f"dana: resuming run {run_id}\n"
    history = json.loads(dana(folder, "history", run_id, "--store", "s.db", "--format",
                              "json").stdout)
    assert [h["step"] for h in history] == ["<initial>", "a", "gate"]
    again = dana(folder, "resume", run_id, "--store", "s.db")
    assert again.returncode == 2
    assert "succeeded; only a failed, interrupted or crashed run can be resumed" in again.stderr


def test_resume_refuses_a_control_flow_that_left_the_recorded_path(folder: Path) -> None:
    run_id = failed_run(folder)
    (folder / "flag.txt").write_text("b")
    (folder / "gate.txt").write_text("open")
    out = dana(folder, "resume", run_id, "--store", "s.db", "--quiet")
    assert out.returncode == 2
    assert ("error[E0420]: the resumed run reached step `b` where the run recorded `a` "
            "(version 1)") in out.stderr
    assert out.stdout == ""


def test_resume_refuses_changed_code_unless_allowed(folder: Path) -> None:
    run_id = failed_run(folder)
    (folder / "gate.txt").write_text("open")
    (folder / "wf.dana").write_text(WORKFLOW.replace('return "through"', 'return "past"'))
    out = dana(folder, "resume", run_id, "--store", "s.db", "--quiet")
    assert out.returncode == 2
    assert f"error[E0421]: the code of run {run_id} changed since it started: gate" in out.stderr
    assert "--allow-changed" in out.stderr
    out = dana(folder, "resume", run_id, "--store", "s.db", "--quiet", "--allow-changed")
    assert (out.returncode, out.stdout) == (0, "past\n")
    resumes = json.loads(dana(folder, "status", run_id, "--store", "s.db", "--format",
                              "json").stdout)["resumes"]
    assert [r["changed"] for r in resumes] == [["gate"]]


def test_unknown_and_ambiguous_ids_and_missing_stores(folder: Path) -> None:
    failed_run(folder)
    out = dana(folder, "status", "zzz", "--store", "s.db")
    assert (out.returncode, out.stderr.strip()) == (2, "error[E0603]: no run with id zzz in s.db")
    out = dana(folder, "runs", "--store", "nowhere.db")
    assert out.returncode == 2 and "no run store at nowhere.db" in out.stderr
    assert not (folder / "nowhere.db").exists()


def test_gc_deletes_only_old_finished_runs(folder: Path) -> None:
    run_id = failed_run(folder)
    kept = json.loads(dana(folder, "gc", "--older-than", "1d", "--store", "s.db", "--format",
                           "json").stdout)
    assert kept == {"deleted": [], "dry_run": False}
    out = dana(folder, "gc", "--older-than", "0s", "--store", "s.db")
    assert out.stdout == f"deleted 1 run(s): {run_id}\n"
    assert json.loads(dana(folder, "runs", "--store", "s.db", "--format", "json").stdout) == []
    bad = dana(folder, "gc", "--older-than", "soon", "--store", "s.db")
    assert bad.returncode == 2


def test_an_unstorable_value_fails_the_step_that_wrote_it(folder: Path) -> None:
    (folder / "bad.dana").write_text('''
def keep(state: WorkflowState) -> int:
    state.n = 1
    state.f = len
    return 1

workflow w() -> int:
    steps:
        keep
''')
    out = dana(folder, "run", "bad.dana", "--workflow", "w", "--quiet", "--store", "s.db")
    assert out.returncode == 1
    assert ("StateError: step `keep` wrote state key `f` a value that cannot be stored (a "
            "value of type Builtin, type function)") in out.stderr


def test_ephemeral_runs_record_nothing(folder: Path) -> None:
    (folder / "gate.txt").write_text("open")
    out = dana(folder, "run", "wf.dana", "--workflow", "w", "--quiet", "--ephemeral",
               "--store", "s.db")
    assert (out.returncode, out.stdout) == (0, "through\n")
    assert not (folder / "s.db").exists()


def test_a_run_started_by_top_level_code_resumes_without_that_code(folder: Path) -> None:
    (folder / "top.dana").write_text(WORKFLOW + '''
print("top-level code runs once")
result = run(w)
print(result.status)
''')
    out = dana(folder, "run", "top.dana", "--quiet", "--store", "s.db")
    assert out.stdout == "top-level code runs once\nfailed\n"
    [listed] = json.loads(dana(folder, "runs", "--store", "s.db", "--format", "json").stdout)
    (folder / "gate.txt").write_text("open")
    out = dana(folder, "resume", listed["id"], "--store", "s.db", "--quiet")
    assert (out.returncode, out.stdout) == (0, "through\n")


def test_two_processes_share_a_store(folder: Path) -> None:
    (folder / "gate.txt").write_text("open")
    command = [sys.executable, "-m", "dana.cli.main", "run", "wf.dana", "--workflow", "w",
               "--quiet", "--store", "s.db"]
    procs = [subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    listed = json.loads(dana(folder, "runs", "--store", "s.db", "--format", "json").stdout)
    assert [r["status"] for r in listed] == ["succeeded", "succeeded"]
