"""docs/builtins.md, generated from the language-surface declarations.

Consumes: `dana.surface` (functions, methods, type names, error types, options).
Produces: `render() -> str` (Markdown). `python -m dana.surface.reference > docs/builtins.md`
regenerates the page; tests/test_surface_agreement.py fails when it is stale.
"""

from __future__ import annotations

from dana.surface.functions import FUNCTIONS
from dana.surface.methods import METHODS
from dana.surface.vocab import (ALIASES, ERROR_ATTRIBUTES, ERROR_SYNONYMS, ERROR_TYPES, PARALLEL_OPTIONS, STEP_OPTIONS,
                                TYPE_NAMES, WORKFLOW_SETTINGS, Option)

_HEADER = """# Builtins reference

Generated from `dana/surface/` by `python -m dana.surface.reference > docs/builtins.md`;
do not edit by hand. The checker and the runtime both read these declarations, so a call
the checker accepts is a call the runtime accepts (arity, keywords, parameter types).
Parameters after `*` are keyword-only; `= (omitted)` marks one that may be left out.
"""


def _options(title: str, options: tuple[Option, ...]) -> list[str]:
    rows = [f"| `{o.name}` | `{o.type}` | `{o.default}` | {o.doc} |" for o in options]
    return [f"## {title}", "", "| name | type | default | meaning |", "|---|---|---|---|",
            *rows, ""]


def render() -> str:
    """The whole reference page as Markdown text."""
    lines = [_HEADER, "## Functions", ""]
    lines += [f"- `{f.signature()}`: {f.doc}" for f in FUNCTIONS.values()]
    for receiver, methods in METHODS.items():
        lines += ["", f"## Methods of `{receiver}`", ""]
        lines += [f"- `{m.signature()}`: {m.doc}" for m in methods.values()]
    lines += ["", "## Type names", "", "| spelling | means | |", "|---|---|---|"]
    lines += [f"| `{alias}` | `{text}` | Shorthand used on this page. |"
              for alias, text in ALIASES.items()]
    lines += [f"| `{s}` | `{c}` | {doc} |" for s, (c, doc) in TYPE_NAMES.items()]
    lines += ["", "## Error types", "", "| type | parent | code | meaning |", "|---|---|---|---|"]
    lines += [f"| `{e.name}` | {e.parent or ''} | {e.code} | {e.doc} |" for e in ERROR_TYPES]
    lines += [f"| `{alias}` | | | Another name of `{name}`. |"
              for alias, name in ERROR_SYNONYMS.items()]
    lines += ["", "A caught error (`except E as e`) has these members and no others:", ""]
    lines += [f"- `e.{name}: {text}`: {doc}" for name, (text, doc) in ERROR_ATTRIBUTES.items()]
    lines += [""]
    lines += _options("`@step` options", STEP_OPTIONS)
    lines += _options("Workflow settings", WORKFLOW_SETTINGS)
    lines += _options("`parallel` options", PARALLEL_OPTIONS)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
