"""Render diagnostics as text or JSON: the one place that formats errors.

Consumes: `Diagnostic` / `DanaError` values.
Produces: strings in the house format (docs/errors.md, docs/architecture.md "The phases")::

    examples/orders.dana:14:5: error[E0401]: step `ship` reads state key `address` ...
       |
    14 |     ship(order)
       |     ^^^^^^^^^^^
"""

from __future__ import annotations

import json

from dana.errors import DanaError, Diagnostic


def render(diag: Diagnostic) -> str:
    """One diagnostic as text: header, source line, caret range, then `= note:` lines."""
    head = f"{diag.severity}[{diag.code}]" if diag.code else diag.severity
    if diag.span is None:
        lines = [f"{head}: {diag.message}"]
    else:
        lines = [f"{diag.span}: {head}: {diag.message}"]
        lines.extend(_excerpt(diag))
    lines.extend(f"   = note: {n}" for n in diag.notes)
    return "\n".join(lines)


def _excerpt(diag: Diagnostic) -> list[str]:
    span = diag.span
    assert span is not None
    line, col = span.line, span.col
    text = span.source.line_text(line)
    if span.end_line == line:
        width = max(1, span.end - span.start)
    else:
        width = max(1, len(text) - col + 1)
    width = min(width, max(1, len(text) - col + 1))
    text, col, width = _window(text, col, width)
    gutter = " " * len(str(line))
    expanded = text.replace("\t", " ")
    return [
        f"{gutter} |",
        f"{line} | {expanded}",
        f"{gutter} | {' ' * (col - 1)}{'^' * width}",
    ]


_WIDE = 100  # characters of a source line shown around the caret


def _window(text: str, col: int, width: int) -> tuple[str, int, int]:
    """A long line (a 1 MiB line of generated code) cut to `_WIDE` characters around the
    caret, with `...` where text was left out; returns (text, column, caret width)."""
    if len(text) <= _WIDE:
        return text, col, width
    start = max(0, min(col - 1 - _WIDE // 2, len(text) - _WIDE))
    shown = text[start:start + _WIDE]
    col -= start
    width = min(width, _WIDE - col + 1)
    if start > 0:
        shown, col = "..." + shown, col + 3
    if start + _WIDE < len(text):
        shown += "..."
    return shown, col, width


def render_error(err: DanaError) -> str:
    """All diagnostics of an error, blank-line separated."""
    return "\n\n".join(render(d) for d in err.diagnostics)


def to_json(diags: list[Diagnostic]) -> str:
    """Diagnostics as a JSON array for tools (`dana check --format json`)."""
    out = []
    for d in diags:
        item: dict = {"severity": d.severity, "code": d.code, "message": d.message,
                      "notes": list(d.notes)}
        if d.span is not None:
            item.update(file=d.span.source.name, line=d.span.line, column=d.span.col,
                        end_line=d.span.end_line, end_column=d.span.end_col)
        out.append(item)
    return json.dumps(out, indent=2)
