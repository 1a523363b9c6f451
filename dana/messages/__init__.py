"""Every message Dana shows a user, as a named constant with a stable code (docs/errors.md).

Consumes: nothing. Produces: `Msg` (a code, a severity and a `str.format` template) and the
severities `ERROR` / `WARNING`. The constants live in the submodules, one per family of
codes: `syntax` (E01xx), `checks` (E02xx-E04xx: names, types, workflows; the run reports
the same rule with the same constant when the checker was skipped), `runtime` (E05xx:
run-time errors with no static twin, coded by their error type, declared in
`dana.surface.vocab`), `usage` (E06xx) and `internal` (E09xx). `declared()` lists them all, so a test can hold docs/errors.md to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

ERROR = "error"
WARNING = "warning"

FAMILIES = ("syntax", "checks", "runtime", "usage", "internal")


@dataclass(frozen=True)
class Msg:
    """One kind of diagnostic: `code` (E0xxx), `text` (a `str.format` template) and
    `severity` ("error" or "warning")."""

    code: str
    text: str
    severity: str = ERROR

    def format(self, **kw: object) -> str:
        return self.text.format(**kw)


def declared() -> dict[str, list[Msg]]:
    """Every message constant of every family, grouped by code (code -> its messages)."""
    found: dict[str, list[Msg]] = {}
    for family in FAMILIES:
        module = import_module(f"dana.messages.{family}")
        for value in vars(module).values():
            if isinstance(value, Msg):
                found.setdefault(value.code, []).append(value)
    return found
