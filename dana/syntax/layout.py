"""Layout of Dana source under attack: indentation, bracket nesting and source faults.

Consumes: lark's token stream (for `layout`), a `SourceFile` (for `source_fault`) and a
lark parse tree (for `too_deep`).
Produces: the token stream with `_INDENT`/`_DEDENT` tokens made from `_NEWLINE`s (the
job of lark's `Indenter`, done here without state on a shared object so two threads may
parse at once), and `LayoutError(msg, offset, **fields)` for hostile or broken text, which
`dana.syntax.grammar` turns into a `DanaSyntaxError` at `offset`.

The bounds are those of CPython's tokenizer and parser (docs/language.md, "Limits of
the parser"): 100 indentation levels, 200 nested brackets, and a bound on the depth of
the parse tree so that no later pass (builder, checker, compiler) can run out of stack.
"""

from __future__ import annotations

from typing import Iterator

from lark import Token, Tree

from dana.messages import Msg
from dana.messages import syntax as S

MAX_INDENT_LEVELS = 100
MAX_NESTING = 200
MAX_TREE_DEPTH = 1000
MAX_INT_DIGITS = 4300
TAB_WIDTH = 8

_OPEN = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSE = frozenset({"RPAR", "RSQB", "RBRACE"})


class LayoutError(Exception):
    """Text that must be refused before (or while) it is parsed: `msg` (with its `fields`)
    for the user, `offset` the 0-based character offset in the parsed text."""

    def __init__(self, msg: Msg, offset: int, **fields: object) -> None:
        super().__init__(msg.format(**fields))
        self.msg = msg
        self.fields = fields
        self.offset = offset


def layout(stream: Iterator[Token]) -> Iterator[Token]:
    """`stream` with indentation turned into `_INDENT`/`_DEDENT` tokens, as Python does:
    inside brackets newlines are ignored. Raises LayoutError for more than
    MAX_NESTING open brackets, more than MAX_INDENT_LEVELS indentation levels, a dedent
    to a level never opened, or indentation whose meaning depends on the tab width."""
    levels = [(0, 0)]  # (width with tabs of TAB_WIDTH, width with tabs of 1)
    depth = 0
    token = None
    for token in stream:
        if token.type == "_NEWLINE":
            if depth == 0:
                yield token
                yield from _indentation(token, levels)
            continue
        yield token
        if token.type in _OPEN:
            depth += 1
            if depth > MAX_NESTING:
                raise LayoutError(S.NESTED_TOO_DEEPLY, token.start_pos, most=MAX_NESTING)
        elif token.type in _CLOSE:
            depth = max(0, depth - 1)
    while len(levels) > 1:
        levels.pop()
        yield Token.new_borrow_pos("_DEDENT", "", token) if token else \
            Token("_DEDENT", "", 0, 0, 0, 0, 0, 0)


def _indentation(token: Token, levels: list[tuple[int, int]]) -> Iterator[Token]:
    """The `_INDENT`/`_DEDENT` tokens for the line that `token` (a `_NEWLINE`) starts
    (none for a comment that ends the text)."""
    if "\n" not in token:
        return
    indent = token.rsplit("\n", 1)[1]
    line_start = token.end_pos - len(indent)
    width = (indent.count(" ") + indent.count("\t") * TAB_WIDTH,
             indent.count(" ") + indent.count("\t"))
    if _order(width[0], levels[-1][0]) != _order(width[1], levels[-1][1]):
        raise LayoutError(S.MIXED_INDENT, line_start)
    if width[0] > levels[-1][0]:
        if len(levels) > MAX_INDENT_LEVELS:
            raise LayoutError(S.TOO_MANY_INDENTS, token.end_pos, most=MAX_INDENT_LEVELS)
        levels.append(width)
        yield Token.new_borrow_pos("_INDENT", indent, token)
        return
    while width[0] < levels[-1][0]:
        levels.pop()
        yield Token.new_borrow_pos("_DEDENT", indent, token)
    if width[0] != levels[-1][0]:
        raise LayoutError(S.BAD_DEDENT, token.end_pos)
    if width[1] != levels[-1][1]:
        raise LayoutError(S.MIXED_INDENT, line_start)


def _order(a: int, b: int) -> int:
    return (a > b) - (a < b)


def too_deep(tree: Tree) -> None:
    """Raise LayoutError at the first node deeper than MAX_TREE_DEPTH (a long chain of
    operators such as `1 + 1 + ...` is one level per operator). Iterative: the check
    itself never recurses."""
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise LayoutError(S.EXPRESSION_TOO_DEEP, _start(node), most=MAX_TREE_DEPTH)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _start(node: Tree) -> int:
    meta = node.meta
    return 0 if getattr(meta, "empty", True) else meta.start_pos


def source_fault(text: str) -> LayoutError | None:
    """A NUL character in `text` (the file cannot be Dana source), or None."""
    at = text.find("\x00")
    return None if at < 0 else LayoutError(S.NUL_BYTE, at)
