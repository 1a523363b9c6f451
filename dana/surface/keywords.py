"""Dana's reserved words, literal constants and scope prefixes (docs/language.md).

Consumes: nothing (plain data).
Produces: `KEYWORDS` (every keyword with its kind and a one-line doc), `SOFT_KEYWORDS`,
`CONSTANTS` (every spelling of true, false and None -> its value), `ScopeName` /
`SCOPE_NAMES` (the prefixes of scoped names, `private:x`) and `SHARED_SCOPES`.
The grammar (grammar/dana.lark) spells the same words; tests/unit/test_surface_views.py
checks that it, the pygments lexer, the REPL, the language server and the VS Code grammar
all agree with these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KeywordKind = Literal["hard", "soft", "operator"]


@dataclass(frozen=True)
class Keyword:
    """A reserved word. `kind`: "hard" (never a name), "soft" (a keyword only where it
    opens its construct, a name elsewhere: `steps = 3` is fine) or "operator" (a word
    operator, as in Python)."""

    word: str
    kind: KeywordKind
    doc: str


_K = Keyword
KEYWORDS: tuple[Keyword, ...] = (
    _K("def", "hard", "Define a function (`def f(x: int) -> int:`)."),
    _K("sync", "soft", "`sync def` is accepted and means `def`."),
    _K("struct", "hard", "Declare a struct type with typed fields."),
    _K("interface", "hard", "Declare an interface: methods a struct must have."),
    _K("workflow", "soft", "Declare a workflow (`workflow name(params):`)."),
    _K("requires", "soft", "A workflow's block of required state keys."),
    _K("steps", "soft", "A workflow's block of steps."),
    _K("parallel", "soft", "Run the lines of a block (or a `for`'s iterations) as branches."),
    _K("if", "hard", "Run a block when a condition holds; also `a if c else b`."),
    _K("elif", "hard", "Another condition of an `if`."),
    _K("else", "hard", "The block run when no condition of an `if` held."),
    _K("for", "hard", "Loop over the items of a collection."),
    _K("while", "hard", "Loop while a condition holds."),
    _K("break", "hard", "Leave the innermost loop."),
    _K("continue", "hard", "Go on with the next iteration of the innermost loop."),
    _K("pass", "hard", "Do nothing (an empty block)."),
    _K("return", "hard", "Leave a function with a value."),
    _K("assert", "hard", "Fail with AssertionError when a condition is false."),
    _K("raise", "hard", "Raise an error."),
    _K("import", "hard", "Import a module (`import m`, `from m import x`)."),
    _K("from", "hard", "Import names from a module."),
    _K("as", "hard", "Rename an import, or bind a caught error (`handle E as e`)."),
    _K("try", "hard", "Run a block and catch its errors."),
    _K("handle", "soft", "Catch errors of a `try` (Dana's `except`)."),
    _K("except", "hard", "Catch errors of a `try` (as in Python)."),
    _K("finally", "hard", "A block run whether or not the `try` failed."),
    _K("lambda", "hard", "An anonymous function (`lambda x :: x + 1`)."),
    _K("nonlocal", "hard", "Assign a variable of the enclosing function."),
    _K("and", "operator", "True when both operands are."),
    _K("or", "operator", "True when either operand is."),
    _K("not", "operator", "Logical negation; also `not in`, `is not`."),
    _K("in", "operator", "Membership test; also the `for x in xs` separator."),
    _K("is", "operator", "Identity test (`x is None`)."),
)

SOFT_KEYWORDS: frozenset[str] = frozenset(k.word for k in KEYWORDS if k.kind == "soft")
"""Keywords only where they open their construct; names elsewhere."""

#: Every spelling of the literal constants -> its value.
CONSTANTS: dict[str, bool | None] = {
    "True": True, "true": True, "TRUE": True,
    "False": False, "false": False, "FALSE": False,
    "None": None, "none": None, "NONE": None, "null": None, "NULL": None,
}

ScopeName = Literal["private", "public", "system", "local"]
SCOPE_NAMES: tuple[ScopeName, ...] = ("private", "public", "system", "local")
"""Prefixes of scoped names (docs/language.md "Scoped variables"): `private:x` (this
program's state), `public:x` (shared data), `system:x` (settings), `local:x` (the same as
plain `x`)."""

SHARED_SCOPES: tuple[ScopeName, ...] = ("private", "public", "system")
"""The scopes that live interpreter-wide, shared by every function (all but `local`)."""
