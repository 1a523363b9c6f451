"""Golden tests of the type checker: tests/check/<group>/<name>.dana + <name>.diag.

Each `.diag` holds exactly the rendered diagnostics of the checker for its `.dana`
(`dana.diagnostics.render`, joined by blank lines; empty for a clean program).
`pytest --update-goldens` rewrites the `.diag` files; read every diff before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dana.diagnostics import render
from dana.source import SourceFile
from dana.syntax.builder import parse
from dana.types.checker import check_module

ROOT = Path(__file__).parent / "check"
CASES = sorted(ROOT.rglob("*.dana"))


def _resolve_import(name: str, importer: SourceFile):
    """Modules next to the importing file: `import shapes` -> shapes.dana."""
    base = Path(importer.name).parent
    path = base / (name.replace(".", "/") + ".dana")
    if not path.exists():
        return None
    return parse(SourceFile(str(path), path.read_text(encoding="utf-8")))


def check_text(path: Path) -> str:
    """The rendered diagnostics of one case, paths relative to the repository."""
    rel = path.relative_to(ROOT.parent.parent).as_posix()
    source = SourceFile(rel, path.read_text(encoding="utf-8"))
    result = check_module(parse(source), resolve_import=_resolve_import)
    text = "\n\n".join(render(d) for d in result.diagnostics)
    return text + "\n" if text else ""


@pytest.mark.parametrize("path", CASES, ids=[c.relative_to(ROOT).as_posix() for c in CASES])
def test_check_golden(path: Path, request: pytest.FixtureRequest) -> None:
    expected_file = path.with_suffix(".diag")
    actual = check_text(path)
    if request.config.getoption("--update-goldens"):
        expected_file.write_text(actual, encoding="utf-8")
        return
    assert expected_file.exists(), f"missing {expected_file}; run pytest --update-goldens"
    assert actual == expected_file.read_text(encoding="utf-8")


# Codes of dana/messages/checks.py that only a run reports (input validation warnings and
# `dana resume`); docs/errors.md shows how each is produced.
RUN_ONLY = {"E0417", "E0420", "E0421"}


def test_every_code_has_a_golden() -> None:
    """Each checker code of dana/messages/checks.py appears in some .diag file
    (tests/test_error_codes.py holds docs/errors.md to every code)."""
    from dana.messages import checks as M
    codes = {m.code for m in vars(M).values() if isinstance(m, M.Msg)} - RUN_ONLY
    seen = "".join(p.read_text(encoding="utf-8") for p in ROOT.rglob("*.diag"))
    missing = sorted(c for c in codes if f"[{c}]" not in seen)
    assert not missing, f"codes without a golden test: {missing}"


def test_enough_ill_typed_programs() -> None:
    bad = [p for p in ROOT.rglob("*.diag") if p.read_text(encoding="utf-8").strip()]
    assert len(bad) >= 40
