"""`dana run` as a new user meets it: which code runs, and what a file of definitions does.

Black-box through `dana.cli.main.main` (exit code, stdout, stderr), as in tests/test_cli.py.
"""

from pathlib import Path

import pytest

from dana.cli.main import main

ETL = '''
def fetch(state: WorkflowState) -> int:
    print("fetching")
    state.users = 4
    return state.users

workflow etl():
    steps:
        fetch

def report(r) -> str:
    print("reporting")
    return f"{r.output} users"

r = run(etl)
summary = report(r)
print(f"top level: {summary}")
LIMIT = 3
'''


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def write(tmp_path: Path, text: str, name: str = "prog.dana") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_workflow_option_starts_only_the_requested_run(tmp_path, capsys):
    code, out, err = cli(capsys, "run", write(tmp_path, ETL), "--workflow", "etl", "--quiet",
                         "--events", str(tmp_path / "ev.jsonl"))
    assert (code, out) == (0, "fetching\n4\n")
    started = (tmp_path / "ev.jsonl").read_text().count('"workflow_started"')
    assert started == 1


def test_workflow_option_still_loads_constants(tmp_path, capsys):
    text = ETL.replace("        fetch\n", "        fetch | uses_limit\n", 1) + '''
def uses_limit(n: int) -> int:
    return n * LIMIT
'''
    code, out, _ = cli(capsys, "run", write(tmp_path, text), "--workflow", "etl", "--quiet")
    assert (code, out) == (0, "fetching\n12\n")


BACKFILL = '''
def day(state: WorkflowState) -> int:
    state.days = 3
    return state.days

workflow backfill():
    steps:
        day
'''


def test_a_file_of_definitions_runs_its_only_workflow(tmp_path, capsys):
    code, out, _ = cli(capsys, "run", write(tmp_path, BACKFILL), "--quiet")
    assert (code, out) == (0, "3\n")


def test_a_file_of_several_workflows_asks_which(tmp_path, capsys):
    text = BACKFILL + "\nworkflow again():\n    steps:\n        day\n"
    code, out, err = cli(capsys, "run", write(tmp_path, text, "backfill.dana"), "--quiet")
    assert (code, out) == (2, "")
    assert "defines 2 workflows; choose one with --workflow NAME" in err
    assert "backfill, again" in err


def test_a_file_that_runs_a_workflow_itself_runs_nothing_more(tmp_path, capsys):
    code, out, _ = cli(capsys, "run", write(tmp_path, BACKFILL + "r = run(backfill)\n"),
                       "--quiet")
    assert (code, out) == (0, "")


def test_a_missing_data_file_names_where_it_was_looked_for(tmp_path, capsys):
    (tmp_path / "jobs").mkdir()
    src = write(tmp_path / "jobs", 'rows = read_csv("data/users.csv")\n')
    code, _, err = cli(capsys, "run", src)
    assert code == 1
    assert "error[E0516]: FileNotFoundError: no such file 'data/users.csv'" in err
    assert str(tmp_path / "jobs" / "data" / "users.csv") in err


def test_check_a_directory_checks_every_dana_file_under_it(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "x = 1\n", "a.dana")
    write(tmp_path / "sub", "y: int = 'no'\n", "b.na")
    write(tmp_path, "not dana", "notes.txt")
    code, _, err = cli(capsys, "check", str(tmp_path))
    assert code == 2
    assert "b.na:1:" in err and "2 file(s) checked: 1 error(s)" in err


def test_a_misspelt_option_shows_the_subcommands_usage(capsys):
    code, _, err = cli(capsys, "run", "x.dana", "--wokflow", "etl")
    assert code == 2
    assert err.startswith("usage: dana run ")
    assert "unrecognized arguments: --wokflow" in err and "did you mean --workflow?" in err


def test_an_untyped_state_parameter_is_named_in_the_run_time_error(tmp_path, capsys):
    src = write(tmp_path, "def load(state) -> int:\n    state.rows = [1, 2, 3]\n    return 3\n\n"
                          "workflow etl() -> int:\n    steps:\n        load\n")
    code, _, err = cli(capsys, "run", src, "--workflow", "etl", "--no-check", "--quiet")
    assert code == 1
    assert "AttributeError: cannot set attribute `rows` on `None`" in err
    assert "`load`'s parameter named `state` is not typed `WorkflowState`" in err


DEPLOY = '''
struct Target:
    image: str
    replicas: int

def go(state: WorkflowState) -> str:
    return f"{state.target.image} x{state.target.replicas} to {state.hosts}"

workflow deploy(wave_size: int = 2) -> str:
    requires:
        target: Target
        hosts: list[str]
    steps:
        go
'''


def test_a_bad_struct_field_in_state_is_named_with_where_it_was_given(tmp_path, capsys):
    src = write(tmp_path, DEPLOY)
    (tmp_path / "st.yaml").write_text("target:\n  image: 5\n  replicas: 3\nhosts: [a]\n")
    code, _, err = cli(capsys, "run", src, "--workflow", "deploy", "--state",
                       str(tmp_path / "st.yaml"), "--quiet")
    assert code == 2
    assert "`target.image` expects str, got int" in err
    assert f"{tmp_path / 'st.yaml'}:2:3" in err


def test_a_misspelt_state_key_gets_a_did_you_mean_warning(tmp_path, capsys):
    src = write(tmp_path, DEPLOY)
    (tmp_path / "st.yaml").write_text("target: {image: app, replicas: 1}\nhost: [a]\n")
    _, _, err = cli(capsys, "run", src, "--workflow", "deploy", "--state",
                    str(tmp_path / "st.yaml"), "--quiet")
    assert "warning[E0417]: state key `host` is not required by workflow `deploy`" in err
    assert "did you mean `hosts`?" in err


def test_a_misspelt_set_points_at_the_parameter(tmp_path, capsys):
    src = write(tmp_path, DEPLOY)
    (tmp_path / "st.yaml").write_text("target: {image: app, replicas: 1}\nhosts: [a]\n")
    _, _, err = cli(capsys, "run", src, "--workflow", "deploy", "--state",
                    str(tmp_path / "st.yaml"), "--set", "wavesize=3", "--quiet")
    assert "has no parameter `wavesize`" in err and "did you mean `wave_size`?" in err
    assert ":9:17: error[E0412]" in err
    assert "\n  |                 ^^^^^^^^^^^^^^^^^^\n" in err  # under `wave_size: int = 2`
