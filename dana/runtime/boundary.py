"""The line between a host program and the Dana code it runs (docs/embedding.md,
"What crosses the boundary").

Consumes: a call into Dana (parse, check or run) made by the embedding API.
Produces: `contained(fn)`, a decorator whose calls raise only `DanaError` subclasses and
leave the host as they found it: the recursion limit is raised for the call (deep Dana
code needs Python frames) and put back afterwards; a Python `RecursionError` becomes a
`LimitError`; Ctrl-C (`KeyboardInterrupt`) becomes `Interrupted`, and `SystemExit` from
host code or any other host exception a `DanaRuntimeError`, each with the original as
its `__cause__` and not catchable by Dana code.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

from dana.errors import DanaError, DanaRuntimeError, runtime_error
from dana.messages import runtime as R
from dana.workflow.runner import RunInterrupted

RECURSION_LIMIT = 60_000
"""Python frames allowed while Dana code runs in the host's thread: enough for the
parser's deepest tree and `Limits.max_depth` Dana calls."""

F = TypeVar("F", bound=Callable[..., Any])


class Interrupted(DanaRuntimeError, RunInterrupted):
    """Ctrl-C stopped the program: a DanaError (so a host catching `dana.DanaError` sees
    it) that is also the workflow runner's `RunInterrupted`; `result` is the interrupted
    run's RunResult (state as last committed), or None when no workflow was running."""

    def __init__(self, cause: KeyboardInterrupt) -> None:
        DanaRuntimeError.__init__(self, "Error", "the program was interrupted "
                                  "(KeyboardInterrupt)")
        self.result = getattr(cause, "result", None)
        self.catchable = False


def contained(fn: F) -> F:
    """`fn` (an embedding API entry point) with the boundary rules above."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        saved = sys.getrecursionlimit()
        if saved < RECURSION_LIMIT:
            sys.setrecursionlimit(RECURSION_LIMIT)
        try:
            return fn(*args, **kwargs)
        except DanaError:
            raise
        except RecursionError:
            raise runtime_error(R.TOO_DEEP_FOR_HOST) from None
        except KeyboardInterrupt as exc:
            raise Interrupted(exc) from exc
        except BaseException as exc:  # SystemExit, or anything else host code raised
            raise _uncatchable(f"host code raised {type(exc).__name__}: {exc}") from exc
        finally:
            if sys.getrecursionlimit() != saved:
                sys.setrecursionlimit(saved)
    return call  # type: ignore[return-value]


def _uncatchable(message: str) -> DanaRuntimeError:
    error = DanaRuntimeError("Error", message)
    error.catchable = False
    return error
