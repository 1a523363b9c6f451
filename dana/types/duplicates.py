"""Two top-level definitions of one name in one file (docs/errors.md, E0210).

Consumes: a module's top-level statements. Produces: `duplicate_definitions(body)`, one
`Duplicate(name, first, second)` per later definition of a name a function (or step),
struct, interface or workflow of the same file already took, and `duplicate_message(dup)`:
the `Msg` and its fields, so the checker and the run (`dana run --no-check`, which refuses
the module before it starts) say the same thing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dana.messages import Msg
from dana.messages import checks as M
from dana.source import Span
from dana.syntax import ast as A

_KINDS: dict[type, str] = {A.FuncDecl: "function", A.StructDecl: "struct",
                           A.InterfaceDecl: "interface", A.WorkflowDecl: "workflow",
                           A.WorkflowComposeDecl: "workflow"}


class Duplicate(NamedTuple):
    """A name defined at `first` and again at `second` (declaration nodes)."""

    name: str
    first: Any
    second: Any

    @property
    def span(self) -> Span:
        """Where the second definition names it."""
        return getattr(self.second, "name_span", None) or self.second.span


def duplicate_definitions(body: tuple) -> list[Duplicate]:
    """The later definitions of names defined earlier in `body` (methods, which belong to
    their receiver's type, are left out)."""
    seen: dict[str, Any] = {}
    found = []
    for stmt in body:
        if stmt.__class__ not in _KINDS or getattr(stmt, "receiver", None) is not None:
            continue
        if stmt.name in seen:
            found.append(Duplicate(stmt.name, seen[stmt.name], stmt))
        else:
            seen[stmt.name] = stmt
    return found


def duplicate_message(dup: Duplicate) -> tuple[Msg, dict[str, object]]:
    """The diagnostic of `dup`: DUPLICATE_DEFINITION and its fields."""
    return M.DUPLICATE_DEFINITION, {
        "name": dup.name, "first": _KINDS[dup.first.__class__], "first_line": dup.first.span.line,
        "second": _KINDS[dup.second.__class__], "second_line": dup.span.line}
