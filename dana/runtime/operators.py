"""Specialised closures for Dana's binary operators and comparisons.

Consumes: the operator symbol and the closures of its operands (from the expression
compiler), the node's span and the interpreter's `Limits`.
Produces: `binary(sym, left, right, span, limits)` and `compare(sym, left, right, span)`
(operands as `Operand`s): closures `fn(frame) -> value` that evaluate the operator inline
(no call through `operator.*`), with Python's semantics, and raise the Dana error for a
Python one at the node's span (docs/language.md "Operators").

Size limits are checked only where a value can grow (docs/language.md "Safety and limits"):
`+` of two strings, lists or tuples, `*` with a sequence operand (repetition) or of two ints
of which the left one has over 4096 bits, `**` and `<<` of two ints. The cost of `//` and
`%` of two ints is checked when the left one has over 4096 bits and the right one is not a
literal under 2**64 (`check_division`); the widths of a `%` format (a str or bytes left
operand) always are (`formatting.check_percent`). Every other operator runs without a
check.

The closures are built from one source template, compiled on first use for each operator
and kind of operand (a closure, a parameter's or local variable's frame slot, a literal):
the operator and the operand reads are part of the code, so `n - 1` or `x * y` on locals
costs one Python frame.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, NamedTuple

from dana.errors import DanaRuntimeError, rule_error, runtime_error
from dana.messages import checks as M
from dana.messages import runtime as R
from dana.runtime.formatting import DEFAULT_MAX_SIZE, check_percent
from dana.runtime.shapes import CONTAINERS, check_compare, check_contains, check_keys
from dana.runtime.values import UNSET, type_name

Closure = Callable[[list], Any]
ARITHMETIC = ("+", "-", "*", "/", "//", "%", "**", "&", "^", "<<", ">>")
COMPARISONS = ("<", ">", "==", ">=", "<=", "!=", "is", "is not", "in", "not in")
_SEQUENCES = frozenset({str, list, tuple})

# The guard that runs before an operator that can grow a value (none for the others).
_GUARDS = {
    "+": "if a.__class__ in SEQUENCES: check_size(sym, a, b, limits, span)",
    "*": "if a.__class__ in SEQUENCES or b.__class__ in SEQUENCES or "
         "(a.__class__ is int and b.__class__ is int and not NEG_BIG < a < BIG): "
         "check_size(sym, a, b, limits, span)",
    "**": "if a.__class__ is int and b.__class__ is int: check_size(sym, a, b, limits, span)",
    "<<": "if isinstance(a, int) and isinstance(b, int): check_size(sym, a, b, limits, span)",
    "//": "if a.__class__ is int and not NEG_BIG < a < BIG: check_size(sym, a, b, limits, span)",
}
# ... and a `%` format: each width in the text is checked (`formatting.check_percent`).
_FORMATS = ("if a.__class__ is str or a.__class__ is bytes: "
            "check_percent(a, b, limits.max_size, span)")
_GUARDS["%"] = _FORMATS + "\n        el" + _GUARDS["//"]
DIVISIONS = frozenset({"//", "%"})
"""The operators whose cost on two big ints is checked (`check_division`)."""
# The guard before a comparison that walks whole values (`shapes.check_compare`).
_WALKS = "if a.__class__ in CONTAINERS: walk_guard(sym, a, b, limits, span)"
WALKING = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
# ... and before `in`, which also compares `a` with each item of a list or tuple `b`.
_SCANS = ("if a.__class__ in CONTAINERS or b.__class__ in SCANNED and len(b) > SCAN_FREE "
          "and (a.__class__ is str or a.__class__ is bytes or a.__class__ is int and "
          "not NEG_SMALL < a < SMALL): walk_guard(sym, a, b, limits, span)")
SCANNED = frozenset({list, tuple})
"""The classes `in` scans item by item, comparing each item with the value looked for."""
SMALL_INT = 2 ** 64
"""Ints under this (negated: over) compare in constant time."""
SCAN_FREE = 64
"""Items of a list or tuple that `in` scans without measuring the value looked for: even
a text of the whole size budget compared with each is bounded. (Nor is a small value
measured: a bool, float, None or an int under 2**64 compares in constant time.)"""


UNCHECKED_FACTOR = 2 ** 4096
"""`a * b` of ints is size-checked only when `a` is this big (or bigger, negated), and so is
the cost of `a // b` and `a % b` (a smaller `a` costs at most 4096 * 4096 bit-steps)."""
DIVISION_STEPS = 2 ** 16
"""Bit-steps a division of ints may take per bit an int may have (`limits.max_size // 8`):
dividing the biggest int the size limit allows by an int of 65,536 bits is the most costly
division allowed (about 0.5 s on the default limit)."""


def cheap_divisor(value: Any) -> bool:
    """True for a literal right operand of `//` or `%` whose cost is never checked: any
    value but an int of 2**64 or more (negated: less). Dividing by such an int costs at
    most 64 bit-steps per bit of the left operand, under the budget for any int the size
    limit lets a program build (texts of `max_size` characters hold at most 5 bits each)."""
    return value.__class__ is not int or -SMALL_INT < value < SMALL_INT


def _units(seq: Any) -> str:
    return "characters" if isinstance(seq, str) else "items"


def check_size(sym: str, a: Any, b: Any, limits: Any, span: Any) -> None:
    """Raise LimitError when `a sym b` would create a value over `limits.max_size`
    (characters or items; for `**` and `<<`, see `_int_within`)."""
    limit = limits.max_size
    if sym == "*":
        if type(a) is int and type(b) is int:
            _int_within(a.bit_length() + b.bit_length(), (a, "*", b), limit, span)
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and type(n) is int and len(seq) * n > limit:
                raise runtime_error(R.TOO_BIG_RESULT, span, type=type_name(seq),
                                    size=len(seq) * n, units=_units(seq), limit=limit)
    elif sym == "+":
        if isinstance(a, (str, list, tuple)) and isinstance(b, type(a)) and \
                len(a) + len(b) > limit:
            raise runtime_error(R.TOO_BIG_RESULT, span, type=type_name(a), size=len(a) + len(b),
                                units=_units(a), limit=limit)
    elif sym in DIVISIONS:
        if type(a) is int and type(b) is int:
            check_division(sym, a, b, limit, span)
    elif sym == "<<":
        if isinstance(a, int) and isinstance(b, int) and b > 0:
            _int_within(a.bit_length() + b, (a, "<<", b), limit, span)
    elif type(a) is int and type(b) is int and b > 0:
        _int_within(max(a.bit_length() - 1, 1) * b, (a, "**", b), limit, span)


def walk_guard(sym: str, a: Any, b: Any, limits: Any, span: Any) -> None:
    """Before `a sym b` with a container `a` (or `a in b` with a long list or tuple `b`):
    comparing, hashing `a` to find it in a set or dict, or comparing it with each item of
    `b`, must be bounded (`shapes`)."""
    budget = limits.max_size if limits is not None else DEFAULT_MAX_SIZE
    if sym not in ("in", "not in"):
        check_compare(a, b, budget, span)
    elif b.__class__ in (dict, set, frozenset):
        check_keys((a,), budget, span)
    else:
        check_contains(a, b, budget, span)


def check_division(sym: str, a: int, b: int, limit: int, span: Any) -> None:
    """Raise LimitError before `a // b` or `a % b` (`sym`) of ints whose cost, the bits of
    the quotient times the bits of `b` (CPython divides digit by digit), is over
    `limit // 8 * DIVISION_STEPS` bit-steps; `limit` is `Limits.max_size`. The cost holds
    the GIL in one C call, where neither the run's checks nor the CLI's watchdog can stop
    it (docs/language.md "Safety and limits")."""
    _division_within(a.bit_length(), b.bit_length(), (a, sym, b), limit, span)


def check_rounding(x: int, ndigits: int, limit: int, span: Any) -> bool:
    """Before `round(x, ndigits)` of an int with `ndigits` < 0, which divides `x` by
    `10 ** -ndigits` (CPython builds that power, then divides): True when the power is
    surely over twice `x`, so the result is 0 without computing anything (Python's
    answer); LimitError when the power would have more bits than an int may
    (`_int_within`, as `10 ** -ndigits` written out would) or the division would cost
    more than `check_division` allows."""
    places = -ndigits
    if places > x.bit_length() + 1:  # 10 ** places > 8 ** places >= 4 * 2 ** bit_length
        return True  # (and `places * _LOG2_10` may be over the floats' range)
    power_bits = places * _LOG2_10  # 10 ** places has int(power_bits) + 1 bits
    if power_bits > x.bit_length() + 2:
        return True
    shown = f"round({_int_shown(x)}, {ndigits})"
    _int_within(int(power_bits) + 1, f"10 ** {places} (for {shown})", limit, span)
    _division_within(x.bit_length(), int(power_bits) + 1, shown, limit, span)
    return False


_LOG2_10 = math.log2(10)


def _division_within(dividend: int, divisor: int, what: tuple[int, str, int] | str,
                     limit: int, span: Any) -> None:
    """`check_division` on the bit lengths of the operands; `what` is the operation
    (left, operator, right), or its text, shown in the message."""
    quotient = dividend - divisor + 1
    budget = limit // 8 * DIVISION_STEPS
    if quotient > 0 and quotient * divisor > budget:
        raise runtime_error(R.TOO_COSTLY_DIVISION, span, shown=_described(what),
                            quotient=quotient, divisor=divisor, steps=quotient * divisor,
                            limit=budget)


def _int_within(bits: int, what: tuple[int, str, int] | str, limit: int, span: Any) -> None:
    """An int result may have `limit // 8` bits (6.25 million by default, about 1.9
    million digits): bigger ones take seconds to compute or multiply. `what` is the
    operation (left, operator, right), or its text, shown in the message."""
    if bits > limit // 8:
        raise runtime_error(R.TOO_BIG_INT, span, shown=_described(what), bits=bits,
                            limit=limit // 8)


def _described(what: tuple[int, str, int] | str) -> str:
    return what if isinstance(what, str) else _shown(*what)


def _shown(a: int, sym: str, b: int) -> str:
    """`a sym b` as a message shows it: a big int by its size, in under 60 characters."""
    shown = f"{_int_shown(a)} {sym} {_int_shown(b)}"
    return shown if len(shown) < 60 else shown[:57] + "..."


def _int_shown(n: int) -> str:
    return str(n) if n.bit_length() < 200 else f"(an int of {n.bit_length()} bits)"


_TEMPLATE = """
def make(L, R, sym, label, span, limits, Lmeta, Rmeta):
    def binary(f):
        {a}
        {b}
        {guard}
        try:
            return a {op} b
        except Exception as exc:
            raise fail(exc, label, a, b, span) from None
    return binary
"""

# How an operand is read into variable {v} from the factory's argument {o}, by its kind
# (see `Operand`).
_READS = {
    "closure": "{v} = {o}(f)",
    "outer": "{v} = {o}(f)",
    "param": "{v} = f[{o}]",
    "local": "{v} = f[{o}]\n        if {v} is UNSET: raise unassigned({o}meta)",
    "const": "{v} = {o}",
}


class Operand(NamedTuple):
    """How compiled code reads one operand: `kind` "closure" (`value` is a closure),
    "param" (`value` is the frame slot of a parameter, always bound), "local" (the slot
    of a local variable, which may be unassigned: `meta` is its name and span, for the
    NameError), "outer" (a variable of an enclosing function: `value` is its closure,
    which raises the NameError, and `meta` its (depth, slot)), "item" (a generated loop's
    item held in a Python local, always bound, that its slot `value` also holds: `meta`
    is the local's name and the name of the flag that is true while the item is an int
    within `UNCHECKED_FACTOR`, or None; `dana.runtime.loops`) or "const" (`value` is the
    literal's value)."""

    kind: str
    value: Any
    meta: Any = None

    @property
    def slot_text(self) -> str | None:
        """The Python text reading the operand's frame slot from frame `f` (an enclosing
        function's frame is `f[0]`, its own enclosing one `f[0][0]`...; docs/language.md
        "Functions"); None for a closure or a literal."""
        if self.kind == "param" or self.kind == "local":
            return f"f[{self.value}]"
        if self.kind == "outer":
            depth, slot = self.meta
            return "f" + "[0]" * depth + f"[{slot}]"
        if self.kind == "item":
            return self.meta[0]
        return None




def _unassigned(meta: tuple[str, Any]) -> DanaRuntimeError:
    """The checker's E0201 for a local read before it is assigned (docs/errors.md)."""
    return rule_error("NameError", M.UNBOUND_NAME, meta[1], name=meta[0], how="assigned")


@functools.cache
def _maker(op: str, left: str, right: str, comparison: bool, guarded: bool = True) -> Callable:
    """The factory of closures for `op` with operands of kinds `left` and `right`,
    compiled from `_TEMPLATE` on first use (without its guard when not `guarded`, but
    for the check of a `%` format)."""
    guard = _GUARDS.get(op, "pass") if guarded else _FORMATS if op == "%" else "pass"
    if comparison and op in ("in", "not in"):  # a literal `b` is a text: searched, not scanned
        guard = _SCANS if right != "const" else "pass"
    elif comparison:  # a literal operand is a scalar: nothing to walk
        guard = _WALKS if op in WALKING and "const" not in (left, right) else "pass"
    code = _TEMPLATE.format(op=op, a=_READS[left].format(v="a", o="L"),
                            b=_READS[right].format(v="b", o="R"), guard=guard)
    namespace = {"SEQUENCES": _SEQUENCES, "check_size": check_size, "UNSET": UNSET,
                 "BIG": UNCHECKED_FACTOR, "NEG_BIG": -UNCHECKED_FACTOR, "NEG_SMALL": -SMALL_INT,
                 "CONTAINERS": CONTAINERS, "walk_guard": walk_guard,
                 "SCANNED": SCANNED, "SCAN_FREE": SCAN_FREE, "SMALL": SMALL_INT,
                 "unassigned": _unassigned, "check_percent": check_percent,
                 "fail": compare_error if comparison else arithmetic_error}
    exec(compile(code, f"<dana operator {op}>", "exec"), namespace)
    return namespace["make"]


def arithmetic_error(exc: Exception, sym: str, a: Any, b: Any, span: Any) -> BaseException:
    """The Dana error for Python's `exc` raised by `a sym b` (`sym` may be `+=`...)."""
    if isinstance(exc, ZeroDivisionError):
        return runtime_error(R.DIVISION_BY_ZERO, span)
    if isinstance(exc, TypeError):
        return operand_error(sym, a, b, span)
    if isinstance(exc, (OverflowError, ValueError)):
        return DanaRuntimeError("ValueError", str(exc), span)
    return exc


def compare_error(exc: Exception, sym: str, a: Any, b: Any, span: Any) -> BaseException:
    """The Dana error for Python's `exc` raised by the comparison `a sym b`."""
    if isinstance(exc, TypeError):
        return operand_error(sym, a, b, span)
    return exc


def operand_error(sym: str, a: Any, b: Any, span: Any) -> DanaRuntimeError:
    """The checker's E0310 for `a sym b` on types the operator is not defined for."""
    return rule_error("TypeError", M.BAD_OPERANDS, span, op=sym, left=type_name(a),
                      right=type_name(b))


def binary(sym: str, left: Operand, right: Operand, span: Any, limits: Any,
           label: str | None = None) -> Closure:
    """`left sym right` as one closure. `sym` is one of ARITHMETIC; `label` is the
    operator named in a TypeError (`+=` for an augmented assignment; default `sym`)."""
    guarded = sym not in DIVISIONS or right.kind != "const" or not cheap_divisor(right.value)
    make = _maker(sym, left.kind, right.kind, False, guarded)
    return make(left.value, right.value, sym, label or sym, span, limits, left.meta, right.meta)


def compare(sym: str, left: Operand, right: Operand, span: Any, limits: Any = None) -> Closure:
    """`left sym right` for one comparison operator (one of COMPARISONS); `limits`
    bound the walk over two containers (default: `DEFAULT_MAX_SIZE` parts)."""
    make = _maker(sym, left.kind, right.kind, True)
    return make(left.value, right.value, sym, sym, span, limits, left.meta, right.meta)
