"""Source text and spans.

Consumes: a file's text and its display name.
Produces: `SourceFile` (text plus line starts, for offset -> line/column maps) and
`Span` (0-based half-open character offsets into one SourceFile).

Every AST node, diagnostic and runtime error position is a `Span`; line and column
numbers (1-based, as editors show them) are derived, never stored twice.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, eq=False)
class SourceFile:
    """The text of one Dana source (file, REPL chunk or `eval` string).

    `name` is what diagnostics print (a path as the user gave it, or `<repl>`).
    `path` is the resolved file location, or None for text that came from no file.
    `bad_byte` is (character offset, byte offset, value) of the first byte that was not UTF-8,
    for text read from bytes (see `from_bytes`); None for valid text.
    """

    name: str
    text: str = field(repr=False)
    path: Path | None = None
    bad_byte: tuple[int, int, int] | None = None
    line_starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "line_starts", tuple(starts))

    @classmethod
    def from_path(cls, path: str | Path) -> "SourceFile":
        """Read a file (see `from_bytes`). Raises OSError as the OS reports it."""
        p = Path(path)
        return cls.from_bytes(str(path), p.read_bytes(), p.resolve())

    @classmethod
    def from_bytes(cls, name: str, data: bytes, path: Path | None = None) -> "SourceFile":
        """Decode UTF-8 `data` (a leading byte-order mark is dropped). Text that is not UTF-8 is kept, each bad byte replaced by
        U+FFFD, with `bad_byte` = (character offset, byte offset, byte) of the first bad one,
        which the parser reports as a syntax error."""
        try:
            return cls(name, data.decode("utf-8-sig"), path)
        except UnicodeDecodeError as exc:
            where = (len(data[:exc.start].decode("utf-8-sig", errors="replace")), exc.start,
                     data[exc.start])
            return cls(name, data.decode("utf-8-sig", errors="replace"), path, where)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of 1-based `line`, without its newline ('' past the end)."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def offset(self, line: int, col: int) -> int:
        """0-based offset of 1-based (line, column); clamps past the end of the text."""
        if line > len(self.line_starts):
            return len(self.text)
        return min(self.line_starts[max(line, 1) - 1] + max(col, 1) - 1, len(self.text))


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range [start, end) of character offsets in `source`."""

    source: SourceFile
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def col(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def end_line(self) -> int:
        return self.source.line_col(self.end)[0]

    @property
    def end_col(self) -> int:
        return self.source.line_col(self.end)[1]

    @property
    def text(self) -> str:
        """The source text the span covers."""
        return self.source.text[self.start:self.end]

    def to(self, other: "Span") -> "Span":
        """The span covering self through `other` (same source)."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.col}"
