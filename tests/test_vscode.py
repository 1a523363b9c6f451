"""The VS Code extension (editors/vscode, docs/tools.md): its TextMate grammar names every
keyword and literal constant the parser knows, and a real TextMate tokenizer
(vscode-tmgrammar-test, from npm) gives the scopes annotated in tests/grammar and the
snapshots of two examples in tests/snapshots."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dana.surface import CONSTANTS, SCOPE_NAMES
from dana.syntax.grammar import keywords

EXTENSION = Path(__file__).resolve().parent.parent / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "dana.tmLanguage.json"
TOOLS = EXTENSION / "node_modules" / ".bin"


def _words(entry: dict) -> set[str]:
    patterns = [entry.get("match", "")] + [p.get("match", "") for p in entry.get("patterns", [])]
    return {w for p in patterns for group in re.findall(r"\(\?:([A-Za-z_|]+)\)", p)
            for w in group.split("|")}


def test_the_keyword_list_is_the_grammars() -> None:
    repository = json.loads(GRAMMAR.read_text(encoding="utf-8"))["repository"]
    listed = set()
    for name, entry in repository.items():
        if name.startswith("keywords-"):
            listed |= _words(entry)
    assert listed == set(keywords())


def test_the_constants_are_the_parsers() -> None:
    repository = json.loads(GRAMMAR.read_text(encoding="utf-8"))["repository"]
    assert _words(repository["constant"]) == set(CONSTANTS)


def test_the_scope_prefixes_are_the_declared_ones() -> None:
    repository = json.loads(GRAMMAR.read_text(encoding="utf-8"))["repository"]
    prefixes = re.match(r"\\b\(([\w|]+)\)", repository["scoped-name"]["match"]).group(1)
    assert set(prefixes.split("|")) == set(SCOPE_NAMES)


def test_the_extension_declares_its_files() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    assert contributes["languages"][0]["extensions"] == [".dana", ".na"]
    for path in (contributes["languages"][0]["configuration"],
                 contributes["grammars"][0]["path"], manifest["main"]):
        assert (EXTENSION / path).is_file(), path
    json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))


def _run(tool: str, pattern: str) -> subprocess.CompletedProcess:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (the grammar tests need Node.js)")
    if not (TOOLS / tool).exists():
        pytest.skip("vscode-tmgrammar-test is not installed: run `npm ci` in editors/vscode "
                    "(.ci/run does when npm is available)")
    return subprocess.run([str(TOOLS / tool), "-g", str(GRAMMAR.relative_to(EXTENSION)),
                           pattern], cwd=EXTENSION, capture_output=True, text=True,
                          timeout=300)


def test_annotated_grammar_cases() -> None:
    done = _run("vscode-tmgrammar-test", "tests/grammar/*.dana")
    assert done.returncode == 0, done.stdout + done.stderr


def test_snapshots_of_the_examples() -> None:
    done = _run("vscode-tmgrammar-snap", "tests/snapshots/*.dana")
    assert done.returncode == 0, done.stdout + done.stderr
