"""`dana fmt`'s promises (docs/tools.md) over every Dana file of the repository and over
hypothesis-generated programs: the output parses to the same AST (positions aside),
formatting twice equals formatting once, and no comment is lost or moved to another
statement (tests/fmt_properties.py states the three checks).

The generated programs are written untidily on purpose: odd indentation widths, missing
and extra spaces, redundant parentheses, single quotes, semicolons, one-line blocks,
comments on their own lines and after statements and headers, blank lines, and
expressions long enough to need breaking."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dana.cli.fmt import discover
from dana.errors import DanaSyntaxError
from dana.source import SourceFile
from dana.syntax.builder import parse
from fmt_properties import check_properties  # tests/ is on sys.path (rootdir conftest)

ROOT = Path(__file__).resolve().parent.parent


def _repository_files() -> list[Path]:
    """What `dana fmt .` formats here, less the files that do not parse (syntax-error
    goldens; `dana fmt --check .` in tests/test_fmt_cli.py reports any not excluded)."""
    files = []
    for p in discover([str(ROOT)]):
        try:
            parse(SourceFile(str(p), p.read_text(encoding="utf-8")))
        except (DanaSyntaxError, UnicodeDecodeError):
            continue
        files.append(p)
    return files


FILES = _repository_files()


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(ROOT).as_posix() for p in FILES])
def test_repository_file(path: Path) -> None:
    check_properties(str(path), path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- generated programs
NAMES = ["a", "b", "total", "items", "x1", "private:count", "state"]
SP = st.sampled_from(["", " ", "  "])


@st.composite
def expr(draw, depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(
            st.sampled_from(NAMES), st.integers(0, 10**6).map(str),
            st.sampled_from(["'text'", '"it\'s"', "r'\\d+'", "'say \"hi\"'", "True", "null",
                             "3.5", "0xFF", "f'{a}-{b:>4}'", "'''long'''", "$$"])))
    e = lambda: f"({draw(expr(depth - 1))})"  # noqa: E731
    s = lambda: draw(SP)  # noqa: E731
    kind = draw(st.integers(0, 13))
    if kind == 0:
        return f"{e()}{s()}{draw(st.sampled_from(['+', '-', '*', '/', '//', '%', '**', '&', '^', '<<']))}{s()}{e()}"
    if kind == 1:
        return f"{e()} {draw(st.sampled_from(['and', 'or', '==', '<', 'in', 'not in', 'is']))} {e()}"
    if kind == 2:
        return f"{draw(st.sampled_from(['not ', '-', '~']))}{e()}"
    if kind == 3:
        args = [e() for _ in range(draw(st.integers(0, 4)))]
        if draw(st.booleans()):
            args.append(f"key{s()}={s()}{e()}")
        return f"{draw(st.sampled_from(['f', 'obj.method', 'g']))}({s()}{(','+s()).join(args)})"
    if kind == 4:
        items = [e() for _ in range(draw(st.integers(0, 5)))]
        trailing = "," if items and draw(st.booleans()) else ""
        return f"[{s()}{(','+s()).join(items)}{trailing}]"
    if kind == 5:
        pairs = [f"{e()}{s()}:{s()}{e()}" for _ in range(draw(st.integers(0, 4)))]
        return "{" + ", ".join(pairs) + "}"
    if kind == 6:
        return f"({e()},{s()}{e()})"
    if kind == 7:
        return f"({s()}{e()}{s()})"
    if kind == 8:
        return f"{e()} if {e()} else {e()}"
    if kind == 9:
        return f"lambda x{s()},{s()}y :: {e()}"
    if kind == 10:
        return f"[{e()} for x in {e()} if {e()}]"
    if kind == 11:
        return f"{draw(st.sampled_from(NAMES))}[{e()}:{e()}]"
    if kind == 12:
        return f"({e()} | f | g as h)"
    return f"{draw(st.sampled_from(NAMES))}.field"


@st.composite
def comment(draw) -> str:
    return "# " + draw(st.sampled_from(["note", "why: reasons", "TODO later", "x = 1", "'q'"]))


@st.composite
def block(draw, depth: int, unit: int, indent: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        lines.extend(draw(statement(depth, unit, indent)))
    return lines


@st.composite
def statement(draw, depth: int, unit: int, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if draw(st.integers(0, 3)) == 0:
        lines.append(" " * draw(st.sampled_from([0, indent])) + draw(comment()))
    if draw(st.integers(0, 4)) == 0:
        lines.append("")
    tail = lambda: ("  " + draw(comment())) if draw(st.integers(0, 2)) == 0 else ""  # noqa: E731
    kind = draw(st.integers(0, 8 if depth else 3))
    e = lambda: draw(expr())  # noqa: E731
    if kind == 0:
        lines.append(f"{pad}{draw(st.sampled_from(NAMES[:5]))}{draw(SP)}={draw(SP)}{e()}{tail()}")
    elif kind == 1:
        lines.append(f"{pad}print({e()}){tail()}")
    elif kind == 2:
        lines.append(f"{pad}a += {e()}; b = {e()}{tail()}")
    elif kind == 3:
        lines.append(f"{pad}return {e()}{tail()}" if indent else f"{pad}pass{tail()}")
    else:
        header = draw(st.sampled_from([f"if {e()}:", f"while {e()}:", f"for x, y in {e()}:",
                                       "def helper(a: int, *rest: int, b=2, **kw: str) -> int:", "try:"]))
        lines.append(f"{pad}{header}{tail()}")
        lines.extend(draw(block(depth - 1, unit, indent + unit)))
        if header.startswith("if") and draw(st.booleans()):
            lines.append(f"{pad}elif {e()}:{tail()}")
            lines.extend(draw(block(depth - 1, unit, indent + unit)))
        if header.startswith(("if", "try")):
            word = "handle ValueError as err" if header == "try:" else "else"
            lines.append(f"{pad}{word}:{tail()}")
            lines.extend(draw(block(depth - 1, unit, indent + unit)))
    return lines


@st.composite
def program(draw) -> str:
    unit = draw(st.sampled_from([2, 3, 4, 8]))
    lines = draw(block(2, unit, 0))
    if draw(st.booleans()):
        lines += ["struct Point:", " " * unit + "x: int  # across", " " * unit + "y: float=0.5"]
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program())
def test_generated_program(text: str) -> None:
    check_properties("generated.dana", text)
