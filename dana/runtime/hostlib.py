"""Host functions the standard library needs and Dana cannot compute itself.

Consumes: nothing but Python's `math` and `datetime`.
Produces: `host_globals()` — a fresh dict of `_host_*` name -> Builtin that
`Runtime.load_module` pre-populates into the globals of modules loaded from `stdlib/`
(and only those), and `host_types()` — the same names' static `FunctionT`s for the type
checker (`check_module(..., host_functions=host_types())`).

The names start with `_`, so user code can neither `from math import _host_exp` nor read
`math._host_exp` (docs/language.md); stdlib modules wrap them in typed, documented functions.
Every failure is raised as a Dana error (`ValueError`), never a Python exception.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Any, Callable

from dana.errors import runtime_error
from dana.messages import runtime as R
from dana.runtime.values import Builtin


def _number(name: str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise runtime_error(R.EXPECTS_NUMBER, fn=name, type=type(x).__name__)
    return float(x)


def _sqrt(x: Any) -> float:
    x = _number("sqrt", x)
    if x < 0:
        raise runtime_error(R.SQRT_OF_NEGATIVE, x=x)
    return math.sqrt(x)


def _exp(x: Any) -> float:
    x = _number("exp", x)
    try:
        return math.exp(x)
    except OverflowError:
        raise runtime_error(R.EXP_TOO_LARGE, x=x) from None


def _log(x: Any) -> float:
    x = _number("log", x)
    if x <= 0:
        raise runtime_error(R.LOG_OF_NON_POSITIVE, x=x)
    return math.log(x)


def _iso_format(seconds: Any) -> str:
    """Epoch seconds -> ISO 8601 UTC text, `2024-01-02T03:04:05Z` (microseconds kept
    only when non-zero)."""
    seconds = _number("iso_format", seconds)
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise runtime_error(R.NOT_A_DATE, seconds=seconds, reason=exc) from None
    return moment.isoformat().replace("+00:00", "Z")


def _iso_parse(text: Any) -> float:
    """ISO 8601 date or date-time -> epoch seconds; no offset means UTC."""
    if not isinstance(text, str):
        raise runtime_error(R.EXPECTS_TEXT, fn="parse_iso", type=type(text).__name__)
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise runtime_error(R.NOT_ISO_DATE, text=text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


_FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[tuple[str, str], ...], str]] = {
    "_host_now": (time.time, (), "float"),   # the builtin `now`, which `time.now` shadows
    "_host_sqrt": (_sqrt, (("x", "float"),), "float"),
    "_host_exp": (_exp, (("x", "float"),), "float"),
    "_host_log": (_log, (("x", "float"),), "float"),
    "_host_iso_format": (_iso_format, (("seconds", "float"),), "str"),
    "_host_iso_parse": (_iso_parse, (("text", "str"),), "float"),
}


def host_globals() -> dict[str, Any]:
    """A fresh globals dict for one stdlib module: every host function as a Builtin."""
    return {name: Builtin(name, fn) for name, (fn, _, _) in _FUNCTIONS.items()}


def host_types() -> dict[str, Any]:
    """name -> FunctionT, for checking stdlib modules (`check_module(host_functions=...)`)."""
    from dana.types.types import FLOAT, INT, STR, FunctionT, ParamT
    prims = {"float": FLOAT, "int": INT, "str": STR}
    return {name: FunctionT(tuple(ParamT(p, prims[t]) for p, t in params), prims[ret])
            for name, (_, params, ret) in _FUNCTIONS.items()}
