"""How the AST's node classes are made: `node`, a class decorator with the behaviour of
`dataclass(frozen=True, slots=True, eq=False)` at a fifth of its import cost.

Consumes: a class body of annotated fields (`name: type` or `name: type = default`) and a
docstring, nothing else. Produces: a slotted class deriving from `Node` with an `__init__`
taking the fields in order (defaults from the body), `__match_args__`, a dataclass-style
`__repr__`, identity equality and hashing, `FrozenInstanceError` on assignment or deletion,
pickling and copying by field, and `__dataclass_fields__`, so `dataclasses.fields`,
`dataclasses.replace` and `dataclasses.is_dataclass` work on nodes as on dataclasses.

Why not `dataclass` itself: it compiles four functions per class (init, repr, setattr,
delattr) and remakes each slotted class, which for the AST's node classes cost more at
start-up than the rest of the syntax package (README "Performance"); here one `__init__` is
compiled per class and the rest is shared through `Node`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError
from typing import Any, TypeVar

_set = object.__setattr__
C = TypeVar("C", bound=type)


class Node:
    """The base of every node class: frozen, compared and hashed by identity."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({inner})"

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__match_args__, state):
            _set(self, name, value)


def node(cls: C) -> C:
    """The node class declared by `cls` (see the module docstring). Raises TypeError for
    a field without a default after one with a default, as `dataclass` does, and for a
    class with a base class."""
    own = cls.__dict__
    annotations = own.get("__annotations__", {})
    names = tuple(annotations)
    defaults = {name: own[name] for name in names if name in own}
    body = {key: value for key, value in own.items()
            if key not in defaults and key not in ("__dict__", "__weakref__")}
    body["__slots__"] = body["__match_args__"] = names
    if cls.__bases__ != (object,):
        raise TypeError(f"node class {cls.__name__} must not derive from another class")
    made = type(cls.__name__, (Node,), body)
    made.__init__ = _init(made, names, defaults)
    made.__dataclass_fields__ = {name: _field(name, annotations[name], defaults)
                                 for name in names}
    return made  # type: ignore[return-value]


def _init(cls: type, names: tuple[str, ...], defaults: dict[str, Any]) -> Any:
    """`__init__(self, <fields in order>)` setting each slot."""
    seen_default = False
    params = []
    for name in names:
        if name in defaults:
            seen_default = True
            params.append(f"{name}=_default_{name}")
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        else:
            params.append(name)
    sets = "".join(f"\n    _set(self, {name!r}, {name})" for name in names) or "\n    pass"
    scope = {"_set": _set, **{f"_default_{name}": value for name, value in defaults.items()}}
    exec(f"def __init__(self, {', '.join(params)}):{sets}", scope)  # noqa: S102
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _field(name: str, annotation: Any, defaults: dict[str, Any]) -> dataclasses.Field:
    """The `dataclasses.Field` that `dataclass` would record for this field
    (`dataclasses.fields` lists only fields marked as such, hence the module's `_FIELD`)."""
    made = dataclasses.field(default=defaults.get(name, MISSING))
    made.name, made.type, made.kw_only = name, annotation, False
    made._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
    return made
