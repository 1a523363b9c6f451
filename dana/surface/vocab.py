"""Type names, error types, `@step` options and workflow settings of Dana (docs/builtins.md).

Consumes: nothing (plain data).
Produces: `TYPE_NAMES` (every spelling of a builtin type -> its canonical name and doc),
`ALIASES` (type texts the declarations abbreviate), `ERROR_TYPES` (the error hierarchy with
codes), `ERROR_SYNONYMS`, `ERROR_ATTRIBUTES`, `STEP_OPTIONS`, `ON_ERROR_VALUES`, `WORKFLOW_SETTINGS`,
`LOG_LEVELS` and `PARALLEL_OPTIONS`. The checker, the runtime, the lexer and the reference
page read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: spelling -> (canonical spelling, one-line doc). Spellings sharing a canonical name are
#: the same type (`any`, `Any` and `object` accept every value).
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "int": ("int", "Whole numbers of any size."),
    "float": ("float", "Double-precision numbers; an int is accepted where a float is expected."),
    "str": ("str", "Unicode text."),
    "bool": ("bool", "`true` or `false` (not an int)."),
    "bytes": ("bytes", "Raw bytes."),
    "None": ("None", "The type of `None`."),
    "none": ("None", "Spelling of `None`."),
    "null": ("None", "Spelling of `None`."),
    "any": ("any", "Every value; checks are left to run time."),
    "Any": ("any", "Spelling of `any`."),
    "object": ("any", "Spelling of `any`."),
    "type": ("type", "The type of a type (`type(x)`)."),
    "list": ("list", "`list[T]`: a mutable sequence."),
    "dict": ("dict", "`dict[K, V]`: a mapping in insertion order."),
    "set": ("set", "`set[T]`: an unordered collection of distinct values."),
    "tuple": ("tuple", "`tuple[A, B]` (fixed) or `tuple[T, ...]` (any length)."),
    "function": ("function", "Anything callable."),
    "callable": ("function", "Spelling of `function`."),
    "Callable": ("function", "Spelling of `function`."),
    "workflow": ("workflow", "A workflow definition or composition."),
    "Workflow": ("workflow", "Spelling of `workflow`."),
    "WorkflowState": ("WorkflowState", "The versioned state a step reads and writes."),
}

#: Abbreviations used in the declarations' type texts (expanded before use).
ALIASES: dict[str, str] = {
    "number": "int | float",
    "iterable": "str | list | tuple | set | dict",
    "sized": "str | list | tuple | set | dict | bytes",
}


@dataclass(frozen=True)
class ErrorType:
    """A builtin error type: its parent (None for the root), its run-time code, one-line doc."""

    name: str
    parent: str | None
    code: str
    doc: str


ERROR_TYPES: tuple[ErrorType, ...] = (
    ErrorType("Error", None, "E0500", "The root of every Dana error."),
    ErrorType("ValueError", "Error", "E0501", "A value of the right type but a wrong value."),
    ErrorType("TypeError", "Error", "E0502", "A value of the wrong type, or a bad call."),
    ErrorType("KeyError", "Error", "E0503", "A missing dict key."),
    ErrorType("IndexError", "Error", "E0504", "An index out of range."),
    ErrorType("AttributeError", "Error", "E0505", "A missing field, method or member."),
    ErrorType("NameError", "Error", "E0506", "An unbound name."),
    ErrorType("ZeroDivisionError", "Error", "E0507", "Division or modulo by zero."),
    ErrorType("AssertionError", "Error", "E0508", "A failed `assert`."),
    ErrorType("StepError", "Error", "E0509", "A workflow step failed."),
    ErrorType("TimeoutError", "Error", "E0510", "A step ran past its `timeout`."),
    ErrorType("StateError", "Error", "E0511", "A bad workflow-state read or write."),
    ErrorType("PermissionError", "Error", "E0512", "An action the host did not allow."),
    ErrorType("LimitError", "Error", "E0513", "A resource limit was hit (never catchable)."),
    ErrorType("RuntimeError", "Error", "E0514", "Any other failure at run time."),
    ErrorType("ImportError", "Error", "E0515", "A module or name that cannot be imported."),
    ErrorType("FileNotFoundError", "Error", "E0516", "A file that does not exist."),
)

#: Other names of error types: Python's root `Exception` is Dana's root `Error`.
ERROR_SYNONYMS: dict[str, str] = {"Exception": "Error"}

#: The members of a caught error value (`except E as e`): name -> (Dana type text, doc).
#: A caught error has nothing else (no traceback, no frame).
ERROR_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "type": ("str", "The error type's name, e.g. `\"ValueError\"`."),
    "message": ("str", "The message it was raised with."),
    "line": ("int", "The line where it was raised (0 before it is raised)."),
}


@dataclass(frozen=True)
class Option:
    """A named option (of `@step`, of `workflow`, of `parallel`): Dana type text, the
    default (as Dana source text) and a one-line doc."""

    name: str
    type: str
    default: str
    doc: str


OnError = Literal["halt", "skip", "retry"]
ON_ERROR_VALUES: tuple[OnError, ...] = ("halt", "skip", "retry")
ON_ERROR_TEXT = (", ".join(f'"{v}"' for v in ON_ERROR_VALUES[:-1])
                 + f' or "{ON_ERROR_VALUES[-1]}"')
"""The values of `on_error` as a message lists them: `"halt", "skip" or "retry"`."""

STEP_OPTIONS: tuple[Option, ...] = (
    Option("retry", "int", "0", "Attempts after the first failure."),
    Option("backoff", "float", "0.0", "Seconds before retry k: backoff * 2**(k-1)."),
    Option("max_delay", "float", "60.0", "Upper bound of one backoff wait, in seconds."),
    Option("timeout", "float | None", "None", "Seconds per attempt (None: no limit)."),
    Option("cache", "bool", "false", "Reuse the output of an identical earlier execution."),
    Option("cache_ttl", "float | None", "None", "Seconds a cache entry stays valid (None: always)."),
    Option("cache_key", "function | None", "None",
           "`(WorkflowState, input) -> value`: the cache hits when it gives an equal value, "
           "instead of comparing the state read and the input (implies `cache=True`)."),
    Option("on_error", "str | None", "None",
           'What a failure does: "halt", "skip" or "retry" (None: the workflow\'s).'),
    Option("validate", "function | None", "None",
           "`(WorkflowState) -> bool` run after the step; false fails the step."),
    Option("rollback", "function | None", "None",
           "`(WorkflowState, dict[str, str])` run when the step fails."),
    Option("retry_on", "list | None", "None",
           "Error types `retry` repeats (None: all but TypeError, NameError, AttributeError, "
           "ImportError)."),
    Option("no_retry_on", "list", "[]", "Error types `retry` never repeats."),
)

WORKFLOW_SETTINGS: tuple[Option, ...] = (
    Option("version", "str", '"1"', "The workflow's version, recorded with every run."),
    Option("description", "str", '""', "A one-line description shown by `dana graph`."),
    Option("on_error", "str", '"halt"', 'Default for steps: "halt", "skip" or "retry".'),
)

LogLevel = Literal["debug", "info", "warning", "warn", "error", "critical"]
LOG_LEVELS: dict[LogLevel, int] = {"debug": 10, "info": 20, "warning": 30, "warn": 30,
                                   "error": 40, "critical": 50}
"""The level names of `log(message, level)` and `log_level(level)` (any case) -> severity,
as Python's logging numbers them; the default threshold is "warning"."""

PARALLEL_OPTIONS: tuple[Option, ...] = (
    Option("max_concurrency", "int", "(all)", "Branches run at once (at least 1)."),
)
