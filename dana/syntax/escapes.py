"""Decode the backslash escapes of a string literal's body, as Python does.

Consumes: the text between a literal's quotes and its absolute offset in the source.
Produces: the decoded `str`, or `EscapeError` (message and the absolute offset of the
backslash) for an escape Python rejects with a SyntaxError: a truncated `\\x`, `\\u` or
`\\U`, a malformed or unknown `\\N{...}` name, a code point past U+10FFFF. An unknown
escape (`"\\d"`) keeps its backslash, as in Python (docs/language.md, "Strings").
"""

from __future__ import annotations

import re
import unicodedata

_SIMPLE = {"\n": "", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f",
           "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX = {"x": (2, r"\xXX"), "u": (4, r"\uXXXX"), "U": (8, r"\UXXXXXXXX")}
_OCTAL = re.compile(r"[0-7]{1,3}")
HINT = "to write a backslash, double it (`\\\\`) or use a raw string (`r\"C:\\Users\"`)"
_NAMED = re.compile(r"\{([^{}\n]+)\}")


class EscapeError(Exception):
    """An invalid escape: `offset` is the absolute position of its backslash."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def decode(body: str, offset: int) -> str:
    """`body` (a literal's text between its quotes, at absolute `offset`) with its escapes
    decoded. Raises EscapeError."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        slash = body.find("\\", i)
        if slash < 0 or slash == len(body) - 1:
            out.append(body[i:])
            break
        out.append(body[i:slash])
        text, i = _escape(body, slash, offset)
        out.append(text)
    return "".join(out)


def named_escape_end(body: str, slash: int) -> int | None:
    """End (exclusive) of a `\\N{...}` escape whose backslash is at `slash`, or None
    when there is none there (f-strings skip it so its `{` is not taken as a field)."""
    if not body.startswith("\\N{", slash):
        return None
    close = body.find("}", slash + 3)
    return None if close < 0 else close + 1


def _escape(body: str, slash: int, offset: int) -> tuple[str, int]:
    """The text of the escape at `slash` and the index just after it."""
    kind = body[slash + 1]
    if kind in _SIMPLE:
        return _SIMPLE[kind], slash + 2
    if kind == "\r":
        return "", slash + (3 if body.startswith("\n", slash + 2) else 2)
    octal = _OCTAL.match(body, slash + 1)
    if octal:
        return chr(int(octal.group(), 8)), octal.end()
    if kind in _HEX:
        return _hex(body, slash, offset)
    if kind == "N":
        return _named(body, slash, offset)
    return "\\" + kind, slash + 2


def _hex(body: str, slash: int, offset: int) -> tuple[str, int]:
    width, shape = _HEX[body[slash + 1]]
    digits = body[slash + 2:slash + 2 + width]
    if len(digits) < width or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise EscapeError(f"truncated {shape} escape", offset + slash)
    code = int(digits, 16)
    if code > 0x10FFFF:
        raise EscapeError(f"illegal Unicode character in {shape} escape", offset + slash)
    return chr(code), slash + 2 + width


def _named(body: str, slash: int, offset: int) -> tuple[str, int]:
    match = _NAMED.match(body, slash + 2)
    if match is None:
        raise EscapeError(r"malformed \N character escape", offset + slash)
    try:
        return unicodedata.lookup(match.group(1)), match.end()
    except KeyError:
        raise EscapeError(rf"unknown Unicode character name in \N{{{match.group(1)}}}",
                          offset + slash) from None
