"""Python habits that do not parse as Dana, recognised where the parser stopped, so that
the syntax error names the habit and says what Dana writes instead (docs/language.md,
"Differences from Python").

Consumes: the text being parsed and the offset of the token the parser rejected.
Produces: `Hint` (its `Msg`, the offsets it points at, a one-line note) or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dana.messages import Msg
from dana.messages import syntax as S


@dataclass(frozen=True)
class Hint:
    """What to say instead of "unexpected ...": `msg` at `start:end`, and `note`."""

    msg: Msg
    start: int
    end: int
    note: str


# A statement starting with one of these words is a Python construct Dana does not have.
_STATEMENTS = {"class": (S.NO_CLASSES, S.NOTE_NO_CLASSES), "with": (S.NO_WITH, S.NOTE_NO_WITH)}
_FIRST_WORD = re.compile(r"[ \t]*([^\W\d]\w*)")
_LAMBDA = re.compile(r"\blambda\b")


def python_habit(text: str, pos: int) -> Hint | None:
    """The Python habit that made the parser stop at offset `pos` of `text`, if any."""
    return _statement_habit(text, pos) or _lambda_colon(text, pos)


def _statement_habit(text: str, pos: int) -> Hint | None:
    line = text.rfind("\n", 0, pos) + 1
    word = _FIRST_WORD.match(text, line)
    if word is None or word.group(1) not in _STATEMENTS or word.end() > pos:
        return None
    message, note = _STATEMENTS[word.group(1)]
    return Hint(message, word.start(1), word.end(1), note)


def _lambda_colon(text: str, pos: int) -> Hint | None:
    """`lambda x: x * 2`: the last `lambda` before `pos` on its line, followed by a single
    `:` (which Dana reads as a parameter's type) and no `::` up to `pos`."""
    line = text.rfind("\n", 0, pos) + 1
    found = list(_LAMBDA.finditer(text, line, pos))
    if not found:
        return None
    after = found[-1].end()
    colon = text.find(":", after, pos)
    if colon < 0 or "::" in text[after:pos + 2]:
        return None
    return Hint(S.LAMBDA_COLON, colon, colon + 1, S.NOTE_LAMBDA_COLON)
