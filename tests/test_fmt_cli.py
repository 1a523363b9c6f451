"""`dana fmt` on the command line (docs/tools.md): rewriting files and folders, `--check`,
`--diff`, standard input, files that do not parse, and the excludes of pyproject.toml."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from dana.cli.main import main

MESSY = "x=1\nif x :  # keep me\n  print( x+1 )\n"
TIDY = "x = 1\nif x:  # keep me\n    print(x + 1)\n"


def run(argv: list[str], capsys: pytest.CaptureFixture, stdin: str = "") -> tuple[int, str, str]:
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(argv)
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_rewrites_a_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = tmp_path / "a.dana"
    f.write_text(MESSY)
    code, out, err = run(["fmt", str(f)], capsys)
    assert (code, out, f.read_text()) == (0, "", TIDY)
    assert "1 file(s) reformatted, 0 left unchanged" in err


def test_check_lists_what_would_change_and_changes_nothing(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "messy.dana").write_text(MESSY)
    (tmp_path / "tidy.na").write_text(TIDY)
    code, out, err = run(["fmt", "--check", str(tmp_path)], capsys)
    assert code == 1 and out == ""
    assert f"would reformat {tmp_path / 'messy.dana'}" in err and "tidy.na" not in err
    assert (tmp_path / "messy.dana").read_text() == MESSY
    (tmp_path / "messy.dana").write_text(TIDY)
    assert run(["fmt", "--check", str(tmp_path)], capsys)[0] == 0


def test_diff_prints_a_unified_diff(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = tmp_path / "a.dana"
    f.write_text(MESSY)
    code, out, _ = run(["fmt", "--diff", str(f)], capsys)
    assert code == 0 and f.read_text() == MESSY
    assert "-x=1\n" in out and "+x = 1\n" in out and out.startswith(f"--- {f} (original)\n")


def test_stdin_to_stdout(capsys: pytest.CaptureFixture) -> None:
    assert run(["fmt", "-"], capsys, stdin=MESSY)[:2] == (0, TIDY)


def test_a_file_that_does_not_parse_is_reported(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "bad.dana").write_text("x = [1,\n")
    (tmp_path / "good.dana").write_text(MESSY)
    code, _, err = run(["fmt", str(tmp_path)], capsys)
    assert code == 2
    assert "bad.dana:1:5: error[E0102]: '[' was never closed" in err
    assert (tmp_path / "good.dana").read_text() == TIDY


def test_pyproject_excludes_apply_to_folders(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dana.fmt]\nexclude = ["cases/*.dana"]\n')
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "odd.dana").write_text(MESSY)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.dana").write_text(MESSY)
    assert run(["fmt", "--check", str(tmp_path)], capsys)[0] == 0
    assert run(["fmt", "--check", str(tmp_path / "cases" / "odd.dana")], capsys)[0] == 1


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(["fmt", str(tmp_path / "nope.dana")], capsys)
    assert code == 2 and "error[E0601]: file not found" in err


def test_the_repository_is_formatted(capsys: pytest.CaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """CI's format check: `dana fmt --check .` from the repository root. On failure, run
    `dana fmt .` (or, for a file that must keep a syntax error or its layout, add a glob
    to [tool.dana.fmt] exclude in pyproject.toml)."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code, _, err = run(["fmt", "--check", "."], capsys)
    assert code == 0, err
