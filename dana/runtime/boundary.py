"""The line between a host program and the Dana code it runs (docs/embedding.md,
"What crosses the boundary").

Consumes: a call into Dana (parse, check or run) made by the embedding API.
Produces: `contained(fn)`, a decorator whose calls raise only `DanaError` subclasses and
leave the host as they found it: the recursion limit is raised for the call (deep Dana
code needs Python frames) and put back afterwards; a Python `RecursionError` becomes a
`LimitError`; Ctrl-C (`KeyboardInterrupt`), `SystemExit` from host code and any other
host exception become a `DanaRuntimeError` whose `__cause__` is the original.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

from dana.errors import DanaError, DanaRuntimeError, LimitError

RECURSION_LIMIT = 60_000
"""Python frames allowed while Dana code runs in the host's thread: enough for the
parser's deepest tree and `Limits.max_depth` Dana calls."""

F = TypeVar("F", bound=Callable[..., Any])


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
            raise LimitError("the program nested too deeply for the host's stack "
                             "(maximum recursion depth exceeded)") from None
        except KeyboardInterrupt as exc:
            raise _uncatchable("the program was interrupted (KeyboardInterrupt)") from exc
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
