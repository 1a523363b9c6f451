"""Numeric fused expressions: a pure subtree whose operands the checker proved numbers.

Consumes: an expression node, the compiler's `operand(node)` (how a name is read:
`operators.Operand`) and `type_of(node)` (the checker's static type of a node,
`CheckResult.types`, docs/architecture.md "What checking produces").
Produces: `numeric_code(node, operand, type_of) -> (text, operators) | None`: the Python
text of the subtree for `dana.runtime.fused` (same contract as `Fuser.code`), or None when
some operand is not proved an `int`, `float` or `bool` (or not pure).

The text reads each frame slot (and each struct field) once, into a temporary, under a
guard of its exact class: `(a * b + c if (_s3 := f[3]).__class__ is float and ... else
unset())`. Then the operators run with no further test: arithmetic on numbers cannot grow
a sequence, and the result of each operator has a class known at compile time, so the only
size check left is the one a product of two ints needs (a left factor of
`operators.UNCHECKED_FACTOR` or more takes the slow path, as in `fused`), and the cost
check of `//` and `%` (the same bound on the left operand, unless the right one is a
literal under 2**64: `operators.check_division`). The checker's
types are not a run-time guarantee: when a guard fails, `unset()` raises and the caller
runs the slow closure, which gives the exact value or Dana error.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dana.runtime.operators import DIVISIONS, cheap_divisor
from dana.syntax import ast as A
from dana.types.types import BOOL, FLOAT, INT, StructT

_CLASSES = {INT: "int", FLOAT: "float", BOOL: "bool"}
_ARITHMETIC = frozenset({"+", "-", "*", "/", "//", "%", "&", "^", ">>"})
_ORDER = frozenset({"<", ">", "<=", ">=", "==", "!="})
MAX_OPERATORS = 24
"""The most operators one generated text holds (Python's parser caps nested parentheses;
a longer expression is written in parts)."""
_LITERALS = (int, float, str, bool, type(None))
_LONG_LITERAL = 10 ** 4000  # an int literal this long is written in hex


def literal_text(value: Any) -> str | None:
    """The Python text of literal `value` (int, float, str, bool or None); None for any other
    value and for a float that is not finite. An int whose decimal text Python would refuse
    (over 4,300 digits) is written in hex."""
    if value.__class__ not in _LITERALS or (value.__class__ is float and not math.isfinite(value)):
        return None
    if value.__class__ is int and not -_LONG_LITERAL < value < _LONG_LITERAL:
        return hex(value)
    return repr(value)



class _NotNumeric(Exception):
    pass


def numeric_code(node: A.Expr, operand: Callable[[A.Expr], Any],
                 type_of: Callable[[A.Expr], Any]) -> tuple[str, int] | None:
    """The guarded text of `node` and its number of operators, or None. A tuple of
    such subtrees (the arguments of a call, `dana.runtime.emit`) is one text: each
    operand is read and tested once for all of them."""
    plain = _written(node, _Writer(operand, type_of, trusting=False))
    if plain is None or not plain[1].guards:
        return None
    text, writer = plain
    fast = _written(node, _Writer(operand, type_of, trusting=True))
    if fast is not None and fast[1].flags:
        # while the flags hold, the items they vouch for are read unguarded
        text = f"({fast[0]} if {' and '.join(fast[1].flags)} else {text})"
    return text, writer.operators


def _written(node: A.Expr, writer: "_Writer") -> tuple[str, "_Writer"] | None:
    """The guarded text of `node` by `writer`, or None."""
    try:
        if node.__class__ is A.TupleExpr:
            body = "(" + "".join(f"{writer.expr(item)[0]}, " for item in node.items) + ")"
        else:
            body, _ = writer.expr(node)
    except _NotNumeric:
        return None
    if not writer.operators:
        return None
    if not writer.guards:
        return body, writer
    return f"({body} if {' and '.join(writer.guards.values())} else unset())", writer


class _Writer:
    """Writes one text. `trusting`: an operand of kind "item" whose flag is named (a loop
    item of a `range` within `BIG`, `dana.runtime.loops`) is read as an int, unguarded,
    and a product or division with it on the left needs no size check; the flags it
    relied on are `flags`."""

    def __init__(self, operand: Callable[[A.Expr], Any], type_of: Callable[[A.Expr], Any],
                 trusting: bool) -> None:
        self.operand, self.type_of, self.trusting = operand, type_of, trusting
        self.flags: dict[str, None] = {}
        self.small: set[int] = set()  # id of each name node read as a small int
        self.guards: dict[Any, str] = {}  # what is read (slot, or slot and field) -> guard
        self.classes: dict[Any, str] = {}
        self.names: dict[Any, str] = {}  # what is read -> its temporary
        self.operators = 0
        self.temps = 0

    def expr(self, node: A.Expr) -> tuple[str, str]:
        """(text, class name: int, float, bool, or num when not known)."""
        kind = node.__class__
        if kind is A.LiteralExpr:
            value = node.value
            text = literal_text(value) if value.__class__ in (int, float, bool) else None
            if text is None:
                raise _NotNumeric
            return text, value.__class__.__name__
        if kind is A.NameExpr:
            return self.name(node)
        if kind is A.AttributeExpr:
            return self.field(node)
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise _NotNumeric
        if kind is A.BinOpExpr:
            return self.binop(node)
        if kind is A.UnaryOpExpr:
            text, cls = self.expr(node.operand)
            if node.op == "not":
                return f"(not {text})", "bool"
            return f"({node.op}{text})", ("int" if cls == "bool" or node.op == "~" else cls)
        if kind is A.CompareExpr:
            if not all(op in _ORDER for op in node.ops):
                raise _NotNumeric
            parts = [self.expr(node.left)[0]]
            for op, right in zip(node.ops, node.comparators):
                parts += [op, self.expr(right)[0]]
            return f"({' '.join(parts)})", "bool"
        if kind is A.BoolOpExpr:
            values = [self.expr(v) for v in node.values]
            return (f"({f' {node.op} '.join(t for t, _ in values)})",
                    _join(c for _, c in values))
        if kind is A.IfExpr:
            then, orelse = self.expr(node.then), self.expr(node.orelse)
            return (f"({then[0]} if {self.expr(node.cond)[0]} else {orelse[0]})",
                    _join((then[1], orelse[1])))
        raise _NotNumeric

    def name(self, node: A.NameExpr) -> tuple[str, str]:
        cls = _CLASSES.get(self.type_of(node))
        operand = self.operand(node)
        if cls is None or operand.slot_text is None:
            raise _NotNumeric
        if self.trusting and cls == "int" and operand.kind == "item" and operand.meta[1]:
            self.flags[operand.meta[1]] = None
            self.small.add(id(node))
            return operand.slot_text, cls
        return self.read(_key(operand), operand.slot_text, cls), cls

    def field(self, node: A.AttributeExpr) -> tuple[str, str]:
        """`p.x` of a struct `p` in a frame slot, its field `x` proved a number: read from
        the instance's fields (the ordinary attribute read does the same for a struct)."""
        owner, obj = self.type_of(node.obj), node.obj
        if not isinstance(owner, StructT) or obj.__class__ is not A.NameExpr:
            raise _NotNumeric
        field = owner.fields.get(node.name)
        cls = _CLASSES.get(field.type) if field is not None else None
        operand = self.operand(obj)
        if cls is None or operand.slot_text is None:
            raise _NotNumeric
        struct = self.read(_key(operand), operand.slot_text, "STRUCT")
        return self.read((_key(operand), node.name), f"{struct}.fields[{node.name!r}]",
                         cls), cls

    def read(self, key: Any, text: str, cls: str) -> str:
        """The temporary holding `text`, guarded once to be of class `cls`."""
        known = self.classes.get(key)
        if known is not None and known != cls:
            raise _NotNumeric
        if key not in self.guards:
            # a field's temporary is numbered: a Dana name need not be a Python one (x²)
            self.names[key] = f"_s{key}" if isinstance(key, int) else f"_f{len(self.names)}"
            self.classes[key] = cls
            self.guards[key] = f"({self.names[key]} := {text}).__class__ is {cls}"
        return self.names[key]

    def binop(self, node: A.BinOpExpr) -> tuple[str, str]:
        op = node.op
        if op not in _ARITHMETIC:
            raise _NotNumeric
        (left, a), (right, b) = self.expr(node.left), self.expr(node.right)
        if op == "/":
            return f"({left} / {right})", "float"
        if op in ("&", "^", ">>"):
            return f"({left} {op} {right})", "int"
        cls = "float" if "float" in (a, b) else ("num" if "num" in (a, b) else "int")
        if cls != "float" and id(node.left) not in self.small and (
                op == "*" or op in DIVISIONS and not (node.right.__class__ is A.LiteralExpr
                                                      and cheap_divisor(node.right.value))):
            # a product, quotient or remainder of ints: a huge left operand is checked on
            # the slow path (its size, or the division's cost)
            t = f"_m{self.temps}"
            self.temps += 1
            return f"({t} {op} {right} if NEG_BIG < ({t} := {left}) < BIG else unset())", cls
        return f"({left} {op} {right})", cls


def _key(operand: Any) -> Any:
    """What a frame-slot operand reads: its slot in this frame (or the loop item that
    holds the slot's value), (depth, slot) in an enclosing one."""
    return operand.meta if operand.kind == "outer" else operand.value


def _join(classes: Any) -> str:
    found = {"int" if c == "bool" else c for c in classes}
    return found.pop() if len(found) == 1 else "num"
