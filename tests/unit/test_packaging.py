"""The wheel carries the grammar and the standard library (docs/architecture.md "Source and syntax")."""

import importlib.util
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built by pip: with the installed hatchling when there is one,
    else in an isolated build environment holding the build-system's requirements."""
    out = tmp_path_factory.mktemp("wheel")
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation,
                    "--quiet", "-w", str(out), str(ROOT)], check=True)
    return next(out.glob("dana_lang-*.whl"))


def test_the_build_backend_is_not_a_test_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert not any(req.startswith("hatchling")
                   for req in project["project"]["optional-dependencies"]["test"])


def test_wheel_contains_grammar_and_stdlib(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dana/_data/grammar/dana.lark" in names
    stdlib = {n for n in names if n.startswith("dana/_data/stdlib/") and n.endswith(".dana")}
    assert len(stdlib) == len(list((ROOT / "stdlib").glob("*.dana")))


def test_wheel_declares_console_script_and_lexer(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        entry = next(n for n in zf.namelist() if n.endswith("entry_points.txt"))
        text = zf.read(entry).decode()
    assert "dana = dana.cli.main:main" in text
    assert "dana = dana.cli.lexer:DanaLexer" in text


def test_installed_wheel_finds_its_grammar(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    code = ("import dana.resources as r; p = r.grammar_path(); "
            "print(p.relative_to(r._PACKAGE))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target)}, check=True)
    assert out.stdout.strip() == "_data/grammar/dana.lark"
