"""Split the text of an f-string literal into literal pieces and `{expr!conv:spec}` fields.

Consumes: an FSTRING token's text (with prefix and quotes).
Produces: `FPiece` lists with absolute source offsets (or FStringError / EscapeError); the builder parses each field's
expression with the same grammar (start symbol `expr_input`). Format-spec syntax and
`{{`/`}}` escapes follow Python's f-strings (PEP 498).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dana.syntax import escapes

# `{private:x}` is the scoped variable `private:x` (as the lexer's SCOPED_NAME reads it),
# not the expression `private` with format spec `x`.
_SCOPE_BEFORE = re.compile(r"(?<![\w.])(?:private|public|local|system)$")
_NAME_START = re.compile(r"[^\W\d]")


class FStringError(Exception):
    """A malformed f-string: `offset` is where the problem is (absolute)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class FField:
    """One replacement field: expression text at absolute `expr_offset`."""
    expr_text: str
    expr_offset: int
    conversion: str | None
    spec: list["FPiece"] | None
    start: int
    end: int
    label: str | None = None   # `{x=}`: the text shown before the value (`x=`)


FPiece = str | FField


def split(token_text: str, offset: int) -> list[FPiece]:
    """Pieces of an f-string token starting at absolute `offset`. Raises FStringError."""
    prefix_len = 0
    while token_text[prefix_len] in "fFrR":
        prefix_len += 1
    raw = "r" in token_text[:prefix_len].lower()
    quote = token_text[prefix_len:prefix_len + 3]
    if quote not in ('"""', "'''"):
        quote = quote[0]
    start = prefix_len + len(quote)
    body = token_text[start:len(token_text) - len(quote)]
    return _scan(body, offset + start, quote, raw)


def _scan(body: str, base: int, quote: str, raw: bool) -> list[FPiece]:
    pieces: list[FPiece] = []
    literal: list[str] = []
    seg_start = i = 0

    def flush(end: int) -> None:
        if end > seg_start:
            literal.append(_decode(body[seg_start:end], base + seg_start, raw))

    while i < len(body):
        ch = body[i]
        if ch == "\\" and not raw:  # `\N{...}` is one escape, not a field
            i = escapes.named_escape_end(body, i) or i + (1 if body[i + 1:i + 2] in "{}" else 2)
        elif ch in "{}" and body.startswith(ch * 2, i):
            flush(i)
            literal.append(ch)
            i += 2
            seg_start = i
        elif ch == "{":
            flush(i)
            if literal:
                pieces.append("".join(literal))
                literal = []
            close = _matching_brace(body, i, base)
            field = _self_documenting(_field(body[i + 1:close], base + i + 1, base + i,
                                             base + close + 1, quote, raw))
            if field.label is not None:
                pieces.append(field.label)
            pieces.append(field)
            i = seg_start = close + 1
        elif ch == "}":
            raise FStringError("single '}' is not allowed in an f-string", base + i)
        else:
            i += 1
    flush(len(body))
    if literal:
        pieces.append("".join(literal))
    return pieces


def _decode(text: str, offset: int, raw: bool) -> str:
    """A literal piece's value; raises `escapes.EscapeError` for an invalid escape."""
    return text if raw else escapes.decode(text, offset)


def _matching_brace(body: str, open_at: int, base: int) -> int:
    depth, i, in_str = 0, open_at, ""
    while i < len(body):
        ch = body[i]
        if in_str:
            if ch == in_str:
                in_str = ""
        elif ch in "'\"":
            in_str = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise FStringError("f-string: expecting '}'", base + open_at)


def _field(text: str, expr_offset: int, start: int, end: int, quote: str, raw: bool) -> FField:
    depth, in_str = 0, ""
    for i, ch in enumerate(text):
        if in_str:
            in_str = "" if ch == in_str else in_str
        elif ch in "'\"":
            in_str = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "!" and text[i + 1:i + 2] != "=":
            conv, _, spec = text[i + 1:].partition(":")
            if conv not in ("r", "s", "a"):
                raise FStringError("f-string: invalid conversion character (expected 'r', 's' or 'a')",
                                   expr_offset + i)
            spec_pieces = _scan(spec, expr_offset + i + 3, quote, raw) if ":" in text[i:] else None
            return FField(text[:i], expr_offset, conv, spec_pieces, start, end)
        elif depth == 0 and ch == ":" and text[i + 1:i + 2] != ":" \
                and not _scoped_colon(text, i):
            return FField(text[:i], expr_offset, None, _scan(text[i + 1:], expr_offset + i + 1,
                                                             quote, raw), start, end)
    if not text.strip():
        raise FStringError("f-string: empty expression not allowed", start)
    return FField(text, expr_offset, None, None, start, end)


def _self_documenting(field: FField) -> FField:
    """`{expr=}` (Python 3.8): show the expression text, `=` and any spaces around it,
    then the value: its repr, unless a conversion or a format spec says otherwise."""
    text = field.expr_text.rstrip()
    if not text.endswith("=") or text[-2:-1] in ("=", "!", "<", ">"):
        return field
    expr = text[:-1]
    if not expr.strip():
        raise FStringError("f-string: empty expression not allowed", field.start)
    conversion = field.conversion or ("r" if field.spec is None else None)
    return FField(expr, field.expr_offset, conversion, field.spec, field.start, field.end,
                  label=field.expr_text)


def _scoped_colon(text: str, i: int) -> bool:
    """True when the ':' at `i` joins a scope prefix to a name (`private:count`)."""
    return bool(_SCOPE_BEFORE.search(text, 0, i)) and bool(_NAME_START.match(text, i + 1))
