"""Specialised closures for Dana's binary operators and comparisons.

Consumes: the operator symbol and the closures of its operands (from the expression
compiler), the node's span and the interpreter's `Limits`.
Produces: `binary(sym, left, right, span, limits)`, `augmented(...)` and
`compare(sym, left, right, span)`: closures `fn(frame) -> value` that evaluate the
operator inline (no call through `operator.*`), with Python's semantics, and raise the
Dana error for a Python one at the node's span (docs/language.md "Operators").

Size limits are checked only where a value can grow (docs/language.md "Safety and limits"):
`+` of two strings, lists or tuples, `*` with a sequence operand (repetition), `**` and `<<`
of two ints; every other operator runs without a check.

The closures are built from one source template per shape (operands as closures, or the
right operand a constant), compiled once per operator at import time: the operator is
part of the code, so evaluating `a + b` costs one Python frame.
"""

from __future__ import annotations

from typing import Any, Callable

from dana.errors import DanaRuntimeError, LimitError
from dana.runtime.values import type_name

Closure = Callable[[list], Any]
ARITHMETIC = ("+", "-", "*", "/", "//", "%", "**", "&", "^", "<<", ">>")
COMPARISONS = ("<", ">", "==", ">=", "<=", "!=", "is", "is not", "in", "not in")
_SEQUENCES = frozenset({str, list, tuple})

# The guard that runs before an operator that can grow a value (none for the others).
_GUARDS = {
    "+": "if a.__class__ in SEQUENCES: check_size(sym, a, b, limits, span)",
    "*": "if a.__class__ in SEQUENCES or b.__class__ in SEQUENCES: "
         "check_size(sym, a, b, limits, span)",
    "**": "if a.__class__ is int and b.__class__ is int: check_size(sym, a, b, limits, span)",
    "<<": "if isinstance(a, int) and isinstance(b, int): check_size(sym, a, b, limits, span)",
}

def _units(seq: Any) -> str:
    return "characters" if isinstance(seq, str) else "items"


def check_size(sym: str, a: Any, b: Any, limits: Any, span: Any) -> None:
    """Raise LimitError when `a sym b` would create a value over `limits.max_size`
    (characters or items; for `**` and `<<`, bytes of the int)."""
    limit = limits.max_size
    if sym == "*":
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and type(n) is int and len(seq) * n > limit:
                raise LimitError(f"creating a {type_name(seq)} of {len(seq) * n} "
                                 f"{_units(seq)} exceeds the limit of {limit}", span)
    elif sym == "+":
        if isinstance(a, (str, list, tuple)) and isinstance(b, type(a)) and \
                len(a) + len(b) > limit:
            raise LimitError(f"creating a {type_name(a)} of {len(a) + len(b)} {_units(a)} "
                             f"exceeds the limit of {limit}", span)
    elif sym == "<<":
        if isinstance(a, int) and isinstance(b, int) and b > 0 and \
                a.bit_length() + b > limit * 8:
            raise LimitError(f"the result of {a} << {b} exceeds the size limit", span)
    elif type(a) is int and type(b) is int and b > 0 and a.bit_length() * b > limit * 8:
        raise LimitError(f"the result of {a} ** {b} exceeds the size limit", span)


_TEMPLATE = """
def make(left, right, sym, label, span, limits):
    def binary(f):
        a = left(f)
        b = {right}
        {guard}
        try:
            return a {op} b
        except Exception as exc:
            raise fail(exc, label, a, b, span) from None
    return binary
"""


def _build(op: str, guard: str, right: str, fail: Callable) -> Callable:
    code = _TEMPLATE.format(op=op, guard=guard or "pass", right=right)
    namespace = {"SEQUENCES": _SEQUENCES, "check_size": check_size, "fail": fail}
    exec(compile(code, f"<dana operator {op}>", "exec"), namespace)
    return namespace["make"]


def arithmetic_error(exc: Exception, sym: str, a: Any, b: Any, span: Any) -> BaseException:
    """The Dana error for Python's `exc` raised by `a sym b` (`sym` may be `+=`...)."""
    if isinstance(exc, ZeroDivisionError):
        return DanaRuntimeError("ZeroDivisionError", "division by zero", span)
    if isinstance(exc, TypeError):
        return DanaRuntimeError("TypeError", f"unsupported operand types for {sym}: "
                                f"'{type_name(a)}' and '{type_name(b)}'", span)
    if isinstance(exc, (OverflowError, ValueError)):
        return DanaRuntimeError("ValueError", str(exc), span)
    return exc


def compare_error(exc: Exception, sym: str, a: Any, b: Any, span: Any) -> BaseException:
    """The Dana error for Python's `exc` raised by the comparison `a sym b`."""
    if isinstance(exc, TypeError):
        return DanaRuntimeError("TypeError", f"'{sym}' is not supported between "
                                f"'{type_name(a)}' and '{type_name(b)}'", span)
    return exc


_BINARY = {op: _build(op, _GUARDS.get(op, ""), "right(f)", arithmetic_error)
           for op in ARITHMETIC}
_BINARY_CONST = {op: _build(op, _GUARDS.get(op, ""), "right", arithmetic_error)
                 for op in ARITHMETIC}
_COMPARE = {op: _build(op, "", "right(f)", compare_error) for op in COMPARISONS}
_COMPARE_CONST = {op: _build(op, "", "right", compare_error) for op in COMPARISONS}


def binary(sym: str, left: Closure, right: Closure, span: Any, limits: Any,
           constant: Any = None, is_constant: bool = False, label: str | None = None) -> Closure:
    """`left sym right` as one closure; with `is_constant`, the right operand is the value
    `constant` (a literal), not a closure. `sym` is one of ARITHMETIC; `label` is the
    operator named in a TypeError (`+=` for an augmented assignment; default `sym`)."""
    if is_constant:
        return _BINARY_CONST[sym](left, constant, sym, label or sym, span, limits)
    return _BINARY[sym](left, right, sym, label or sym, span, limits)


def compare(sym: str, left: Closure, right: Closure, span: Any,
            constant: Any = None, is_constant: bool = False) -> Closure:
    """`left sym right` for one comparison operator (see `binary` for `constant`)."""
    if is_constant:
        return _COMPARE_CONST[sym](left, constant, sym, sym, span, None)
    return _COMPARE[sym](left, right, sym, sym, span, None)
