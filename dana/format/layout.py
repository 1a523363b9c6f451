"""Where comments and blank lines go while the formatter writes lines.

Consumes: the source, its comment lexemes, and rendered statements with their source
offsets (from `dana.format.stmts`).
Produces: the output lines: each comment written once, in source order relative to the
statements (an own-line comment before the statement that follows it, a trailing comment
on its statement's last line, aligned where the source aligned it), and blank lines kept
as written (at most two at top level, one inside a block, none at the start of a block;
at least one around a top-level definition).
"""

from __future__ import annotations

from dana.source import SourceFile
from dana.syntax.lexemes import Lexeme

MAX_BLANK_TOP, MAX_BLANK_NESTED = 2, 1


class Layout:
    """The output being written, with a cursor over the comments not yet placed."""

    def __init__(self, source: SourceFile, comments: list[Lexeme]) -> None:
        self.source = source
        self.comments = comments
        self.used = [False] * len(comments)
        self.lines: list[str] = []
        self.last_line = 0        # source line of the last thing written (1-based)
        self.no_blank = True      # at the start of a block (or file)
        self.want_blank = False   # a top-level definition ends or begins here

    # ---------------------------------------------------------------- positions
    def line(self, offset: int) -> int:
        return self.source.line_col(offset)[0]

    def col(self, offset: int) -> int:
        """0-based column of `offset`."""
        return self.source.line_col(offset)[1] - 1

    def end_line(self, start: int, end: int) -> int:
        """Source line of the last character of [start, end)."""
        return self.line(max(start, end - 1))

    # ---------------------------------------------------------------- writing
    def write(self, text: str, indent: int, start: int, end: int) -> None:
        """Write `text` (one or more lines, the first not yet indented; later lines are
        complete) for the source range [start, end)."""
        self._blank_lines(self.line(start), indent)
        first, *rest = text.split("\n")
        self.lines.append(" " * indent + first if first else "")
        self.lines.extend(rest)
        self.last_line = self.end_line(start, end)
        self.no_blank = False

    def _blank_lines(self, line: int, indent: int) -> None:
        blanks = 0 if self.no_blank or not self.last_line else line - self.last_line - 1
        blanks = min(max(blanks, 0), MAX_BLANK_TOP if indent == 0 else MAX_BLANK_NESTED)
        if self.want_blank and self.lines:
            blanks = max(blanks, 1)
        self.want_blank = False
        self.lines.extend([""] * blanks)

    # ---------------------------------------------------------------- comments
    def pending(self) -> int | None:
        """Index of the first comment not yet written, if any."""
        for i, used in enumerate(self.used):
            if not used:
                return i
        return None

    def comments_before(self, offset: int, indent: int, min_col: int = 0) -> None:
        """Write, each on its own line, the unwritten comments that start before `offset`
        (stopping at the first one left of `min_col`, which belongs to an outer block)."""
        while (i := self.pending()) is not None:
            c = self.comments[i]
            if c.start >= offset or self.col(c.start) < min_col:
                return
            self.used[i] = True
            self.write(c.text, indent, c.start, c.end)

    def trailing(self, end: int) -> None:
        """Put the comment that follows source offset `end` on the same line, if any,
        after the last written line."""
        line = self.line(max(end - 1, 0))
        for i, c in enumerate(self.comments):
            if self.used[i] or c.start < end:
                continue
            if self.line(c.start) != line or self.source.text[end:c.start].strip(" \t;\\"):
                return
            self.used[i] = True
            self.lines[-1] += " " * self._gap(c) + c.text
            return

    def _gap(self, comment: Lexeme) -> int:
        """Spaces before a trailing comment: as in the source when the code before it is
        unchanged (aligned comments stay aligned), else two."""
        text = self.source.text
        code = text[text.rfind("\n", 0, comment.start) + 1:comment.start]
        if code.strip() != self.lines[-1].strip():
            return 2
        return max(2, len(code) - len(code.rstrip()))

    def inside(self, start: int, end: int) -> list[int]:
        """Indexes of unwritten comments within [start, end)."""
        return [i for i, c in enumerate(self.comments)
                if not self.used[i] and start <= c.start < end]

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""
