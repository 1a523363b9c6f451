"""The REPL: piped stdin (a subprocess), prompt-toolkit pipe input, completion, commands."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from dana.cli.repl import Reader, ReplSession, make_completer, run_interactive, run_piped

WORKFLOW = """\
struct Order:
    item: str
    qty: int

def total(state: WorkflowState) -> int:
    state.total = state.order.qty * 3
    return state.total

workflow price() -> int:
    requires:
        order: Order
    steps:
        total

r = run(price, order=Order("widget", 4))
r.output
"""


def repl(text: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, DANA_HISTORY=str((cwd or Path("/tmp")) / "hist"))
    return subprocess.run([sys.executable, "-m", "dana.cli.main", "repl"], input=text,
                          capture_output=True, text=True, timeout=60, cwd=cwd, env=env)


def session() -> tuple[ReplSession, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return ReplSession(out, err), out, err


def piped(text: str) -> tuple[int, str, str]:
    s, out, err = session()
    code = run_piped(io.StringIO(text), s)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ subprocess, piped stdin
def test_piped_print(tmp_path: Path) -> None:
    proc = repl("print(1+1)\n", tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "2\n", "")


def test_piped_session_keeps_definitions_and_echoes(tmp_path: Path) -> None:
    proc = repl("x = 20\ndef inc(n: int) -> int:\n    return n + 1\n\ninc(x) + 1\nNone\n",
                tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "22\n"


def test_piped_error_is_a_diagnostic_and_session_continues(tmp_path: Path) -> None:
    proc = repl("1 / 0\n'after'\n", tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == "'after'\n"
    assert "error[E0507]: ZeroDivisionError" in proc.stderr and "<repl>:1:1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_piped_workflow_and_state(tmp_path: Path) -> None:
    proc = repl(WORKFLOW + ":state\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "12"
    assert "workflow price v1.0 succeeded" in lines[1]
    assert "  total = 12" in lines and "  v1 total: total" in lines


# ------------------------------------------------------------------ input grouping
def test_blocks_continue_until_blank_line() -> None:
    code, out, err = piped("if true:\n    print('a')\n\n    \nprint('b')\n")
    assert (code, out, err) == (0, "a\nb\n", "")


def test_unindented_line_ends_a_block_but_else_continues_it() -> None:
    code, out, err = piped("if 1 > 2:\n    print('a')\nelse:\n    print('c')\nprint('d')\n")
    assert (code, out, err) == (0, "c\nd\n", "")


def test_open_bracket_and_string_ask_for_more() -> None:
    s, _, _ = session()
    assert s.needs_more(["x = [1,"])
    assert s.needs_more(['x = """a'])
    assert s.needs_more(["def f():"])
    assert not s.needs_more(["x = [1,", "2]"])
    assert not s.needs_more(["def f():", ""])       # empty block: reported, not waited on
    assert not s.needs_more(["1 +"])                 # a real syntax error


def test_reader_yields_commands_and_chunks() -> None:
    s, _, _ = session()
    reader = Reader(s)
    assert list(reader.feed(":help")) == [":help"]
    assert list(reader.feed("def f():")) == []
    assert list(reader.feed("    return 1")) == []
    assert list(reader.feed("")) == ["def f():\n    return 1\n"]


# ------------------------------------------------------------------ commands
def test_commands() -> None:
    code, out, err = piped(":help\nx = [1, 2]\n:type x\n:type len\n:state\n:reset\n:type 1.5\n"
                           "x\n")
    assert "  :type EXPR" in out
    assert "no workflow has run yet" in out and "session reset" in out
    lines = out.splitlines()
    assert "float" in lines
    assert "name `x`" in err or "undefined name `x`" in err      # gone after :reset
    assert code == 1


def test_type_falls_back_to_runtime_type(monkeypatch: pytest.MonkeyPatch) -> None:
    import dana.cli.repl as repl_module
    monkeypatch.setattr(repl_module, "load_checker", lambda: None)
    code, out, _ = piped("struct P:\n    a: int\n\n:type P(1)\n:type 'x'\n")
    assert (code, out) == (0, "P\nstr\n")


def test_load_and_unknown_command(tmp_path: Path) -> None:
    f = tmp_path / "lib.dana"
    f.write_text("def triple(n: int) -> int:\n    return n * 3\n")
    code, out, err = piped(f":load {f}\ntriple(3)\n:bogus\n:load {tmp_path}/missing.dana\n")
    assert out == f"loaded {f}\n9\n"
    assert "unknown command :bogus" in err and "file not found" in err
    assert code == 1


def test_quit_stops_reading() -> None:
    code, out, _ = piped("print(1)\n:quit\nprint(2)\n")
    assert (code, out) == (0, "1\n")


def test_check_errors_are_reported_before_running() -> None:
    s, out, err = session()
    if not __import__("dana.embedding").embedding.load_checker():
        pytest.skip("type checker not installed")
    assert not s.execute("print('ran')\nlen(1, 2, 3)\n")
    assert out.getvalue() == "" and "error[" in err.getvalue()


# ------------------------------------------------------------------ completion
def completions(s: ReplSession, text: str) -> list[str]:
    completer = make_completer(s)
    return [c.text for c in completer.get_completions(Document(text, len(text)), None)]


def test_completion_of_keywords_names_fields_and_methods() -> None:
    s, _, _ = session()
    assert s.execute("struct Order:\n    item: str\n    qty: int\n\n"
                     "order = Order('a', 1)\nwords = ['x']\n")
    assert "workflow" in completions(s, "work")
    assert "order" in completions(s, "ord") and "Order" in completions(s, "Ord")
    assert "print" in completions(s, "pri")
    assert completions(s, "order.") == ["item", "qty"]
    assert completions(s, "x = order.q") == ["qty"]
    assert "append" in completions(s, "words.ap")
    assert "upper" in completions(s, "order.item.up")
    assert completions(s, ":st") == [":state"]


# ------------------------------------------------------------------ prompt-toolkit input
def interactive(keys: str, history: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setenv("DANA_HISTORY", str(history))
    s, out, err = session()
    with create_pipe_input() as inp:
        inp.send_text(keys)
        with create_app_session(input=inp, output=DummyOutput()):
            code = run_interactive(s, input=inp, output=DummyOutput(), banner=False)
    return code, out.getvalue(), err.getvalue()


def test_prompt_toolkit_multiline_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # continuation lines are pre-indented, so the body is typed without leading spaces
    keys = "def twice(n: int) -> int:\rreturn n * 2\r\rtwice(21)\r[1,\r2]\r\x04"
    code, out, err = interactive(keys, tmp_path / "h", monkeypatch)
    assert (code, out, err) == (0, "42\n[1, 2]\n", "")
    assert "twice(21)" in (tmp_path / "h").read_text()


def test_prompt_toolkit_ctrl_c_cancels_and_errors_continue(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    keys = "x = [1,\r\x03nope\r:type 1\r:quit\r'unreached'\r"
    code, out, err = interactive(keys, tmp_path / "h", monkeypatch)
    assert code == 0
    assert out == "int\n"
    assert "undefined name `nope`" in err or "`nope` is not defined" in err
