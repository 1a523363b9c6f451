"""docs/errors.md lists every code Dana can emit, each with an example the suite runs
(docs/architecture.md, "The language surface": one rule, one place, one code).

The codes declared are those of the message constants in `dana/messages/` and of the error
types in `dana.surface.vocab`; no other module spells a code. Each code has a heading on
the page, and the section under it has an example that emits it:

- a ```dana block whose expected output (or `expect-error` marker) shows the code, or a
  ```console block whose output does: tests/test_docs.py runs both and compares;
- for a program a Markdown page cannot hold (a NUL byte, bytes that are not UTF-8, a
  4,301-digit literal) or a machine without an extra, a ```text block holding the first
  line of the diagnostic, which this file reproduces (`CRAFTED`);
- for a run that needs a changed file between two commands, a ```text block and the test
  file named in `ELSEWHERE`, which emits the code and asserts it.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Callable

import pytest

from dana.diagnostics import render_error
from dana.errors import DanaError
from dana.messages import declared
from dana.source import SourceFile
from dana.surface import ERROR_TYPES
from dana.syntax.builder import parse
from test_docs import ROOT, Block, parse_page

PAGE = ROOT / "docs" / "errors.md"
CODE = re.compile(r"E0\d{3}")
HEADING = re.compile(r"^#+ (.*)$")
RANGE = re.compile(r"(E0\d{3})-(E0\d{3})")

ELSEWHERE = {"E0420": "tests/test_runs_cli.py", "E0421": "tests/test_runs_cli.py",
             "E0607": "tests/test_distributed.py", "E0900": "tests/test_doors.py"}


def _parsed(data: bytes) -> str:
    try:
        parse(SourceFile.from_bytes("example.dana", data))
    except DanaError as err:
        return render_error(err)
    raise AssertionError("the program parsed")


def _no_dask() -> str:
    from dana.distributed.executors import make_executor, parse_executor
    return _raised(lambda: make_executor(parse_executor("dask")), "distributed")


def _no_otel() -> str:
    from dana.cli.main import _span_listener
    return _raised(_span_listener, "opentelemetry")


def _raised(action: Callable[[], object], missing: str) -> str:
    hidden = {name: mod for name, mod in sys.modules.items()
              if name == missing or name.startswith(missing + ".")}
    try:
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # import now fails
        sys.modules.setdefault(missing, None)  # type: ignore[arg-type]
        action()
    except DanaError as err:
        return render_error(err)
    finally:
        for name in list(sys.modules):
            if (name == missing or name.startswith(missing + ".")) and \
                    sys.modules[name] is None:
                del sys.modules[name]
        sys.modules.update(hidden)
    raise AssertionError("no error")


CRAFTED: dict[str, Callable[[], str]] = {
    "E0110": lambda: _parsed(b"x = 1" + b"0" * 4300 + b"\n"),
    "E0111": lambda: _parsed(b's = "caf\xe9"\n'),
    "E0112": lambda: _parsed(b"x = 1\x00\n"),
    "E0608": _no_dask,
    "E0609": _no_otel,
}


def declared_codes() -> set[str]:
    return set(declared()) | {e.code for e in ERROR_TYPES}


def sections() -> dict[str, list[Block]]:
    """Code -> the blocks of the section(s) whose heading names it (E0500-E0516 names a
    range; its own subsections have the examples)."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    blocks = parse_page(PAGE)
    found: dict[str, list[Block]] = {}
    starts = [(n + 1, HEADING.match(ln).group(1)) for n, ln in enumerate(lines)
              if HEADING.match(ln) and not RANGE.search(ln)]
    for i, (start, heading) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(lines) + 1
        for code in CODE.findall(heading):
            found[code] = [b for b in blocks if start < b.line < end]
    return found


def emitted_by(block: Block) -> set[str]:
    """The codes a runnable block shows it emits (tests/test_docs.py checks they do)."""
    if block.marker is not None and block.marker[0] != "expect-error":
        return set()
    if block.lang == "dana":
        return set(block.expected_codes)
    if block.lang == "console":
        return set(re.findall(r"\b(?:error|warning)\[(E0\d{3})\]", block.text))
    return set()


def test_every_declared_code_is_documented_and_every_documented_code_declared() -> None:
    documented = set(sections())
    assert sorted(declared_codes() - documented) == [], "codes missing from docs/errors.md"
    assert sorted(documented - declared_codes()) == [], "docs/errors.md names unknown codes"


@pytest.mark.parametrize("code", sorted(declared_codes()))
def test_each_code_has_an_example_that_emits_it(code: str) -> None:
    blocks = sections().get(code, [])
    if code in CRAFTED:
        texts = [b.text for b in blocks if b.lang == "text"]
        assert CRAFTED[code]().splitlines()[0] + "\n" in texts
    elif code in ELSEWHERE:
        test_file = (ROOT / ELSEWHERE[code]).read_text(encoding="utf-8")
        assert f"[{code}]" in test_file or f'"{code}"' in test_file
        assert any(f"[{code}]" in b.text for b in blocks if b.lang == "text")
    else:
        assert any(code in emitted_by(b) for b in blocks), \
            f"no example under the heading of {code} emits it"


def test_codes_are_spelt_only_where_they_are_declared() -> None:
    """A literal "E0xxx" in the package outside `dana/messages/` and the error-type table
    is a message that escaped its declaration (class-level defaults of `dana/errors.py`
    aside)."""
    allowed = {ROOT / "dana" / "surface" / "vocab.py"}
    stray = []
    for path in (ROOT / "dana").rglob("*.py"):
        if path.parent.name == "messages" or path in allowed:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"[\"']E0\d{3}[\"']", line) and not (
                    path.name == "errors.py" and re.match(r'\s+code = "E0\d{3}"$', line)):
                stray.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert stray == [], stray


# Where a Dana error is built from a message: the run-time constructors and helpers.
_ERROR_BUILDERS = {"DanaRuntimeError": 1, "LimitError": 0, "error": 1, "StateKeyError": 0}


def _inline_text(node: ast.expr) -> bool:
    """A message written in place: a string literal, an f-string, a concatenation or a
    `"...".format(...)` of one, or a `.format(...)` of a module-level text."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                           and isinstance(node.value, str)):
        return True
    if isinstance(node, ast.BinOp):
        return _inline_text(node.left) or _inline_text(node.right)
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "format"


def test_run_time_messages_are_named_constants() -> None:
    """Every module of dana/ builds each error from a `Msg` constant of
    dana/messages/ (`runtime_error`, `rule_error`), never from text written where it is
    raised; a message Python made (`str(exc)`) or a user's own (`raise ValueError("...")`)
    passes through."""
    stray = []
    for path in sorted((ROOT / "dana").rglob("*.py")):
        if path.parent.name != "messages" and path.name != "errors.py":  # not the builders
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                at = _ERROR_BUILDERS.get(name)
                if at is not None and len(node.args) > at and _inline_text(node.args[at]):
                    stray.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert stray == [], stray
