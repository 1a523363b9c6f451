"""The DanaError tree: every failure a user can cause, as data.

Consumes: nothing (leaf module besides `source`).
Produces: `Diagnostic` (one positioned message) and the `DanaError` exception family.
Rendering lives in `dana.diagnostics`; nothing here formats text for a terminal.

Error codes are stable strings documented in docs/errors.md:
E01xx syntax, E02xx names and scopes, E03xx types, E04xx workflow state,
E05xx runtime errors raised by Dana code, E06xx host/usage (files, JSON, permissions),
E09xx internal errors (a bug in Dana).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from dana.messages import ERROR, Msg
from dana.source import Span
from dana.surface import ERROR_SYNONYMS, ERROR_TYPES


@dataclass(frozen=True)
class Diagnostic:
    """One positioned message: `severity` is "error" or "warning"; `span` may be None
    for problems that have no place in a source file (a missing input file)."""

    message: str
    span: Span | None = None
    code: str = ""
    severity: str = ERROR
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, msg: Msg, span: Span | None, notes: tuple[str, ...] = (),
           **fields: object) -> Diagnostic:
        """The diagnostic of message constant `msg` (its code, severity and filled text)."""
        return cls(msg.format(**fields), span, msg.code, msg.severity, notes)


class DanaError(Exception):
    """Root of all user-facing errors. Holds one or more diagnostics."""

    code = "E0000"

    def __init__(self, message: str, span: Span | None = None, *, code: str | None = None,
                 notes: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        if code is not None:
            self.code = code
        self.notes = tuple(notes)

    @classmethod
    def of(cls, msg: Msg, span: Span | None = None, *, notes: tuple[str, ...] = (),
           **fields: object) -> Self:
        """The error of message constant `msg` (its code, its text filled with `fields`)."""
        return cls(msg.format(**fields), span, code=msg.code, notes=notes)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [Diagnostic(self.message, self.span, self.code, ERROR, self.notes)]

    def __str__(self) -> str:
        return f"{self.span}: {self.message}" if self.span else self.message


class DanaSyntaxError(DanaError):
    """Source text that does not parse (docs/language.md). Parsing stops at the first one."""

    code = "E0100"


class IncompleteInputError(DanaSyntaxError):
    """The text ended inside an open block or bracket; the REPL asks for another line."""

    code = "E0101"


class DanaCheckError(DanaError):
    """The checker's findings: all diagnostics of a module, sorted by position; its code is
    the first one's."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        first = diagnostics[0]
        super().__init__(first.message, first.span, code=first.code, notes=first.notes)
        self._diagnostics = list(diagnostics)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self._diagnostics)


@dataclass(frozen=True)
class TraceEntry:
    """One entry of a Dana traceback: where a call happened and in which function/step."""

    span: Span
    function: str


class DanaRuntimeError(DanaError):
    """An error raised while Dana code runs (by `raise`, a builtin, or the runtime).

    `dana_type` is the Dana error type name (`ValueError`, `StepError`, ...) used by
    `handle` clauses; `value` is an optional payload; `trace` is the Dana traceback (`TraceEntry`s),
    innermost last.
    """

    code = "E0500"

    def __init__(self, dana_type: str, message: str, span: Span | None = None, *,
                 code: str | None = None, value: Any = None, notes: tuple[str, ...] = ()) -> None:
        super().__init__(message, span, code=code or RUNTIME_CODES.get(dana_type, self.code),
                         notes=notes)
        self.dana_type = dana_type
        self.value = value
        self.trace: list[TraceEntry] = []
        self.catchable = True

    @property
    def diagnostics(self) -> list[Diagnostic]:
        notes = list(self.notes)
        notes.extend(_traceback(self.trace))
        text = f"{self.dana_type}: {self.message}"
        return [Diagnostic(text, self.span, self.code, ERROR, tuple(notes))]


def _traceback(trace: list[TraceEntry]) -> list[str]:
    """Traceback notes, outermost call first; runs of one repeated frame are collapsed
    (like Python's "Previous line repeated N more times")."""
    lines: list[str] = []
    previous, repeats = "", 0
    for frame in reversed(trace):
        line = f"in {frame.function} at {frame.span}"
        if line == previous:
            repeats += 1
            if repeats < 3:
                lines.append(line)
            continue
        if repeats >= 3:
            lines.append(f"[the call above repeated {repeats - 2} more times]")
        previous, repeats = line, 0
        lines.append(line)
    if repeats >= 3:
        lines.append(f"[the call above repeated {repeats - 2} more times]")
    return lines


def rule_error(dana_type: str, msg: Msg, span: Span | None = None, *,
               notes: tuple[str, ...] = (), **fields: object) -> DanaRuntimeError:
    """The run-time error of type `dana_type` for a rule the checker reports with `msg`:
    the same code and text whichever finds the mistake (docs/errors.md)."""
    return DanaRuntimeError(dana_type, msg.format(**fields), span, code=msg.code, notes=notes)


class LimitError(DanaRuntimeError):
    """A resource limit (steps, time, recursion depth, size) stopped the program (docs/language.md)."""

    def __init__(self, message: str, span: Span | None = None, *, code: str | None = None,
                 notes: tuple[str, ...] = ()) -> None:
        super().__init__("LimitError", message, span, code=code, notes=notes)
        self.catchable = False


def runtime_error(msg: Msg, span: Span | None = None, *, notes: tuple[str, ...] = (),
                  value: Any = None, **fields: object) -> DanaRuntimeError:
    """The run-time error of message `msg` (a constant of `dana.messages.runtime`): its Dana
    type is the one whose code `msg` has (E0501 ValueError, ..., a `LimitError` for E0513),
    its text `msg` filled with `fields` (docs/errors.md "E0500-E0516")."""
    text = msg.format(**fields)
    if msg.code == LIMIT_CODE:
        return LimitError(text, span, notes=notes)
    return DanaRuntimeError(TYPE_OF_CODE[msg.code], text, span, value=value, notes=notes)


class UsageError(DanaError):
    """A mistake outside any source text: missing file, bad JSON input, unknown workflow."""

    code = "E0600"


class InternalError(DanaError):
    """A bug in Dana itself, met while handling a program (the checker crashed on it): the
    program is neither approved nor run; the CLI exits 3 (E0900 in docs/errors.md)."""

    code = "E0900"


# The Dana error type hierarchy (docs/language.md "Errors"), declared in `dana.surface.vocab`.
ERROR_PARENTS: dict[str, str | None] = {e.name: e.parent for e in ERROR_TYPES}
RUNTIME_CODES: dict[str, str] = {e.name: e.code for e in ERROR_TYPES}
TYPE_OF_CODE: dict[str, str] = {e.code: e.name for e in ERROR_TYPES}
LIMIT_CODE = RUNTIME_CODES["LimitError"]

# Errors no retry can mend (a wrong call, a missing name or attribute, a missing module):
# `@step(retry=N)` does not repeat them unless `retry_on=` names them (docs/workflows.md
# "Retries"), like Temporal's non-retryable error types.
NOT_RETRIED: tuple[str, ...] = ("TypeError", "NameError", "AttributeError", "ImportError")


def is_subtype(dana_type: str, ancestor: str) -> bool:
    """True when error type `dana_type` is `ancestor` (or its synonym) or descends from it."""
    ancestor = ERROR_SYNONYMS.get(ancestor, ancestor)
    current: str | None = dana_type
    while current is not None:
        if current == ancestor:
            return True
        current = ERROR_PARENTS.get(current, "Error" if current != "Error" else None)
    return False
