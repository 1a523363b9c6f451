"""The REPL: piped stdin (a subprocess), prompt-toolkit pipe input, completion, commands."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

import dana.cli.repl as repl_module
from dana.cli.repl import Reader, ReplSession, make_completer, run_interactive, run_piped
from dana.runtime.interpreter import INTERRUPT

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


def test_type_falls_back_to_runtime_type() -> None:
    """Where the checker only knows `any` (JSON), `:type` shows the run-time type."""
    code, out, _ = piped("y = json_loads('{\"a\": 1}')\n:type y\n:type json_loads('[1]')\n")
    assert (code, out) == (0, "dict\nlist\n")


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


def test_python_words_help_exit_and_quit() -> None:
    """`help` shows the commands and `exit()` / `quit` leave, as in Python's REPL;
    a session that defines the name gets its own value."""
    code, out, err = piped("help\nprint(1)\nexit()\nprint(2)\n")
    assert (code, err) == (0, "") and ":quit" in out and out.endswith("1\n")
    assert piped("quit\nprint(2)\n")[:2] == (0, "")
    assert piped("quit = 5\nquit\n")[:2] == (0, "5\n")


def test_check_errors_are_reported_before_running() -> None:
    s, out, err = session()
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
    assert "undefined name `nope`" in err


BACKSPACES = "\x7f" * 4        # one indentation level less than the pre-filled one


def test_prompt_toolkit_struct_function_and_workflow_then_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's newcomer session: a struct, a function and a workflow typed over several
    lines (bodies pre-indented; Backspace dedents from `requires:` to `steps:`), a run,
    `:state` and `:type`, then Ctrl-D."""
    keys = ("struct Order:\ritem: str\rqty: int\r\r"
            "def total(state: WorkflowState) -> int:\rstate.total = state.order.qty * 3\r"
            "return state.total\r\r"
            "workflow price() -> int:\rrequires:\rorder: Order\r" + BACKSPACES + "steps:\r"
            "total\r\r"
            "r = run(price, order=Order('widget', 4))\rr.output\r:state\r"
            ":type Order('a', 1).item\r\x04")
    code, out, err = interactive(keys, tmp_path / "h", monkeypatch)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "12"
    assert "workflow price v1.0 succeeded" in lines[1]
    assert lines[2:] == ["output: 12", "state (version 1):", "  config = {}",
                         "  order = Order(item='widget', qty=4)", "  total = 12", "history:",
                         "  v0 <initial>: config, order", "  v1 total: total", "str"]


def test_prompt_toolkit_commands_help_type_load_reset(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "lib.dana"
    lib.write_text("def triple(n: int) -> int:\n    return n * 3\n")
    keys = (f":help\r:load {lib}\rtriple(4)\r:type triple(1)\r:reset\rtriple(4)\r"
            ":state\r\x04")
    code, out, err = interactive(keys, tmp_path / "h", monkeypatch)
    assert code == 0
    assert out.startswith("Dana REPL.") and "  :load FILE" in out
    tail = out.splitlines()[-5:]
    assert tail == [f"loaded {lib}", "12", "int", "session reset",
                    "no workflow has run yet in this session (use run(...))"]
    assert "undefined name `triple`" in err            # :reset forgot the loaded function


def test_prompt_toolkit_ctrl_c_cancels_a_half_typed_block(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    keys = "def f() -> int:\rreturn 1\r\x03'fresh prompt'\rf()\r\x04"
    code, out, err = interactive(keys, tmp_path / "h", monkeypatch)
    assert (code, out) == (0, "'fresh prompt'\n")
    assert "undefined name `f`" in err                 # the cancelled block never ran


def test_history_lives_in_the_user_data_dir(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DANA_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert repl_module.history_path() == tmp_path / "data" / "dana" / "history"
    s, out, _ = session()
    with create_pipe_input() as inp:
        inp.send_text("1 + 1\r\x04")
        with create_app_session(input=inp, output=DummyOutput()):
            assert run_interactive(s, input=inp, output=DummyOutput(), banner=False) == 0
    assert out.getvalue() == "2\n"
    assert "1 + 1" in (tmp_path / "data" / "dana" / "history").read_text()


def test_prompt_toolkit_ctrl_d_exits_at_once(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = interactive("print(1)\r\x04print(2)\r", tmp_path / "h", monkeypatch)
    assert (code, out, err) == (0, "1\n", "")


# ------------------------------------------------------------------ completion by Tab
class Terminal:
    """`run_interactive` on a thread, fed through a prompt-toolkit pipe input. Completion
    runs as a background task of the prompt, so after a Tab the test waits for the input
    line (or the completion menu) to change before typing on: `wait_for` blocks until the
    prompt's buffer reports that text (or menu), without sleeping."""

    def __init__(self, history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DANA_HISTORY", str(history))
        self.session, self.out, self.err = session()
        self.changes: queue.Queue = queue.Queue()
        original = repl_module.make_prompt

        def make_prompt(*args: object, **kwargs: object) -> object:
            prompt = original(*args, **kwargs)
            buffer = prompt.default_buffer
            buffer.on_text_changed += lambda b: self.changes.put(b.text)
            buffer.on_completions_changed += lambda b: self.changes.put(
                [c.text for c in b.complete_state.completions] if b.complete_state else None)
            return prompt
        monkeypatch.setattr(repl_module, "make_prompt", make_prompt)
        self.code: int | None = None

    def __enter__(self) -> "Terminal":
        self._pipe = create_pipe_input()
        self.input = self._pipe.__enter__()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        with create_app_session(input=self.input, output=DummyOutput()):
            self.code = run_interactive(self.session, input=self.input, output=DummyOutput(),
                                        banner=False)

    def type(self, keys: str) -> None:
        self.input.send_text(keys)

    def wait_for(self, wanted: str | list[str]) -> None:
        seen = []
        while True:
            try:
                change = self.changes.get(timeout=30)
            except queue.Empty:
                raise AssertionError(f"the prompt never showed {wanted!r}; saw {seen}") from None
            if change == wanted:
                return
            seen.append(change)

    def __exit__(self, kind: object, *rest: object) -> None:
        self.type("\x04" if kind is None else "\x03\x04")   # on failure, clear the line first
        self.thread.join(30)
        self._pipe.__exit__(kind, *rest)
        if kind is None:
            assert not self.thread.is_alive(), "the REPL did not exit on Ctrl-D"


def test_tab_completes_keywords_names_fields_and_methods(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with Terminal(tmp_path / "h", monkeypatch) as term:
        term.type("struct Order:\ritem: str\rqty: int\r\r"
                  "order = Order('pen', 2)\rwords = ['b']\rtotal_count = 5\r")
        term.type("whi\t")                          # a keyword
        term.wait_for("while")
        term.type(" false:\rpass\r\r")
        term.type("total_c\t")                      # a name defined in the session
        term.wait_for("total_count")
        term.type(" + 1\r")
        term.type("order.q\t")                      # a struct field
        term.wait_for("order.qty")
        term.type("\r")
        term.type("order.\t")                       # several fields: a menu, Tab picks
        term.wait_for(["item", "qty"])
        term.type("\t")
        term.wait_for("order.item")
        term.type(".up\t")                          # a str method on that field
        term.wait_for("order.item.upper")
        term.type("()\r")
        term.type("words.ap\t")                     # a list method
        term.wait_for("words.append")
        term.type("('a')\r")
        term.type("pri\t")                          # a builtin function
        term.wait_for("print")
        term.type("(sorted(words))\r")
        term.type(":sta\t")                         # a command
        term.wait_for(":state")
        term.type("\r")
    assert term.code == 0 and term.err.getvalue() == ""
    assert term.out.getvalue().splitlines() == [
        "6", "2", "'PEN'", "['a', 'b']",
        "no workflow has run yet in this session (use run(...))"]


# ------------------------------------------------------------------ Ctrl-C during a run
def test_interrupt_stops_a_running_chunk_and_the_session_goes_on() -> None:
    """What Ctrl-C does while a program runs: the CLI sets INTERRUPT (dana.cli.main), the
    program stops at its next check, and the REPL reports it and keeps its definitions."""
    s, out, err = session()
    assert s.execute("kept = 'still here'\n")
    INTERRUPT.set()
    try:
        assert not s.execute("while true:\n    pass\n")
    finally:
        INTERRUPT.clear()
    assert "interrupted" in err.getvalue()
    assert s.execute("kept\n") and out.getvalue() == "'still here'\n"


def test_sigint_stops_a_running_program_in_a_piped_repl(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) while a chunk runs stops that chunk; the next input still runs."""
    env = dict(os.environ, DANA_HISTORY=str(tmp_path / "hist"))
    proc = subprocess.Popen([sys.executable, "-m", "dana.cli.main", "repl"], cwd=tmp_path,
                            env=env, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stdin and proc.stderr
        proc.stdin.write("log('looping', level='warning')\nwhile true:\n    pass\n\n")
        proc.stdin.flush()
        assert proc.stderr.readline() == "[warning] looping\n"   # the loop has started
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate("'after'\n", timeout=60)
    finally:
        watchdog.cancel()
    assert "interrupted" in err and "Traceback" not in err
    assert out == "'after'\n"
    assert proc.returncode == 1                        # a chunk failed
