"""One open Dana document, analysed: parsed (recovering from syntax errors) and checked.

Consumes: a document's text and path.
Produces: `Analysis`: the diagnostics to publish (the syntax error alone while the text
does not parse, else the checker's), the module as far as it parses (each line a syntax
error points at is blanked out, up to `MAX_REPAIRS` times, so the rest of the file
keeps hover, completion and definitions), the checker's result, and its name resolution
(`CheckResult.names`: where each name is defined and used; resolved on its own when
checking stopped at an import that does not parse).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dana import pipeline
from dana.errors import DanaError, DanaSyntaxError, Diagnostic
from dana.source import SourceFile, Span
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.types.checker import CheckResult
from dana.types.resolve import Resolution, resolve_names
from dana.types.scope import new_module_scope

MAX_REPAIRS = 20  # lines replaced before giving up


@dataclass
class Analysis:
    """What the server knows about one version of a document."""

    source: SourceFile
    module: A.Module | None
    diagnostics: list[Diagnostic]
    result: CheckResult | None
    names: Resolution | None

    def source_span_start(self) -> Span:
        """An empty span at the start of the file (where a module "is defined")."""
        return Span(self.source, 0, 0)


def analyze(text: str, path: Path | None, name: str | None = None) -> Analysis:
    """Parse and check `text` (the contents of `path`, possibly unsaved)."""
    source = SourceFile(name or (str(path) if path else "<untitled>"), text, path)
    try:
        module = parse(source)
        error: DanaSyntaxError | None = None
    except DanaSyntaxError as exc:
        module, error = _repaired(source, exc), exc
    result = None
    diagnostics = list(error.diagnostics) if error else []
    if module is not None:
        try:
            result = pipeline.analyze_module(module)
        except DanaError as exc:  # an import that does not parse
            diagnostics.extend(exc.diagnostics)
        if result is not None and error is None:
            diagnostics = list(result.diagnostics)
    names = result.names if result is not None else \
        resolve_names(module, new_module_scope()) if module is not None else None
    return Analysis(source, module, diagnostics, result, names)


def _repaired(source: SourceFile, error: DanaSyntaxError) -> A.Module | None:
    """The module parsed from `source` with each line a syntax error points at replaced by
    the statement `0` (padded with spaces to the line's length, so every offset stays
    where it was); None if that never parses."""
    lines = source.text.split("\n")
    repaired: set[int] = set()
    for _ in range(MAX_REPAIRS):
        if error.span is None:
            return None
        at = min(error.span.line, len(lines)) - 1
        if at in repaired:
            return None
        repaired.add(at)
        line = lines[at]
        indent = line[:len(line) - len(line.lstrip())]
        lines[at] = (indent + "0").ljust(len(line))
        try:
            return parse(SourceFile(source.name, "\n".join(lines), source.path))
        except DanaSyntaxError as exc:
            error = exc
    return None
