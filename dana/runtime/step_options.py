"""`@step` options checked at run time, from their one declaration (docs/workflows.md "Steps").

Consumes: `dana.surface.STEP_OPTIONS` (name, Dana type text, default, doc) and option values.
Produces: `OPTION_NAMES`, `unknown_option(name)` (the error for a name not declared) and
`plain_value(key, value, span)`: a checked value of an option that is not a hook
(`validate`, `rollback`, `cache_key`) nor a list of error types (`retry_on`, `no_retry_on`), as the
`StepPolicy` field. `@step(...)` in Dana and `Interpreter.register_step(...)` in Python both
check through here, so they accept the same options and values.
"""

from __future__ import annotations

from typing import Any

from dana.errors import DanaRuntimeError, rule_error
from dana.messages import checks as M
from dana.runtime.values import type_name
from dana.surface import ON_ERROR_TEXT, ON_ERROR_VALUES, STEP_OPTIONS

OPTION_NAMES: tuple[str, ...] = tuple(o.name for o in STEP_OPTIONS)
HOOKS = ("validate", "rollback", "cache_key")
ERROR_LISTS = ("retry_on", "no_retry_on")

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "bool": (bool,), "str": (str,),
    "None": (type(None),), "list": (list, tuple), "function": (object,)}
_ACCEPTS = {o.name: tuple(t for part in o.type.split(" | ") for t in _PY_TYPES[part])
            for o in STEP_OPTIONS}
_TYPES = {o.name: o.type for o in STEP_OPTIONS}
_NUMBERS = {o.name for o in STEP_OPTIONS if {"int", "float"} & set(o.type.split(" | "))}
_FLOATS = {o.name for o in STEP_OPTIONS if "float" in o.type.split(" | ")}


def unknown_option(name: str) -> DanaRuntimeError:
    """The TypeError for an option `@step` does not have: the checker's E0315 text, with the
    declared options in a note."""
    return rule_error("TypeError", M.UNKNOWN_STEP_OPTION, None, name=name,
                      notes=(f"expected one of {', '.join(sorted(OPTION_NAMES))}",))


def plain_value(key: str, value: Any, span: Any = None) -> Any:
    """`value` checked against option `key`'s declared type (a bool is not a number), its
    `on_error` values and `>= 0` for numbers; floats for float options. Raises a Dana
    TypeError or ValueError."""
    if not isinstance(value, _ACCEPTS[key]) or (key != "cache" and isinstance(value, bool)):
        raise rule_error("TypeError", M.BAD_STEP_OPTION, span, name=key,
                         expected=f"`{_TYPES[key]}`", src=type_name(value))
    if key == "on_error" and value is not None and value not in ON_ERROR_VALUES:
        raise rule_error("ValueError", M.BAD_STEP_OPTION, span, name=key,
                         expected=f"one of {ON_ERROR_TEXT}",
                         src=repr(value))
    if key in _NUMBERS and value is not None and value < 0:
        raise rule_error("ValueError", M.BAD_STEP_OPTION, span, name=key,
                         expected=f"`{_TYPES[key]}` >= 0", src=value)
    return float(value) if key in _FLOATS and value is not None else value
