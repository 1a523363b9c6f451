"""Statements that evaluate their expressions inline: `if`, `return`, assignment (loops:
`dana.runtime.loops`).

Consumes: for each expression of the statement, its fused text (`dana.runtime.fused`; None
when it is not pure) and its compiled closure; the statement's other closures.
Produces: statement closures `fn(frame) -> signal` (docs/language.md "Statements"),
compiled from one source template per shape of statement, in which a pure expression is
evaluated in the statement's own Python frame and any other through its closure. The
closure also serves a pure expression whose text raises: it raises the exact Dana error.
"""

from __future__ import annotations

from typing import Any, Callable

from dana.runtime.functions import RETURN
from dana.runtime.fused import closure, evaluation

Closure = Callable[[list], Any]

_IF_RETURN = """
def make(cond, value, exact, check):
    def if_return(f):
        {c}
        if c:
            {v}
            if check is not None and v.__class__ is not exact:
                v = check(v)
            f[1] = v
            return {RETURN}
        return None
    return if_return
"""


def if_return(cond: tuple[str | None, Closure], value: tuple[str | None, Closure],
              exact: type | None, check: Callable[[Any], Any] | None) -> Closure:
    """`if cond: return value`; `check(v)` (None: no return type) checks a value whose
    class is not `exact`."""
    source = _IF_RETURN.format(c=evaluation("c", cond[0], "cond", 8),
                               v=evaluation("v", value[0], "value", 12), RETURN=RETURN)
    return closure(source, "if return", cond=cond[1], value=value[1], exact=exact, check=check)


_IF = """
def make(cond, body, orelse):
    def if_(f):
        {c}
        if c:
            return body(f)
        {orelse}
    return if_
"""


def if_(cond: tuple[str | None, Closure], body: Closure, orelse: Closure | None) -> Closure:
    """`if cond: body` with `else: orelse` when given."""
    source = _IF.format(c=evaluation("c", cond[0], "cond", 8),
                        orelse="return None" if orelse is None else "return orelse(f)")
    return closure(source, "if", cond=cond[1], body=body, orelse=orelse)


_STORE = """
def make(value, exact, check):
    def store(f):
        {v}
        {check}
        f[{slot}] = v
        {signal}
    return store
"""


def assign_local(slot: int, value: tuple[str | None, Closure]) -> Closure:
    """`name = value` for a local variable in frame slot `slot`."""
    source = _STORE.format(v=evaluation("v", value[0], "value", 8), slot=slot, check="",
                           signal="")
    return closure(source, "assignment", value=value[1], exact=None, check=None)


def return_(value: tuple[str | None, Closure], exact: type | None,
            check: Callable[[Any], Any] | None) -> Closure:
    """`return value` (the value goes to frame[1]); `check(v)` as for `if_return`."""
    checking = "" if check is None else "if v.__class__ is not exact:\n            v = check(v)"
    source = _STORE.format(v=evaluation("v", value[0], "value", 8), slot=1, check=checking,
                           signal=f"return {RETURN}")
    return closure(source, "return", value=value[1], exact=exact, check=check)
