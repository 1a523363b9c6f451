"""`dana` as a subprocess: stdout, stderr and exit codes (black-box, STYLE habit 8)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = '''
struct Reading:
    temp: float

def count_hot(state: WorkflowState) -> int:
    state.hot = [r.temp for r in state.readings if r.temp > state.config.limit]
    return len(state.hot)

workflow watch(limit: float = 50.0) -> int:
    requires:
        site: str
        readings: list[Reading]
    steps:
        count_hot

print("top-level code is skipped with --workflow")
'''


def dana(*args: str, cwd: Path | None = None, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "dana.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, input=stdin, timeout=60)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_run_prints_program_output_only_on_stdout(tmp_path):
    src = write(tmp_path, "hello.dana", 'print("hello", 1 + 2)\nlog("quiet")\n'
                                        'log_level("info")\nlog("loud")\n')
    out = dana("run", str(src))
    assert (out.returncode, out.stdout) == (0, "hello 3\n")
    assert "[info] loud" in out.stderr and "quiet" not in out.stderr


def test_runtime_error_exits_1_with_caret_and_no_traceback(tmp_path):
    src = write(tmp_path, "bad.dana", "x = [1, 2]\nprint(x[5])\n")
    out = dana("run", str(src))
    assert out.returncode == 1
    assert f"{src}:2:7: error[E0504]: IndexError: list index 5 out of range" in out.stderr
    assert "2 | print(x[5])\n  |       ^^^^" in out.stderr
    assert "Traceback" not in out.stderr


def test_debug_shows_the_python_traceback(tmp_path):
    src = write(tmp_path, "bad.dana", "print(1 / 0)\n")
    out = dana("run", "--debug", str(src))
    assert out.returncode == 1 and "Traceback" in out.stderr


def test_syntax_error_exits_2(tmp_path):
    src = write(tmp_path, "syntax.dana", "def f(x)\n    return x\n")
    out = dana("run", str(src))
    assert out.returncode == 2
    assert f"{src}:1:9: error[E0100]: unexpected end of line" in out.stderr


def test_missing_file_exits_2(tmp_path):
    out = dana("run", str(tmp_path / "nope.dana"))
    assert out.returncode == 2 and "file not found" in out.stderr


def test_version_and_help():
    assert dana("--version").stdout.startswith("dana ")
    for command in ([], ["run"], ["check"], ["repl"]):
        out = dana(*command, "--help")
        assert out.returncode == 0 and "usage: dana" in out.stdout


def test_usage_error_exits_2(tmp_path):
    assert dana("run").returncode == 2
    src = write(tmp_path, "w.dana", WORKFLOW)
    out = dana("run", str(src), "--state", "x.json")
    assert out.returncode == 2 and "--state and --config need --workflow" in out.stderr


def test_workflow_with_state_and_config_files(tmp_path):
    src = write(tmp_path, "w.dana", WORKFLOW)
    state = write(tmp_path, "in.json", json.dumps(
        {"site": "S1", "readings": [{"temp": 40}, {"temp": 60.5}, {"temp": 70}]}))
    config = write(tmp_path, "cfg.json", json.dumps({"limit": 65}))
    out = dana("run", str(src), "--workflow", "watch", "--state", str(state), "--quiet")
    assert (out.returncode, out.stdout) == (0, "2\n")
    out = dana("run", str(src), "--workflow", "watch", "--state", str(state),
               "--config", str(config))
    assert (out.returncode, out.stdout) == (0, "1\n")
    assert "count_hot" in out.stderr  # progress


def test_missing_state_keys_are_all_reported_before_any_step(tmp_path):
    src = write(tmp_path, "w.dana", WORKFLOW)
    state = write(tmp_path, "in.json", json.dumps({"readings": "nope"}))
    out = dana("run", str(src), "--workflow", "watch", "--state", str(state), "--quiet")
    assert out.returncode == 2
    assert "requires state key `site` (str), which is missing" in out.stderr
    assert "requires state key `readings` to be list[Reading], got str" in out.stderr
    assert out.stdout == ""


def test_bad_json_is_reported_at_its_position(tmp_path):
    src = write(tmp_path, "w.dana", WORKFLOW)
    state = write(tmp_path, "in.json", '{"site": "S1",\n  "readings": [1,, 2]}\n')
    out = dana("run", str(src), "--workflow", "watch", "--state", str(state))
    assert out.returncode == 2
    assert f"{state}:2:18: error[E0603]: invalid JSON in --state" in out.stderr


def test_unknown_workflow_lists_the_known_ones(tmp_path):
    src = write(tmp_path, "w.dana", WORKFLOW)
    out = dana("run", str(src), "--workflow", "nope")
    assert out.returncode == 2 and "has no workflow `nope`; it defines: watch" in out.stderr


def test_failed_run_exits_1(tmp_path):
    src = write(tmp_path, "f.dana", WORKFLOW.replace("return len(state.hot)",
                                                     'raise StepError("sensor offline")'))
    state = write(tmp_path, "in.json", json.dumps({"site": "S1", "readings": []}))
    out = dana("run", str(src), "--workflow", "watch", "--state", str(state), "--no-check")
    assert out.returncode == 1
    assert "StepError: sensor offline" in out.stderr and "failed in step `count_hot`" in out.stderr


def test_reading_outside_the_script_folder_is_a_permission_error(tmp_path):
    (tmp_path / "data.txt").write_text("ok\n")
    src = write(tmp_path, "r.dana", 'print(read_text("data.txt").strip())\n'
                                    'print(read_text("../../etc/passwd"))\n')
    out = dana("run", str(src))
    assert out.stdout == "ok\n" and out.returncode == 1
    assert "PermissionError: reading '../../etc/passwd' is not allowed" in out.stderr


def test_deep_recursion_is_a_limit_error_not_a_crash(tmp_path):
    src = write(tmp_path, "deep.dana", "def f(n):\n    return f(n + 1)\nf(0)\n")
    out = dana("run", str(src))
    assert out.returncode == 1 and "LimitError: maximum call depth" in out.stderr
    assert "repeated" in out.stderr


@pytest.mark.parametrize("suffix", [".dana", ".na"])
def test_both_suffixes_run(tmp_path, suffix):
    src = write(tmp_path, "m" + suffix, "sync def f() -> int:\n    return 4\nprint(f())\n")
    assert dana("run", str(src)).stdout == "4\n"
