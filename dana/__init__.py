"""Dana: a small typed, Python-like language for durable workflows.

The public embedding API (docs/embedding.md)::

    import dana
    interp = dana.Interpreter(limits=dana.Limits(max_operations=1_000_000, timeout_s=5))
    interp.eval("1 + 2")                      # -> 3

Names are loaded lazily so that light users of the package (the pygments lexer) do not
import the interpreter.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Interpreter", "Module", "Limits", "Permissions", "RunResult", "RunInterrupted",
           "render", "DanaError", "DanaSyntaxError", "DanaRuntimeError", "DanaCheckError",
           "InternalError", "LimitError", "UsageError", "SpanRecorder"]

_WHERE = {
    "Interpreter": "dana.embedding", "Module": "dana.embedding", "render": "dana.embedding",
    "Limits": "dana.runtime.interpreter", "Permissions": "dana.runtime.permissions",
    "RunResult": "dana.workflow.template",
    "RunInterrupted": "dana.workflow.runner",
    "DanaError": "dana.errors", "DanaSyntaxError": "dana.errors",
    "DanaRuntimeError": "dana.errors", "DanaCheckError": "dana.errors",
    "InternalError": "dana.errors", "LimitError": "dana.errors", "UsageError": "dana.errors",
    "SpanRecorder": "dana.workflow.tracing",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'dana' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
