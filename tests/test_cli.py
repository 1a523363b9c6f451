"""The `dana` command: stdout, stderr and exit codes (black-box, docs/architecture.md "Tests").

The first tests run `dana` as a subprocess (the real streams and exit status); the rest
call `dana.cli.main.main([...])` in-process and read stdout/stderr through capsys, which
is the same code path at a fraction of the cost. Progress listeners are also fed
synthetic events of the shared schema (docs/workflows.md "Events").
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dana.cli.main import main
from dana.cli.progress import LiveProgress, PlainProgress, progress_listener
from dana.workflow.events import RunEvent, event_from_dict

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


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """`dana ARGS` in-process: (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse: --help, usage errors
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def dana_in_process(capsys):
    """Like `dana(...)` (a CompletedProcess), without starting a process."""
    return lambda *args: subprocess.CompletedProcess(args, *cli(capsys, *args))


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


def test_closed_stdout_stops_quietly(tmp_path):
    src = write(tmp_path, "many.dana", "for i in range(200000):\n    print(i)\n")
    proc = subprocess.Popen([sys.executable, "-m", "dana.cli.main", "run", str(src)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"0\n"
    proc.stdout.close()  # like `dana run many.dana | head -1`
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""


def test_syntax_error_exits_2(tmp_path):
    src = write(tmp_path, "syntax.dana", "def f(x)\n    return x\n")
    out = dana("run", str(src))
    assert out.returncode == 2
    assert f"{src}:1:9: error[E0100]: unexpected end of line" in out.stderr


def test_missing_file_exits_2(tmp_path, dana_in_process):
    out = dana_in_process("run", str(tmp_path / "nope.dana"))
    assert out.returncode == 2 and "file not found" in out.stderr


def test_version_and_help(capsys):
    assert dana("--version").stdout.startswith("dana ")
    for command in ([], ["run"], ["check"], ["graph"], ["repl"]):
        with pytest.raises(SystemExit) as info:
            main([*command, "--help"])
        assert info.value.code == 0 and capsys.readouterr().out.startswith("usage: dana")


def test_run_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--workflow NAME", "--state FILE", "--config FILE", "--set KEY=VALUE",
                   "--events FILE", "--no-check", "--quiet", "--debug"):
        assert option in text
    assert "${VAR:-default}" in text and "--set tags=[a,b]" in text and ".toml" in text


def test_usage_error_exits_2(tmp_path, dana_in_process):
    assert dana_in_process("run").returncode == 2
    src = write(tmp_path, "w.dana", WORKFLOW)
    out = dana_in_process("run", str(src), "--state", "x.json")
    assert out.returncode == 2 and "--state, --config and --set need --workflow" in out.stderr


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


def test_missing_state_keys_are_all_reported_before_any_step(tmp_path, dana_in_process):
    src = write(tmp_path, "w.dana", WORKFLOW)
    state = write(tmp_path, "in.json", json.dumps({"readings": "nope"}))
    out = dana_in_process("run", str(src), "--workflow", "watch", "--state", str(state),
                          "--quiet")
    assert out.returncode == 2
    assert "requires state key `site` (str), which is missing" in out.stderr
    assert "requires state key `readings` to be list[Reading], got str" in out.stderr
    assert out.stdout == ""


def test_bad_json_is_reported_at_its_position(tmp_path, dana_in_process):
    src = write(tmp_path, "w.dana", WORKFLOW)
    state = write(tmp_path, "in.json", '{"site": "S1",\n  "readings": [1,, 2]}\n')
    out = dana_in_process("run", str(src), "--workflow", "watch", "--state", str(state))
    assert out.returncode == 2
    assert f"{state}:2:18: error[E0603]: invalid JSON in --state" in out.stderr


def test_unknown_workflow_lists_the_known_ones(tmp_path, dana_in_process):
    src = write(tmp_path, "w.dana", WORKFLOW)
    out = dana_in_process("run", str(src), "--workflow", "nope")
    assert out.returncode == 2 and "has no workflow `nope`; it defines: watch" in out.stderr


def test_failed_run_exits_1(tmp_path, dana_in_process):
    src = write(tmp_path, "f.dana", WORKFLOW.replace("return len(state.hot)",
                                                     'raise StepError("sensor offline")'))
    state = write(tmp_path, "in.json", json.dumps({"site": "S1", "readings": []}))
    out = dana_in_process("run", str(src), "--workflow", "watch", "--state", str(state),
                          "--no-check")
    assert out.returncode == 1
    assert "StepError: sensor offline" in out.stderr and "failed in step `count_hot`" in out.stderr


def test_reading_outside_the_script_folder_is_a_permission_error(tmp_path, dana_in_process):
    (tmp_path / "data.txt").write_text("ok\n")
    src = write(tmp_path, "r.dana", 'print(read_text("data.txt").strip())\n'
                                    'print(read_text("../../etc/passwd"))\n')
    out = dana_in_process("run", str(src))
    assert out.stdout == "ok\n" and out.returncode == 1
    resolved = (tmp_path / "../../etc/passwd").resolve()
    assert f"PermissionError: reading '../../etc/passwd' (resolved: {resolved}) is not " \
        "allowed" in out.stderr


def test_deep_recursion_is_a_limit_error_not_a_crash(tmp_path):
    src = write(tmp_path, "deep.dana", "def f(n):\n    return f(n + 1)\nf(0)\n")
    out = dana("run", str(src))
    assert out.returncode == 1 and "LimitError: maximum call depth" in out.stderr
    assert "repeated" in out.stderr


@pytest.mark.parametrize("suffix", [".dana", ".na"])
def test_both_suffixes_run(tmp_path, suffix, dana_in_process):
    src = write(tmp_path, "m" + suffix, "sync def f() -> int:\n    return 4\nprint(f())\n")
    assert dana_in_process("run", str(src)).stdout == "4\n"


# ------------------------------------------------------------------ config, --set, --events
READINGS = {"site": "S1", "readings": [{"temp": 40}, {"temp": 60.5}, {"temp": 70}]}
LOOP = '''
def load(state: WorkflowState):
    state.items = list(range(state.config.n))
    state.seen = 0

def visit(state: WorkflowState):
    state.seen = state.seen + 1

def report(state: WorkflowState) -> int:
    return state.seen

workflow tally(n: int = 30) -> int:
    steps:
        load
        for item in state.items:
            visit
        report
'''



@pytest.fixture
def watch(tmp_path):
    """The WORKFLOW file and a JSON state file for it: 2 readings above 50, 1 above 65."""
    return (str(write(tmp_path, "w.dana", WORKFLOW)),
            str(write(tmp_path, "in.json", json.dumps(READINGS))))


@pytest.mark.parametrize("name, text", [
    ("cfg.yaml", "limit: 65\n"), ("cfg.yml", "limit: 65.0\n"), ("cfg.toml", "limit = 65\n"),
    ("cfg.json", '{"limit": 65}'),
])
def test_config_in_every_format(tmp_path, capsys, watch, name, text):
    cfg = write(tmp_path, name, text)
    code, out, _ = cli(capsys, "run", watch[0], "--workflow", "watch", "--state", watch[1],
                       "--config", str(cfg), "--quiet")
    assert (code, out) == (0, "1\n")


def test_state_in_yaml(tmp_path, capsys, watch):
    state = write(tmp_path, "in.yaml", "site: S1\nreadings:\n  - {temp: 40}\n"
                                       "  - {temp: 60.5}\n  - {temp: 70}\n")
    code, out, _ = cli(capsys, "run", watch[0], "--workflow", "watch", "--state", str(state),
                       "--quiet")
    assert (code, out) == (0, "2\n")


def test_set_overrides_the_config_file_and_later_sets_win(tmp_path, capsys, watch):
    cfg = str(write(tmp_path, "cfg.yaml", "limit: 65\n"))
    base = ["run", watch[0], "--workflow", "watch", "--state", watch[1], "--quiet"]
    assert cli(capsys, *base, "--config", cfg, "--set", "limit=50")[:2] == (0, "2\n")
    assert cli(capsys, *base, "--set", "limit=10", "--set", "limit=69.5")[:2] == (0, "1\n")


def test_set_value_of_the_wrong_type_is_reported_by_the_runner(capsys, watch):
    code, out, err = cli(capsys, "run", watch[0], "--workflow", "watch", "--state", watch[1],
                         "--set", "limit=hot")
    assert (code, out) == (2, "")
    assert "parameter `limit` expects float, got str" in err
    assert "= note: `limit` was given by `--set limit=hot`" in err
    assert "▶ workflow" not in err  # nothing ran


def test_bad_inputs_name_where_they_were_given(tmp_path, capsys, watch):
    cfg = write(tmp_path, "cfg.yaml", "# thresholds\nlimit: hot\ncolour: red\n")
    state = write(tmp_path, "in.yaml", "readings: 3\nsite: S1\n")
    code, out, err = cli(capsys, "run", watch[0], "--workflow", "watch", "--state", str(state),
                         "--config", str(cfg))
    assert (code, out) == (2, "")
    assert f"= note: `colour` was given at {cfg}:3:1" in err
    assert f"= note: `limit` was given at {cfg}:2:1" in err
    assert f"= note: `readings` was given at {state}:1:1" in err


def test_malformed_set_exits_2(capsys, watch):
    code, _, err = cli(capsys, "run", watch[0], "--workflow", "watch", "--set", "limit")
    assert code == 2 and "error[E0605]: --set expects KEY=VALUE" in err


def test_env_variables_in_the_config(tmp_path, capsys, monkeypatch, watch):
    cfg = str(write(tmp_path, "cfg.yaml", "limit: ${DANA_TEST_LIMIT:-50}\n"))
    args = ["run", watch[0], "--workflow", "watch", "--state", watch[1], "--config", cfg,
            "--quiet"]
    monkeypatch.delenv("DANA_TEST_LIMIT", raising=False)
    assert cli(capsys, *args)[:2] == (0, "2\n")
    monkeypatch.setenv("DANA_TEST_LIMIT", "65")
    assert cli(capsys, *args)[:2] == (0, "1\n")


def test_unset_env_variable_exits_2_naming_it_and_the_file(tmp_path, capsys, monkeypatch,
                                                           watch):
    monkeypatch.delenv("DANA_TEST_LIMIT", raising=False)
    cfg = write(tmp_path, "cfg.yaml", "# thresholds\nlimit: ${DANA_TEST_LIMIT}\n")
    code, out, err = cli(capsys, "run", watch[0], "--workflow", "watch", "--state", watch[1],
                         "--config", str(cfg))
    assert (code, out) == (2, "")
    assert (f"{cfg}:2:8: error[E0604]: environment variable `DANA_TEST_LIMIT` is not set "
            f"(used in config file {cfg})") in err
    assert "▶ workflow" not in err


def test_events_file_holds_one_json_object_per_event(tmp_path, capsys, watch):
    log = tmp_path / "events.jsonl"
    args = ["run", watch[0], "--workflow", "watch", "--state", watch[1], "--quiet",
            "--events", str(log)]
    assert cli(capsys, *args) == (0, "2\n", "")  # --quiet: nothing on stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[0]["event"] == "workflow_started" and events[-1]["event"] == "workflow_completed"
    assert len({e["run_id"] for e in events}) == 1
    assert all(e["workflow"] == "watch" and isinstance(e["time"], float) for e in events)
    done = [e for e in events if e["event"] == "step_succeeded"]
    assert [(e["step"], e["path"], e["attempt"], e["version"]) for e in done] == \
        [("count_hot", "count_hot", 1, 1)]
    assert done[0]["duration"] >= 0
    cli(capsys, *args)  # a second run appends
    again = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(again) == 2 * len(events) and len({e["run_id"] for e in again}) == 2


def test_events_file_that_cannot_be_opened_exits_2(tmp_path, capsys, watch):
    code, _, err = cli(capsys, "run", watch[0], "--workflow", "watch", "--state", watch[1],
                       "--events", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert code == 2 and "error[E0601]: cannot open --events file" in err


def test_progress_goes_to_stderr_only_and_is_plain_off_a_terminal(tmp_path, capsys):
    src = write(tmp_path, "tally.dana", LOOP + 'print("top-level output")\n')
    code, out, err = cli(capsys, "run", str(src), "--workflow", "tally")
    assert (code, out) == (0, "30\n")
    lines = err.splitlines()
    assert lines[0].startswith("▶ workflow tally (run ")
    assert lines[1].startswith("  ✓ load (") and "state v1" in lines[1]
    assert lines[2] == "  ⟳ loop items: 30 iterations"
    milestones = [x for x in lines if x.startswith("  … loop items: ")]
    assert milestones[0] == "  … loop items: 3/30 (10%)" and len(milestones) == 9
    assert lines[-3].startswith("  ✓ loop items: 30 iterations (")
    assert lines[-2].startswith("  ✓ report (")
    assert lines[-1].startswith("■ workflow tally completed in ")
    assert lines[-1].endswith(" (32 steps succeeded)")
    assert "visit" not in err and "\x1b" not in err  # loop bodies summarised; no ANSI


def test_failed_step_shows_in_progress(tmp_path, capsys):
    src = write(tmp_path, "f.dana", WORKFLOW.replace("return len(state.hot)",
                                                     'raise StepError("sensor offline")'))
    state = write(tmp_path, "in.json", json.dumps({"site": "S1", "readings": []}))
    code, out, err = cli(capsys, "run", str(src), "--workflow", "watch", "--state", str(state),
                         "--no-check")
    assert (code, out) == (1, "")
    assert "  ✗ count_hot failed (attempt 1): StepError: sensor offline\n" in err
    assert "■ workflow watch FAILED after " in err and "(0 steps succeeded, 1 failed)" in err


def test_config_env_and_events_end_to_end(tmp_path):
    src = write(tmp_path, "tally.dana", LOOP)
    cfg = write(tmp_path, "cfg.toml", 'n = "${TALLY_N}"\n')
    log = tmp_path / "ev.jsonl"
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", str(src),
                           "--workflow", "tally", "--config", str(cfg), "--events", str(log)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TALLY_N": "12"})
    assert (proc.returncode, proc.stdout) == (0, "12\n")
    assert "⟳ loop items: 12 iterations" in proc.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("loop_iteration") == 12 and kinds.count("step_succeeded") == 14
    paths = [e["path"] for e in events if e["event"] == "step_succeeded"]
    assert paths[:2] == ["load", "items[0]/visit"] and paths[-2:] == ["items[11]/visit", "report"]


# ------------------------------------------------------------------ progress listeners
def event(kind: str, path: str = "", time: float = 0.0, **fields) -> RunEvent:
    return event_from_dict({"event": kind, "run_id": "r1", "workflow": "w", "path": path,
                            "time": time, **fields})


SYNTHETIC = [
    event("workflow_started", time=100.0),
    event("step_succeeded", "prep", step="prep", attempt=1, duration=0.25, version=1),
    event("step_retried", "fetch", step="fetch", attempt=1, delay=0.5, error="StepError",
          message="flaky"),
    event("step_succeeded", "fetch", step="fetch", attempt=2, duration=1.0, version=2),
    event("loop_started", loop="epochs", total=2, time=101.0),
    event("loop_iteration", loop="epochs", index=0, total=2),
    event("loop_started", "epochs[0]", loop="batches", total=3),
    event("step_started", "epochs[0]/batches[0]/optim", step="optim", attempt=1, version=2),
    event("step_succeeded", "epochs[0]/batches[0]/optim", step="optim", attempt=1,
          duration=0.1, version=3),
    event("step_skipped", "epochs[0]/batches[1]/optim", step="optim", error="ValueError",
          message="bad batch"),
    event("loop_completed", "epochs[0]", loop="batches"),
    event("loop_iteration", loop="epochs", index=1, total=2),
    event("loop_completed", loop="epochs", time=103.5),
    event("loop_started", loop="while", total=None, time=104.0),
    event("loop_iteration", loop="while", index=0, total=None),
    event("loop_completed", loop="while", time=104.25),
    event("workflow_started", "publish"),
    event("parallel_started", "publish", branches=2, max_concurrency=2, loop=None),
    event("workflow_completed", "publish", duration=0.5),
    event("workflow_completed", duration=4.5),
]


def test_plain_progress_lines_from_schema_events():
    stream = io.StringIO()
    listener = PlainProgress(stream)
    for e in SYNTHETIC:
        listener(e)
    assert stream.getvalue() == """\
▶ workflow w (run r1)
  ✓ prep (0.250 s, state v1)
  ↻ fetch attempt 1 failed: StepError: flaky; retrying in 0.50 s
  ✓ fetch (1.000 s, state v2)
  ⟳ loop epochs: 2 iterations
  ↷ epochs[0]/batches[1]/optim skipped after ValueError: bad batch
  ✓ loop epochs: 2 iterations (2.500 s)
  ⟳ loop while
  ✓ loop while: 1 iteration (0.250 s)
  ▶ sub-workflow publish
  ⇉ parallel publish: 2 branches, at most 2 at once
  ■ sub-workflow publish completed in 0.500 s
■ workflow w completed in 4.500 s (3 steps succeeded, 1 retried, 1 skipped)
"""


def test_progress_shows_a_failed_run_and_its_error():
    stream = io.StringIO()
    listener = PlainProgress(stream)
    for e in [event("workflow_started"),
              event("step_succeeded", "a", step="a", attempt=1, duration=0.5, version=None),
              event("step_failed", "b", step="b", attempt=2, duration=0.0, error="StepError",
                    message=""),
              event("workflow_failed", duration=1.0, error="StepError", message="b failed")]:
        listener(e)
    assert stream.getvalue() == ("▶ workflow w (run r1)\n  ✓ a (0.500 s)\n"
                                 "  ✗ b failed (attempt 2): StepError\n"
                                 "■ workflow w FAILED after 1.000 s: StepError: b failed "
                                 "(1 step succeeded, 1 failed)\n")


def test_live_progress_draws_a_bar_per_loop_on_a_terminal():
    from rich.console import Console
    stream = io.StringIO()
    listener = LiveProgress(Console(file=stream, force_terminal=True, width=120),
                            auto_refresh=False)
    bars = []
    for e in SYNTHETIC:
        listener(e)
        bars.append([t.description for t in listener.progress.tasks])
    listener.close()
    assert ["epochs", "epochs[0]/batches"] in bars  # nested loops: one bar each
    assert bars[-1] == [] and not listener.progress.live.is_started
    text = stream.getvalue()
    assert "\x1b[" in text and "epochs[0]/batches" in text
    assert "■ workflow w completed in 4.500 s (3 steps succeeded, 1 retried, 1 skipped)" in text


def test_progress_listener_is_live_only_on_a_terminal():
    assert isinstance(progress_listener(io.StringIO()), PlainProgress)
    assert isinstance(progress_listener(io.StringIO(), live=True), LiveProgress)


def test_progress_keeps_nested_loops_with_one_label_apart(tmp_path, capsys):
    src = write(tmp_path, "nest.dana", "def tick(state: WorkflowState):\n"
                "    state.n = state.get('n', 0) + 1\n\n"
                "workflow w():\n    steps:\n        for i in range(12):\n"
                "            for j in range(3):\n                tick\n")
    code, out, err = cli(capsys, "run", str(src), "--workflow", "w")
    assert (code, out) == (0, "")
    assert err.count("⟳ loop range: 12 iterations") == 1
    assert "✓ loop range: 12 iterations" in err
    assert "36 steps succeeded" in err


def test_run_shows_checker_warnings_on_stderr_and_still_runs(tmp_path, capsys):
    src = write(tmp_path, "w.dana", "items = [1, 2]\nfor i in items:\n    last = i\nprint(last)\n")
    code, out, err = cli(capsys, "run", str(src))
    assert (code, out) == (0, "2\n")
    assert f"{src}:4:7: warning[E0208]: `last` may be unbound here" in err
