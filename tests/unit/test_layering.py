"""Imports point one way (STYLE "Layout"): source, errors -> syntax -> types -> workflow
-> runtime -> pipeline -> cli. Nothing imports the CLI; only `dana.syntax` imports lark."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dana"
ORDER = ["source", "errors", "resources", "diagnostics", "syntax", "types", "workflow",
         "runtime", "pipeline", "embedding", "cli"]


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "dana" or len(parts) < 2:
        return -1
    return ORDER.index(parts[1]) if parts[1] in ORDER else -1


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _own(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts)


def test_imports_point_one_way() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        mine = _layer(_own(path))
        if mine < 0:
            continue
        for target in _imports(path):
            theirs = _layer(target)
            if theirs > mine:
                wrong.append(f"{_own(path)} imports {target}")
    assert wrong == []


def test_only_syntax_imports_lark() -> None:
    users = [_own(p) for p in PACKAGE.rglob("*.py")
             if any(t == "lark" or t.startswith("lark.") for t in _imports(p))]
    assert users and all(u.startswith("dana.syntax.") for u in users)
