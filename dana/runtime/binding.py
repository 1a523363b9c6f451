"""Arguments of builtin functions and methods, bound through their one declaration.

Consumes: a `dana.surface.Function` (parameters with kinds, defaults and type texts).
Produces: `binder(decl) -> Bind`, where `Bind(args, kwargs) -> (args, kwargs)` checks a
call exactly as the checker does (arity, keyword names, duplicates, declared types) and
returns the arguments to pass to the Python implementation: plain parameters by position
(a left-out one between given ones gets its declared default), keyword-only ones and `**`
extras by keyword. A bad call raises a Dana `TypeError` (docs/builtins.md).
"""

from __future__ import annotations

from typing import Any, Callable

from dana.errors import DanaRuntimeError, rule_error
from dana.messages import Msg
from dana.messages import checks as M
from dana.messages import runtime as R
from dana.surface import OMITTED, REQUIRED, Function, Param, TypeRef, expand
from dana.runtime.rtypes import ANY, RuntimeType, compile_ref
from dana.runtime.values import type_name

Bind = Callable[[tuple, dict], tuple[tuple, dict]]
_TYPE_VARS = ("T", "K", "V")


def _type(param: Param) -> RuntimeType:
    ref = expand(param.type)
    return ANY if _only_vars(ref) else compile_ref(ref)


def _only_vars(ref: TypeRef) -> bool:
    return ref.name in _TYPE_VARS or ref.name == "any" or (
        ref.name == "|" and any(_only_vars(a) for a in ref.args))


_MADE: dict[int, tuple[Function, Bind]] = {}  # id(decl) -> (decl, its binder)


def binder(decl: Function) -> Bind:
    """The argument binder of a declared builtin function or method (see the module doc),
    made once per declaration: every interpreter binds its builtins through the same ones
    (a binder holds nothing of a run)."""
    made = _MADE.get(id(decl))
    if made is None or made[0] is not decl:
        made = _MADE[id(decl)] = (decl, _make_binder(decl))
    return made[1]


def _make_binder(decl: Function) -> Bind:
    label = f"method `{decl.name}`" if decl.receiver else f"`{decl.name}`"
    plain = [p for p in decl.params if p.kind == "plain"]
    named = {p.name: p for p in decl.params if p.kind in ("plain", "keyword")}
    star = next((p for p in decl.params if p.kind == "star"), None)
    kwstar = any(p.kind == "kwstar" for p in decl.params)
    types = {p.name: _type(p) for p in decl.params}
    least = sum(1 for p in plain if p.default is REQUIRED)
    most = f"from {least} to {len(plain)}" if least != len(plain) else str(len(plain))

    def fail(msg: Msg, **fields: object) -> DanaRuntimeError:
        return rule_error("TypeError", msg, None, callee=label, **fields)

    def check(param: Param, value: Any) -> None:
        t = types[param.name]
        if t is not ANY and not t.check(t.coerce(value)):
            raise fail(M.ARG_MISMATCH, what="argument", param=param.name, dst=param.type,
                       src=type_name(value))

    # positional arguments only, one per plain parameter from the first (the common
    # call): passed on as they are, each checked unless its class needs no check
    positional = tuple((p, types[p.name], types[p.name].exacts) for p in plain)

    def bind(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if not kwargs and least <= len(args) <= len(plain):
            for (param, t, exacts), value in zip(positional, args):
                if t is not ANY and value.__class__ not in exacts:
                    check(param, value)
            return args, kwargs
        if len(args) > len(plain) and star is None:
            raise fail(M.TOO_MANY_ARGS, most=most, s="s" * (len(plain) != 1), given=len(args),
                       were="was" if len(args) == 1 else "were")
        given = dict(zip((p.name for p in plain), args))
        extra_kw: dict[str, Any] = {}
        for name, value in kwargs.items():
            if name not in named:
                if not kwstar:
                    raise fail(M.UNKNOWN_KEYWORD, name=name)
                extra_kw[name] = value
            elif name in given:
                raise fail(M.MULTIPLE_VALUES, name=name)
            else:
                given[name] = value
        for name, param in named.items():
            if name in given:
                check(param, given[name])
            elif param.default is REQUIRED:
                raise fail(M.MISSING_ARG, what="argument", name=name)
        for value in args[len(plain):]:
            check(star, value)
        return _positional(plain, given, fail) + tuple(args[len(plain):]), {
            **{n: v for n, v in given.items() if named[n].kind == "keyword"}, **extra_kw}
    return bind


def _positional(plain: list[Param], given: dict, fail: Callable[..., Exception]) -> tuple:
    last = max((i for i, p in enumerate(plain) if p.name in given), default=-1)
    out = []
    for param in plain[:last + 1]:
        if param.name in given:
            out.append(given[param.name])
        elif param.default is OMITTED:
            raise fail(R.EARLIER_ARGUMENT, name=param.name)
        else:
            out.append(param.default)
    return tuple(out)
