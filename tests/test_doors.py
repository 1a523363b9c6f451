"""One pipeline: a program behaves the same whichever door it comes in by.

`dana check`, `dana run`, the REPL and `Interpreter().load()` all go through
`dana.pipeline.prepare` (parse, then check with imports resolved): each program below must
give the same diagnostics (severity, code and message) through every door, and the
three doors that run it the same output. A checker crash is an internal error in every
door (docs/errors.md "E0900"), never a run without the checker.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import dana
from dana.cli.main import main
from dana.cli.repl import ReplSession
from dana.diagnostics import render

MODULE = "def mean(xs: list[float]) -> float:\n    return sum(xs) / len(xs)\n"

# name -> (program, expected diagnostics, expected output of a run)
PROGRAMS = {
    "builtin_keyword": ("print(len(x=[1, 2]))\n", [], "2\n"),
    "int_method": ("print((5).bit_length())\n", [], "3\n"),
    "any_annotation": ('def identity(x: Any) -> Any:\n    return x\n\n\nprint(identity("a"))\n',
                       [], "a\n"),
    "imported_type": ("import m\n\nx: str = m.mean([1.0, 2.0])\nprint(x)\n",
                      ["error[E0301]: cannot assign a value of type `float` to `x` of type "
                       "`str`"], ""),
    "warning_then_run": ("def grade(score: int) -> str:\n    if score > 90:\n"
                         "        letter = \"A\"\n    return letter\n\n\nprint(grade(95))\n",
                         ["warning[E0208]: `letter` may be unbound here (it is not assigned "
                          "on every path before this line)"], "A\n"),
}

DIAGNOSTIC = re.compile(r"^[^\s:]+:\d+:\d+: ((?:error|warning)\[E\d+\]: .*)$", re.M)


def diagnostics(text: str) -> list[str]:
    """`severity[CODE]: message` of each rendered diagnostic in `text`, without positions
    (a REPL chunk has its own line numbers)."""
    return DIAGNOSTIC.findall(text)


def through_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], None]:
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == (2 if "error[" in err else 0) and out == ""
    return diagnostics(err), None


def through_run(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    code = main(["run", "--quiet", str(path)])
    out, err = capsys.readouterr()
    assert code == (2 if "error[" in err else 0)
    return diagnostics(err), out


def through_repl(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    ReplSession(stdout=out, stderr=err).execute(path.read_text())
    return diagnostics(err.getvalue()), out.getvalue()


def through_embedding(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    out, found = io.StringIO(), []
    interp = dana.Interpreter(stdout=out, on_warning=lambda d: found.append(render(d)))
    try:
        interp.load(path)
    except dana.DanaError as exc:
        found.append(dana.render(exc))
    return diagnostics("\n".join(found)), out.getvalue()


DOORS = {"check": through_check, "run": through_run, "repl": through_repl,
         "embedding": through_embedding}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_every_door_gives_the_same_diagnostics_and_output(
        name: str, door: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    program, expected, output = PROGRAMS[name]
    (tmp_path / "m.dana").write_text(MODULE)
    path = tmp_path / f"{name}.dana"
    path.write_text(program)
    monkeypatch.chdir(tmp_path)  # the REPL's `import` looks in the current folder
    found, out = DOORS[door](path, capsys)
    assert found == expected
    if out is not None:
        assert out == output


def crash(*args: object, **kwargs: object) -> None:
    raise ZeroDivisionError("a bug in the checker")


@pytest.mark.parametrize("door", DOORS)
def test_a_checker_crash_is_an_internal_error_in_every_door(
        door: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing runs: the CLI exits 3, the REPL reports it, an embedder gets InternalError."""
    stdout, stderr = io.StringIO(), io.StringIO()
    repl = ReplSession(stdout=stdout, stderr=stderr)
    monkeypatch.setattr("dana.types.checker.check_module", crash)
    path = tmp_path / "ok.dana"
    path.write_text('print("ran")\n')
    if door in ("check", "run"):
        assert main([door, str(path)]) == 3
        out, err = capsys.readouterr()
        assert "ZeroDivisionError: a bug in the checker" in err  # the traceback
    elif door == "repl":
        assert not repl.execute(path.read_text())
        out, err = stdout.getvalue(), stderr.getvalue()
    else:
        with pytest.raises(dana.InternalError) as info:
            dana.Interpreter(stdout=io.StringIO()).load(path)
        out, err = "", dana.render(info.value)
    assert "ran" not in out
    assert "error[E0900]: internal error: the type checker crashed (ZeroDivisionError: a bug " \
           "in the checker)" in err
