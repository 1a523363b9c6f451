"""Turn annotation syntax (`TypeName`, `UnionType`) into static types.

Consumes: an AST type expression and the scope that names user types (structs,
interfaces) in. Produces: a `Type`, reporting unknown names (E0202) and malformed
arguments (E0203) through a callback; the result of a bad annotation is `any`.
"""

from __future__ import annotations

from typing import Callable

from dana.source import Span
from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.scope import SymbolTable
from dana.types.signatures import BUILTINS, SIMPLE
from dana.types.types import (ANY, ANY_FUNCTION, ClassT, DictT, ErrorT, ListT, SetT, TupleT,
                              Type, union)

Report = Callable[..., None]

ARITY = {"list": 1, "set": 1, "dict": 2}


def resolve(texpr: A.TypeExpr | None, scope: SymbolTable, report: Report) -> Type:
    """The type an annotation names (`any` when absent or invalid)."""
    if texpr is None:
        return ANY
    if isinstance(texpr, A.UnionType):
        return union(*(resolve(o, scope, report) for o in texpr.options))
    return _named(texpr, scope, report)


def _named(texpr: A.TypeName, scope: SymbolTable, report: Report) -> Type:
    name, args = texpr.name, texpr.args
    if name in ("list", "set", "dict"):
        return _container(texpr, scope, report)
    if name == "tuple":
        return _tuple(texpr, scope, report)
    if args and not (name in SIMPLE and SIMPLE[name] in (ANY_FUNCTION,)):
        report(M.BAD_TYPE_ARGS, texpr.span, name=name, problem="takes no type arguments")
        return ANY
    if name in SIMPLE:
        return SIMPLE[name]
    return _user_type(name, texpr.span, scope, report)


def _user_type(name: str, span: Span, scope: SymbolTable, report: Report) -> Type:
    sym = scope.lookup(name)
    if sym is not None and isinstance(sym.type, ClassT):
        return sym.type.of
    if sym is not None and sym.kind == "interface":
        return sym.type
    if sym is not None and sym.kind == "module":
        return ANY
    candidates = list(SIMPLE) + ["list", "dict", "set", "tuple"] + [
        n for n in scope.visible_names() if (s := scope.lookup(n)) is not None
        and (isinstance(s.type, ClassT) or s.kind == "interface")]
    report(M.UNKNOWN_TYPE, span, name=name, _suggest=(name, candidates))
    return ANY


def _container(texpr: A.TypeName, scope: SymbolTable, report: Report) -> Type:
    name, args = texpr.name, texpr.args
    if not args:
        return {"list": ListT(ANY), "set": SetT(ANY), "dict": DictT(ANY, ANY)}[name]
    if len(args) != ARITY[name] or any(_is_ellipsis(a) for a in args):
        want = "one type argument" if ARITY[name] == 1 else "two type arguments (key, value)"
        report(M.BAD_TYPE_ARGS, texpr.span, name=name, problem=f"takes {want}")
        return resolve(A.TypeName(texpr.span, name), scope, report)
    types = [resolve(a, scope, report) for a in args]
    if name == "dict":
        return DictT(types[0], types[1])
    return ListT(types[0]) if name == "list" else SetT(types[0])


def _tuple(texpr: A.TypeName, scope: SymbolTable, report: Report) -> Type:
    args = texpr.args
    if not args:
        return TupleT((ANY,), True)
    if len(args) == 2 and _is_ellipsis(args[1]) and not _is_ellipsis(args[0]):
        return TupleT((resolve(args[0], scope, report),), True)
    if any(_is_ellipsis(a) for a in args):
        report(M.BAD_TYPE_ARGS, texpr.span, name="tuple",
               problem="allows `...` only as `tuple[T, ...]`")
        return TupleT((ANY,), True)
    return TupleT(tuple(resolve(a, scope, report) for a in args))


def _is_ellipsis(texpr: A.TypeExpr) -> bool:
    return isinstance(texpr, A.TypeName) and texpr.name == "..."


def error_type(name: str) -> Type | None:
    """The error type named `name`, if it is one of Dana's."""
    t = BUILTINS.get(name)
    return t.of if isinstance(t, ClassT) and isinstance(t.of, ErrorT) else None
