"""What a durable run's code is: the hash of its workflow and of every definition it can
reach (docs/store.md "Changed code").

Consumes: a parsed module (`dana.syntax.ast.Module`) and a workflow's name.
Produces: `code_hashes(module, workflow) -> (template_hash, {name: hash})`,
`step_code(module, step) -> ({name: hash}, mentioned names)` (a cached step's code,
docs/store.md "Step cache") and `changed(old, new) -> [name, ...]`. Reachable: the module's top-level functions (receiver
methods as `Type.name`), structs, interfaces, workflows and constants whose name the
workflow mentions, and transitively what those mention. Code imported from other modules
counts by its import line, not by its text.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Iterator

from dana.syntax import ast as A

_DEFINITIONS = (A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl, A.WorkflowComposeDecl)


def code_hashes(module: A.Module | None, workflow: str,
                fallback: str = "") -> tuple[str, dict[str, str]]:
    """The workflow's own hash and the hashes of the definitions it reaches, by label.
    Without the module (or the workflow's definition in it) the template hash is the hash
    of `fallback` and nothing else is known."""
    defs = _definitions(module) if module is not None else {}
    roots = [n for label, nodes in defs.items() for n in nodes
             if label == workflow and isinstance(n, (A.WorkflowDecl, A.WorkflowComposeDecl))]
    if not roots:
        return digest(fallback), {}
    return digest(_text(roots[0])), _reach(defs, roots)[0]


def step_code(module: A.Module | None, step: str) -> tuple[dict[str, str], frozenset[str]]:
    """The hashes of the definition named `step` (a function) and of every definition
    it reaches, by label, and every name their code mentions (which config parameters it
    may read). Empty when the module does not define `step`."""
    defs = _definitions(module) if module is not None else {}
    roots = [n for n in defs.get(step, ()) if isinstance(n, A.FuncDecl)]
    if not roots:
        return {}, frozenset()
    hashes, names = _reach(defs, roots)
    return {step: digest("\n".join(_text(n) for n in roots)), **hashes}, frozenset(names)


def _reach(defs: dict[str, list[Any]], roots: list[Any]) -> tuple[dict[str, str], set[str]]:
    """The definitions `roots` mention, transitively: their hashes by label, and every
    name mentioned on the way."""
    seen: dict[str, str] = {}
    mentioned: set[str] = set()
    todo = list(roots)
    while todo:
        names = _mentions(todo.pop())
        mentioned |= names
        for name in names:
            for label, found in defs.items():
                if (label == name or label.endswith("." + name)) and label not in seen:
                    seen[label] = digest("\n".join(_text(n) for n in found))
                    todo.extend(found)
    return dict(sorted(seen.items())), mentioned


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Labels whose hash differs, or that one side lacks, sorted."""
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _definitions(module: A.Module) -> dict[str, list[Any]]:
    defs: dict[str, list[Any]] = {}
    for stmt in module.body:
        for label in _labels(stmt):
            defs.setdefault(label, []).append(stmt)
    return defs


def _labels(stmt: Any) -> list[str]:
    if isinstance(stmt, A.FuncDecl) and stmt.receiver is not None:
        owner = getattr(stmt.receiver.annotation, "name", None) or "?"
        return [f"{owner}.{stmt.name}"]
    if isinstance(stmt, _DEFINITIONS):
        return [stmt.name]
    if isinstance(stmt, A.ImportStmt):
        return [stmt.alias or stmt.module.rsplit(".", 1)[-1]]
    if isinstance(stmt, A.FromImportStmt):
        return [alias or name for name, alias in stmt.names]
    if isinstance(stmt, A.AssignStmt):
        return [n.name for t in stmt.targets for n in _walk(t) if isinstance(n, A.NameExpr)]
    if isinstance(stmt, A.AnnAssignStmt):
        return [n.name for n in _walk(stmt.target) if isinstance(n, A.NameExpr)]
    return []


def _mentions(node: Any) -> set[str]:
    """Every name the node's code mentions (variables, attributes, types, keywords):
    more than it uses, never less."""
    return {n.name for n in _walk(node) if isinstance(getattr(n, "name", None), str)}


def _walk(node: Any) -> Iterator[Any]:
    """`node` and every AST node under it."""
    yield node
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, tuple):
                for sub in item:
                    if dataclasses.is_dataclass(sub):
                        yield from _walk(sub)
            elif dataclasses.is_dataclass(item) and not isinstance(item, type) and \
                    f.name != "span":
                yield from _walk(item)


def _text(node: Any) -> str:
    return node.span.text


def digest(text: str) -> str:
    """The sha256 hex digest of `text`."""
    return hashlib.sha256(text.encode()).hexdigest()
