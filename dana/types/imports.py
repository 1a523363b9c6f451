"""Imported modules, for the checker: what `import m` and `from m import n` bind
(docs/language.md "Modules").

Consumes: module names as the program spells them, the `SourceFile` importing them, a
`Resolver` that finds and parses a module (None: imports are not followed), and a
function checking a parsed module and returning its names' types.
Produces: `ModuleT`s (each module checked once per checking run, shared with the checkers
of the modules it imports; a module importing itself sees no names while it is being
checked) and the type each imported name gets; E0204 and E0205 through `report`.
"""

from __future__ import annotations

from typing import Callable

from dana.messages import checks as M
from dana.resources import submodule_name
from dana.source import SourceFile, Span
from dana.syntax import ast as A
from dana.types.types import ANY, ModuleT, Type

Resolver = Callable[[str, SourceFile], "A.Module | None"]


class Imports:
    """The modules one checking run imports. `cache` maps a module key (the name, or
    `file:name` for a relative one) to its `ModuleT`, None when it cannot be found."""

    def __init__(self, resolve: Resolver | None, check: Callable[[str, A.Module], ModuleT],
                 cache: dict[str, ModuleT | None] | None = None) -> None:
        self.resolve = resolve
        self.check = check
        self.cache: dict[str, ModuleT | None] = cache if cache is not None else {}

    def module(self, name: str, source: SourceFile | None, span: Span | None,
               report: Callable[..., None]) -> ModuleT | None:
        """Module `name` imported from `source`: its names, or None when it is
        unavailable (reported at `span` unless that is None). Its own diagnostics are not
        reported here (`dana check` that file for them)."""
        if self.resolve is None or source is None:
            return None
        key = f"{source.name}:{name}" if name.startswith(".") else name
        if key not in self.cache:
            self.cache[key] = ModuleT(name, ())
            module = self.resolve(name, source)
            self.cache[key] = None if module is None else self.check(name, module)
        if self.cache[key] is None and span is not None:
            report(M.MODULE_NOT_FOUND, span, name=name)
        return self.cache[key]

    def names(self, stmt: A.FromImportStmt, source: SourceFile | None,
              report: Callable[..., None]) -> list[tuple[str, Type]]:
        """The (bound name, type) pairs of `from m import a, b as c`: each name is a
        member of the module or else its submodule (as at run time,
        `Runtime.import_names`); the module may be a folder of submodules only."""
        mod = self.module(stmt.module, source, None, report)
        members = dict(mod.names) if isinstance(mod, ModuleT) else {}
        out = []
        for name, alias in stmt.names:
            t: Type | None = members.get(name)
            if t is None:
                t = self.module(submodule_name(stmt.module, name), source, None, report)
            if t is None and mod is None:
                self.module(stmt.module, source, stmt.span, report)  # reports it missing
            elif t is None and isinstance(mod, ModuleT):
                report(M.IMPORT_NOT_FOUND, stmt.span, module=stmt.module, name=name,
                       _suggest=(name, list(members)))
            out.append((alias or name, t or ANY))
        return out
