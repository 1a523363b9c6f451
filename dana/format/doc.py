"""A small Wadler-style pretty printer: documents that lay themselves out within a width.

Consumes: documents built from `str`, lists (concatenation), `group`, `nest`, `LINE`,
`SOFT` and `if_break`.
Produces: `render(doc, width, indent) -> str`: each group is printed flat (its `LINE`s as
spaces, `SOFT`s as nothing) when it fits in what is left of the line, otherwise broken
(each `LINE`/`SOFT` of the group, not of its inner groups, starts a new line at the
group's nesting). Outer groups break first, so brackets open from the outside in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

INDENT = 4


@dataclass(frozen=True, slots=True)
class Group:
    """Flat if it fits (and `force` is false), else broken."""
    doc: "Doc"
    force: bool = False


@dataclass(frozen=True, slots=True)
class Nest:
    """`doc` with line starts one indentation level deeper."""
    doc: "Doc"


@dataclass(frozen=True, slots=True)
class Line:
    """A line break in a broken group; `flat` in a flat one (" " or "")."""
    flat: str


@dataclass(frozen=True, slots=True)
class IfBreak:
    """`broken` text in a broken group, `flat` text in a flat one (trailing commas)."""
    broken: str
    flat: str = ""


Doc = Union[str, list, Group, Nest, Line, IfBreak]
LINE, SOFT = Line(" "), Line("")


def group(*docs: Doc, force: bool = False) -> Group:
    return Group(list(docs), force)


def nest(*docs: Doc) -> Nest:
    return Nest(list(docs))


def join(sep: Doc, docs: list[Doc]) -> list:
    """`docs` with `sep` between each pair."""
    out: list = []
    for i, d in enumerate(docs):
        if i:
            out.append(sep)
        out.append(d)
    return out


def has_forced(doc: Doc) -> bool:
    """Whether a forced group sits anywhere in `doc` (it can never print flat)."""
    if isinstance(doc, list):
        return any(has_forced(d) for d in doc)
    if isinstance(doc, Group):
        return doc.force or has_forced(doc.doc)
    if isinstance(doc, Nest):
        return has_forced(doc.doc)
    return isinstance(doc, str) and "\n" in doc


def render(doc: Doc, width: int, indent: int = 0) -> str:
    """Lay `doc` out starting at column `indent` (lines continue at that indentation)."""
    out: list[str] = []
    col = indent
    stack: list[tuple[int, bool, Doc]] = [(indent, False, doc)]
    while stack:
        ind, flat, d = stack.pop()
        if isinstance(d, str):
            out.append(d)
            col = col + len(d) if "\n" not in d else len(d) - d.rfind("\n") - 1
        elif isinstance(d, list):
            stack.extend((ind, flat, x) for x in reversed(d))
        elif isinstance(d, Nest):
            stack.append((ind + INDENT, flat, d.doc))
        elif isinstance(d, Group):
            fits = flat or (not d.force and not has_forced(d.doc)
                            and _fits(width - col, d.doc, stack))
            stack.append((ind, fits, d.doc))
        elif isinstance(d, Line):
            if flat:
                out.append(d.flat)
                col += len(d.flat)
            else:
                out.append("\n" + " " * ind)
                col = ind
        elif isinstance(d, IfBreak):
            text = d.flat if flat else d.broken
            out.append(text)
            col += len(text)
        else:
            raise TypeError(f"not a document: {d!r}")
    return "".join(out)


def _fits(room: int, doc: Doc, rest: list[tuple[int, bool, Doc]]) -> bool:
    """Whether `doc` printed flat, plus what follows it up to the next possible line
    break, fits in `room` columns."""
    pending: list[tuple[bool, Doc]] = [(True, doc)]
    later = len(rest)
    while room >= 0:
        if not pending:
            if later == 0:
                return True
            later -= 1
            _, flat, d = rest[later]
            pending.append((flat, d))
            continue
        flat, d = pending.pop()
        if isinstance(d, str):
            room -= len(d)
        elif isinstance(d, list):
            pending.extend((flat, x) for x in reversed(d))
        elif isinstance(d, Nest):
            pending.append((flat, d.doc))
        elif isinstance(d, Group):
            pending.append((flat, d.doc))
        elif isinstance(d, Line):
            if not flat:
                return True
            room -= len(d.flat)
        elif isinstance(d, IfBreak):
            room -= len(d.flat if flat else d.broken)
    return False
