"""Expressions as source lines that a statement, or a function's entry, runs in its frame.

Consumes: an expression node and the expression compiler (its closures, operand readers
and fused texts, `dana.runtime.fused`).
Produces: `Emitter(compiler).emit(node) -> Emitted`, whose `lines(var, p)` is Python text
(at indent 0, reading the frame as `f`) that sets the local variable `var` to the node's
value, naming each outside value `p + name` (its value is `values[name]`).

What is emitted (docs/language.md "Functions", "Operators"):
- a pure subtree (frame slots, literals, operators: `fused.Fuser`): its text under `try`,
  and on any exception its closure, which raises the exact Dana error (evaluating a pure
  subtree twice is safe);
- a call with positional arguments only: the callee, then each argument (emitted in
  turn), then a direct entry into a Dana function taking that many arguments
  (`Function.enter`), a struct type constructing directly (errors as
  `protocol.host_call` makes them), a builtin with one argument of a class it has a
  direct function for through that (`Builtin.direct`), any other callee through
  `callsites.call_value`; `obj.name(...)`
  enters a struct's receiver method the same way (`Function.enter_method`), and calls a
  builtin type's method or any other attribute as `callsites.method_call` does;
- a binary operator or single comparison over emitted operands: two ints (or two
  floats) take Python's operator inline where it can neither fail nor grow a value past
  a limit; any other operands go through the operator's checked closure
  (`dana.runtime.operators`), reading them from two frame slots;
- `and` / `or` over emitted operands, short-circuiting as Python does;
- `obj.name`: a struct's field read from its fields dict, anything else through
  `protocol.get_attr`;
- anything else: its closure.
Nothing but a pure subtree is ever evaluated twice.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from dana.syntax import ast as A
from dana.runtime import callsites as C
from dana.runtime import fused as F
from dana.runtime import operators as O
from dana.runtime import protocol as P
from dana.runtime.functions import Function
from dana.runtime.values import UNSET, Builtin, StructInstance, StructType, layout
from dana.types.types import BOOL, FLOAT, INT, STR, ClassT, StructT

# Operators two ints (two floats) take inline: they cannot raise and the result cannot
# outgrow the operands by more than a bit.
_INT_OPS = frozenset({"+", "-", "&", "|", "^", "<", ">", "<=", ">=", "==", "!="})
_FLOAT_OPS = frozenset({"+", "-", "*", "<", ">", "<=", ">=", "==", "!="})
# Expressions whose closures never run Dana code (`Emitted.quiet`).
_QUIET_CLOSURES = (A.NameExpr, A.LiteralExpr)
# The class of the values of a struct field of each type that need no check.
_EXACT = {INT: int, FLOAT: float, STR: str, BOOL: bool}


# Marks in the raw text of an emitted expression (NUL never occurs in Python text, and a
# string literal's repr escapes it): where a Dana call passes its depth on, and where a
# call that cannot pass it publishes it first (see `settle`).
DEPTH_MARK, PUBLISH_MARK = "\0depth\0", "\0publish\0"


def settle(text: str, depth: bool, publish: bool) -> str:
    """Emitted raw `text` for where it runs: `depth` inside a function's entry (which
    has the Dana call depth in its local `depth`, and passes `depth + 1` to the
    functions it enters); `publish` inside an entry that does not keep the calling
    thread's depth (`ThreadState.depth`) current, so a call that cannot pass the depth
    on (`callsites.call_value`) sets it for its duration (`dana.runtime.entries`)."""
    return text.replace(DEPTH_MARK, "depth + 1" if depth else "").replace(
        PUBLISH_MARK, ", rt, depth" if publish else "")


class Emitted(NamedTuple):
    """An expression as text: `raw(var, p)` sets `var` (with the marks `settle`
    replaces); outside values are named `p + name` for each `name` in `values`. `quiet`:
    the text runs Dana code only through entries it passes the depth to, or through
    calls that publish it (PUBLISH_MARK)."""

    raw: Callable[[str, str], str]
    values: dict[str, Any]
    quiet: bool = False

    def lines(self, var: str, p: str) -> str:
        """The text setting `var`, for code outside a function's entry."""
        return settle(self.raw(var, p), False, False)

    def names(self, prefix: str) -> dict[str, Any]:
        """The outside values under their names in the text for `prefix`."""
        return {prefix + name: value for name, value in self.values.items()}


def nested(children: dict[str, Emitted], own: dict[str, Any]) -> dict[str, Any]:
    """The values of an emitted node: its own, and each child's under `key + '_'`."""
    values = dict(own)
    for key, child in children.items():
        values.update(child.names(key + "_"))
    return values


def _quiet(children: Any) -> bool:
    """Whether emitted `children` (a dict or a list of them) are all quiet."""
    return all(c.quiet for c in (children.values() if isinstance(children, dict) else children))


class Emitter:
    """Emits expressions for one compiler (see the module doc)."""

    def __init__(self, compiler: Any) -> None:
        self.compiler = compiler

    def emit(self, node: A.Expr) -> Emitted:
        code = F.Fuser(self.compiler.operand, self.compiler.type_of).code(node)
        if code is not None:
            return self._pure(node, code)
        kind = node.__class__
        if kind is A.CallExpr and all(a.name is None and a.star == 0 for a in node.args):
            func = node.func
            if func.__class__ is A.AttributeExpr:
                if not func.name.startswith("_"):
                    return self._method(node, func)
            else:
                return self._call(node)
        if kind is A.BinOpExpr:
            return self._operator(node, node.op, node.left, node.right, False)
        if kind is A.CompareExpr and len(node.ops) == 1:
            return self._operator(node, node.ops[0], node.left, node.comparators[0], True)
        if kind is A.BoolOpExpr:
            return self._boolean(node)
        if kind is A.AttributeExpr and not node.name.startswith("_"):
            return self._attribute(node)
        return self._closure(node)

    def _pure(self, node: A.Expr, code: str) -> Emitted:
        closure = self.compiler.expr(node)
        return Emitted(lambda var, p: F.evaluation(var, code, p + "e", 0), {"e": closure},
                       True)

    def _closure(self, node: A.Expr) -> Emitted:
        closure = self.compiler.expr(node)
        return Emitted(lambda var, p: f"{var} = {p}e(f)", {"e": closure},
                       node.__class__ in _QUIET_CLOSURES)

    def _call(self, node: A.CallExpr) -> Emitted:
        """`func(a, b, ...)`: see the module doc."""
        glob = self.compiler.global_name(node.func)
        if glob is not None:
            callee = None
            own = {"get": glob[1].get, "name": glob[0], "e": self.compiler.expr(node.func),
                   "builtin": glob[2].get, "UNSET": UNSET}
        else:
            callee = self.emit(node.func)
            own = {}
        args = self._arguments([a.value for a in node.args])
        own.update({"span": node.span, "Function": Function, "call_value": C.call_value,
                    "StructType": StructType, "Builtin": Builtin, "host_failure": P.host_failure})
        children = {"a": args}
        if callee is not None:
            children["c"] = callee
        count = len(node.args)
        built = self._construction(node.func, count)
        if built is not None:
            own.update(StructInstance=StructInstance, layout=built, new=object.__new__)

        def lines(var: str, p: str) -> str:
            fn = f"{var}_f"
            if callee is None:
                out = [f"{fn} = {p}get({p}name, {p}UNSET)", f"if {fn} is {p}UNSET:",
                       f"    {fn} = {p}builtin({p}name, {p}UNSET)",
                       f"    if {fn} is {p}UNSET:", f"        {fn} = {p}e(f)"]
            else:
                out = [callee.raw(fn, f"{p}c_")]
            out.append(args.raw(var, f"{p}a_"))
            values = "".join(f"{var}_{k}, " for k in range(count))
            if built is not None:  # the instance made as StructType.__call__ makes it
                classes = "".join(f" and {var}_{k}.__class__ is {cls.__name__}"
                                  for k, cls in enumerate(built[1]))
                fields = ", ".join(f"{name!r}: {var}_{k}" for k, name in enumerate(built[0]))
                out += [f"if {fn}.__class__ is {p}StructType and {fn}.layout is "
                        f"{p}layout{classes}:",
                        f"    {var} = {p}new({p}StructInstance)",
                        f"    {var}.struct = {fn}",
                        f"    {var}.fields = {{{fields}}}",
                        f"elif {fn}.__class__ is {p}Function and {fn}.arity == {count}:"]
            else:
                out.append(f"if {fn}.__class__ is {p}Function and {fn}.arity == {count}:")
            # `(e := fn.enter)(...)`: CPython 3.11 specialises the attribute read, not a
            # method call of an instance's attribute
            out += [f"    {var} = ({fn}e := {fn}.enter)({p}span, {values}{DEPTH_MARK})",
                    f"elif {fn}.__class__ is {p}StructType:",
                    "    try:",
                    f"        {var} = {fn}({values})",
                    "    except Exception as exc:",
                    f"        raise {p}host_failure(exc, {p}span) from None"]
            if count == 1:
                out += [f"elif {fn}.__class__ is {p}Builtin and ({var}_d := {fn}.direct.get("
                        f"{var}_0.__class__)) is not None:",
                        "    try:",
                        f"        {var} = {var}_d({var}_0)",
                        "    except Exception as exc:",
                        f"        raise {p}host_failure(exc, {p}span) from None"]
            out += ["else:",
                    f"    {var} = {p}call_value({fn}, ({values}), {p}span{PUBLISH_MARK})"]
            return "\n".join(out)
        return Emitted(lines, nested(children, own), _quiet(children))

    def _arguments(self, nodes: list[A.Expr]) -> Emitted:
        """A call's arguments, evaluated in order: `lines(var, p)` sets `var_0`, `var_1`,
        .... Two or more pure arguments are one fused tuple (with the checker's types,
        `dana.runtime.numeric`, each operand is read and tested once for all of them),
        and each argument's closure runs when its text fails."""
        code = None
        if len(nodes) > 1:
            code = F.Fuser(self.compiler.operand, self.compiler.type_of).code(
                A.TupleExpr(nodes[0].span, tuple(nodes)))
        if code is not None:
            closures = {f"e{k}": self.compiler.expr(n) for k, n in enumerate(nodes)}

            def fused(var: str, p: str) -> str:
                names = "".join(f"{var}_{k}, " for k in range(len(nodes)))
                slow = "".join(f"\n    {var}_{k} = {p}e{k}(f)" for k in range(len(nodes)))
                return f"try:\n    {names}= {code}\nexcept Exception:{slow}"
            return Emitted(fused, closures, True)
        parts = [self.emit(n) for n in nodes]

        def lines(var: str, p: str) -> str:
            return "\n".join(a.raw(f"{var}_{k}", f"{p}{k}_") for k, a in enumerate(parts))
        return Emitted(lines, nested({str(k): a for k, a in enumerate(parts)}, {}), _quiet(parts))

    def _construction(self, func: A.Expr, count: int) -> tuple | None:
        """The `values.layout` of the struct type the checker proved `func` to be, when
        each of its `count` fields has an exact class: a call of a struct type of that
        layout with arguments of those classes constructs the instance inline, as
        `StructType.__call__` would (checked at run time: the checker may be wrong)."""
        t = self.compiler.type_of(func) if self.compiler.type_of is not None else None
        if not isinstance(t, ClassT) or not isinstance(t.of, StructT) \
                or len(t.of.fields) != count:
            return None
        exacts = tuple(_EXACT.get(f.type) for f in t.of.fields.values())
        if None in exacts:
            return None
        return layout(tuple(t.of.fields), exacts)

    def _method(self, node: A.CallExpr, func: A.AttributeExpr) -> Emitted:
        """`obj.name(a, b, ...)`, as `callsites.method_call` does it: the method is looked
        up (a struct's receiver method, a builtin type's method, else the attribute's
        value) before the arguments are evaluated; a receiver method is entered directly."""
        receiver = self.emit(func.obj)
        args = self._arguments([a.value for a in node.args])
        own = {"span": node.span, "attr_span": func.span, "name": func.name,
               "Function": Function, "StructInstance": StructInstance,
               "direct": P.types_with_method(func.name), "get_attr": P.get_attr,
               "call_method": P.call_method, "call": P.call, "NO_KEYWORDS": C.NO_KEYWORDS}
        children = {"a": args, "o": receiver}
        count, name = len(node.args), func.name

        def lines(var: str, p: str) -> str:
            obj, method, how = f"{var}_o", f"{var}_m", f"{var}_k"
            values = "".join(f"{var}_{k}, " for k in range(count))
            out = [receiver.raw(obj, f"{p}o_"),
                   f"if {obj}.__class__ is {p}StructInstance and {name!r} not in {obj}.fields "
                   f"and ({method} := {obj}.struct.methods.get({name!r})).__class__ is "
                   f"{p}Function:",
                   f"    {how} = 1",
                   f"elif {obj}.__class__ in {p}direct:",
                   f"    {how} = 2",
                   "else:",
                   f"    {method} = {p}get_attr({obj}, {p}name, {p}attr_span)",
                   f"    {how} = 0"]
            out += [args.raw(var, f"{p}a_"), f"if {how} == 1:",
                    f"    if {method}.arity == {count + 1}:",
                    f"        {var} = ({method}e := {method}.enter_method)({p}span, {obj}, "
                    f"{values}{DEPTH_MARK})",
                    "    else:",
                    f"        {var} = {method}.call_method(({obj}, {values}), {p}span)",
                    f"elif {how} == 2:",
                    f"    {var} = {p}call_method({obj}, {p}name, ({values}), {p}span)",
                    "else:",
                    f"    {var} = {p}call({method}, ({values}), {p}NO_KEYWORDS, {p}span)"]
            return "\n".join(out)
        return Emitted(lines, nested(children, own))

    def _operator(self, node: A.Expr, sym: str, left: A.Expr, right: A.Expr,
                  comparison: bool) -> Emitted:
        """`left sym right` over emitted operands (see the module doc)."""
        a, b = self.emit(left), self.emit(right)
        slots = (self.compiler.scope.temp(), self.compiler.scope.temp())
        operands = (O.Operand("param", slots[0]), O.Operand("param", slots[1]))
        rt = self.compiler.rt
        if comparison:
            checked = O.compare(sym, *operands, node.span, rt.limits)
        else:
            checked = O.binary(sym, *operands, node.span, rt.limits)
        fast = [(t, sym) for t, ops in (("int", _INT_OPS), ("float", _FLOAT_OPS))
                if sym in ops]

        def lines(var: str, p: str) -> str:
            l, r = f"{var}_l", f"{var}_r"
            out = [a.raw(l, f"{p}l_"), b.raw(r, f"{p}r_")]
            for i, (t, op) in enumerate(fast):
                out += [f"{'if' if i == 0 else 'elif'} {l}.__class__ is {t} and "
                        f"{r}.__class__ is {t}:", f"    {var} = {l} {op} {r}"]
            general = [f"f[{slots[0]}] = {l}", f"f[{slots[1]}] = {r}",
                       f"{var} = {p}op(f)"]
            if fast:
                out += ["else:"] + ["    " + g for g in general]
            else:
                out += general
            return "\n".join(out)
        return Emitted(lines, nested({"l": a, "r": b}, {"op": checked}), a.quiet and b.quiet)

    def _attribute(self, node: A.AttributeExpr) -> Emitted:
        """`obj.name`: a struct's field read from its fields, anything else through
        `protocol.get_attr` (as `ExpressionCompiler.c_attribute` does)."""
        obj = self.emit(node.obj)
        own = {"span": node.span, "name": node.name, "get_attr": P.get_attr,
               "StructInstance": StructInstance, "UNSET": UNSET}

        def lines(var: str, p: str) -> str:
            o = f"{var}_o"
            return "\n".join([
                obj.raw(o, f"{p}o_"),
                f"{var} = {o}.fields.get({p}name, {p}UNSET) if {o}.__class__ is "
                f"{p}StructInstance else {p}UNSET",
                f"if {var} is {p}UNSET:",
                f"    {var} = {p}get_attr({o}, {p}name, {p}span)"])
        return Emitted(lines, nested({"o": obj}, own), obj.quiet)

    def _boolean(self, node: A.BoolOpExpr) -> Emitted:
        """`a and b and ...` / `a or b or ...`: Python's values and short circuit."""
        parts = [self.emit(v) for v in node.values]
        test = "if" if node.op == "and" else "if not"

        def lines(var: str, p: str) -> str:
            out, pad = [], ""
            for k, part in enumerate(parts):
                out += [pad + line for line in part.raw(var, f"{p}v{k}_").splitlines()]
                if k + 1 < len(parts):
                    out.append(f"{pad}{test} {var}:")
                    pad += "    "
            return "\n".join(out)
        return Emitted(lines, nested({f"v{k}": v for k, v in enumerate(parts)}, {}),
                       _quiet(parts))
