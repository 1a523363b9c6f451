"""Soft keywords decided by context, once, before the parser sees the tokens.

Consumes: the parser's token stream after `dana.syntax.layout.layout` (so `_NEWLINE`,
`_INDENT` and `_DEDENT` mark lines and blocks), in which lark's contextual lexer gave a
soft keyword its keyword type wherever the parser could take it, and a context-free lexer
of the same text to read what follows a soft keyword.
Produces: the same stream where each soft keyword that is not in its keyword position is a
`NAME` (docs/language.md "Keywords"):

* `workflow` first in a statement and followed by a name (`workflow etl():`);
* `sync` first in a statement and followed by `def`;
* `parallel` first in a statement and followed by `for`, by `:`, or by `(...)` then `:`
  or a new block;
* `handle` first in a statement right after a `try` (or another handler) of the same
  block, and followed by a name, `:`, or `(...)` then `:`, `as` or a new block;
* `steps` and `requires` first in an item of a workflow's body and followed by `:`.

Everywhere else they are ordinary names (`parallel = 2`, `workflow.describe(w)`,
`def plan(steps: list[str])`). Nothing is kept between calls: each stream is decided on
its own, so threads may parse at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from lark import Token
from lark.exceptions import UnexpectedInput

from dana.surface import SOFT_KEYWORDS

_STATEMENT_START = frozenset({"_NEWLINE", "_INDENT", "_DEDENT"})
_OPEN = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSE = frozenset({"RPAR", "RSQB", "RBRACE"})
_HANDLED = frozenset({"try", "handle", "except"})  # statements a handler may follow


@dataclass
class _Block:
    """One indentation level: whether it is a workflow's body, and the word that began
    its last statement (a keyword's value, or "" for any other statement)."""

    workflow_body: bool = False
    last: str = ""


def soft_keywords(stream: Iterable[Token],
                  tokens_from: Callable[[int], Iterator[Token]]) -> Iterator[Token]:
    """`stream` with each soft keyword outside its keyword position turned into a NAME.
    `tokens_from(offset)` lexes the text from `offset` on without context (spaces and
    comments skipped, every newline a `_NEWLINE`): what follows a soft keyword is read
    there, so the parser's own stream is never read ahead of the parser."""
    blocks = [_Block()]
    starts = True
    for token in stream:
        if token.type == "_INDENT":
            blocks.append(_Block(workflow_body=blocks[-1].last == "workflow"))
        elif token.type == "_DEDENT" and len(blocks) > 1:
            blocks.pop()
        soft = token.value in SOFT_KEYWORDS and token.type != "NAME"
        if soft and not (starts and _is_keyword(token, tokens_from, blocks[-1])):
            token = Token.new_borrow_pos("NAME", token.value, token)
        if starts and token.type not in _STATEMENT_START:
            blocks[-1].last = "" if token.type == "NAME" else token.value
        starts = token.type in _STATEMENT_START
        yield token


def _is_keyword(token: Token, tokens_from: Callable[[int], Iterator[Token]],
                block: _Block) -> bool:
    """Whether soft keyword `token`, first in its statement, is a keyword there."""
    word = token.value
    if word in ("steps", "requires") and not block.workflow_body \
            or word == "handle" and block.last not in _HANDLED:
        return False
    following = tokens_from(token.end_pos)
    try:
        after = next(following).type
        if word == "workflow":
            return after == "NAME" or after.lower() in SOFT_KEYWORDS
        if word == "sync":
            return after == "DEF"
        if word in ("steps", "requires"):
            return after == "COLON"
        if word == "parallel":
            return after in ("FOR", "COLON") or (
                after == "LPAR" and _opens_block(following, token.column - 1))
        return after in ("NAME", "COLON") or (  # handle
            after == "LPAR" and _opens_block(following, token.column - 1, "AS"))
    except (StopIteration, UnexpectedInput):  # the parser reports what is wrong there
        return False


def _opens_block(following: Iterator[Token], indent: int, *also: str) -> bool:
    """Whether the bracket just opened (`following` starts after it) closes and is then
    followed by `:`, by a line indented deeper than `indent` (a block whose colon was
    forgotten) or by one of the token types `also`."""
    depth = 1
    for token in following:
        if token.type in _OPEN:
            depth += 1
        elif token.type in _CLOSE:
            depth -= 1
            if depth == 0:
                after = next(following, None)
                if after is None:
                    return False
                return after.type in ("COLON", *also) or (
                    after.type == "_NEWLINE" and len(after.value.rsplit("\n", 1)[-1]) > indent)
    return False
