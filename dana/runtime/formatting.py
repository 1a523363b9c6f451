"""Formatting values with a format spec, safely (docs/language.md, "Format strings").

Consumes: a value, a format spec (`>10`, `.2f`) or a `str.format` template, the size
limit of the runtime.
Produces: `format_value(value, spec, limit)` — Python's `format(value, spec)` after
checking that no width or precision in `spec` exceeds `limit` characters (a spec such
as `>10000000000` would build a 10 GB string) — and `format_template(template, limit,
*args, **kwargs)`, the `str.format` method of Dana strings, whose field names may name
only an argument (`{0}`, `{name}`), never an attribute or index of it (`{0.__class__}`,
`{0[0]}`): that would reach host objects. A spec is applied, never spliced into a
template. An int of more than MAX_INT_DIGITS digits (Python's limit) has no text:
`int_text_limit`. `check_percent(template, args, limit, span)` checks a `%` format
(`"%05d" % n`) the same way, its `*` widths read from `args`. Raises `LimitError` or
`DanaRuntimeError("ValueError")`.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
import string
from typing import Any

from dana.errors import LimitError, runtime_error
from dana.messages import runtime as R
from dana.runtime.shapes import checked_text
from dana.source import Span
from dana.syntax.layout import MAX_INT_DIGITS

_NUMBER = re.compile(r"\d+")

DEFAULT_MAX_SIZE = 50_000_000
"""Characters or items one created string or collection may hold by default
(`Limits.max_size`)."""

SIZE_BUDGET: ContextVar[int] = ContextVar("dana_size_budget", default=DEFAULT_MAX_SIZE)
"""`Limits.max_size` of the run in progress, for code that has no runtime at hand (the
methods of builtin types, such as `str.format`; an error's message): every entry into
Dana code (a module's run, a workflow run, a parallel branch) sets it."""


def format_value(value: Any, spec: str, limit: int) -> str:
    """`format(value, spec)`; raises LimitError when a width or precision in `spec` is
    over `limit`, or when the value's text is unbounded (`shapes.checked_text`), both
    checked before anything is built."""
    for digits in _NUMBER.findall(spec):
        _check_width(spec, digits, limit, None)
    try:
        if not spec:
            return checked_text(value, limit)
        return format(value, spec)
    except ValueError as exc:
        if is_int_text_limit(exc):
            raise int_text_limit(None) from None
        raise


def _check_width(spec: str, digits: str, limit: int, span: Span | None) -> None:
    """LimitError when the width or precision `digits` of `spec` is over `limit`."""
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise runtime_error(R.TOO_WIDE_FORMAT, span, spec=spec, digits=digits, limit=limit)


_CONVERSION = re.compile(r"[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?")


def check_percent(template: str | bytes, args: Any, limit: int, span: Span | None) -> None:
    """Before `template % args` (printf-style formatting): LimitError when a width or
    precision of a conversion (`%0600000000d`, `%.9999999999f`, or a `*` one taken from
    the tuple `args`) is over `limit` characters, the check `format_value` makes; or when
    the text would be longer than `limit` characters (`"%s%s" % (b, b)`): the template,
    each conversion's width, and the text of each `%s`, `%r` or `%a` value (cut to its
    precision), measured before anything is built."""
    text = template.decode("latin-1") if template.__class__ is bytes else template
    size = len(text)  # at least: the literal text, and each conversion's text
    taken = 0  # items of `args` the conversions so far consume
    at = text.find("%")
    while at != -1:
        start, at, key = at, at + 1, None
        if text.startswith("(", at):  # a mapping key: parentheses nest
            depth = 0
            for at in range(at, len(text)):
                depth += 1 if text[at] == "(" else -1 if text[at] == ")" else 0
                if depth == 0:
                    break
            key = text[start + 2:at]
            at += 1
        found = _CONVERSION.match(text, at)
        at = found.end()
        spec = text[start:at + 1]
        sizes = []
        for part in found.groups():
            if part == "*":
                width = args[taken] if args.__class__ is tuple and taken < len(args) else 0
                taken += 1
                width = abs(width) if width.__class__ is int else 0
                _check_width(spec, str(width), limit, span)
                sizes.append(width)
            elif part:
                _check_width(spec, part, limit, span)
                sizes.append(int(part))
            else:
                sizes.append(None)
        size -= len(spec)  # the conversion writes its text instead of its spec
        if text.startswith("%", at):
            size += 1
        else:
            size += _converted_size(_argument(args, key, taken), text[at:at + 1], sizes,
                                    limit)
            taken += 1
        if size > limit:
            raise runtime_error(R.TOO_LONG_TEXT, span, size=size, limit=limit)
        at = text.find("%", at + 1)


def _argument(args: Any, key: str | None, index: int) -> Any:
    """The value a conversion formats: `args[key]`, the tuple's `index`th item, or `args`
    itself (None when there is none: Python then refuses the format)."""
    if key is not None:
        return args.get(key) if args.__class__ is dict else None
    if args.__class__ is tuple:
        return args[index] if index < len(args) else None
    return args if index == 0 else None


def _converted_size(value: Any, kind: str, sizes: list[int | None], limit: int) -> int:
    """At least how many characters a conversion `kind` of `value` writes, given its
    width and precision (`sizes`; None: not given)."""
    width, precision = sizes
    if kind not in ("s", "r", "a"):
        return width or 0
    shown = len(value) if value.__class__ is str else len(checked_text(value, limit))
    if precision is not None:
        shown = min(shown, precision)
    return max(shown, width or 0)


def is_int_text_limit(exc: ValueError) -> bool:
    """True for Python's refusal to convert an int of too many digits to or from text."""
    return "integer string conversion" in str(exc)


def int_text_limit(span: Span | None) -> LimitError:
    """The LimitError for an int too long to convert to or from text."""
    return runtime_error(R.INT_TOO_LONG_FOR_TEXT, span, digits=MAX_INT_DIGITS)


class _Template(string.Formatter):
    """`str.format` with plain field names only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0  # characters of the fields formatted so far

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if "." in field_name or "[" in field_name:
            raise runtime_error(R.FORMAT_FIELD_NOT_ALLOWED, field=field_name)
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        text = format_value(value, format_spec, self.limit)
        self.size += len(text)
        if self.size > self.limit:  # fields that repeat a value: stop before the rest
            raise runtime_error(R.TOO_LONG_TEXT, size=self.size, limit=self.limit)
        return text


def format_template(template: str, limit: int, *args: Any, **kwargs: Any) -> str:
    """`template.format(*args, **kwargs)` under the rules of this module."""
    text = _Template(limit).vformat(template, args, kwargs)
    if len(text) > limit:
        raise runtime_error(R.TOO_LONG_TEXT, size=len(text), limit=limit)
    return text
