"""Where the grammar and the standard library live, in a checkout or an installed wheel.

Consumes: nothing. Produces: `grammar_path()` and `stdlib_dir()` (absolute Paths).
A wheel carries `grammar/` and `stdlib/` as `dana/_data/...` (pyproject force-include);
a source checkout (or editable install) has them beside the `dana/` package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(relative: str) -> Path:
    for base in (_PACKAGE / "_data", _PACKAGE.parent):
        candidate = base / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"Dana installation is missing {relative!r}")


def grammar_path() -> Path:
    """Path of `dana.lark`. Raises FileNotFoundError for a broken installation."""
    return _find("grammar/dana.lark")


def stdlib_dir() -> Path:
    """Directory of the standard library's `.dana` modules."""
    return _find("stdlib")
