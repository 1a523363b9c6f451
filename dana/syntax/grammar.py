"""The lark parser for Dana, built once per process, and lark errors turned into Dana ones.

Consumes: `grammar/dana.lark` and source text.
Produces: lark parse trees (only for `dana.syntax.builder`) or `DanaSyntaxError`.
This module and the builder are the only lark users in the project (docs/architecture.md "Source and syntax").
"""

from __future__ import annotations

import functools
import re
from typing import Iterator

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import PythonIndenter
from lark.lexer import BasicLexer, LexerThread
from lark.utils import TextSlice

from dana.errors import DanaSyntaxError, IncompleteInputError
from dana.messages import Msg
from dana.messages import syntax as S
from dana.resources import grammar_path
from dana.syntax.hints import python_habit
from dana.source import SourceFile, Span
from dana.surface import KEYWORDS
from dana.syntax.layout import LayoutError, layout, source_fault, too_deep
from dana.syntax.soft_keywords import soft_keywords

_FRIENDLY = {
    "NAME": "a name", "_NEWLINE": "end of line", "_INDENT": "an indented block",
    "_DEDENT": "end of block", "$END": "end of input", "DEC_NUMBER": "a number",
    "FLOAT_NUMBER": "a number", "HEX_NUMBER": "a number", "BIN_NUMBER": "a number",
    "OCT_NUMBER": "a number", "STRING": "a string",
    "LONG_STRING": "a string", "FSTRING": "an f-string", "LONG_FSTRING": "an f-string",
    "SCOPED_NAME": "a scoped name",
}

# Tokens that start a value: one right after another inside brackets lacks a comma.
_VALUES = frozenset({"NAME", "DEC_NUMBER", "FLOAT_NUMBER", "HEX_NUMBER", "BIN_NUMBER",
                     "OCT_NUMBER", "STRING", "LONG_STRING", "FSTRING", "LONG_FSTRING",
                     "SCOPED_NAME"})


class _Indenter(PythonIndenter):
    """lark's Python indenter interface; the work is `dana.syntax.layout.layout`, which
    keeps its state per parse (so threads may parse at once) and refuses hostile layout."""

    def process(self, stream):  # type: ignore[override]
        return layout(stream)


@functools.cache
def parser() -> Lark:
    """The LALR parser (built on first use, then cached for the process)."""
    return Lark.open(
        str(grammar_path()), parser="lalr", postlex=_Indenter(),
        start=["module", "expr_input"], propagate_positions=True,
        maybe_placeholders=True, cache=True,
    )


def parse_tree(source: SourceFile, start: str = "module", text: str | None = None) -> Tree:
    """Parse `text` (default: the whole source) into a lark tree.

    Raises DanaSyntaxError (IncompleteInputError when the text ends inside an open
    block, bracket or string) with a span in `source`. Positions in the tree are
    relative to `text`; callers parsing a fragment add its offset.
    """
    body = source.text if text is None else text
    if start == "module" and not body.endswith("\n"):
        body += "\n"
    try:
        _refuse_faults(source, body)
        tree = _parse(body, start)
        too_deep(tree)
        return tree
    except UnexpectedInput as exc:
        raise _syntax_error(source, body, exc) from None
    except LayoutError as exc:
        at = min(exc.offset, len(source.text))
        raise DanaSyntaxError.of(exc.msg, Span(source, at, min(at + 1, len(source.text))),
                                 **exc.fields) from None


def _refuse_faults(source: SourceFile, body: str) -> None:
    """Text that is not Dana source at all: bytes that are not UTF-8, a NUL."""
    if source.bad_byte is not None:
        at, offset, value = source.bad_byte
        raise LayoutError(S.INVALID_UTF8, at, value=value, byte=offset)
    fault = source_fault(body)
    if fault is not None:
        raise fault


def _parse(body: str, start: str) -> Tree:
    """One pass of the LALR parser over `body`: lark's contextual lexer, the layout, and
    the soft keywords decided by their context (`dana.syntax.soft_keywords`)."""
    interactive = parser().parse_interactive(body, start=start)
    stream = interactive.lexer_thread.lex(interactive.parser_state)
    token = None
    for token in soft_keywords(stream, functools.partial(_tokens_from, body)):
        interactive.feed_token(token)
    return interactive.feed_eof(token)


@functools.cache
def _context_free_lexer() -> BasicLexer:
    """The grammar's terminals as one lexer that needs no parser state."""
    return parser()._build_lexer()


def _tokens_from(body: str, offset: int) -> Iterator[Token]:
    """The tokens of `body` from `offset` on, each lexed without context."""
    rest = TextSlice(body, offset, len(body))
    return LexerThread.from_text(_context_free_lexer(), rest).lex(None)


def _last_line_span(source: SourceFile) -> Span:
    return Span(source, len(source.text), len(source.text))


def _syntax_error(source: SourceFile, body: str, exc: UnexpectedInput) -> DanaSyntaxError:
    pos = min(getattr(exc, "pos_in_stream", None) or 0, len(source.text))
    if isinstance(exc, UnexpectedCharacters):
        char = body[exc.pos_in_stream] if exc.pos_in_stream < len(body) else ""
        span = Span(source, pos, pos + 1)
        if char in "\"'":
            return IncompleteInputError.of(S.UNTERMINATED_STRING, span) \
                if _unclosed_triple(body, exc.pos_in_stream) else \
                DanaSyntaxError.of(S.UNTERMINATED_STRING, span)
        return DanaSyntaxError.of(S.UNEXPECTED_CHARACTER, span, char=char)
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(source, body, exc)
    if isinstance(exc, UnexpectedEOF):
        return _incomplete(source, body, S.UNEXPECTED_END, _last_line_span(source))
    return DanaSyntaxError(str(exc), _last_line_span(source), code=S.UNEXPECTED_TOKEN.code)


def _unclosed_triple(body: str, pos: int) -> bool:
    return body.startswith('"""', pos) or body.startswith("'''", pos)


def _unexpected_token(source: SourceFile, body: str, exc: UnexpectedToken) -> DanaSyntaxError:
    token: Token = exc.token
    expected = _describe_expected(exc.expected)
    at_end = token.type == "$END" or (
        token.type in ("_NEWLINE", "_DEDENT") and not body[token.end_pos or 0:].strip())
    if token.type == "$END" or token.start_pos is None:
        span = _last_line_span(source)
    else:
        start = min(token.start_pos, len(source.text))
        end = start + (1 if token.type in ("_NEWLINE", "_INDENT", "_DEDENT") else len(token))
        span = Span(source, start, min(end, max(start + 1, len(source.text))))
    fields = {"what": _describe_token(token), "expected": expected}
    if token.type == "$END":
        msg = S.UNEXPECTED_END_EXPECTING if expected else S.UNEXPECTED_END
    else:
        msg = S.UNEXPECTED_EXPECTING if expected else S.UNEXPECTED_TOKEN
    hint = None if token.start_pos is None else python_habit(body, token.start_pos)
    if hint is not None:
        return DanaSyntaxError.of(hint.msg, Span(source, hint.start, hint.end),
                                  notes=(hint.note,))
    never_closed = _never_closed(body, token)
    if never_closed is not None and not at_end:
        return DanaSyntaxError.of(S.NEVER_CLOSED, Span(source, never_closed, never_closed + 1),
                                  bracket=body[never_closed])
    notes: tuple[str, ...] = ()
    if token.type in _VALUES and _unclosed_bracket(body[:token.start_pos or 0]) is not None:
        notes = (S.NOTE_FORGOT_COMMA,)
    if token.type == "_INDENT":
        msg = S.UNEXPECTED_INDENT
        span = Span(source, min(token.end_pos, len(source.text)),
                    min(token.end_pos + 1, len(source.text)))
    elif set(exc.expected) == {"_NEWLINE"} and _starts_line(body, token.start_pos):
        msg = S.EXPECTED_BLOCK  # the parser wanted _INDENT, which the
        # contextual lexer cannot ask for (the indenter makes it from a _NEWLINE)
    if at_end and ("_INDENT" in exc.expected or token.type == "$END"
                   or _unclosed_bracket(body) is not None):
        return _incomplete(source, body, msg, span, **fields)
    return DanaSyntaxError.of(msg, span, notes=notes, **fields)


def _starts_line(body: str, pos: int | None) -> bool:
    return pos is not None and not body[body.rfind("\n", 0, pos) + 1:pos].strip()


def _incomplete(source: SourceFile, body: str, msg: Msg, span: Span,
                **fields: str) -> DanaSyntaxError:
    """The text ended early: name the bracket left open, if any, at its position."""
    at = _unclosed_bracket(body)
    if at is not None and at < len(source.text):
        return IncompleteInputError.of(S.NEVER_CLOSED, Span(source, at, at + 1),
                                       bracket=body[at])
    return IncompleteInputError.of(msg, span, **fields)


def _never_closed(body: str, token: Token) -> int | None:
    """The bracket a statement left open, when the parser stops at the start of a later
    line (`print(f(x)` then `y = 1`): the innermost bracket open before the token, on an
    earlier line, and never closed in the whole text. Python reports it there too."""
    pos = token.start_pos
    if pos is None or not _starts_line(body, pos):
        return None
    before = _unclosed_brackets(body[:pos])
    if not before or "\n" not in body[before[-1]:pos]:
        return None
    return before[-1] if before[-1] in _unclosed_brackets(body) else None


def _unclosed_bracket(body: str) -> int | None:
    """Offset of the innermost bracket never closed (strings and comments skipped)."""
    stack = _unclosed_brackets(body)
    return stack[-1] if stack else None


def _unclosed_brackets(body: str) -> list[int]:
    """Offsets of the brackets never closed, outermost first (strings and comments
    skipped)."""
    stack: list[int] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "#":
            i = body.find("\n", i)
            if i < 0:
                break
        elif ch in "\"'":
            i = _string_end(body, i)
        elif ch in "([{":
            stack.append(i)
        elif ch in ")]}" and stack:
            stack.pop()
        i += 1
    return stack


def _string_end(body: str, i: int) -> int:
    """Offset of the last character of the string literal opening at `i`."""
    quote = body[i:i + 3] if body[i:i + 3] in ('"""', "'''") else body[i]
    j = i + len(quote)
    while j < len(body):
        if body[j] == "\\":
            j += 2
        elif body.startswith(quote, j):
            return j + len(quote) - 1
        elif body[j] == "\n" and len(quote) == 1:
            return j
        else:
            j += 1
    return len(body)


def _describe_token(token: Token) -> str:
    """The rejected token, without an article: "unexpected name", "unexpected ':'"."""
    if token.type in _FRIENDLY:
        return re.sub(r"^an? ", "", _FRIENDLY[token.type])
    return f"'{token.value}'"


def _describe_expected(names: set[str]) -> str:
    terms = parser().terminals
    by_name = {t.name: t for t in terms}
    shown: list[str] = []
    for name in sorted(names):
        if name in _FRIENDLY:
            text = _FRIENDLY[name]
        elif name in by_name and by_name[name].pattern.type == "str":
            text = f"'{by_name[name].pattern.value}'"
        else:
            continue
        if text not in shown:
            shown.append(text)
    if not shown or len(shown) > 6:
        return ""
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def keywords() -> frozenset[str]:
    """Every keyword of the language (soft keywords included), as dana.surface declares
    them; tests/unit/test_surface_views.py checks that grammar/dana.lark spells the same."""
    return _KEYWORDS


_KEYWORDS = frozenset(k.word for k in KEYWORDS)
