"""The state keys a piece of code can reach, when it names every one of them literally.

Consumes: AST nodes (a function's body, a `steps:` condition or loop source) and the names
the WorkflowState has there.
Produces: `literal_keys(nodes, state_names) -> frozenset[str] | None` — every key named
through `state.k`, `state["k"]`, `state.get("k", ...)` or `"k" in state`, read or
written, anywhere below the nodes (nested functions and lambdas included); None when the
state is used in any other way (passed to a function, indexed with a computed key, listed
with `keys()`, its `history()` or earlier versions read, rebound), so that a caller must
assume every key. An executor ships only these keys to a worker (docs/distributed.md).
"""

from __future__ import annotations

from typing import Any, Iterable

from dana.syntax import ast as A
from dana.types.walk import children

# Members that reach no key (`state.version`) or every key (`state.keys()`); `get` is
# handled with its literal argument; `config` is a key like any other.
_NO_KEY = frozenset({"version", "created_at", "updated_at"})
_EVERY_KEY = frozenset({"history", "at", "diff", "keys", "to_dict"})


def literal_keys(nodes: Iterable[Any], state_names: set[str]) -> frozenset[str] | None:
    """See the module docstring."""
    keys: set[str] = set()
    explained: set[int] = set()
    uses: list[Any] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        stack.extend(children(node))
        if _is_state(node, state_names):
            uses.append(node)
            continue
        found = _access(node, state_names)
        if found is None:
            continue
        name_node, key = found
        if key is _ANY:
            return None
        explained.add(id(name_node))
        if key is not None:
            keys.add(key)
    if any(id(use) not in explained for use in uses):
        return None
    return frozenset(keys)


_ANY = object()


def _is_state(node: Any, state_names: set[str]) -> bool:
    return isinstance(node, A.NameExpr) and node.scope is None and node.name in state_names


def _literal(node: Any) -> str | None:
    return node.value if isinstance(node, A.LiteralExpr) and isinstance(node.value, str) \
        else None


def _access(node: Any, names: set[str]) -> tuple[Any, Any] | None:
    """(the state's name node, the key it reaches: a str, None for no key, `_ANY` for
    every key) when `node` is a literal access of the state; else None."""
    if isinstance(node, A.CallExpr) and isinstance(node.func, A.AttributeExpr) \
            and _is_state(node.func.obj, names) and node.func.name == "get":
        key = _literal(node.args[0].value) if node.args and not node.args[0].name else None
        return node.func.obj, key if key is not None else _ANY
    if isinstance(node, A.AttributeExpr) and _is_state(node.obj, names):
        if node.name in _EVERY_KEY or node.name == "get":
            return (node.obj, _ANY) if node.name != "get" else None
        return node.obj, None if node.name in _NO_KEY else node.name
    if isinstance(node, A.IndexExpr) and _is_state(node.obj, names):
        key = _literal(node.index)
        return node.obj, key if key is not None else _ANY
    if isinstance(node, A.CompareExpr) and len(node.ops) == 1 and node.ops[0] in (
            "in", "not in") and _is_state(node.comparators[0], names):
        key = _literal(node.left)
        return node.comparators[0], key if key is not None else _ANY
    return None
