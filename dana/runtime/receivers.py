"""Builtin methods a fused expression calls directly: `s.strip(chars)`, `d.get(k, 0)`.

Consumes: a method name, the number of positional arguments of the call, and the
receiver's static type (`CheckResult.types`; None for unchecked code).
Produces: `direct_call(t, name, count) -> (cls, accepted) | None`: the Python class the
receiver must be of, and per argument the classes its parameter takes without a check
(None: any value); None when the call is not one to make directly. `dana.runtime.fused`
writes the call as `r.name(a, b)` under guards of those classes: a method of the
declaration (`dana.surface.methods`) that neither changes its receiver nor needs a size
or walk guard (`protocol.direct_method`; a dict's key must be a scalar, which hashes
without a walk) gives the same value as `protocol.call_method` after the binding of its
arguments (`dana.runtime.binding`) would, and calling it twice changes nothing, so when
a guard fails or it raises, the ordinary closure runs and gives the exact result or Dana
error (docs/builtins.md).
"""

from __future__ import annotations

import functools
from typing import Any

from dana.surface import METHODS as DECLARED, REQUIRED, expand
from dana.runtime import protocol as P
from dana.types.types import STR, DictT, ListT, Type

Accepted = tuple[frozenset | None, ...]

_CLASSES = {"int": int, "float": float, "str": str, "bool": bool, "None": type(None)}
_ANY = ("T", "K", "V", "any")
KEYS = frozenset({int, float, str, bool, type(None)})
"""The classes of a dict key looked up without a walk."""


def direct_call(t: Type | None, name: str, count: int) -> tuple[type, Accepted] | None:
    """The receiver class and accepted argument classes of `x.name(...)` with `count`
    positional arguments, `x` of static type `t` (None for unchecked code: no call is
    direct there)."""
    cls = _receiver_class(t)
    accepted = _accepted(cls, name, count) if cls is not None else None
    return None if accepted is None else (cls, accepted)


def class_sets() -> set[frozenset]:
    """Every set of classes `direct_call` may give for an argument."""
    found = set()
    for cls in (str, list, dict):
        for name, decl in DECLARED[cls.__name__].items():
            for count in range(len(decl.params) + 1):
                found.update(c for c in _accepted(cls, name, count) or () if c is not None)
    return found


def _receiver_class(t: Type | None) -> type | None:
    if t == STR:
        return str
    if isinstance(t, ListT):
        return list
    if isinstance(t, DictT):
        return dict
    return None


@functools.cache
def _accepted(cls: type, name: str, count: int) -> Accepted | None:
    decl = DECLARED[cls.__name__].get(name)
    if decl is None or not P.direct_method(cls, name):
        return None
    params = decl.params
    if any(p.kind != "plain" for p in params) or count > len(params) \
            or count < sum(1 for p in params if p.default is REQUIRED):
        return None
    out: list[frozenset | None] = []
    for i, param in enumerate(params[:count]):
        classes = _classes(expand(param.type))
        if classes is False:
            return None
        out.append(KEYS if cls is dict and i == 0 else classes)
    return tuple(out)


def _classes(ref: Any) -> frozenset | None | bool:
    """The classes a parameter of type `ref` takes without a check: None for any value,
    False when that is not a few classes."""
    if ref.name in _ANY:
        return None
    if ref.name == "|":
        parts = [_classes(a) for a in ref.args]
        if False in parts:
            return False
        return None if None in parts else frozenset().union(*parts)
    found = _CLASSES.get(ref.name)
    return frozenset({found}) if found is not None and not ref.args else False
