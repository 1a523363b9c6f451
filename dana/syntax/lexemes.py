"""The comments and string literals of a source text, for tools that keep what the AST
drops (the formatter, the language server).

Consumes: source text.
Produces: `Lexeme`s (kind "comment" or "string", 0-based half-open offsets, the text) in
source order, from the same terminals the parser uses (grammar/dana.lark). Comments
inside brackets are included (the parser's indenter drops them).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lark.exceptions import UnexpectedInput
from lark.lexer import BasicLexer, LexerThread

from dana.errors import DanaSyntaxError
from dana.messages import syntax as S
from dana.source import SourceFile, Span
from dana.syntax.grammar import parser

STRING_TERMINALS = frozenset({"STRING", "LONG_STRING", "FSTRING", "LONG_FSTRING"})
_COMMENT = re.compile(r"#[^\n]*")


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One comment (`# ...`, without its newline) or string literal token."""

    kind: str  # "comment" | "string"
    start: int
    end: int
    text: str


@functools.cache
def _lexer() -> BasicLexer:
    """The grammar's terminals as one context-free lexer that keeps ignored text."""
    return parser()._build_lexer(dont_ignore=True)


def lexemes(source: SourceFile) -> list[Lexeme]:
    """Comments and strings of `source`. Raises DanaSyntaxError where no terminal matches
    (the same text would not parse either)."""
    out: list[Lexeme] = []
    try:
        for tok in LexerThread.from_text(_lexer(), source.text).lex(None):
            if tok.type in STRING_TERMINALS:
                out.append(Lexeme("string", tok.start_pos, tok.end_pos, str(tok)))
            elif tok.type in ("_NEWLINE", "COMMENT"):
                for m in _COMMENT.finditer(str(tok)):
                    at = tok.start_pos + m.start()
                    out.append(Lexeme("comment", at, at + len(m.group()), m.group()))
    except UnexpectedInput as exc:
        at = min(getattr(exc, "pos_in_stream", 0) or 0, len(source.text))
        raise DanaSyntaxError.of(S.UNEXPECTED_CHARACTER, Span(source, at, at + 1),
                                 char=source.text[at]) from None
    return out
