"""The static checker (docs/workflows.md "What the type checker proves").

Public API: `check_module(module, *, scope=None, host_functions=None, resolve_import=None)
-> CheckResult`, `type_of_expression(expr, scope) -> Type`, and the types in
`dana.types.types`. Imports only `dana.source`, `dana.errors` and `dana.syntax`.
"""

from dana.types.checker import CheckResult, check_module, type_of_expression
from dana.types.scope import SymbolTable

__all__ = ["CheckResult", "SymbolTable", "check_module", "type_of_expression"]
