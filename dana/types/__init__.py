"""The static checker (docs/workflows.md "What the type checker proves").

Public API: `check_module(module, *, scope=None, host_functions=None, resolve_import=None)
-> CheckResult`, `type_of_expression(expr, scope) -> Type`, and the types in
`dana.types.types`. Imports only `dana.source`, `dana.errors` and `dana.syntax`.

The names are loaded when first used: importing one small module of this package (the
run's `duplicates` check, say) does not load the whole checker, which `dana run --no-check`
never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dana.types.checker import CheckResult, check_module, type_of_expression
    from dana.types.scope import SymbolTable

_HOMES = {"CheckResult": "checker", "check_module": "checker",
          "type_of_expression": "checker", "SymbolTable": "scope"}

__all__ = ["CheckResult", "SymbolTable", "check_module", "type_of_expression"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'dana.types' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f"dana.types.{_HOMES[name]}"), name)
