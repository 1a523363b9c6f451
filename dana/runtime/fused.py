"""Fused closures: a pure subtree of operators over frame slots and literals as one closure.

Consumes: an expression node, the compiler's `operand(node)` (how a name or literal is
read: `operators.Operand`) and the slow closure of the same node (the ordinary compiled
tree, which raises the Dana error of a failing operator at its span).
Produces: `Fuser.code(node)`: the Python expression text of the subtree (None when some
part of it is not pure: a call, `**`, ...), and `fused(code, slow)`:
the closure `fn(frame) -> value` that evaluates that text in one Python frame.

A pure subtree only reads frame slots (its own function's or an enclosing one's),
literals and struct fields, applies operators with Python's semantics (docs/language.md
"Operators"), builds tuples and lists, indexes a list, dict, str or tuple with a scalar
key, slices a list, str or tuple, and calls the builtin methods that change nothing
(`dana.runtime.receivers`): evaluating it twice gives the same value or the
same error. So the fused closure runs the text under `try`, and on any exception runs the
slow closure instead, which raises the exact Dana error (type, message, span): the fast
path carries no error handling of its own. Operators that can grow a value past the size
limit (docs/language.md "Safety and limits") are fused only where no sequence can reach
them: `+` and `*` with a numeric operand class checked inline (or a float literal for
`*`, a number literal for `+`), and for `*` of ints a left operand under
`operators.UNCHECKED_FACTOR`; `**` and `<<` are never fused. `//` and `%` of two ints
(their cost, `operators.check_division`) run fused with such a left operand, or with a
literal right operand under 2**64; `%` only with a number on the left (a `%` format takes
the slow path, which checks its widths). A comparison whose left operand
is a container takes the slow path, which bounds the walk (`dana.runtime.shapes`), unless
it is compared with a scalar literal (which walks nothing), and so does `in` over a long
list or tuple unless it looks for a small scalar.
"""

from __future__ import annotations

import functools
import warnings
from types import CodeType
from typing import Any, Callable

from dana.syntax import ast as A
from dana.runtime.numeric import MAX_OPERATORS, literal_text, numeric_code
from dana.runtime.operators import (DIVISIONS, SCAN_FREE, SCANNED, SMALL_INT,
                                    UNCHECKED_FACTOR, WALKING, cheap_divisor)
from dana.runtime.receivers import class_sets, direct_call
from dana.runtime.shapes import CONTAINERS
from dana.runtime.values import UNSET, StructInstance

Closure = Callable[[list], Any]

# Operators whose result cannot outgrow their operands by more than a constant.
_PLAIN = frozenset({"-", "/", "//", "%", "&", "^", ">>"})
# Operators an unassigned local (UNSET) cannot take part in: reading it bare raises.
_REJECTS_UNSET = frozenset({"+", "-", "*", "/", "//", "&", "^", ">>", "<", ">", "<=", ">="})
_NUMBERS = "NUMBERS"  # name of the frozenset of numeric classes in the generated code
_CONTAINERS = "CONTAINERS"  # ... of the classes whose comparison walks the whole value
_BIG = "BIG"  # ... of the bound of an int multiplied unchecked
_SCANS = ("in", "not in")
_SCANNED = "SCANNED"  # ... of the classes `in` scans item by item
_SCALARS = "SCALARS"  # ... of the classes compared in constant time (but int)
_SMALL = "SMALL"  # ... of the bound of an int compared in constant time
_INDEXABLE = "INDEXABLE"  # ... of the classes indexed inline
_KEYS = "KEYS"  # ... of the classes of keys they are indexed with inline
_SLICEABLE = "SLICEABLE"  # ... of the classes sliced inline
_LITERAL_SCALARS = frozenset({int, float, str, bool, type(None)})


class NotPure(Exception):
    """Raised inside `Fuser` when a subtree cannot be fused."""


class Fuser:
    """Builds the Python text of one pure subtree. `operand(node)` is the compiler's
    reader of names and literals, `type_of(node)` the checker's type of a node (None:
    unchecked code); temporaries `_t0, _t1, ...` hold operands a guard tests before the
    operator uses them."""

    def __init__(self, operand: Callable[[A.Expr], Any],
                 type_of: Callable[[A.Expr], Any] | None = None) -> None:
        self.operand = operand
        self.type_of = type_of
        self.temps = 0
        self.operators = 0

    def code(self, node: A.Expr) -> str | None:
        """The text of `node`, or None when it is not pure. With the checker's types
        (`type_of`), a subtree over proved numbers is written by `dana.runtime.numeric`:
        one guard per operand read instead of one per operator."""
        if self.type_of is not None:
            found = numeric_code(node, self.operand, self.type_of)
            if found is not None:
                self.operators = found[1]
                return found[0]
        try:
            return self._expr(node, bare=False)
        except NotPure:
            return None

    def _expr(self, node: A.Expr, bare: bool) -> str:
        kind = node.__class__
        if kind is A.LiteralExpr:
            text = literal_text(node.value)
            if text is None:
                raise NotPure
            return text
        if kind is A.NameExpr:
            return self._name(node, bare)
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise NotPure
        if kind is A.BinOpExpr:
            return self._binop(node)
        if kind is A.CompareExpr:
            if not _is_safe(node):
                raise NotPure
            if len(node.ops) == 1 and node.ops[0] in _SCANS:
                return self._contains(node)
            # an operand on the left of a comparison that walks it is tested (`_scalar`)
            parts = [self._operand(node.left, node.ops[0], against=node.comparators[0])]
            for i, (op, right) in enumerate(zip(node.ops, node.comparators)):
                after = node.ops[i + 1] if i + 1 < len(node.ops) else op
                bare = op in _REJECTS_UNSET and after in _REJECTS_UNSET
                last = i + 1 == len(node.ops)
                if op in _SCANS and right.__class__ is not A.LiteralExpr:
                    raise NotPure  # the ordinary closures measure what `in` scans
                parts += [op, self._expr(right, bare) if last else self._operand(
                    right, after, bare, node.comparators[i + 1])]
            return f"({' '.join(parts)})"
        if kind is A.UnaryOpExpr:
            inner = self._expr(node.operand, bare=False)
            return f"(not {inner})" if node.op == "not" else f"({node.op}{inner})"
        if kind is A.BoolOpExpr:
            return "(" + f" {node.op} ".join(self._expr(v, False) for v in node.values) + ")"
        if kind is A.IfExpr:
            return (f"({self._expr(node.then, False)} if {self._expr(node.cond, False)} "
                    f"else {self._expr(node.orelse, False)})")
        if kind is A.TupleExpr:
            return "(" + "".join(f"{self._expr(v, False)}, " for v in node.items) + ")"
        if kind is A.ListExpr:
            return "[" + "".join(f"{self._expr(v, False)}, " for v in node.items) + "]"
        if kind is A.IndexExpr:
            return self._index(node)
        if kind is A.CallExpr:
            return self._method_call(node)
        if kind is A.AttributeExpr and not node.name.startswith("_"):
            # a struct's field (what the ordinary attribute read does first)
            t = f"_t{self.temps}"
            self.temps += 1
            return (f"({t}.fields[{node.name!r}] if ({t} := {self._expr(node.obj, False)})"
                    f".__class__ is STRUCT else unset())")
        raise NotPure

    def _method_call(self, node: A.CallExpr) -> str:
        """`x.name(a, b)` of a builtin method called directly (`dana.runtime.receivers`):
        the receiver and each argument a parameter checks are tested for their classes."""
        func = node.func
        if func.__class__ is not A.AttributeExpr or self.type_of is None \
                or any(a.name is not None or a.star for a in node.args):
            raise NotPure
        found = direct_call(self.type_of(func.obj), func.name, len(node.args))
        if found is None:
            raise NotPure
        cls, accepted = found
        receiver = f"_t{self.temps}"
        self.temps += 1
        guards = [f"({receiver} := {self._expr(func.obj, False)}).__class__ is {cls.__name__}"]
        args = []
        for arg, classes in zip(node.args, accepted):
            text = self._expr(arg.value, False)
            if classes is None or (arg.value.__class__ is A.LiteralExpr
                                   and arg.value.value.__class__ in classes):
                args.append(text)  # any value, or a literal of a class it takes
                continue
            t = f"_t{self.temps}"
            self.temps += 1
            guards.append(f"({t} := {text}).__class__ in {_class_set(classes)}")
            args.append(t)
        return (f"({receiver}.{func.name}({', '.join(args)}) if {' and '.join(guards)} "
                f"else unset())")

    def _index(self, node: A.IndexExpr) -> str:
        """`xs[i]` of a list, dict, str or tuple with a scalar key (reading it changes
        nothing and walks nothing; any other takes the slow path); `xs[i:j:k]` of a
        list, str or tuple (a slice is never longer than what it slices). The object and
        key are read bare: an unassigned local (UNSET) is of none of the classes tested,
        so it takes the slow path too, which raises its error."""
        if node.index.__class__ is A.SliceExpr:
            return self._slice(node.obj, node.index)
        obj, key = self._expr(node.obj, True), self._expr(node.index, True)
        a, b = f"_t{self.temps}", f"_t{self.temps + 1}"
        self.temps += 2
        if node.index.__class__ is A.LiteralExpr:  # a literal key is a scalar
            return f"({a}[{key}] if ({a} := {obj}).__class__ in {_INDEXABLE} else unset())"
        return (f"({a}[{b}] if ({a} := {obj}).__class__ in {_INDEXABLE} and "
                f"({b} := {key}).__class__ in {_KEYS} else unset())")

    def _slice(self, obj: A.Expr, part: A.SliceExpr) -> str:
        """`obj[lower:upper:step]`: any bound that is not an int (or None) fails in
        Python as in the slow path, which raises the Dana error."""
        a = f"_t{self.temps}"
        self.temps += 1
        bounds = ":".join("" if p is None else self._expr(p, False)
                          for p in (part.lower, part.upper, part.step))
        return f"({a}[{bounds}] if ({a} := {self._expr(obj, False)}).__class__ in {_SLICEABLE} " \
               "else unset())"

    def _operand(self, node: A.Expr, op: str, bare: bool | None = None,
                 against: A.Expr | None = None) -> str:
        """The left operand of comparison `op` with `against`: tested for a container
        unless `against` is a scalar literal (comparing a container with a scalar walks
        nothing)."""
        bare = op in _REJECTS_UNSET if bare is None else bare
        if op in WALKING and not (against.__class__ is A.LiteralExpr
                                  and against.value.__class__ in _LITERAL_SCALARS):
            return self._scalar(node, bare)
        return self._expr(node, bare)

    def _scalar(self, node: A.Expr, bare: bool) -> str:
        """The left operand of a comparison: a container (whose comparison walks it, see
        `dana.runtime.shapes`) takes the slow path, which bounds the walk."""
        text = self._expr(node, bare)
        if node.__class__ is A.LiteralExpr:
            return text
        t = f"_t{self.temps}"
        self.temps += 1
        return f"({t} if ({t} := {text}).__class__ not in {_CONTAINERS} else unset())"

    def _contains(self, node: A.CompareExpr) -> str:
        """`a in b` (or `not in`): the slow path, which bounds the walk, takes a container
        `a`, and a list or tuple `b` of more than `operators.SCAN_FREE` items compared
        one by one with an `a` that is not a small scalar."""
        a, b = f"_t{self.temps}", f"_t{self.temps + 1}"
        self.temps += 2
        left, right = self._expr(node.left, False), self._expr(node.comparators[0], False)
        return (f"({a} {node.ops[0]} {b} if ({a} := {left}).__class__ not in {_CONTAINERS} "
                f"and ({b} := {right}) is not None and ({a}.__class__ is int and NEG_{_SMALL} "
                f"< {a} < {_SMALL} or {a}.__class__ in {_SCALARS} or {b}.__class__ not in "
                f"{_SCANNED} or len({b}) <= {SCAN_FREE}) else unset())")

    def _name(self, node: A.NameExpr, bare: bool) -> str:
        operand = self.operand(node)
        if operand.kind == "item":
            return operand.slot_text
        if operand.kind == "param" or (operand.kind == "local" and bare):
            return f"f[{operand.value}]"
        if operand.kind == "local":
            return f"(f[{operand.value}] if f[{operand.value}] is not UNSET else unset())"
        if operand.kind == "outer":  # a variable of an enclosing function
            if bare:
                return operand.slot_text
            t = f"_t{self.temps}"
            self.temps += 1
            return f"({t} if ({t} := {operand.slot_text}) is not UNSET else unset())"
        raise NotPure

    def _binop(self, node: A.BinOpExpr) -> str:
        op = node.op
        if op in _PLAIN:
            bare = op != "%"  # `"%s" % x` formats even an unassigned x
            left, right = self._expr(node.left, bare), self._expr(node.right, bare)
            if op in DIVISIONS and not _cheap_divisor(node.right):
                # two ints: a left one of 4096 bits or more takes the slow path, which
                # checks the division's cost (operators.check_division); so does a `%`
                # format, whose widths it checks (formatting.check_percent)
                a = f"_t{self.temps}"
                self.temps += 1
                other = "is float" if op == "%" else "is not int"
                return (f"({a} {op} {right} if ({a} := {left}).__class__ {other} or "
                        f"{a}.__class__ is int and NEG_{_BIG} < {a} < {_BIG} else unset())")
            if op == "%" and not _number(node.left, "+"):
                a = f"_t{self.temps}"
                self.temps += 1
                return f"({a} % {right} if ({a} := {left}).__class__ in {_NUMBERS} else unset())"
            return f"({left} {op} {right})"
        if op not in ("+", "*"):
            raise NotPure
        left, right = self._expr(node.left, True), self._expr(node.right, True)
        if _number(node.left, op) or _number(node.right, op):
            return f"({left} {op} {right})"
        a, b = f"_t{self.temps}", f"_t{self.temps + 1}"
        self.temps += 2
        # the operator only runs on numbers (for `*`, a left one of under 4096 bits: see
        # operators.check_size); anything else takes the slow path
        small = f" and NEG_{_BIG} < {a} < {_BIG}" if op == "*" else ""
        return (f"({a} {op} {b} if ({a} := {left}).__class__ in {_NUMBERS} and "
                f"({b} := {right}).__class__ in {_NUMBERS}{small} else unset())")


def _class_set(classes: frozenset) -> str:
    """The name under which generated code reads the set `classes` (one of NAMES)."""
    return "CLASSES_" + "_".join(sorted(c.__name__ for c in classes))


def _is_safe(node: A.CompareExpr) -> bool:
    """False for an `is` against a literal other than None/True/False: Python would print
    a SyntaxWarning compiling it, so the ordinary closures compare those."""
    if "is" not in node.ops and "is not" not in node.ops:
        return True
    return not any(n.__class__ is A.LiteralExpr and n.value is not None
                   and n.value.__class__ is not bool for n in (node.left, *node.comparators))


def _cheap_divisor(node: A.Expr) -> bool:
    """A literal right operand of `//` or `%` whose cost is never checked
    (`operators.cheap_divisor`)."""
    return node.__class__ is A.LiteralExpr and cheap_divisor(node.value)


def _number(node: A.Expr, op: str) -> bool:
    """A literal operand that keeps `op` from growing a sequence: any number for `+`
    (a sequence plus a number fails), a float for `*` (a sequence times a float fails)."""
    if node.__class__ is not A.LiteralExpr or node.value.__class__ is bool:
        return False
    return node.value.__class__ is float or (op == "+" and node.value.__class__ is int)


def _unset() -> None:
    raise LookupError("unassigned")  # only ever caught by the fused closure's `except`


_TEMPLATE = """
def make(slow):
    def fused(f):
        try:
            return {code}
        except Exception:
            return slow(f)
    return fused
"""
# (bounds are negated once here: `-BIG` in generated code would build a 4096-bit int
# at each evaluation)
NAMES = {"UNSET": UNSET, "unset": _unset, _NUMBERS: frozenset({int, float, bool}),
         _CONTAINERS: CONTAINERS, _BIG: UNCHECKED_FACTOR, "NEG_" + _BIG: -UNCHECKED_FACTOR,
         _SCANNED: SCANNED, _SCALARS: frozenset({bool, float, type(None)}),
         _SMALL: SMALL_INT, "NEG_" + _SMALL: -SMALL_INT,
         "STRUCT": StructInstance, _INDEXABLE: frozenset({list, dict, str, tuple}),
         _SLICEABLE: frozenset({list, str, tuple}),
         _KEYS: frozenset({int, str, float, bool})}
NAMES.update((_class_set(c), c) for c in class_sets())


def fused(code: str, slow: Closure) -> Closure:
    """The closure evaluating `code` (from `Fuser.code`), falling back to `slow`."""
    return _compiled(_TEMPLATE.format(code=code), "fused expression")(slow)


def evaluation(var: str, code: str | None, closure: str, indent: int) -> str:
    """Source lines (the first unindented, the others at `indent` spaces) that set `var`
    to an expression's value: its fused text `code` under `try`, the call of its closure
    (named `closure` in the generated code) when that fails or when `code` is None."""
    if code is None:
        return f"{var} = {closure}(f)"
    pad = " " * indent
    return (f"try:\n{pad}    {var} = {code}\n{pad}except Exception:\n"
            f"{pad}    {var} = {closure}(f)")


def compile_quietly(source: str, filename: str) -> CodeType:
    """The code of generated text `source`, without the host's SyntaxWarning: Python warns
    of an `is` against a literal it folded (`x is -1`, `x is ()`), but that is the Dana
    program's comparison, not the host's mistake."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return compile(source, filename, "exec")


@functools.lru_cache(maxsize=1024)  # bounded: each loop's source is its own
def _compiled(source: str, label: str) -> Callable:
    namespace = dict(NAMES)
    exec(compile_quietly(source, f"<dana {label}>"), namespace)
    return namespace["make"]


def closure(source: str, label: str, **args: Any) -> Closure:
    """`make(**args)` of the generated `source` (which defines `make` and may read
    `NAMES`), compiled once per distinct source."""
    return _compiled(source, label)(**args)
