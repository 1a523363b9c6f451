"""`dana fmt`: Dana source in one canonical layout (docs/tools.md).

Consumes: source text.
Produces: `format_source(source) -> str`, the formatted text; it parses to the same AST
(positions aside), formatting it again changes nothing, and every comment stays with the
statement it was written beside. Raises DanaSyntaxError for text that does not parse.
"""

from __future__ import annotations

from dana.format.stmts import Formatter
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse


def format_source(source: SourceFile) -> str:
    """The canonical layout of `source`. Raises DanaSyntaxError."""
    return format_module(source, parse(source))


def format_module(source: SourceFile, module: A.Module) -> str:
    """The canonical layout of `source`, already parsed into `module`."""
    return Formatter(source, module).text()
