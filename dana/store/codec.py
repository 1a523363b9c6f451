"""Value codec: Dana values <-> bytes, exactly (docs/store.md "Values").

Consumes: a Dana value — None, bool, int of any size, float (nan, ±inf, -0.0 included),
str, bytes (from host functions), list, tuple, dict with any hashable keys (insertion order
kept), set/frozenset, struct instances (any object with `.struct.name` and a `.fields`
dict), nested freely.
Produces: `encode(value) -> bytes`, `decode(data, struct=...) -> value` and
`content_hash(value) -> str`; `UnstorableValue` for anything else (a function, a host
object, a cycle, nesting deeper than MAX_DEPTH).

Wire format (ENCODING_VERSION 1): MessagePack through msgspec (measured fastest of json,
orjson, cbor2 and msgspec for this job, and exact: floats are float64 bit patterns).
Lists, str, float, bool, None, 64-bit ints and dicts whose keys are all of those scalars
are MessagePack's own; every other shape is an extension type whose payload is the
MessagePack of its parts: tuple, set, frozenset, dict as [k1, v1, k2, v2, ...] (keys that
are tuples, sets or structs), int outside 64 bits as decimal text, struct as
[name, {field: value}]. Set items are written in the order of their encodings, so equal
values always give equal bytes; dicts keep their order, which is part of the value.

The codec never imports the runtime: `decode` rebuilds structs through the injected
`struct(name, fields)` callable, or as `StoredStruct` records when none is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import msgspec
from msgspec.msgpack import Ext

from dana import shape

ENCODING_VERSION = 1
MAX_DEPTH = 200
MAX_PARTS = 50_000_000
"""Parts an encoded value may have, a shared part counted each time (`dana.shape`)."""

_TUPLE, _SET, _FROZENSET, _DICT, _BIGINT, _STRUCT = range(1, 7)
_INT_RANGE = (-(2 ** 63), 2 ** 64)
_SCALARS = frozenset({str, float, bool, type(None), int, bytes})
_SMALL_SCALARS = frozenset({str, float, bool, type(None), bytes})
_ENCODER = msgspec.msgpack.Encoder()

StructBuilder = Callable[[str, dict[str, Any]], Any]


class UnstorableValue(Exception):
    """A value the store cannot hold. `value` is the offending part, `where` the path to
    it inside the encoded value (`[2].weights`; "" for the value itself), `reason` one of
    "type" (a function or host object), "cycle", "depth" or "size"."""

    def __init__(self, value: Any, where: str, reason: str) -> None:
        self.value = value
        self.where = where
        self.reason = reason
        what = {"type": f"a value of type {type(value).__name__}",
                "cycle": "a value that contains itself",
                "depth": f"a value nested deeper than {MAX_DEPTH} levels",
                "size": f"a value of more than {MAX_PARTS} parts ({shape.COUNTING})"}[reason]
        shown = where if len(where) <= 60 else "..." + where[-57:]
        super().__init__(f"cannot store {what}" + (f" (at {shown})" if where else ""))


@dataclass(frozen=True)
class StoredStruct:
    """A struct decoded without its type (inspection tools): type name and fields."""

    name: str
    fields: dict[str, Any]


def encode(value: Any) -> bytes:
    """The exact, deterministic encoding of `value` (see module docstring).
    Raises UnstorableValue naming the offending part."""
    if type(value) not in _SCALARS:
        problem = shape.walk_problem(value, _walked_parts, _SCALARS, MAX_PARTS, MAX_DEPTH + 1,
                                     True)
        if problem is not None and problem.kind == "size":  # the others: found below
            raise UnstorableValue(value, "", "size")
    try:
        try:
            return _ENCODER.encode(_to_wire(value, 0, _SCALARS))
        except OverflowError:
            return _ENCODER.encode(_to_wire(value, 0, _SMALL_SCALARS))
    except (UnstorableValue, RecursionError):
        pass
    raise _unstorable(value, "", ()) or UnstorableValue(value, "", "depth")


def decode(data: bytes, struct: StructBuilder | None = None) -> Any:
    """The value `encode` was given. `struct(name, fields)` rebuilds a struct (what it
    raises propagates); without it structs come back as StoredStruct. Raises
    msgspec.DecodeError (a ValueError) for bytes that are not an encoding."""
    build = struct or StoredStruct

    def untag(code: int, payload: memoryview) -> Any:
        parts = msgspec.msgpack.decode(payload, ext_hook=untag)
        if code == _TUPLE:
            return tuple(parts)
        if code == _SET:
            return set(parts)
        if code == _FROZENSET:
            return frozenset(parts)
        if code == _DICT:
            return dict(zip(parts[::2], parts[1::2]))
        if code == _BIGINT:
            return int(parts)
        if code == _STRUCT:
            return build(parts[0], parts[1])
        raise ValueError(f"unknown value tag {code} (encoding version {ENCODING_VERSION})")

    return msgspec.msgpack.decode(data, ext_hook=untag)


def content_hash(value: Any) -> str:
    """A stable hex digest (sha256) of `value`'s encoding: equal across processes and
    machines for values that encode alike (same types, same dict order; sets in any
    order). Raises UnstorableValue."""
    return hashlib.sha256(encode(value)).hexdigest()


def _to_wire(value: Any, depth: int, plain: frozenset[type]) -> Any:
    """The MessagePack-ready tree of `value`. `plain` holds the types written as they are
    (int leaves it only after a first attempt overflowed). A cycle shows as nesting past
    MAX_DEPTH; `_unstorable` tells the two apart once something failed, so this common
    path tracks no ids."""
    kind = type(value)
    if kind in plain:
        return value
    if kind is int:
        return value if _INT_RANGE[0] <= value < _INT_RANGE[1] else _ext(_BIGINT, str(value))
    if depth >= MAX_DEPTH:
        raise UnstorableValue(value, "", "depth")
    depth += 1
    if kind is list:
        if all(type(v) in plain for v in value):
            return value
        return [_to_wire(v, depth, plain) for v in value]
    if kind is dict:
        return _dict_to_wire(value, depth, plain)
    if kind is tuple:
        return _ext(_TUPLE, [_to_wire(v, depth, plain) for v in value])
    if kind is set or kind is frozenset:
        items = sorted((_ENCODER.encode(_to_wire(v, depth, plain)) for v in value))
        return Ext(_SET if kind is set else _FROZENSET, _array_of(items))
    if _is_struct(value):
        fields = {k: _to_wire(v, depth, plain) for k, v in value.fields.items()}
        return _ext(_STRUCT, [value.struct.name, fields])
    raise UnstorableValue(value, "", "type")


def _dict_to_wire(value: dict, depth: int, plain: frozenset[type]) -> Any:
    if all(type(k) in plain for k in value):
        return {k: _to_wire(v, depth, plain) for k, v in value.items()}
    flat = [_to_wire(x, depth, plain) for pair in value.items() for x in pair]
    return _ext(_DICT, flat)


def _ext(code: int, parts: Any) -> Ext:
    return Ext(code, _ENCODER.encode(parts))


def _array_of(encoded: list[bytes]) -> bytes:
    """A MessagePack array header followed by already-encoded items."""
    n = len(encoded)
    header = (bytes([0x90 | n]) if n < 16 else b"\xdc" + n.to_bytes(2, "big")
              if n < 2 ** 16 else b"\xdd" + n.to_bytes(4, "big"))
    return header + b"".join(encoded)


def _walked_parts(value: Any) -> Any:
    """The parts `_to_wire` walks (None: a leaf, or a value it refuses)."""
    kind = type(value)
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        return value
    if kind is dict:
        return [*value, *value.values()]
    return value.fields.values() if _is_struct(value) else None


def _is_struct(value: Any) -> bool:
    return (isinstance(getattr(value, "fields", None), dict)
            and isinstance(getattr(getattr(value, "struct", None), "name", None), str))


def _unstorable(value: Any, where: str, active: tuple[int, ...]) -> UnstorableValue | None:
    """The first unstorable part of `value` with its path, telling a cycle from deep
    nesting (the slow walk `encode` takes only after the fast one failed)."""
    if id(value) in active:
        return UnstorableValue(value, where, "cycle")
    if len(active) >= MAX_DEPTH:
        return UnstorableValue(value, where, "depth")
    parts = _parts(value)
    if parts is None:
        return UnstorableValue(value, where, "type")
    for part, inner in parts:
        found = _unstorable(inner, where + part, (*active, id(value)))
        if found is not None:
            return found
    return None


def _parts(value: Any) -> list[tuple[str, Any]] | None:
    """(path suffix, part) of each part of a storable shape; None for any other value."""
    kind = type(value)
    if kind in _SCALARS:
        return []
    if kind is list or kind is tuple:
        return [(f"[{i}]", v) for i, v in enumerate(value)]
    if kind is dict:
        return [p for k, v in value.items() for p in (("<key>", k), (f"[{k!r}]", v))]
    if kind is set or kind is frozenset:
        return [("{}", v) for v in value]
    if _is_struct(value):
        return [(f".{k}", v) for k, v in value.fields.items()]
    return None
