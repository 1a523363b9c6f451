"""Imports point one way (docs/architecture.md "Import layering"): source, surface, messages, errors -> store -> syntax -> types
-> workflow -> runtime -> pipeline (with config and graph beside it) -> embedding -> cli. Nothing
imports the CLI; only `dana.syntax` imports lark; the graph exporter draws from the AST
alone (it never runs or checks code); the formatter (`dana.format`) sits just above
the parser and the language server (`dana.lsp`) just below the CLI."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dana"
ORDER = ["source", "surface", "messages", "errors", "resources", "shape", "store", "diagnostics",
         "syntax", "format",
         "types", "workflow", "runtime", ("pipeline", "config", "graph"),
         ("embedding", "distributed"), "lsp", ("cli", "__main__")]
LAYER = {name: level for level, names in enumerate(ORDER)
         for name in (names if isinstance(names, tuple) else (names,))}


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "dana" or len(parts) < 2:
        return -1
    return LAYER.get(parts[1], -1)


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


def test_graph_uses_only_the_ast_and_parsing() -> None:
    allowed = ("dana.syntax", "dana.pipeline", "dana.errors", "dana.messages", "dana.source")
    used = [t for t in _imports(PACKAGE / "graph.py") if t.startswith("dana")]
    assert used and all(t.startswith(allowed) for t in used), used


def test_every_module_has_a_layer() -> None:
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.glob("*")
            if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())}
    assert tops - {"__init__"} <= set(LAYER)
