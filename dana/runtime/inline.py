"""Statements that evaluate their expressions inline: `if`, `return`, assignment (loops:
`dana.runtime.loops`).

Consumes: for each expression of the statement, its fused text (`dana.runtime.fused`; None
when it is not pure) and its compiled closure; the statement's other closures.
Produces: statement closures `fn(frame) -> signal` (docs/language.md "Statements"),
compiled from one source template per shape of statement, in which a pure expression is
evaluated in the statement's own Python frame and any other through its closure. The
closure also serves a pure expression whose text raises: it raises the exact Dana error.
`if cond: return value`, `return value`, `name = value` and expression statements take
their expressions as emitted text (`dana.runtime.emit`: calls too) and are `Snippet`s
first: their closures carry them (`fn.snippet`), and a function's entry embeds them in its
own frame (`dana.runtime.entries`).
"""

from __future__ import annotations

import textwrap
from typing import Any, Callable, NamedTuple

from dana.runtime.emit import Emitted, settle
from dana.runtime.functions import RETURN
from dana.runtime.fused import closure, evaluation
from dana.runtime.rtypes import RuntimeType, unchecked_test

Closure = Callable[[list], Any]


def if_return(cond: Emitted, value: Emitted, returns: RuntimeType | None,
              check: Callable[[Any], Any] | None) -> Closure:
    """`if cond: return value`; `check(v)` (None: no return type) checks a value that
    the declared type `returns` does not pass unchecked (`rtypes.unchecked_test`)."""
    def lines(p: str) -> str:
        body = value.raw("v", p + "v_") + "\n" + _checked("v", p + "r_", returns, check)[0]
        return (cond.raw("c", p + "c_") + "\nif c:\n"
                + textwrap.indent(body + "@return v", "    "))
    return statement(Snippet(lines, {**cond.names("c_"), **value.names("v_"),
                                     **_checked("v", "r_", returns, check)[1]},
                             cond.quiet and value.quiet), "if return")


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


def assign_local(slot: int, value: Emitted) -> Closure:
    """`name = value` for a local variable in frame slot `slot`."""
    def lines(p: str) -> str:
        return value.raw("v", p + "v_") + f"\nf[{slot}] = v"
    return statement(Snippet(lines, value.names("v_"), value.quiet), "assignment")


def evaluate(value: Emitted) -> Closure:
    """An expression statement: `value` evaluated, its result dropped."""
    return statement(Snippet(lambda p: value.raw("v", p + "v_"), value.names("v_"),
                             value.quiet), "expression")


def return_(value: Emitted, returns: RuntimeType | None,
            check: Callable[[Any], Any] | None) -> Closure:
    """`return value` (the value goes to frame[1]); `check(v)` as for `if_return`."""
    return statement(returning(value, returns, check), "return")


def returning(value: Emitted, returns: RuntimeType | None,
              check: Callable[[Any], Any] | None) -> Snippet:
    """The snippet of `return value` (see `return_`)."""
    def lines(p: str) -> str:
        return (value.raw("v", p + "v_") + "\n" + _checked("v", p + "r_", returns, check)[0]
                + "@return v")
    return Snippet(lines, {**value.names("v_"), **_checked("v", "r_", returns, check)[1]},
                   value.quiet)


def _checked(var: str, p: str, returns: RuntimeType | None,
             check: Callable[[Any], Any] | None) -> tuple[str, dict[str, Any]]:
    """The lines checking a returned value in `var` (none without a return type), naming
    each value `p + name`, and those values under their names."""
    if check is None or returns is None:
        return "", {}
    test, values = unchecked_test(returns, var, p)
    return (f"if {test}:\n    {var} = {p}check({var})\n",
            {p + name: value for name, value in {**values, "check": check}.items()})


class Snippet(NamedTuple):
    """A statement as source text, to compile as a closure (`statement`) or to embed in
    a function's entry (`dana.runtime.entries`). `lines(p)` is the text at indent 0,
    reading the frame as `f`, naming each outside value `p + name` (its value is
    `values[name]`); a line `@return EXPR` returns EXPR from the Dana function. `quiet`:
    its expressions are (`Emitted.quiet`)."""

    lines: Callable[[str], str]
    values: dict[str, Any]
    quiet: bool = False

    def render(self, prefix: str, returns: Callable[[str], str], indent: int,
               depth: bool = False, publish: bool = False) -> str:
        """The text with `@return EXPR` lines replaced by `returns(EXPR)` (lines at
        indent 0) and every line indented by `indent` spaces; `depth` and `publish`: in
        a function's entry (`emit.settle`)."""
        out = []
        for line in settle(self.lines(prefix), depth, publish).splitlines():
            text = line.lstrip()
            if text.startswith("@return "):
                pad = line[:len(line) - len(text)]
                out.extend(pad + r for r in returns(text[len("@return "):]).splitlines())
            elif text:
                out.append(line)
        return textwrap.indent("\n".join(out), " " * indent)

    def names(self, prefix: str) -> dict[str, Any]:
        """The outside values under their names in the text for `prefix`."""
        return {prefix + name: value for name, value in self.values.items()}


_STATEMENT = """
def make({names}):
    def statement(f):
{body}
        return None
    return statement
"""


def statement(snippet: Snippet, label: str) -> Closure:
    """The statement closure `fn(frame) -> signal` of `snippet` (a `return` leaves the
    value in frame[1] and signals RETURN); `fn.snippet` is the snippet."""
    names = snippet.names("")
    source = _STATEMENT.format(names=", ".join(names), body=snippet.render(
        "", lambda v: f"f[1] = {v}\nreturn {RETURN}", 8))
    fn = closure(source, label, **names)
    fn.snippet = snippet
    return fn
