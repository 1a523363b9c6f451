"""The step cache in the run store (docs/store.md "Step cache"): entries shared by runs in
separate processes, the reason each miss ran, ttl, --no-cache and --refresh-cache."""

import json
import subprocess
import sys
from pathlib import Path

PROGRAM = """
@step(cache=True{ttl})
def build(state: WorkflowState) -> str:
    state.model = f"model({{len(state.rows)}} rows, lr={{state.config.lr}})"
    return state.model

def report(model: str) -> str:
    return "built " + model

workflow train(lr: float = 0.1, label: str = "a"):
    requires:
        rows: list[int]
    steps:
        build | report
"""


def dana(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dana.cli.main", *args],
                          cwd=tmp, capture_output=True, text=True)


def train(tmp: Path, *extra: str, rows: str = "[1, 2, 3]", ttl: str = "",
          body: str = PROGRAM) -> list[dict]:
    """Run workflow `train` once in a new process; return its events."""
    (tmp / "t.dana").write_text(body.format(ttl=ttl))
    (tmp / "state.json").write_text(json.dumps({"rows": json.loads(rows), "n": 0}))
    events = tmp / "events.jsonl"
    events.unlink(missing_ok=True)
    proc = dana(tmp, "run", "t.dana", "--workflow", "train", "--state", "state.json",
                "--store", "store.db", "--events", str(events), "--quiet", *extra)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in events.read_text().splitlines()]


def build_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("step") == "build"]


def test_a_second_process_restores_the_step_from_the_store(tmp_path):
    first = train(tmp_path)
    assert build_events(first)[0]["reason"] == "first run"
    second = train(tmp_path)
    cached = [e for e in second if e["event"] == "step_cached"]
    assert [e["step"] for e in cached] == ["build"]
    assert cached[0]["from_run"] == first[0]["run_id"] and cached[0]["from_version"] == 1
    assert not any(e["event"] == "step_started" and e["step"] == "build" for e in second)
    out = dana(tmp_path, "show", second[0]["run_id"], "model", "--store", "store.db")
    assert "model(3 rows, lr=0.1)" in out.stdout


def reason_after(tmp: Path, *extra: str, **change) -> str:
    train(tmp)
    events = build_events(train(tmp, *extra, **change))
    started = [e for e in events if e["event"] == "step_started"]
    return started[0]["reason"] if started else "hit"


def test_each_kind_of_change_misses_with_its_reason(tmp_path):
    assert reason_after(tmp_path, rows="[1, 2]") == "state key `rows` changed"
    assert reason_after(tmp_path, "--set", "lr=0.5") == "config `lr` changed"
    edited = PROGRAM.replace('f"model(', 'f"model v2(')
    assert reason_after(tmp_path, body=edited) == "code of `build` changed"


def test_config_the_step_does_not_read_still_hits(tmp_path):
    assert reason_after(tmp_path, "--set", "label=b") == "hit"


def test_an_expired_entry_misses_as_expired(tmp_path):
    train(tmp_path, ttl=", cache_ttl=0.0")
    events = build_events(train(tmp_path, ttl=", cache_ttl=0.0"))
    assert events[0]["event"] == "step_started" and events[0]["reason"] == "expired"


def test_no_cache_runs_and_stores_nothing(tmp_path):
    train(tmp_path, "--no-cache")
    events = build_events(train(tmp_path))
    assert events[0]["reason"] == "first run"          # --no-cache left no entry
    events = build_events(train(tmp_path, "--no-cache"))
    assert events[0]["event"] == "step_started" and "reason" not in events[0]


def test_refresh_cache_runs_and_replaces_the_entry(tmp_path):
    first = train(tmp_path)
    refreshed = train(tmp_path, "--refresh-cache")
    assert build_events(refreshed)[0]["reason"] == "--refresh-cache"
    cached = [e for e in train(tmp_path) if e["event"] == "step_cached"]
    assert cached[0]["from_run"] == refreshed[0]["run_id"] != first[0]["run_id"]


def test_resume_takes_the_run_options_and_finishes_a_failed_run(tmp_path):
    (tmp_path / "flag.txt").write_text("fail")
    (tmp_path / "r.dana").write_text(
        "def check(state: WorkflowState) -> str:\n"
        "    flag = read_text(\"flag.txt\")\n"
        "    if flag != \"ok\":\n"
        "        raise ValueError(\"not yet\")\n"
        "    return flag\n\n"
        "workflow w:\n    steps:\n        check\n")
    failed = dana(tmp_path, "run", "r.dana", "--workflow", "w", "--store", "s.db", "--quiet")
    assert failed.returncode == 1 and "dana resume" in failed.stderr
    run_id = failed.stderr.split("dana resume ")[1].split()[0]
    (tmp_path / "flag.txt").write_text("ok")
    resumed = dana(tmp_path, "resume", run_id, "--store", "s.db", "--quiet", "--no-cache",
                   "--executor", "threads")
    assert (resumed.returncode, resumed.stdout) == (0, "ok\n"), resumed.stderr


def test_a_step_that_rewrites_what_it_read_hits_on_the_next_run(tmp_path):
    body = """
@step(cache=True{ttl})
def bump(state: WorkflowState) -> int:
    state.n = state.n + len(state.rows)
    return state.n

workflow train(lr: float = 0.1, label: str = "a"):
    requires:
        rows: list[int]
        n: int
    steps:
        for i in range(3):
            bump
"""
    train(tmp_path, body=body)
    events = train(tmp_path, body=body)
    assert [e["event"] for e in events if e.get("step") == "bump"] == ["step_cached"] * 3


def test_a_large_state_value_is_encoded_once_per_version(tmp_path, monkeypatch):
    """Keys of cached steps that read a 10 MB value use the hash taken when it was
    committed: the value is encoded once per version, however often it is read."""
    import dana
    from dana.store import codec
    size = 10 * 1024 * 1024
    encoded = []
    to_wire = codec._to_wire

    def counting(value, *args):
        if isinstance(value, str) and len(value) >= size:
            encoded.append(len(value))
        return to_wire(value, *args)

    monkeypatch.setattr(codec, "_to_wire", counting)
    (tmp_path / "big.dana").write_text(f"""
@step(cache=True)
def make(state: WorkflowState) -> int:
    state.big = "x" * {size}
    return 1

@step(cache=True)
def measure(state: WorkflowState) -> int:
    state.size = len(state.big)
    return state.size

workflow w:
    steps:
        make
        for i in range(3):
            measure
""")
    interp = dana.Interpreter(store=tmp_path / "store.db")
    module = interp.load(tmp_path / "big.dana")
    for run in (1, 2):
        result = module.run("w")
        assert result.status == "succeeded", result.error
        assert len(encoded) == run      # `make`'s commit (its cache entry keeps that
                                        # encoding); the lookups hash nothing
    kinds = [e["event"] for e in result.events if e.get("step") == "measure"]
    assert kinds.count("step_cached") == 3


KEYED = PROGRAM.replace("@step(cache=True{ttl})", """def by_label(state: WorkflowState, value: any) -> str:
    return state.config.label

@step(cache_key=by_label{ttl})""")


def test_cache_key_hits_on_an_equal_key_and_misses_when_it_changes(tmp_path):
    assert build_events(train(tmp_path, body=KEYED))[0]["reason"] == "first run"
    hit = build_events(train(tmp_path, rows="[1]", body=KEYED))  # rows changed, key did not
    assert [e["event"] for e in hit] == ["step_cached"]
    missed = build_events(train(tmp_path, "--set", "label=b", body=KEYED))
    assert missed[0]["reason"] == "cache_key changed"


def test_a_loop_of_identical_builds_runs_once_across_processes(tmp_path):
    body = """
@step(cache=True{ttl})
def build(state: WorkflowState) -> str:
    state.artifact = f"model-{{state.config.lr}}"
    return state.artifact

def count(state: WorkflowState) -> int:
    state.n = state.n + 1
    return state.n

workflow train(lr: float = 0.1, label: str = "a"):
    requires:
        n: int
    steps:
        for i in range(3):
            count
            build
"""
    kinds = [e["event"] for e in build_events(train(tmp_path, body=body))]
    assert kinds == ["step_started", "step_succeeded", "step_cached", "step_cached"]
    kinds = [e["event"] for e in build_events(train(tmp_path, body=body))]
    assert kinds == ["step_cached"] * 3


def explain(tmp: Path, *extra: str, body: str = PROGRAM) -> list[str]:
    """The lines `dana run --explain` prints before the run (which then runs as usual)."""
    (tmp / "t.dana").write_text(body.format(ttl=""))
    (tmp / "state.json").write_text(json.dumps({"rows": [1, 2, 3], "n": 0}))
    proc = dana(tmp, "run", "t.dana", "--workflow", "train", "--state", "state.json",
                "--store", "store.db", "--quiet", "--explain", *extra)
    assert proc.returncode == 0 and proc.stdout.startswith("built model("), proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith(("explain", "  "))]


def test_explain_says_which_steps_will_hit_and_why_the_others_will_run(tmp_path):
    assert explain(tmp_path) == [
        "explain: 1 cached step(s): 0 restored from the cache, 1 will run, 0 known only "
        "once the run gets there", "  run      build  first run"]
    first = json.loads(dana(tmp_path, "runs", "--store", "store.db", "--format",
                            "json").stdout)[0]["id"]
    assert explain(tmp_path)[1] == f"  hit      build  from run {first} v1"
    assert explain(tmp_path, "--set", "lr=0.5")[1] == "  run      build  config `lr` changed"


def test_explain_follows_loops_and_says_what_only_the_run_can_tell(tmp_path):
    body = PROGRAM.replace("rows: list[int]\n", "rows: list[int]\n        n: int\n").replace(
        "        build | report", """        for i in range(2):
            count
            build
        tally
        build | report""").replace("def report(", """def count(state: WorkflowState) -> int:
    state.n = state.n + 1
    return state.n

def tally(state: WorkflowState) -> int:
    state.rows = state.rows + [state.n]
    return state.n

def report(""")
    explain(tmp_path, body=body)
    lines = explain(tmp_path, body=body)
    assert lines[1:3] == [f"  hit      range[{i}]/build  from run " + lines[1].split()[-2]
                          + " v3" for i in (0, 1)]
    assert lines[3] == "  unknown  build           state key `rows` may change: `tally` runs first"


PIPELINE = """
@step(cache=True)
def build(state: WorkflowState) -> str:
    state.model = f"model({{len(state.rows)}} rows)"
    return state.model

@step(cache=True)
def report(model: str, suffix: str = "!") -> str:
    return "built " + model + suffix

workflow train(lr: float = 0.1, label: str = "a"):
    version = "{version}"
    requires:
        rows: list[int]
    steps:
        build | report(suffix="{suffix}")
"""


def reasons(tmp: Path, rows: str = "[1, 2, 3]", version: str = "1",
            suffix: str = "!") -> dict[str, str]:
    """step -> why it ran ("hit" when restored) in a run of PIPELINE."""
    body = PIPELINE.replace("{version}", version).replace("{suffix}", suffix)
    events = train(tmp, rows=rows, body=body)
    return {e["step"]: e.get("reason", "hit") for e in events
            if e["event"] in ("step_started", "step_cached")}


def test_input_bound_arguments_and_workflow_version_changes_have_their_reasons(tmp_path):
    assert reasons(tmp_path) == {"build": "first run", "report": "first run"}
    assert reasons(tmp_path) == {"build": "hit", "report": "hit"}
    assert reasons(tmp_path, rows="[1]") == {"build": "state key `rows` changed",
                                             "report": "input changed"}
    assert reasons(tmp_path, rows="[1]", suffix="?") == {"build": "hit",
                                                         "report": "bound arguments changed"}
    assert reasons(tmp_path, rows="[1]", version="2") == {
        "build": "workflow version changed", "report": "workflow version changed"}


STRUCT_PROGRAM = """
struct Point:
    x: int
    y: int

@step(cache=True)
def place(state: WorkflowState) -> None:
    state.point = Point(3, 4)

@step
def show(state: WorkflowState) -> None:
    print(state.point.x + state.point.y, type(state.point))

workflow w():
    steps:
        place
        show

r = run(w)
print(r.status)
"""


def test_a_cached_struct_is_rebuilt_with_the_files_struct_type(tmp_path):
    """A script that starts its run with `run(w)` at top level (as the examples do) gets
    its cached step's struct back in a second process, as the struct the file defines."""
    (tmp_path / "s.dana").write_text(STRUCT_PROGRAM)
    runs = [dana(tmp_path, "run", "s.dana", "--quiet") for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout == runs[1].stdout == "7 Point\nsucceeded\n"
