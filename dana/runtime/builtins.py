"""The implementations of the builtin functions declared in `dana.surface.FUNCTIONS`, made
per interpreter (two interpreters share nothing).

Consumes: the `Runtime` (output streams, log threshold, read permissions, workflow runs) and
the declarations: every call is bound through its declared signature (`dana.runtime.binding`)
before it reaches the implementation here, so the checker and the runtime accept the same
calls (docs/builtins.md).
Produces: `make_builtins(runtime) -> dict[name, value]`. Nothing else of the host is
reachable from Dana (docs/language.md); files are read and written, and environment variables
read, only as the runtime's `Permissions` allow (`dana.runtime.permissions`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path
from typing import Any

from dana.errors import rule_error, runtime_error
from dana.messages import checks as M
from dana.messages import runtime as R
from dana.runtime.files import append_atomic, write_atomic
from dana.runtime.binding import binder
from dana.runtime.functions import Function
from dana.runtime.operators import check_rounding
from dana.runtime.protocol import host_error
from dana.runtime.shapes import check_keys, check_walk, checked_text, length
from dana.surface import FUNCTIONS
from dana.runtime.values import (Builtin, CaseRouter, ErrorValue, StructInstance, StructType,
                                 TypeValue, error_types, type_name)

_CONVERSIONS = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
                "dict": dict, "set": set, "tuple": tuple}


def make_builtins(rt: Any) -> dict[str, Any]:
    """Every builtin name -> value, bound to `rt`."""
    table: dict[str, Any] = {}

    def add(name: str, fn: Any, **attrs: Any) -> None:
        b = Builtin(name, fn, binder(FUNCTIONS[name]))
        for key, value in attrs.items():
            setattr(b, key, value)
        table[name] = b

    text = _text(rt)
    add("print", lambda *args, sep=" ", end="\n": rt.write(sep.join(map(text, args)) + end))
    add("log", lambda message, level="info": rt.log(text(message), level))
    add("log_level", lambda level, namespace="dana": rt.set_log_level(level))
    add("len", len)
    add("range", _range)
    for name, py in _CONVERSIONS.items():
        add(name, _conversion(rt, name, py))
    for name, fn in _PURE.items():
        add(name, _ranges_within(rt, _compared(rt, fn) if name in ("min", "max") else fn))
    add("round", _rounding(rt))
    add("sorted", _ranges_within(rt, _sized(rt, _compared(rt, sorted))))
    add("map", _ranges_within(rt, lambda fn, *its: _limit(rt, list(map(
        _each(rt, fn, len(its)), *its)))))
    add("filter", _ranges_within(rt, lambda fn, it: _limit(rt, list(filter(_each(rt, fn, 1),
                                                                           it)))))
    add("type", _type)
    table["type"].bind = _one_value(table["type"].bind)
    add("isinstance", _isinstance)
    add("json_dumps", lambda value, indent=None, sort_keys=False: _json_dumps(
        rt, value, indent, sort_keys))
    add("json_loads", _json_loads)
    add("now", time.time)
    add("idempotency_key", _idempotency_key)
    add("run", rt.run_workflow)
    add("compose", rt.compose_workflows)
    add("case", _case, makes_stage=True)
    add("read_text", lambda path: rt.open_for_read(path).read_text(encoding="utf-8"))
    add("read_lines", lambda path: rt.open_for_read(path).read_text(encoding="utf-8").splitlines())
    add("read_csv", lambda path: _read_csv(rt.open_for_read(path)))
    add("write_text", lambda path, text: write_atomic(rt.permissions.writable(path), text))
    add("append_text", lambda path, text: append_atomic(rt.permissions.writable(path), text))
    add("getenv", lambda name, default=None: os.environ.get(rt.permissions.env_allowed(name),
                                                            default))
    for name, (py, classes) in DIRECT.items():
        table[name].direct = dict.fromkeys(classes, py)
    if set(table) != set(FUNCTIONS):
        raise AssertionError(f"builtins declared but not implemented (or the reverse): "
                             f"{sorted(set(table) ^ set(FUNCTIONS))}")
    table.update(error_types())
    return table


_SCALARS = (int, float, str, bool)
DIRECT: dict[str, tuple[Any, tuple[type, ...]]] = {
    "float": (float, _SCALARS), "int": (int, _SCALARS), "str": (str, (*_SCALARS, type(None))),
    "abs": (abs, (int, float)), "len": (len, (str, list, tuple, dict, set, bytes)),
}
"""Builtins a compiled call with one argument of a listed class makes as the Python
function (`Builtin.direct`): their binder passes such an argument unchanged and their
implementation above is that function for it (`str` of a scalar needs no walk)."""


def _idempotency_key() -> str:
    from dana.workflow.journal import idempotency_key  # the engine loads with workflows
    return idempotency_key()


def _text(rt: Any) -> Any:
    """`str` for print and log: a value whose text is unbounded is a LimitError."""
    return lambda value: checked_text(value, rt.limits.max_size)


def _compared(rt: Any, fn: Any) -> Any:
    """`fn` (sorted, min, max) after checking that comparing the items is bounded."""
    def compared(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("key") is not None:
            kwargs["key"] = _each(rt, kwargs["key"], 1)
        for arg in args:
            check_walk(arg, rt.limits.max_size, None, "compare the items of")
        return fn(*args, **kwargs)
    return compared


def _each(rt: Any, fn: Any, count: int) -> Any:
    """What a builtin calls from C for the function value `fn`, with `count` positional
    arguments each time: a Dana function's `each` entry when it takes that many (its
    thread's state read once here), else its `host` entry (one Python frame per call, not
    two through `Function.__call__`); any other callable as it is."""
    if fn.__class__ is not Function:
        return fn
    if fn.arity == count:
        rt.per_thread.state  # made current for this thread, where `each` reads it
        return fn.entry_of("each")
    return fn.entry_of("host")


def _limit(rt: Any, value: Any) -> Any:
    size = length(value)
    if size > rt.limits.max_size:
        raise runtime_error(R.TOO_BIG_RESULT, type="collection", size=size, units="items",
                            limit=rt.limits.max_size)
    return value


def _ranges_within(rt: Any, fn: Any) -> Any:
    """`fn` (a builtin that walks its iterable arguments in C, where no limit is checked:
    sum, max, zip, sorted...) after refusing a range of more than `Limits.max_size` items."""
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if arg.__class__ is range and length(arg) > rt.limits.max_size:
                raise runtime_error(R.TOO_BIG_RANGE, size=length(arg), limit=rt.limits.max_size)
        return fn(*args, **kwargs)
    return bounded


def _rounding(rt: Any) -> Any:
    """`round`: an int rounded to tens, hundreds... (`ndigits` < 0) is first checked by
    `operators.check_rounding` (the power of ten it divides by may be huge)."""
    def round_(number: Any, ndigits: Any = None) -> Any:
        if ndigits.__class__ is int and ndigits < 0 and number.__class__ is int and \
                check_rounding(number, ndigits, rt.limits.max_size, None):
            return 0
        return round(number, ndigits)
    return round_


def _range(start: int, stop: int | None = None, step: int = 1) -> range:
    return range(0, start, step) if stop is None else range(start, stop, step)


def _int(x: Any = 0, base: int | None = None) -> int:
    if base is None:
        return int(x)
    if type(x) is not str:
        raise runtime_error(R.INT_BASE_NEEDS_STR, type=type_name(x))
    return int(x, base)


def _conversion(rt: Any, name: str, py: type) -> Any:
    py = _int if name == "int" else py

    def convert(*args: Any, **kwargs: Any) -> Any:
        if name in ("list", "set", "tuple") and args and isinstance(args[0], range):
            _limit(rt, args[0])
        if name in ("set", "dict") and args:
            check_keys(args[0], rt.limits.max_size, None)
        try:
            if name == "str" and args:
                return checked_text(args[0], rt.limits.max_size)
            return py(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise host_error(exc, None) from None
    return convert


def _sized(rt: Any, fn: Any) -> Any:
    return lambda *args, **kwargs: _limit(rt, fn(*args, **kwargs))


_PURE: dict[str, Any] = {
    "sum": sum, "min": min, "max": max, "abs": abs, "any": any, "all": all,
    "reversed": lambda seq: list(reversed(seq)),
    "enumerate": lambda it, start=0: list(enumerate(it, start)),
    "zip": lambda *its: list(zip(*its)),
}


def _type(value: Any) -> TypeValue:
    """`type(x)`: the type of one value. The three-argument form of Python, which creates
    a class, does not exist in Dana (docs/language.md): its declaration takes one argument."""
    return TypeValue(type_name(value))


def _one_value(bind: Any) -> Any:
    """`type`'s binder, refusing Python's three-argument form by name."""
    def checked(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if len(args) == 3:
            raise rule_error("TypeError", M.TYPE_THREE_ARGS, None)
        return bind(args, kwargs)
    return checked


def _isinstance(value: Any, kind: Any) -> bool:
    if isinstance(kind, tuple):
        return any(_isinstance(value, k) for k in kind)
    if isinstance(kind, StructType):
        return isinstance(value, StructInstance) and value.struct is kind
    if isinstance(kind, Builtin) and kind.name in _CONVERSIONS:
        py = _CONVERSIONS[kind.name]
        return type(value) is py if py in (int, bool) else isinstance(value, py)
    if type(kind).__name__ == "ErrorType":
        from dana.errors import is_subtype
        return isinstance(value, ErrorValue) and is_subtype(value.type, kind.name)
    if hasattr(kind, "satisfied_by"):
        return kind.satisfied_by(value)
    raise runtime_error(R.ISINSTANCE_NOT_TYPE, type=type_name(kind))


def _plain(value: Any) -> Any:
    if isinstance(value, StructInstance):
        return {k: _plain(v) for k, v in value.fields.items()}
    if isinstance(value, ErrorValue):
        return {"type": value.type, "message": value.message}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _json_dumps(rt: Any, value: Any, indent: int | None, sort_keys: bool) -> str:
    check_walk(value, rt.limits.max_size, None, "convert to JSON")
    try:
        return json.dumps(_plain(value), indent=indent, sort_keys=sort_keys)
    except (TypeError, ValueError) as exc:
        raise runtime_error(R.NOT_JSON, reason=exc) from None


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise runtime_error(R.INVALID_JSON, reason=exc) from None


def _case(*args: Any) -> CaseRouter:
    if not args:
        raise runtime_error(R.CASE_WITHOUT_PAIRS)
    pairs, fallback = list(args), None
    if not isinstance(pairs[-1], tuple):
        fallback = pairs.pop()
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise runtime_error(R.CASE_BAD_ARGUMENTS)
    return CaseRouter(tuple(pairs), fallback)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))
