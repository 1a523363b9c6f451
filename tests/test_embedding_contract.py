"""The embedding contract (docs/embedding.md, "What crosses the boundary"): `eval`, `exec`,
`load` and runs raise only `DanaError` subclasses, and leave the host process as they
found it. One test per promise."""

from __future__ import annotations

import builtins
import signal
import sys
import threading
from pathlib import Path

import pytest

import dana
from dana.errors import DanaError

HOSTILE = [
    "import os",
    "import sys",
    "x = exit(1)",
    "raise BaseException('x')",
    "print('{0.__class__}'.format(1))",
    "x = [0] * 10 ** 10",
    "def f(n: int) -> int:\n    return f(n + 1)\nf(0)",
]


def _run_all(interp: dana.Interpreter, sources: list[str]) -> list[DanaError]:
    errors = []
    for src in sources:
        try:
            interp.exec(src)
        except DanaError as err:
            errors.append(err)
    return errors


@pytest.fixture
def interp() -> dana.Interpreter:
    warm = dana.Interpreter(check=False)
    _run_all(warm, HOSTILE)  # Dana's own lazy imports happen here, not in the test
    return dana.Interpreter(check=False)


def test_sys_exit_in_host_function_is_a_dana_error(interp: dana.Interpreter) -> None:
    interp.register(lambda: sys.exit(3), name="leave")
    with pytest.raises(DanaError, match="SystemExit") as info:
        interp.exec("leave()")
    assert isinstance(info.value.__cause__, SystemExit)


def test_sys_exit_cannot_be_caught_by_dana_code(interp: dana.Interpreter) -> None:
    interp.register(lambda: sys.exit(3), name="leave")
    with pytest.raises(DanaError, match="SystemExit"):
        interp.exec("try:\n    leave()\nexcept:\n    pass")


def test_keyboard_interrupt_is_a_dana_error(interp: dana.Interpreter) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt
    interp.register(interrupted)
    with pytest.raises(DanaError, match="interrupted"):
        interp.exec("try:\n    interrupted()\nexcept:\n    pass")


@pytest.fixture
def python_default_recursion_limit():
    """Python's default recursion limit for one test (other tests may have raised it)."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(saved)


@pytest.mark.usefixtures("python_default_recursion_limit")
def test_deep_parse_in_a_small_stack_is_a_dana_error(interp: dana.Interpreter) -> None:
    with pytest.raises(dana.DanaSyntaxError, match="nested too deeply"):
        interp.exec("x = " + " + ".join(["1"] * 5000))
    interp.exec("x = " + " + ".join(["1"] * 990))
    assert interp.eval("x") == 990
    assert sys.getrecursionlimit() == 1000


def test_recursion_is_a_limit_error(interp: dana.Interpreter) -> None:
    with pytest.raises(dana.LimitError):
        interp.exec("def f(n: int) -> int:\n    return f(n + 1)\nf(0)")


def test_other_host_exception_is_a_dana_error(interp: dana.Interpreter) -> None:
    class Odd(BaseException):
        pass

    def odd() -> None:
        raise Odd("strange")
    interp.register(odd)
    with pytest.raises(DanaError, match="Odd: strange"):
        interp.eval("odd()")


def test_recursion_limit_is_left_as_found(interp: dana.Interpreter) -> None:
    before = sys.getrecursionlimit()
    _run_all(interp, HOSTILE)
    assert sys.getrecursionlimit() == before


def test_sys_modules_is_left_as_found(interp: dana.Interpreter) -> None:
    before = set(sys.modules)
    _run_all(interp, HOSTILE)
    assert set(sys.modules) == before


def test_builtins_are_left_as_found(interp: dana.Interpreter) -> None:
    before = dict(vars(builtins))
    _run_all(interp, HOSTILE + ["print = 1", "len = 2", "exec = 3"])
    assert dict(vars(builtins)) == before


def _stack_size() -> int:
    """The stack size of new threads (reading it with `stack_size()` also resets it)."""
    size = threading.stack_size()
    threading.stack_size(size)
    return size


def test_thread_stack_size_is_left_as_found(interp: dana.Interpreter, tmp_path: Path) -> None:
    before = _stack_size()
    path = tmp_path / "par.dana"
    path.write_text("def one() -> int:\n    return 1\n\ndef two() -> int:\n    return 2\n\n"
                    "workflow both() -> list[int]:\n    steps:\n        parallel:\n"
                    "            one\n            two\n", encoding="utf-8")
    result = interp.load(path).run("both")
    assert result.output == [1, 2]
    assert _stack_size() == before


def test_signal_handlers_are_left_as_found(interp: dana.Interpreter) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)}
    _run_all(interp, HOSTILE)
    assert {s: signal.getsignal(s) for s in before} == before


def test_load_and_run_raise_only_dana_errors(interp: dana.Interpreter, tmp_path: Path) -> None:
    before = (sys.getrecursionlimit(), set(sys.modules), dict(vars(builtins)))
    for i, src in enumerate(HOSTILE):
        path = tmp_path / f"hostile{i}.dana"
        path.write_text(src + "\n", encoding="utf-8")
        with pytest.raises(DanaError):
            interp.load(path)
    interp.register(lambda: sys.exit(3), name="leave")
    path = tmp_path / "leaving.dana"
    path.write_text("def go(state: WorkflowState) -> None:\n    leave()\n\n"
                    "workflow w():\n    steps:\n        go\n", encoding="utf-8")
    try:
        result = interp.load(path).run("w")
    except DanaError:
        pass
    else:
        assert result.status == "failed" and "SystemExit" in result.error["message"]
    assert (sys.getrecursionlimit(), set(sys.modules), dict(vars(builtins))) == before
