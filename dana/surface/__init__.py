"""The language surface: every builtin function, builtin-type method, type name, error type,
`@step` option and workflow setting of Dana, declared once with signatures and docs.

Consumes: nothing of Dana (it is the lowest layer beside `dana.source`).
Produces: `FUNCTIONS`, `METHODS`, `TYPE_NAMES`, `ALIASES`, `ERROR_TYPES`, `ERROR_SYNONYMS`,
`ERROR_ATTRIBUTES`, `STEP_OPTIONS`, `ON_ERROR_VALUES`, `WORKFLOW_SETTINGS`, `PARALLEL_OPTIONS`, `LOG_LEVELS`,
`KEYWORDS`, `SOFT_KEYWORDS`, `CONSTANTS`, `SCOPE_NAMES`, and the shapes in
`dana.surface.model`. Every other view (checker, runtime, embedding, REPL completion, the
pygments lexer, docs/builtins.md) derives from these; docs/architecture.md tells how to add one.
"""

from dana.surface.functions import FUNCTIONS
from dana.surface.keywords import (CONSTANTS, KEYWORDS, SCOPE_NAMES, SHARED_SCOPES,
                                   SOFT_KEYWORDS, Keyword, ScopeName)
from dana.surface.methods import METHODS
from dana.surface.model import OMITTED, REQUIRED, Function, Param, TypeRef, parse_type
from dana.surface.vocab import (ALIASES, ERROR_ATTRIBUTES, ERROR_SYNONYMS, ERROR_TYPES, LOG_LEVELS,
                                ON_ERROR_TEXT, ON_ERROR_VALUES, PARALLEL_OPTIONS, STEP_OPTIONS, TYPE_NAMES,
                                WORKFLOW_SETTINGS, ErrorType, LogLevel, OnError, Option)

__all__ = ["ALIASES", "CONSTANTS", "ERROR_ATTRIBUTES", "ERROR_SYNONYMS", "ERROR_TYPES", "FUNCTIONS", "KEYWORDS",
           "LOG_LEVELS", "METHODS", "OMITTED", "ON_ERROR_TEXT", "ON_ERROR_VALUES", "PARALLEL_OPTIONS",
           "REQUIRED", "SCOPE_NAMES", "SHARED_SCOPES", "SOFT_KEYWORDS", "STEP_OPTIONS",
           "TYPE_NAMES", "WORKFLOW_SETTINGS", "ErrorType", "Function", "Keyword", "LogLevel",
           "OnError", "Option", "Param", "ScopeName", "TypeRef", "expand", "parse_type"]


def expand(text: str) -> TypeRef:
    """Parse declaration type text, replacing the `ALIASES` by what they stand for."""
    return _expand(parse_type(text))


def _expand(ref: TypeRef) -> TypeRef:
    if ref.name in ALIASES and not ref.args:
        return parse_type(ALIASES[ref.name])
    if not ref.args:
        return ref
    options = [_expand(a) for a in ref.args]
    return TypeRef(ref.name, tuple(options))
